package controller

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	scv1beta1 "github.com/svcat-io/svcat/api/v1beta1"
	"github.com/svcat-io/svcat/internal/controller/bindsecret"
	"github.com/svcat-io/svcat/internal/controller/brokercalls"
	"github.com/svcat-io/svcat/internal/controller/brokerop"
	"github.com/svcat-io/svcat/internal/controller/idclaim"
	"github.com/svcat-io/svcat/internal/controller/osbrequest"
	"github.com/svcat-io/svcat/internal/controller/stepresult"
	"github.com/svcat-io/svcat/internal/osb"
)

// Credential rotation. A rotation makes a new broker binding (naming the
// old one as predecessor_binding_id when the plan is binding_rotatable),
// writes its credentials into the same Secret and unbinds the old binding
// once its grace period ends. Every broker binding ID the controller
// makes is in status.rotation from before its bind is sent until its
// unbind succeeds: the new one as pending, the Secret's as current, the
// old ones as retiring. A crash, a failed request or a deletion at any
// point therefore finds each of them and nothing is left at the broker.

// Broker call operations of rotations (see calls.go).
const (
	callRotateBind = "rotate-bind"
	callRotatePoll = "rotate-poll"
	callRetire     = "retire-unbind"
)

// Defaults of the controller's rotation settings.
const (
	// DefaultRotationGracePeriod is how long old credentials stay valid
	// when the binding's policy does not say.
	DefaultRotationGracePeriod = 10 * time.Minute
	// DefaultRotateBeforeExpiry is the fraction of the credentials'
	// lifetime after which they are rotated.
	DefaultRotateBeforeExpiry = 0.8
	// retireResendDelay and rotateResendDelay are how soon an unbind or a
	// bind the broker accepted asynchronously is sent again to learn
	// whether it finished.
	retireResendDelay = 10 * time.Second
	rotateResendDelay = 5 * time.Second
	// rotatePollDelay is how often an asynchronous rotation's bind is
	// polled when the broker gives no Retry-After.
	rotatePollDelay = 2 * time.Second
)

// Flag names of the rotation settings (docs and chart use the same).
const (
	FlagRotationGracePeriod = "rotation-grace-period"
	FlagRotateBeforeExpiry  = "rotate-before-expiry"
)

// CheckRotateBeforeExpiry refuses a fraction that would rotate at or after
// expiry, or at once; 0 (Options built by hand) means the default.
func CheckRotateBeforeExpiry(f float64) error {
	if f != 0 && !(f > 0 && f < 1) {
		return fmt.Errorf("--%s=%v: the fraction of the credentials' lifetime after which they are rotated must be greater than 0 and less than 1, for example 0.8", FlagRotateBeforeExpiry, f)
	}
	return nil
}

// rotationInput is what decides whether a bound binding rotates now.
type rotationInput struct {
	Now time.Time
	// Request is the rotation-request annotation, LastRequest the last
	// value honoured.
	Request, LastRequest string
	// Interval is spec.rotationPolicy.interval; 0 when not set.
	Interval time.Duration
	// Issued is when the Secret's credentials were made; zero: unknown.
	Issued time.Time
	// ExpiresAt and RenewBefore are the broker's; zero: none.
	ExpiresAt, RenewBefore time.Time
	// Fraction of the lifetime after which credentials are rotated.
	Fraction float64
	// FailedAt is the last failure; no rotation starts before
	// FailedAt+RetryDelay.
	FailedAt   time.Time
	RetryDelay time.Duration
}

// rotationDecision is what decideRotation says.
type rotationDecision struct {
	// Trigger is set when a rotation starts now.
	Trigger scv1beta1.RotationTrigger
	// Request is the annotation value it honours.
	Request string
	// At is when the next rotation is due, to look again then; zero:
	// none is scheduled.
	At time.Time
}

