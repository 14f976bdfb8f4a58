package controller

import (
	"context"
	"sync"

	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	scv1beta1 "github.com/svcat-io/svcat/api/v1beta1"
)

// freshness remembers, per instance and binding, a resourceVersion known to
// carry every write this process made to the object: the one its own last
// write returned, or one an uncached read confirmed. A cached object with
// that resourceVersion cannot be older than the controller's own last
// status, which is what stale guards against, so it needs no uncached read
// to prove it. Objects this process never wrote or read are not known and
// are read from the API server as before (after a restart or a change of
// leader, say).
type freshness struct {
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

// saw records obj as it is now in the API server.
func (f *freshness) saw(obj client.Object) {
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

// current reports whether obj carries every write this process made to it.
func (f *freshness) current(obj client.Object) bool {
	if f == nil {
		return false
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	rv, ok := f.known[obj.GetUID()]
	return ok && rv == obj.GetResourceVersion()
}

// stale reports whether the cache is behind the API server for obj: the
// controller's own last status write may not have arrived yet, and acting on
// the older status would send the broker a request it has already answered.
// It is asked only before a request that creates or changes something.
func (f *freshness) stale(ctx context.Context, c client.Reader, obj client.Object) (bool, error) {
	if f.current(obj) {
		return false, nil
	}
	fresh := obj.DeepCopyObject().(client.Object)
	if err := c.Get(ctx, client.ObjectKeyFromObject(obj), fresh); err != nil {
		return false, err
	}
	if fresh.GetResourceVersion() != obj.GetResourceVersion() {
		return true, nil
	}
	f.saw(fresh)
	return false, nil
}

// recordingClient is the reconcilers' client: every write of an instance or
// binding tells freshness the resourceVersion it produced.
type recordingClient struct {
	client.Client
	f *freshness
}

func (c recordingClient) Update(ctx context.Context, obj client.Object, opts ...client.UpdateOption) error {
	err := c.Client.Update(ctx, obj, opts...)
	if err == nil {
		c.f.saw(obj)
	}
	return err
}

func (c recordingClient) Patch(ctx context.Context, obj client.Object, patch client.Patch, opts ...client.PatchOption) error {
	err := c.Client.Patch(ctx, obj, patch, opts...)
	if err == nil {
		c.f.saw(obj)
	}
	return err
}

func (c recordingClient) Status() client.SubResourceWriter {
	return recordingStatus{c.Client.Status(), c.f}
}

type recordingStatus struct {
	client.SubResourceWriter
	f *freshness
}

func (w recordingStatus) Update(ctx context.Context, obj client.Object, opts ...client.SubResourceUpdateOption) error {
	err := w.SubResourceWriter.Update(ctx, obj, opts...)
	if err == nil {
		w.f.saw(obj)
	}
	return err
}

func (w recordingStatus) Patch(ctx context.Context, obj client.Object, patch client.Patch, opts ...client.SubResourcePatchOption) error {
	err := w.SubResourceWriter.Patch(ctx, obj, patch, opts...)
	if err == nil {
		w.f.saw(obj)
	}
	return err
}
