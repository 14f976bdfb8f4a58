package brokercalls

import (
	"context"
	"sync/atomic"

	"k8s.io/client-go/util/workqueue"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"
)

// Site connects one reconciler to the broker call runner: a call that
// outlasts the runner's wait ends by putting its object on this
// reconciler's queue, where the next reconcile takes the result.
type Site struct {
	Runner *Runner
	queue  atomic.Pointer[workqueue.TypedRateLimitingInterface[reconcile.Request]]
}

// NewSite is a call site on r.
func NewSite(r *Runner) *Site { return &Site{Runner: r} }

// Source hands the controller's queue to the call site when the controller
// starts.
func (cs *Site) Source() source.Source {
	return source.Func(func(_ context.Context, q workqueue.TypedRateLimitingInterface[reconcile.Request]) error {
		cs.queue.Store(&q)
		return nil
	})
}

// Key is the key of obj's call for op.
func (cs *Site) Key(obj client.Object, op string) Key {
	return Key{UID: obj.GetUID(), Op: op}
}

// Call describes a call for obj to the broker with the given key. Its
// namespace is the fairness bucket; a cluster broker's catalog, set up by
// an administrator, is a bucket of its own rather than sharing one with
// every other cluster broker.
func (cs *Site) Call(obj client.Object, op, broker string, sent any) Call {
	req := reconcile.Request{NamespacedName: client.ObjectKeyFromObject(obj)}
	bucket := obj.GetNamespace()
	if bucket == "" {
		bucket = "cluster/" + obj.GetName()
	}
	return Call{Key: cs.Key(obj, op), Broker: broker, Namespace: bucket, Sent: sent,
		Notify: func() {
			if q := cs.queue.Load(); q != nil {
				(*q).Add(req)
			}
		}}
}

// Forget drops what the runner holds for an object about to go.
func (cs *Site) Forget(obj client.Object) { cs.Runner.Forget(obj.GetUID()) }
