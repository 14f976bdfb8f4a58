// Package brokerop is the lifecycle of one OSB operation (provision,
// update, deprovision, bind, unbind), written once for instances and
// bindings: when the operation started, what a failed request means
// (retry, refused for good, orphan mitigation, gone), accepting a
// synchronous or asynchronous answer, polling (Retry-After, a delay that
// grows with the operation's age, the plan's maximum_polling_duration) and
// what a failed asynchronous operation leads to. The requests themselves
// run through brokercalls, off the reconcile workers; what the decisions
// mean for the status is a stepresult.Result, mapped in one place.
//
// Each reconciler keeps only what is its kind's own: the request bodies,
// the status fields beyond the ones here, and its reasons' words (Texts).
// Credential rotation, maintenance upgrades and sharing are operations of
// the same shape (send, accept, poll, decide) and take the same path.
package brokerop

import (
	"fmt"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	scv1beta1 "github.com/svcat-io/svcat/api/v1beta1"
	"github.com/svcat-io/svcat/internal/controller/brokercalls"
	"github.com/svcat-io/svcat/internal/controller/pollschedule"
	"github.com/svcat-io/svcat/internal/controller/stepresult"
	"github.com/svcat-io/svcat/internal/osb"
	"k8s.io/apimachinery/pkg/types"
)

// Creates reports whether op makes something at the broker that a failure
// may leave behind (an orphan).
func Creates(op osb.Operation) bool { return op == osb.OpProvision || op == osb.OpBind }

// Deletes reports whether op removes something at the broker.
func Deletes(op osb.Operation) bool { return op == osb.OpDeprovision || op == osb.OpUnbind }

// Failure is what a failed request means for the object.
type Failure int

const (
	// Retry: the request may succeed when sent again (5xx without
	// mitigation, a timeout of an update, a 422 ConcurrencyError, 401,
	// 403, 404, any failure of a delete but 410).
	Retry Failure = iota
	// Refused: the broker said the request itself is wrong, so sending it
	// again cannot succeed.
	Refused
	// Mitigate: the broker may have created something it will not report
	// (OSB 2.17's orphan mitigation table): it is deleted there first.
	Mitigate
	// Gone: a delete the broker answered 410: there is nothing left to
	// delete.
	Gone
)

func (f Failure) String() string {
	return [...]string{"Retry", "Refused", "Mitigate", "Gone"}[f]
}

// Classify is the one reading of a failed request, for every operation of
// both kinds. A delete is sent again until it succeeds (OSB: orphan
// mitigation of a delete is the delete again). 400, and 422 other than a
// ConcurrencyError (AsyncRequired, MaintenanceInfoConflict, RequiresApp,
// or none), are refused for good; so is a 409 to a create: the broker
// holds something different under this ID. A 409 to an update is not in
// OSB's table and is retried.
func Classify(op osb.Operation, err error) Failure {
	if Deletes(op) {
		if osb.IsGone(err) {
			return Gone
		}
		return Retry
	}
	if osb.OrphanMitigationRequired(op, osb.OutcomeOf(osb.StatusCodeOf(err), err)) {
		return Mitigate
	}
	if osb.IsBadRequest(err) || (Creates(op) && osb.IsConflict(err)) ||
		(osb.IsUnprocessableEntity(err) && !osb.IsConcurrencyError(err)) {
		return Refused
	}
	return Retry
}

// Started is when the operation about to be sent started, and so what its
// maximum_polling_duration and poll delays count from. A create or update
// sent again after a failure that left it in flight keeps its start; a
// delete starts now, whatever was in flight before it (it supersedes a
// create or update; were it to keep a bind's start, a binding deleted long
// after its bind began would find its unbind timed out before the first
// poll), except the delete of an orphan mitigation, which finishes the
// failed create.
func Started(op osb.Operation, recorded *metav1.Time, mitigating bool, now metav1.Time) metav1.Time {
	if recorded != nil && (!Deletes(op) || mitigating) {
		return *recorded
	}
	return now
}

// Status is the part of an instance's or a binding's status that an
// operation in flight keeps.
type Status struct {
	Async         *bool
	LastOperation **string
	Started       **metav1.Time
}