// decideRotation says whether a rotation starts now and when the next is
// due. A new request goes first, then whichever of the schedule and the
// expiry comes earlier; after a failure nothing starts for RetryDelay, so
// a broker that keeps failing is not asked in a loop.
func decideRotation(in rotationInput) rotationDecision {
	var d rotationDecision
	if in.Request != "" && in.Request != in.LastRequest {
		d.Trigger, d.Request, d.At = scv1beta1.RotationTriggerRequest, in.Request, in.Now
	}
	if in.Interval > 0 && !in.Issued.IsZero() {
		d.At, d.Trigger = in.Issued.Add(in.Interval), pickTrigger(d.Trigger, scv1beta1.RotationTriggerSchedule)
	}
	if exp := expiryRotationTime(in.Issued, in.ExpiresAt, in.RenewBefore, in.Fraction); !exp.IsZero() && (d.At.IsZero() || exp.Before(d.At)) {
		// The broker's times are its own: credentials it issues already
		// expired, or for a second, are rotated no sooner than RetryDelay
		// after they were made, so it cannot drive rotations in a loop.
		if floor := in.Issued.Add(in.RetryDelay); !in.Issued.IsZero() && exp.Before(floor) {
			exp = floor
		}
		d.At, d.Trigger = exp, pickTrigger(d.Trigger, scv1beta1.RotationTriggerExpiry)
	}
	if d.Request != "" {
		d.At = in.Now
	}
	if d.At.IsZero() {
		return rotationDecision{}
	}
	if !in.FailedAt.IsZero() && d.At.Before(in.FailedAt.Add(in.RetryDelay)) {
		d.At = in.FailedAt.Add(in.RetryDelay)
	}
	if in.Now.Before(d.At) {
		d.Trigger, d.Request = "", ""
	}
	return d
}

// pickTrigger keeps a trigger already chosen (a request), else takes t.
func pickTrigger(have, t scv1beta1.RotationTrigger) scv1beta1.RotationTrigger {
	if have != "" {
		return have
	}
	return t
}

// expiryRotationTime is when credentials that expire at expires are
// rotated: after fraction of their lifetime, or at the broker's
// renewBefore if that is earlier. Of credentials whose age is unknown the
// fraction cannot be had: renewBefore or the expiry itself.
func expiryRotationTime(issued, expires, renewBefore time.Time, fraction float64) time.Time {
	if expires.IsZero() {
		return time.Time{}
	}
	at := expires
	if !issued.IsZero() && expires.After(issued) {
		at = issued.Add(time.Duration(fraction * float64(expires.Sub(issued))))
	}
	if !renewBefore.IsZero() && renewBefore.Before(at) {
		at = renewBefore
	}
	return at
}

// dueRetiring is the first old binding whose grace period has ended, and
// when the next one's ends (zero: none waits).
func dueRetiring(list []scv1beta1.RetiringBinding, now time.Time) (due *scv1beta1.RetiringBinding, next time.Time) {
	for i := range list {
		at := list[i].UnbindAfter.Time
		if !now.Before(at) {
			if due == nil {
				due = &list[i]
			}
			continue
		}
		if next.IsZero() || at.Before(next) {
			next = at
		}
	}
	return due, next
}

// rotationIDs are the broker bindings a deletion must unbind besides the
// Secret's: the rotation in flight and the retiring ones.
func rotationIDs(rot *scv1beta1.ServiceBindingRotationStatus) []string {
	if rot == nil {
		return nil
	}
	var ids []string
	if rot.Pending != nil {
		ids = append(ids, rot.Pending.BindingID)
	}
	for _, r := range rot.Retiring {
		ids = append(ids, r.BindingID)
	}
	return ids
}

// gracePeriod is how long old credentials stay valid for b.
func (r *BindingReconciler) gracePeriod(b *scv1beta1.ServiceBinding) time.Duration {
	if p := b.Spec.RotationPolicy; p != nil && p.GracePeriod != nil {
		return p.GracePeriod.Duration
	}
	if r.RotationGracePeriod > 0 {
		return r.RotationGracePeriod
	}
	return DefaultRotationGracePeriod
}

func (r *BindingReconciler) rotateBeforeExpiry() float64 {
	if r.RotateBeforeExpiry > 0 && r.RotateBeforeExpiry < 1 {
		return r.RotateBeforeExpiry
	}
	return DefaultRotateBeforeExpiry
}

func timeOf(t *metav1.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.Time
}

