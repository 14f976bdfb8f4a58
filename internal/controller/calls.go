package controller

import (
	"context"
	"sync/atomic"

	"k8s.io/client-go/util/workqueue"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"

	"github.com/svcat-io/svcat/internal/controller/brokercalls"
)

// Broker call operations: with the object's UID, they key a call in the
// runner.
const (
	callProvision   = "provision"
	callUpdate      = "update"
	callDeprovision = "deprovision"
	callPoll        = "poll"
	callBind        = "bind"
	callUnbind      = "unbind"
	callGetBinding  = "get-binding"
	callCatalog     = "catalog"
)

// callSite connects one reconciler to the broker call runner: a call that
// outlasts the runner's wait ends by putting its object on this
// reconciler's queue, where the next reconcile takes the result.
type callSite struct {
	runner *brokercalls.Runner
	queue  atomic.Pointer[workqueue.TypedRateLimitingInterface[reconcile.Request]]
}

func newCallSite(r *brokercalls.Runner) *callSite { return &callSite{runner: r} }

// source hands the controller's queue to the call site when the controller
// starts.
func (cs *callSite) source() source.Source {
	return source.Func(func(_ context.Context, q workqueue.TypedRateLimitingInterface[reconcile.Request]) error {
		cs.queue.Store(&q)
		return nil
	})
}

func (cs *callSite) key(obj client.Object, op string) brokercalls.Key {
	return brokercalls.Key{UID: obj.GetUID(), Op: op}
}

// call describes a call for obj to the broker with the given key. Its
// namespace is the fairness bucket; a cluster broker's catalog, set up by
// an administrator, is a bucket of its own rather than sharing one with
// every other cluster broker.
func (cs *callSite) call(obj client.Object, op, broker string, sent any) brokercalls.Call {
	req := reconcile.Request{NamespacedName: client.ObjectKeyFromObject(obj)}
	bucket := obj.GetNamespace()
	if bucket == "" {
		bucket = "cluster/" + obj.GetName()
	}
	return brokercalls.Call{Key: cs.key(obj, op), Broker: broker, Namespace: bucket, Sent: sent,
		Notify: func() {
			if q := cs.queue.Load(); q != nil {
				(*q).Add(req)
			}
		}}
}

// forget drops what the runner holds for an object about to go.
func (cs *callSite) forget(obj client.Object) { cs.runner.Forget(obj.GetUID()) }

// answerPending ends a reconcile whose broker call has not answered yet.
// Nothing is written: the status cannot say more than before, and the
// call's end enqueues the object.
func answerPending(discard *bool) (ctrl.Result, error) {
	*discard = true
	return ctrl.Result{}, nil
}
