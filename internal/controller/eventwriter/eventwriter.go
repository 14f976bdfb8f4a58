// Package eventwriter is the Event recorder every reconciler reports
// through: core/v1 Events, bounded caches, parallel writes, every note
// cleaned of broker text.
package eventwriter

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/go-logr/logr"
	apierrors "k8s.io/apimachinery/pkg/api/errors"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	typedcorev1 "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/tools/events"
	"k8s.io/client-go/tools/record"
	"k8s.io/client-go/util/retry"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/manager"

	"github.com/svcat-io/svcat/internal/brokertext"
)

// +kubebuilder:rbac:groups="",resources=events,verbs=create;patch

// New is the recorder every reconciler reports through. It
// writes core/v1 Events, as v0.3 did, through client-go's record package,
// whose caches (for aggregation and the spam filter) are bounded LRUs. The
// events.k8s.io broadcaster the manager offers keeps every Event it sent
// for six minutes to detect series: with 20,000 objects created at once
// that was a quarter of the controller's heap (docs/benchmarks.md).
func New(mgr ctrl.Manager, component string) (events.EventRecorder, error) {
	cs, err := kubernetes.NewForConfigAndClient(mgr.GetConfig(), mgr.GetHTTPClient())
	if err != nil {
		return nil, err
	}
	log := mgr.GetLogger().WithName("events")
	sink := newParallelSink(&typedcorev1.EventSinkImpl{Interface: cs.CoreV1().Events("")}, eventWriters, log)
	b := record.NewBroadcaster()
	b.StartRecordingToSink(sink)
	b.StartEventWatcher(func(e *corev1.Event) {
		log.V(1).Info(e.Message, "type", e.Type, "object", e.InvolvedObject, "reason", e.Reason)
	})
	// Shut down with the manager, leader or not, so queued Events are sent.
	if err := mgr.Add(nonLeaderRunnable{manager.RunnableFunc(func(ctx context.Context) error {
		<-ctx.Done()
		b.Shutdown()
		sink.close()
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
	// Notes quote brokers and users, and tenants read them (and the event
	// log line below repeats them): bounded, one line, redacted.
	c.rec.Event(regarding, eventtype, reason, brokertext.Clean(fmt.Sprintf(note, args...), brokertext.MaxMessage))
}

// eventWriters is how many Events are written at once. The record package
// writes them one after another, and when the API server is slow its queue
// of 1,000 fills and Events are dropped: with 10,000 objects created at
// once, more than half were.
const eventWriters = 8

// parallelSink hands each write to one of a few writers and answers at once,
// with the Event as sent (its name is chosen on the client, which is all a
// later aggregating patch needs). The queue is bounded: when full, the
// recorder's own queue takes the wait.
type parallelSink struct {
	sink record.EventSink
	log  logr.Logger
	work chan func() error
	wg   sync.WaitGroup

	mu     sync.RWMutex
	closed bool
}

// submit queues a write; after close it drops it.
func (p *parallelSink) submit(w func() error) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	if !p.closed {
		p.work <- w
	}
}

func newParallelSink(sink record.EventSink, writers int, log logr.Logger) *parallelSink {
	p := &parallelSink{sink: sink, log: log, work: make(chan func() error, 100)}
	for range writers {
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			for w := range p.work {
				p.write(w)
			}
		}()
	}
	return p
}

// write tries a few times while the API server cannot be reached; an Event
// it refuses is not tried again (the record package's rule).
func (p *parallelSink) write(w func() error) {
	err := retry.OnError(eventRetry, unreachable, func() error {
		if err := w(); err != nil && !apierrors.IsAlreadyExists(err) {
			return err
		}
		return nil
	})
	if err != nil {
		p.log.Error(err, "writing an Event")
	}
}

// eventRetry is three attempts, 1 s and 2 s apart.
var eventRetry = wait.Backoff{Steps: 3, Duration: time.Second, Factor: 2}

// unreachable: the API server did not answer, or asked to come back later.
func unreachable(err error) bool {
	var status apierrors.APIStatus
	return !errors.As(err, &status) || apierrors.IsServerTimeout(err) || apierrors.IsTooManyRequests(err) || apierrors.IsTimeout(err)
}

func (p *parallelSink) Create(e *corev1.Event) (*corev1.Event, error) {
	p.submit(func() error { _, err := p.sink.Create(e); return err })
	return e, nil
}

func (p *parallelSink) Update(e *corev1.Event) (*corev1.Event, error) {
	p.submit(func() error { _, err := p.sink.Update(e); return err })
	return e, nil
}

func (p *parallelSink) Patch(e *corev1.Event, data []byte) (*corev1.Event, error) {
	p.submit(func() error {
		_, err := p.sink.Patch(e, data)
		if apierrors.IsNotFound(err) { // not written yet or expired: write it whole
			_, err = p.sink.Create(e)
		}
		return err
	})
	return e, nil
}

// close writes what is queued and stops the writers.
func (p *parallelSink) close() {
	p.mu.Lock()
	p.closed = true
	close(p.work)
	p.mu.Unlock()
	p.wg.Wait()
}