func rotationOf(st *scv1beta1.ServiceBindingStatus) *scv1beta1.ServiceBindingRotationStatus {
	if st.Rotation == nil {
		st.Rotation = &scv1beta1.ServiceBindingRotationStatus{}
	}
	return st.Rotation
}

// rotate runs the rotation work of a bound binding: a rotation in flight,
// an old binding due for unbind, or a rotation due. busy is false when
// there is none; then after is when there will be (zero: nothing
// scheduled) and the binding goes on to its usual checks.
func (r *BindingReconciler) rotate(ctx context.Context, s *bindingStep) (res stepresult.Result, busy bool, after time.Duration) {
	b := s.b
	st := &b.Status
	now := s.now.Time
	if rot := st.Rotation; rot != nil && rot.Pending != nil {
		return r.rotateBind(ctx, s), true, 0
	}
	var retiring []scv1beta1.RetiringBinding
	if st.Rotation != nil {
		retiring = st.Rotation.Retiring
	}
	due, next := dueRetiring(retiring, now)
	if due != nil {
		return r.retire(ctx, s, due.BindingID), true, 0
	}
	in := r.rotationInput(s)
	if len(in.Request) > scv1beta1.MaxRotationRequestLength {
		st.SetAdvisoryCondition(scv1beta1.ServiceBindingConditionRotation, scv1beta1.ConditionFalse, scv1beta1.ReasonRotationRequestInvalid,
			fmt.Sprintf(scv1beta1.MessageRotationRequestTooLongFormat, scv1beta1.AnnotationRotationRequest, len(in.Request), scv1beta1.MaxRotationRequestLength), s.now)
		in.Request = ""
	} else if c := st.GetCondition(scv1beta1.ServiceBindingConditionRotation); c != nil && c.Reason == scv1beta1.ReasonRotationRequestInvalid {
		st.RemoveCondition(scv1beta1.ServiceBindingConditionRotation)
	}
	if in.Interval > 0 && in.Issued.IsZero() {
		// A policy on a binding bound before it counts from now.
		rotationOf(st).IssuedTime = &s.now
		in.Issued = now
	}
	d := decideRotation(in)
	if d.Trigger != "" {
		if len(retiring) < scv1beta1.MaxRetiringBindings && instanceReady(s.inst) {
			return r.startRotation(ctx, s, d), true, 0
		}
		// Due but held back: an unbind's time (next) or the instance's
		// change brings the binding back.
		d.At = time.Time{}
	}
	for _, at := range []time.Time{d.At, next} {
		if !at.IsZero() && (after == 0 || at.Sub(now) < after) {
			after = max(at.Sub(now), time.Second)
		}
	}
	return stepresult.Nothing(), false, after
}

// rotationFollowUp is when a binding whose credentials were just written
// must be reconciled again for its rotations: a request that came while
// it was binding, the schedule, the expiry, an old binding's unbind. A
// status write queues nothing, so without it they would wait for the
// resync. Zero: nothing to come.
func (r *BindingReconciler) rotationFollowUp(s *bindingStep) time.Duration {
	now := s.now.Time
	in := r.rotationInput(s)
	if in.Interval > 0 && in.Issued.IsZero() {
		in.Issued = now
	}
	d := decideRotation(in)
	var next time.Time
	if st := s.b.Status.Rotation; st != nil {
		_, next = dueRetiring(st.Retiring, now)
	}
	var after time.Duration
	for _, at := range []time.Time{d.At, next} {
		if !at.IsZero() && (after == 0 || at.Sub(now) < after) {
			after = max(at.Sub(now), time.Second)
		}
	}
	return after
}

func (r *BindingReconciler) rotationInput(s *bindingStep) rotationInput {
	b := s.b
	st := &b.Status
	in := rotationInput{Now: s.now.Time, Request: b.Annotations[scv1beta1.AnnotationRotationRequest],
		ExpiresAt: timeOf(st.ExpiresAt), RenewBefore: timeOf(st.RenewBefore),
		Fraction: r.rotateBeforeExpiry(), RetryDelay: r.RotationRetryDelay}
	if p := b.Spec.RotationPolicy; p != nil && p.Interval != nil {
		in.Interval = p.Interval.Duration
	}
	if rot := st.Rotation; rot != nil {
		in.LastRequest, in.Issued, in.FailedAt = rot.LastRequest, timeOf(rot.IssuedTime), timeOf(rot.FailureTime)
	}
	return in
}

