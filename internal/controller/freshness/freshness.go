// Package freshness tells whether a cached instance or binding carries
// the controller's own last write, so that a request is never sent from a
// status older than the last answer.
package freshness

import (
	"context"
	"sync"

	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	scv1beta1 "github.com/svcat-io/svcat/api/v1beta1"
)

// Tracker remembers, per instance and binding, a resourceVersion known to
// carry every write this process made to the object: the one its own last
// write returned, or one an uncached read confirmed. A cached object with
// that resourceVersion cannot be older than the controller's own last
// status, which is what stale guards against, so it needs no uncached read
// to prove it. Objects this process never wrote or read are not known and
// are read from the API server as before (after a restart or a change of
// leader, say).
type Tracker struct {
	mu    sync.Mutex
	known map[types.UID]string
}

// maxKnown bounds the memory: when full, everything is forgotten, which only
// costs one uncached read per object.
const maxKnown = 100_000

func tracked(obj client.Object) bool {
	switch obj.(type) {
	case *scv1beta1.ServiceInstance, *scv1beta1.ServiceBinding:
		return true
	}
	return false
}

// Saw records obj as it is now in the API server.
func (f *Tracker) Saw(obj client.Object) {
	if f == nil || !tracked(obj) {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if !obj.GetDeletionTimestamp().IsZero() && len(obj.GetFinalizers()) == 0 {
		delete(f.known, obj.GetUID()) // gone from the API server
		return
	}
	if f.known == nil || len(f.known) >= maxKnown {
		f.known = map[types.UID]string{}
	}
	f.known[obj.GetUID()] = obj.GetResourceVersion()
}

// Current reports whether obj carries every write this process made to it.
func (f *Tracker) Current(obj client.Object) bool {
	if f == nil {
		return false
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	rv, ok := f.known[obj.GetUID()]
	return ok && rv == obj.GetResourceVersion()
}

// Stale reports whether the cache is behind the API server for obj: the
// controller's own last status write may not have arrived yet, and acting on
// the older status would send the broker a request it has already answered.
// It is asked only before a request that creates or changes something.
func (f *Tracker) Stale(ctx context.Context, c client.Reader, obj client.Object) (bool, error) {
	if f.Current(obj) {
		return false, nil
	}
	fresh := obj.DeepCopyObject().(client.Object)
	if err := c.Get(ctx, client.ObjectKeyFromObject(obj), fresh); err != nil {
		return false, err
	}
	if fresh.GetResourceVersion() != obj.GetResourceVersion() {
		return true, nil
	}
	f.Saw(fresh)
	return false, nil
}

// Client is the reconcilers' client: every write of an instance or
// binding tells Tracker the resourceVersion it produced.
type Client struct {
	client.Client
	f *Tracker
}

func (c Client) Update(ctx context.Context, obj client.Object, opts ...client.UpdateOption) error {
	err := c.Client.Update(ctx, obj, opts...)
	if err == nil {
		c.f.Saw(obj)
	}
	return err
}

func (c Client) Patch(ctx context.Context, obj client.Object, patch client.Patch, opts ...client.PatchOption) error {
	err := c.Client.Patch(ctx, obj, patch, opts...)
	if err == nil {
		c.f.Saw(obj)
	}
	return err
}

func (c Client) Status() client.SubResourceWriter {
	return statusWriter{c.Client.Status(), c.f}
}

type statusWriter struct {
	client.SubResourceWriter
	f *Tracker
}

func (w statusWriter) Update(ctx context.Context, obj client.Object, opts ...client.SubResourceUpdateOption) error {
	err := w.SubResourceWriter.Update(ctx, obj, opts...)
	if err == nil {
		w.f.Saw(obj)
	}
	return err
}

func (w statusWriter) Patch(ctx context.Context, obj client.Object, patch client.Patch, opts ...client.SubResourcePatchOption) error {
	err := w.SubResourceWriter.Patch(ctx, obj, patch, opts...)
	if err == nil {
		w.f.Saw(obj)
	}
	return err
}

// Recording wraps the reconcilers' client so that its writes of instances
// and bindings are recorded in f.
func Recording(c client.Client, f *Tracker) client.Client { return Client{c, f} }
