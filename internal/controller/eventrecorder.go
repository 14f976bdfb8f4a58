package controller

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"
	typedcorev1 "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/tools/events"
	"k8s.io/client-go/tools/record"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/manager"
)

// +kubebuilder:rbac:groups="",resources=events,verbs=create;patch

// newEventRecorder is the recorder every reconciler reports through. It
// writes core/v1 Events, as v0.3 did, through client-go's record package,
// whose caches (for aggregation and the spam filter) are bounded LRUs. The
// events.k8s.io broadcaster the manager offers keeps every Event it sent
// for six minutes to detect series: with 20,000 objects created at once
// that was a quarter of the controller's heap (docs/benchmarks.md).
func newEventRecorder(mgr ctrl.Manager, component string) (events.EventRecorder, error) {
	cs, err := kubernetes.NewForConfigAndClient(mgr.GetConfig(), mgr.GetHTTPClient())
	if err != nil {
		return nil, err
	}
	b := record.NewBroadcaster()
	b.StartRecordingToSink(&typedcorev1.EventSinkImpl{Interface: cs.CoreV1().Events("")})
	log := mgr.GetLogger().WithName("events")
	b.StartEventWatcher(func(e *corev1.Event) {
		log.V(1).Info(e.Message, "type", e.Type, "object", e.InvolvedObject, "reason", e.Reason)
	})
	// Shut down with the manager, leader or not, so queued Events are sent.
	if err := mgr.Add(nonLeaderRunnable{manager.RunnableFunc(func(ctx context.Context) error {
		<-ctx.Done()
		b.Shutdown()
		return nil
	})}); err != nil {
		return nil, err
	}
	return coreRecorder{b.NewRecorder(mgr.GetScheme(), corev1.EventSource{Component: component})}, nil
}

type nonLeaderRunnable struct{ manager.Runnable }

func (nonLeaderRunnable) NeedLeaderElection() bool { return false }

// coreRecorder offers the events.k8s.io recorder's signature over a core/v1
// recorder; core/v1 Events have no related object or action.
type coreRecorder struct{ rec record.EventRecorder }

func (c coreRecorder) Eventf(regarding, _ runtime.Object, eventtype, reason, _, note string, args ...any) {
	c.rec.Eventf(regarding, eventtype, reason, note, args...)
}