// startRotation records the new binding's ID; its bind is sent by the
// next reconcile, after the status with the ID is written, so that no
// crash can leave a broker binding the status does not name. The ID is
// claimed first, as spec.externalID is (package idclaim): no other
// object may then carry it, even once it is known.
func (r *BindingReconciler) startRotation(ctx context.Context, s *bindingStep, d rotationDecision) stepresult.Result {
	st := &s.b.Status
	id := uuid.NewString()
	owned, err := r.Claims.Owns(ctx, r.Client, idclaim.Binding, s.b, id)
	if err != nil || !owned {
		return stepresult.Error(errors.Join(err, fmt.Errorf("the new binding ID %s could not be claimed", id)))
	}
	rot := rotationOf(st)
	rot.Pending = &scv1beta1.PendingRotation{BindingID: id, Trigger: d.Trigger, Request: d.Request, StartTime: s.now}
	msg := fmt.Sprintf(scv1beta1.MessageRotatingCredentialsFormat, d.Trigger, rot.Pending.BindingID)
	st.SetAdvisoryCondition(scv1beta1.ServiceBindingConditionRotation, scv1beta1.ConditionUnknown, scv1beta1.ReasonRotatingCredentials, msg, s.now)
	r.Recorder.Eventf(s.b, nil, corev1.EventTypeNormal, scv1beta1.ReasonRotatingCredentials, "Rotate", "%s", msg)
	return stepresult.Result{Requeue: true}
}

// rotateBind sends the pending rotation's bind, or applies its answer.
func (r *BindingReconciler) rotateBind(ctx context.Context, s *bindingStep) stepresult.Result {
	b, inst, res := s.b, s.inst, s.res
	switch out, state := brokercalls.Take[*osb.BindResponse](r.calls.Runner, r.calls.Key(b, callRotateBind)); state {
	case brokercalls.Pending:
		return stepresult.AwaitAnswer()
	case brokercalls.Done:
		return r.rotateAnswered(ctx, s, out)
	}
	if b.Status.Rotation.Pending.Accepted {
		return r.rotatePoll(ctx, s)
	}
	// The pending ID must be in the API server before its bind goes out.
	if stale, behind := cacheBehind(ctx, r.fresh, r.APIReader, b); behind {
		return stale
	}
	p, stop, ok := buildParams(r.Schemas, b.Spec.Parameters, b.Spec.ParametersFrom, secretValueReader(ctx, r.APIReader, b.Namespace),
		res.plan.ServiceBindingCreateParameterSchema, "binding schema")
	if !ok {
		// Nothing was sent: the new ID is dropped, the request stays
		// unhonoured until the parameters are fixed.
		return r.rotationFailed(s, false, scv1beta1.ReasonRotationFailed, scv1beta1.MessageRotationFailed+stop.Message, stop.Err)
	}
	ns := &corev1.Namespace{}
	if err := r.Client.Get(ctx, client.ObjectKey{Name: b.Namespace}, ns); err != nil {
		return stepresult.Error(err)
	}
	c, err := r.Pool.Client(ctx, res.broker)
	if err != nil {
		return stepresult.Error(err)
	}
	// Asynchronous only where the credentials can be fetched afterwards,
	// as for the first bind.
	req := osbrequest.Bind(b, inst, res.class, res.plan, p, osbrequest.Env{ClusterID: r.ClusterID, NamespaceUID: string(ns.UID)}, res.class.BindingRetrievable)
	req.BindingID = b.Status.Rotation.Pending.BindingID
	if res.plan.BindingRotatable && !b.Status.Rotation.Pending.Fresh {
		req.PredecessorBindingID = b.BrokerBindingID()
	}
	req.User = r.Identity.User(req.User, b.CreationTimestamp)
	out, ok := brokercalls.Do(r.calls.Runner, r.calls.Call(b, callRotateBind, res.broker.Key, req.BindingID),
		func(ctx context.Context) (*osb.BindResponse, error) { return c.Bind(ctx, req) })
	if !ok {
		return stepresult.AwaitAnswer()
	}
	return r.rotateAnswered(ctx, s, out)
}