// Begin records the operation as sent at started.
func (s Status) Begin(started metav1.Time) { *s.Started = &started }

// Accept records an asynchronous answer: the operation is polled from now
// on, with the broker's operation key.
func (s Status) Accept(operation string) {
	*s.Async = true
	*s.LastOperation = nil
	if operation != "" {
		*s.LastOperation = &operation
	}
}

// Supersede drops the asynchronous operation in flight: a delete replaces
// it (OSB: a delete halts a create), and polling it afterwards would take
// its success for the delete's.
func (s Status) Supersede() { *s.Async, *s.LastOperation = false, nil }

// Expired reports whether the plan's maximum_polling_duration (seconds;
// nil or 0: none) has passed since started. OSB's rule for instances and
// bindings alike: the operation then counts as failed.
func Expired(maxSeconds *int64, started, now time.Time) (description string, expired bool) {
	if maxSeconds == nil || *maxSeconds <= 0 || now.Sub(started) <= time.Duration(*maxSeconds)*time.Second {
		return "", false
	}
	return fmt.Sprintf("the broker did not finish within the plan's maximum_polling_duration of %ds", *maxSeconds), true
}

// Poll is one last_operation answer, read.
type Poll struct {
	State       osb.LastOperationState
	Description string
	RetryAfter  time.Duration
	// TimedOut: the maximum polling duration passed (State is failed).
	TimedOut bool
	// Err: the poll itself failed and is retried; State is empty.
	Err error
}

// ReadPoll is the one reading of a last_operation answer. A 410 ends a
// delete (the broker holds nothing any more) and fails anything else: the
// broker no longer knows what it was making ("what" names it).
func ReadPoll(op osb.Operation, lo *osb.LastOperationResponse, err error, what string) Poll {
	switch {
	case err == nil:
		return Poll{State: lo.State, Description: lo.Description, RetryAfter: lo.RetryAfter}
	case osb.IsGone(err) && Deletes(op):
		return Poll{State: osb.StateSucceeded}
	case osb.IsGone(err):
		return Poll{State: osb.StateFailed, Description: "the broker no longer knows the " + what + " (HTTP 410)"}
	}
	return Poll{Err: err}
}

// Texts is what one kind says about one of its operations.
type Texts struct {
	// InProgress and InProgressMessage: Ready while the broker works.
	InProgress, InProgressMessage string
	// CallFailed and ErrorPrefix: Ready when a request failed ("Error
	// provisioning: " and the cause).
	CallFailed, ErrorPrefix string
	// BrokerFailed starts the message of an asynchronous operation the
	// broker reported failed.
	BrokerFailed string
	// Timeout is the reason when the maximum polling duration passed;
	// empty: CallFailed.
	Timeout string
}

// Polling is the result of an operation still running at the broker,
// polled again after delay.
func (t Texts) Polling(description string, delay time.Duration) stepresult.Result {
	msg := t.InProgressMessage
	if description != "" {
		msg += " (" + description + ")"
	}
	return stepresult.Wait(t.InProgress, msg, delay)
}

// RequestFailed is the result of a failed request of the given failure
// class (never Gone, which is a success); cause describes the error.
func (t Texts) RequestFailed(f Failure, cause string, err error) stepresult.Result {
	msg := t.ErrorPrefix + cause
	switch f {
	case Mitigate:
		return stepresult.Retry(t.CallFailed, msg, err).MitigateOrphan()
	case Refused:
		return stepresult.Fail(t.CallFailed, msg)
	}
	return stepresult.Retry(t.CallFailed, msg, err)
}

// PollFailed is the result of a poll that got no usable answer.
func PollFailed(cause string, err error) stepresult.Result {
	return stepresult.Retry(scv1beta1.ReasonErrorPollingLastOperation, scv1beta1.MessageErrorPollingLastOperation+cause, err)
}

