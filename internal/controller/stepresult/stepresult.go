// Package stepresult is the one family of results a reconcile step of an
// instance or a binding ends with, and the one place (Apply) that turns a
// result into conditions, an Event and what controller-runtime is told.
// Before it, each call site chose by convention: set a condition and
// return nil (no retry) or the error (retry with backoff), and the Event's
// type came from a list of reasons per kind.
package stepresult

import (
	"errors"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"

	scv1beta1 "github.com/svcat-io/svcat/api/v1beta1"
)

// Class is what kind of end a step came to. It alone decides the Ready
// status, the Event's type and whether controller-runtime retries.
type Class int

const (
	// Unchanged: nothing to report; the status keeps what the step wrote
	// to it, no Event, no retry.
	Unchanged Class = iota
	// Done: the object is what its spec asks for. Ready True, a Normal
	// Event.
	Done
	// Waiting: progress, not trouble: an asynchronous operation running,
	// another object not ready yet, a deletion or an orphan mitigation
	// finished. Ready False, a Normal Event; reconciled again after After,
	// or when something it waits for changes.
	Waiting
	// Transient: failed, and may succeed when tried again. Ready False, a
	// Warning Event, and the error goes back to controller-runtime, which
	// retries with backoff.
	Transient
	// Stalled: nothing can go on until someone changes something (the
	// spec, the catalog, another object), which reconciles it again. Ready
	// False, a Warning Event, no retry.
	Stalled
	// Terminal: the broker refused the operation for good. Failed True and
	// Ready False, a Warning Event, no retry until the spec changes.
	Terminal
	// Pending: the broker has not answered yet. Nothing is written (the
	// status could not say more), and the answer's arrival queues the
	// object.
	Pending
	// Stale: the cache is behind the controller's own last write. Nothing
	// is written; the object is reconciled again shortly (Requeue) or,
	// when it is gone from the API server, not at all.
	Stale
)

var classNames = [...]string{"Unchanged", "Done", "Waiting", "Transient", "Stalled", "Terminal", "Pending", "Stale"}

func (c Class) String() string {
	if int(c) < len(classNames) {
		return classNames[c]
	}
	return "Class(?)"
}

// Result is how one reconcile step ended.
type Result struct {
	Class           Class
	Reason, Message string
	// Err goes back to controller-runtime (a Transient result always
	// returns one).
	Err error
	// After reconciles again that much later (Waiting, or a Stalled step
	// that looks again at the next relist).
	After time.Duration
	// Requeue reconciles again at once (Stale, or orphan mitigation about
	// to start).
	Requeue bool
	// Mitigate starts orphan mitigation: the broker may hold what a failed
	// create made, so it is deleted there before anything else. Reason and
	// Message are the failure that started it.
	Mitigate bool
}

// Constructors, one per class.

func Nothing() Result { return Result{} }

// Error is a Transient result that says nothing in the conditions: a
// failure of the controller's own (an API request), not the object's.
func Error(err error) Result { return Result{Class: Transient, Err: err} }

func Ready(reason, message string) Result {
	return Result{Class: Done, Reason: reason, Message: message}
}

func Wait(reason, message string, after time.Duration) Result {
	return Result{Class: Waiting, Reason: reason, Message: message, After: after}
}

func Retry(reason, message string, err error) Result {
	if err == nil {
		err = errors.New(message)
	}
	return Result{Class: Transient, Reason: reason, Message: message, Err: err}
}

func Stall(reason, message string) Result {
	return Result{Class: Stalled, Reason: reason, Message: message}
}

func Fail(reason, message string) Result {
	return Result{Class: Terminal, Reason: reason, Message: message}
}

func AwaitAnswer() Result { return Result{Class: Pending} }

func CacheBehind(requeue bool) Result { return Result{Class: Stale, Requeue: requeue} }

// MitigateOrphan is r with orphan mitigation starting: a Transient r
// creates again after it, a Terminal one stays failed.
func (r Result) MitigateOrphan() Result {
	r.Mitigate, r.Requeue, r.Err = true, true, nil
	return r
}

// WithErr is r returning err as well (a step's last API request failed
// after its outcome was decided).
func (r Result) WithErr(err error) Result {
	r.Err = err
	return r
}

// Normal reports whether the result's Event is Normal: progress, not
// trouble.
func (r Result) Normal() bool { return r.Class == Done || r.Class == Waiting }

// Conditions is one kind's status, as the mapper writes it.
type Conditions interface {
	// SetReady sets the Ready condition and reports whether it changed.
	SetReady(status scv1beta1.ConditionStatus, reason, message string) bool
	// SetFailed sets the Failed condition True.
	SetFailed(reason, message string)
	// StartMitigation records that orphan mitigation starts after the
	// failure (reason, message). It returns what the Ready condition says
	// meanwhile, and whether the failure itself needs an Event (it is in
	// no Ready message any more).
	StartMitigation(reason, message string) (readyReason, readyMessage string, causeEvent bool)
}

// Apply writes r into the status through c, records the Event on obj and
// returns what the reconcile returns. Discard is set when nothing may be
// written (Pending, Stale).
func Apply(r Result, c Conditions, rec events.EventRecorder, obj runtime.Object, discard *bool) (ctrl.Result, error) {
	switch r.Class {
	case Pending:
		*discard = true
		return ctrl.Result{}, nil
	case Stale:
		*discard = true
		return ctrl.Result{Requeue: r.Requeue}, r.Err
	}
	Record(r, c, rec, obj)
	return ctrl.Result{RequeueAfter: r.After, Requeue: r.Requeue}, r.Err
}

// Record writes r's conditions and Event without ending the step: for a
// step that passes through one outcome on its way to another (an orphan
// mitigation finished by a deletion's last delete).
func Record(r Result, c Conditions, rec events.EventRecorder, obj runtime.Object) {
	if r.Reason == "" {
		return
	}
	typ := corev1.EventTypeWarning
	if r.Normal() {
		typ = corev1.EventTypeNormal
	}
	status := scv1beta1.ConditionFalse
	if r.Class == Done {
		status = scv1beta1.ConditionTrue
	}
	reason, message := r.Reason, r.Message
	if r.Mitigate {
		var causeEvent bool
		reason, message, causeEvent = c.StartMitigation(r.Reason, r.Message)
		if causeEvent {
			rec.Eventf(obj, nil, corev1.EventTypeWarning, r.Reason, "Reconcile", "%s", r.Message)
		}
	}
	if r.Class == Terminal {
		c.SetFailed(r.Reason, r.Message)
	}
	if c.SetReady(status, reason, message) {
		rec.Eventf(obj, nil, typ, reason, "Reconcile", "%s", message)
	}
}