// rotateAnswered applies the answer to a rotation's bind.
func (r *BindingReconciler) rotateAnswered(ctx context.Context, s *bindingStep, out brokercalls.Result[*osb.BindResponse]) stepresult.Result {
	b, res := s.b, s.res
	rot := rotationOf(&b.Status)
	if rot.Pending == nil || out.Sent != rot.Pending.BindingID {
		return stepresult.Result{Requeue: true} // an answer to a rotation given up since
	}
	resp, err := out.Value, out.Err
	if err != nil {
		why := brokerop.Describe(res.broker.Spec.URL, err)
		if p := rot.Pending; res.plan.BindingRotatable && !p.Fresh && osb.IsBadRequest(err) {
			// The broker refused the predecessor (an expired binding it
			// removed, a rotation it cannot do): new credentials matter
			// more than the link, so the same ID is bound afresh.
			p.Fresh = true
			r.noteRotationFailure(s, scv1beta1.ReasonRotationFailed, scv1beta1.MessageRotationFailed+why+scv1beta1.MessageRotationFreshBindSuffix)
			rot.FailureTime = nil
			return stepresult.Result{Requeue: true}
		}
		if brokerop.Classify(osb.OpBind, err) == brokerop.Refused {
			// A 4xx: the broker made nothing under the new ID.
			return r.rotationFailed(s, true, scv1beta1.ReasonRotationRefused, scv1beta1.MessageRotationRefused+why, nil)
		}
		// The broker may hold the new binding: the pending ID stays and
		// the same bind is sent again, which OSB makes idempotent (or a
		// deletion unbinds it).
		r.noteRotationFailure(s, scv1beta1.ReasonRotationFailed, scv1beta1.MessageRotationFailed+why)
		return stepresult.Result{Err: err}
	}
	if resp.Async() {
		if res.class.BindingRetrievable {
			rot.Pending.Accepted, rot.Pending.Operation = true, resp.Operation
			return stepresult.Result{After: pollDelay(resp.RetryAfter)}
		}
		// Sent without accepts_incomplete; a broker working on it anyway
		// answers the same PUT with the credentials once it is done.
		r.noteRotationFailure(s, scv1beta1.ReasonRotationFailed, scv1beta1.MessageRotationFailed+"the broker answered 202 (asynchronous) to a bind sent without accepts_incomplete; it is sent again")
		return stepresult.Result{After: rotateResendDelay}
	}
	return r.rotationCredentials(ctx, s, resp.Credentials, resp.Metadata)
}

func pollDelay(retryAfter time.Duration) time.Duration {
	if retryAfter > 0 {
		return min(retryAfter, 5*time.Minute)
	}
	return rotatePollDelay
}

// rotatePoll polls an asynchronous rotation's bind and, once it
// succeeded, fetches the credentials in the same call.
func (r *BindingReconciler) rotatePoll(ctx context.Context, s *bindingStep) stepresult.Result {
	b, res := s.b, s.res
	out, state := brokercalls.Take[bindingPoll](r.calls.Runner, r.calls.Key(b, callRotatePoll))
	switch state {
	case brokercalls.Pending:
		return stepresult.AwaitAnswer()
	case brokercalls.None:
		if stale, behind := cacheBehind(ctx, r.fresh, r.APIReader, b); behind {
			return stale
		}
		c, err := r.Pool.Client(ctx, res.broker)
		if err != nil {
			return stepresult.Error(err)
		}
		p := b.Status.Rotation.Pending
		req := &osb.BindingLastOperationRequest{InstanceID: s.inst.Spec.ExternalID, BindingID: p.BindingID,
			ServiceID: res.class.ExternalID, PlanID: res.plan.ExternalID, Operation: p.Operation}
		get := &osb.GetBindingRequest{InstanceID: s.inst.Spec.ExternalID, BindingID: p.BindingID,
			ServiceID: res.class.ExternalID, PlanID: res.plan.ExternalID}
		var ok bool
		out, ok = brokercalls.Do(r.calls.Runner, r.calls.Call(b, callRotatePoll, res.broker.Key, p.BindingID), func(ctx context.Context) (bindingPoll, error) {
			lo, err := c.PollBindingLastOperation(ctx, req)
			if err != nil {
				return bindingPoll{}, err
			}
			out := bindingPoll{lo: lo}
			if lo.State == osb.StateSucceeded {
				out.got, out.getErr = c.GetBinding(ctx, get)
			}
			return out, nil
		})
		if !ok {
			return stepresult.AwaitAnswer()
		}
	}
	return r.rotatePolled(ctx, s, out)
}