// AsyncFailed is the result of an asynchronous operation the broker
// reported failed, or that outlasted the maximum polling duration. A
// failed delete is sent again (OSB's table), a failed update is final, a
// failed create is final and, since the broker may have made part of it,
// mitigated.
func (t Texts) AsyncFailed(op osb.Operation, p Poll) stepresult.Result {
	msg := t.BrokerFailed + p.Description
	switch {
	case Deletes(op):
		return stepresult.Retry(t.CallFailed, msg+"; retrying", fmt.Errorf("%s failed at the broker: %s", op, p.Description))
	case !Creates(op):
		return stepresult.Fail(t.CallFailed, msg)
	}
	reason := t.CallFailed
	if p.TimedOut && t.Timeout != "" {
		reason = t.Timeout
	}
	return stepresult.Fail(reason, msg).MitigateOrphan()
}

// Accepted records an asynchronous answer and schedules the first poll,
// counted from the operation's start (s.Started) like every later one.
func (t Texts) Accepted(s Status, polls *pollschedule.Schedule, uid types.UID, stepNow, now time.Time, operation string, retryAfter time.Duration) stepresult.Result {
	s.Accept(operation)
	delay := pollschedule.Delay(retryAfter, (*s.Started).Time, stepNow)
	polls.After(uid, now, delay)
	return t.Polling("", delay)
}

// Poller polls one object's operation in flight: when the schedule allows,
// unless the maximum polling duration has passed, from a cache that
// carries the controller's last write.
type Poller[T any] struct {
	Op    osb.Operation
	What  string // "instance", "binding": named by a 410's description
	Texts Texts
	UID   types.UID
	Polls *pollschedule.Schedule
	// Started is when the operation started; StepNow is the reconcile's
	// time, Now the clock.
	Started, StepNow time.Time
	Now              func() time.Time
	MaxSeconds       *int64
	// Answer and Answered: a poll's answer already taken from the broker
	// call runner (brokercalls.Take).
	Answer   brokercalls.Result[T]
	Answered brokercalls.Status
	// Stale reports a cache behind the controller's last write, with the
	// result to return.
	Stale func() (stepresult.Result, bool)
	// Send sends the poll: false when the broker has not answered within
	// the runner's wait.
	Send func() (brokercalls.Result[T], bool, error)
	// Read takes the last_operation answer out of T.
	Read func(brokercalls.Result[T]) (*osb.LastOperationResponse, error)
	// Describe words a broker error for a condition.
	Describe func(error) string
}

// Poll asks the broker when due. ended is true when the operation ended
// (read says how, out holds the answer); otherwise res is what the
// reconcile returns: waiting for the next poll, for the answer, or a
// failed poll.
func (p Poller[T]) Poll() (read Poll, out brokercalls.Result[T], res stepresult.Result, ended bool) {
	if p.Answered == brokercalls.Pending {
		return read, out, stepresult.AwaitAnswer(), false
	}
	if d := p.Polls.Wait(p.UID, p.Now()); d > 0 && p.Answered == brokercalls.None {
		return read, out, stepresult.Result{After: d}, false
	}
	out = p.Answer
	if desc, expired := Expired(p.MaxSeconds, p.Started, p.StepNow); expired && p.Answered == brokercalls.None {
		p.Polls.Done(p.UID)
		return Poll{State: osb.StateFailed, Description: desc, TimedOut: true}, out, res, true
	}
	if p.Answered == brokercalls.None {
		// A cached status older than the last poll's answer would poll an
		// operation already finished.
		if res, stale := p.Stale(); stale {
			return read, out, res, false
		}
		var ok bool
		var err error
		if out, ok, err = p.Send(); err != nil {
			return read, out, stepresult.Error(err), false
		} else if !ok {
			return read, out, stepresult.AwaitAnswer(), false
		}
	}
	lo, err := p.Read(out)
	read = ReadPoll(p.Op, lo, err, p.What)
	switch {
	case read.Err != nil:
		return read, out, PollFailed(p.Describe(read.Err), read.Err), false
	case read.State == osb.StateSucceeded, read.State == osb.StateFailed:
		p.Polls.Done(p.UID)
		return read, out, res, true
	}
	delay := pollschedule.Delay(read.RetryAfter, p.Started, p.StepNow)
	p.Polls.After(p.UID, p.Now(), delay)
	return read, out, p.Texts.Polling(read.Description, delay), false
}