// rotatePolled applies a poll of an asynchronous rotation's bind.
func (r *BindingReconciler) rotatePolled(ctx context.Context, s *bindingStep, out brokercalls.Result[bindingPoll]) stepresult.Result {
	res := s.res
	rot := rotationOf(&s.b.Status)
	if rot.Pending == nil || out.Sent != rot.Pending.BindingID {
		return stepresult.Result{Requeue: true}
	}
	if err := out.Err; err != nil {
		if osb.IsGone(err) {
			// The broker has no such binding: nothing to unbind.
			return r.rotationFailed(s, true, scv1beta1.ReasonRotationFailed, scv1beta1.MessageRotationFailed+brokerop.Describe(res.broker.Spec.URL, err), nil)
		}
		r.noteRotationFailure(s, scv1beta1.ReasonRotationFailed, scv1beta1.MessageRotationFailed+brokerop.Describe(res.broker.Spec.URL, err))
		return stepresult.Result{Err: err}
	}
	lo := out.Value.lo
	switch {
	case lo.State == osb.StateFailed:
		// What the failed bind left is unbound (rotationFailed), as for a
		// first bind.
		return r.rotationFailed(s, true, scv1beta1.ReasonRotationFailed, scv1beta1.MessageRotationFailed+scv1beta1.MessageBrokerFailedToBind+lo.Description, nil)
	case lo.State != osb.StateSucceeded:
		return stepresult.Result{After: pollDelay(lo.RetryAfter)}
	case out.Value.getErr != nil:
		err := out.Value.getErr
		r.noteRotationFailure(s, scv1beta1.ReasonRotationFailed, scv1beta1.MessageRotationFailed+scv1beta1.MessageFetchingBindingFailed+brokerop.Describe(res.broker.Spec.URL, err))
		return stepresult.Result{Err: err}
	}
	return r.rotationCredentials(ctx, s, out.Value.got.Credentials, out.Value.got.Metadata)
}

// rotationCredentials writes a rotation's new credentials into the Secret.
func (r *BindingReconciler) rotationCredentials(ctx context.Context, s *bindingStep, creds map[string]any, meta *osb.BindingMetadata) stepresult.Result {
	b, res := s.b, s.res
	data, err := bindsecret.Render(bindsecret.WithServiceBindingKeys(creds, bindsecret.Service{
		ClassTags: res.class.Tags, ClassExternalName: res.class.ExternalName, BrokerName: res.brokerName,
	}), b.Spec.SecretTransforms, r.readSecret(ctx), b.Namespace)
	if err != nil {
		// Credentials that cannot be stored are of no use: the new
		// binding is unbound at once (rotationFailed), the old one stays
		// in the Secret.
		return r.rotationFailed(s, true, scv1beta1.ReasonRotationFailed, scv1beta1.MessageRotationFailed+scv1beta1.MessageErrorInjectingBindResult+err.Error(), nil)
	}
	if err := r.writeSecret(ctx, b, data); err != nil {
		// Sent again: the broker answers the same credentials.
		return stepresult.Error(err)
	}
	r.rotated(s, meta)
	// A status write queues nothing: the reconcile after the grace
	// period is asked for.
	return stepresult.Result{After: max(r.gracePeriod(b), time.Second)}
}

// rotated records new credentials in the Secret: the new binding becomes
// the current one and the old one retires.
func (r *BindingReconciler) rotated(s *bindingStep, meta *osb.BindingMetadata) {
	b := s.b
	st := &b.Status
	rot := rotationOf(st)
	old, p := b.BrokerBindingID(), rot.Pending
	after := metav1.NewTime(ceilSecond(s.now.Add(r.gracePeriod(b))))
	rot.Retiring = append(rot.Retiring, scv1beta1.RetiringBinding{BindingID: old, UnbindAfter: after})
	rot.CurrentBindingID, rot.Pending = p.BindingID, nil
	rot.LastRotationTime, rot.IssuedTime, rot.FailureTime = &s.now, &s.now, nil
	if p.Request != "" {
		rot.LastRequest = p.Request
	}
	noteExpiry(st, meta, s.now)
	msg := fmt.Sprintf(scv1beta1.MessageCredentialsRotatedFormat, p.BindingID, b.Spec.SecretName, old, after.UTC().Format(time.RFC3339))
	st.SetAdvisoryCondition(scv1beta1.ServiceBindingConditionRotation, scv1beta1.ConditionTrue, scv1beta1.ReasonCredentialsRotated, msg, s.now)
	r.Recorder.Eventf(b, nil, corev1.EventTypeNormal, scv1beta1.ReasonCredentialsRotated, "Rotate", "%s", msg)
}

// rotationFailed ends the pending rotation. Its ID is put to be unbound at
// once even after a refusal, which says only that this request made
// nothing: an earlier try of the same bind, answered 5xx or lost in a
// crash, may have (a broker that has nothing answers the unbind 410).
// honoured marks a request as answered, so that the broker's refusal is
// not asked again in a loop; decideRotation waits after the failure.
func (r *BindingReconciler) rotationFailed(s *bindingStep, honoured bool, reason, msg string, err error) stepresult.Result {
	rot := rotationOf(&s.b.Status)
	if p := rot.Pending; p != nil {
		if honoured && p.Request != "" {
			rot.LastRequest = p.Request
		}
		rot.Pending = nil
		r.retireNow(s, p.BindingID)
	}
	r.noteRotationFailure(s, reason, msg)
	return stepresult.Result{After: time.Second, Err: err}
}

func (r *BindingReconciler) noteRotationFailure(s *bindingStep, reason, msg string) {
	st := &s.b.Status
	rotationOf(st).FailureTime = &s.now
	if st.SetAdvisoryCondition(scv1beta1.ServiceBindingConditionRotation, scv1beta1.ConditionFalse, reason, msg, s.now) {
		r.Recorder.Eventf(s.b, nil, corev1.EventTypeWarning, reason, "Rotate", "%s", msg)
	}
}

// ceilSecond rounds t up to a whole second: the status keeps whole
// seconds, and a grace period must not end early.
func ceilSecond(t time.Time) time.Time {
	if c := t.Truncate(time.Second); !c.Equal(t) {
		return c.Add(time.Second)
	}
	return t
}

// retireNow puts id to be unbound at once.
func (r *BindingReconciler) retireNow(s *bindingStep, id string) {
	rot := rotationOf(&s.b.Status)
	rot.Retiring = append(rot.Retiring, scv1beta1.RetiringBinding{BindingID: id, UnbindAfter: s.now})
}

// retire unbinds an old binding whose grace period ended, or applies the
// answer.
func (r *BindingReconciler) retire(ctx context.Context, s *bindingStep, id string) stepresult.Result {
	b, res := s.b, s.res
	switch out, state := brokercalls.Take[*osb.UnbindResponse](r.calls.Runner, r.calls.Key(b, callRetire)); state {
	case brokercalls.Pending:
		return stepresult.AwaitAnswer()
	case brokercalls.Done:
		return r.retireAnswered(ctx, s, out)
	}
	if stale, behind := cacheBehind(ctx, r.fresh, r.APIReader, b); behind {
		return stale
	}
	c, err := r.Pool.Client(ctx, res.broker)
	if err != nil {
		return stepresult.Error(err)
	}
	req := osbrequest.Unbind(b, s.inst, res.class, res.plan, false)
	req.BindingID = id
	req.User = r.Identity.User(req.User, b.CreationTimestamp)
	out, ok := brokercalls.Do(r.calls.Runner, r.calls.Call(b, callRetire, res.broker.Key, id),
		func(ctx context.Context) (*osb.UnbindResponse, error) { return c.Unbind(ctx, req) })
	if !ok {
		return stepresult.AwaitAnswer()
	}
	return r.retireAnswered(ctx, s, out)
}

func (r *BindingReconciler) retireAnswered(ctx context.Context, s *bindingStep, out brokercalls.Result[*osb.UnbindResponse]) stepresult.Result {
	b := s.b
	id, _ := out.Sent.(string)
	resp, err := out.Value, out.Err
	switch {
	case err == nil && resp.Async():
		// Sent again later: a broker answers 410 once it is gone.
		return stepresult.Result{After: retireResendDelay}
	case err != nil && brokerop.Classify(osb.OpUnbind, err) != brokerop.Gone:
		r.Recorder.Eventf(b, nil, corev1.EventTypeWarning, scv1beta1.ReasonUnbindOldCredentialsFailed, "Rotate",
			scv1beta1.MessageUnbindOldCredentialsFailedFormat, id, brokerop.Describe(s.res.broker.Spec.URL, err))
		return stepresult.Result{Err: err}
	}
	rot := rotationOf(&b.Status)
	kept := rot.Retiring[:0]
	for _, rb := range rot.Retiring {
		if rb.BindingID != id {
			kept = append(kept, rb)
		}
	}
	rot.Retiring = kept
	if len(kept) == 0 {
		rot.Retiring = nil
	}
	r.Recorder.Eventf(b, nil, corev1.EventTypeNormal, scv1beta1.ReasonOldCredentialsUnbound, "Rotate", scv1beta1.MessageOldCredentialsUnboundFormat, id)
	// A claim left behind by a failed release names an owner that no
	// longer carries the ID, which anyone may take over.
	return stepresult.Result{Requeue: true, Err: r.releaseRotated(ctx, b, id)}
}

// releaseRotated gives back the claim on a rotation's broker binding ID.
func (r *BindingReconciler) releaseRotated(ctx context.Context, b *scv1beta1.ServiceBinding, id string) error {
	if id == "" || id == b.Spec.ExternalID {
		return nil
	}
	return r.Claims.Release(ctx, idclaim.Binding, id, b.UID)
}

// retireAll unbinds, for a binding being deleted, the broker bindings of
// rotations besides the Secret's; busy while one is left.
func (r *BindingReconciler) retireAll(ctx context.Context, s *bindingStep) (stepresult.Result, bool) {
	ids := rotationIDs(s.b.Status.Rotation)
	if len(ids) == 0 {
		return stepresult.Nothing(), false
	}
	rot := s.b.Status.Rotation
	if p := rot.Pending; p != nil {
		// Its bind may have reached the broker: it goes with the others.
		rot.Pending = nil
		r.retireNow(s, p.BindingID)
	}
	return r.retire(ctx, s, ids[0]), true
}

// noteExpiry records the broker's expires_at and renew_before of the
// credentials just written. Times the broker got wrong (not RFC 3339,
// more than a century away) are left out rather than trusted.
func noteExpiry(st *scv1beta1.ServiceBindingStatus, meta *osb.BindingMetadata, now metav1.Time) {
	st.ExpiresAt, st.RenewBefore = nil, nil
	if meta == nil {
		return
	}
	st.ExpiresAt = brokerTime(meta.ExpiresAt, now.Time)
	if st.ExpiresAt != nil {
		st.RenewBefore = brokerTime(meta.RenewBefore, now.Time)
		if st.Rotation == nil || st.Rotation.IssuedTime == nil {
			rotationOf(st).IssuedTime = &now
		}
	}
}

// brokerTime parses a broker's RFC 3339 time within a century of now.
func brokerTime(s string, now time.Time) *metav1.Time {
	if s == "" || len(s) > 64 {
		return nil
	}
	t, err := time.Parse(time.RFC3339, s)
	const century = 100 * 365 * 24 * time.Hour
	if err != nil || t.Before(now.Add(-century)) || t.After(now.Add(century)) {
		return nil
	}
	mt := metav1.NewTime(t.UTC())
	return &mt
}
