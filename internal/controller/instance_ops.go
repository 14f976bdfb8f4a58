package controller

import (
	"context"
	"errors"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	scv1beta1 "github.com/svcat-io/svcat/api/v1beta1"
	"github.com/svcat-io/svcat/internal/controller/brokercalls"
	"github.com/svcat-io/svcat/internal/controller/idclaim"
	"github.com/svcat-io/svcat/internal/controller/osbrequest"
	"github.com/svcat-io/svcat/internal/controller/pollschedule"
	"github.com/svcat-io/svcat/internal/osb"
)

// instanceSent is what a provision, update or deprovision request carried
// that the status records with its answer. The answer may be applied by a
// later reconcile, after the spec changed: it is recorded as what was sent.
type instanceSent struct {
	generation int64
	props      *scv1beta1.ServiceInstancePropertiesState
	started    metav1.Time
}

func (r *InstanceReconciler) sent(s *instanceStep, props *scv1beta1.ServiceInstancePropertiesState) instanceSent {
	started := s.now
	if t := s.inst.Status.OperationStartTime; t != nil {
		started = *t
	}
	return instanceSent{generation: s.inst.Generation, props: props, started: started}
}

// record writes what was sent into the status, as the operation in flight.
func (r *InstanceReconciler) record(s *instanceStep, op scv1beta1.ServiceInstanceOperation, sent instanceSent) {
	st := &s.inst.Status
	st.CurrentOperation = op
	if op != scv1beta1.ServiceInstanceOperationDeprovision {
		st.InProgressProperties = sent.props
	}
	started := sent.started
	st.OperationStartTime = &started
	s.gen = sent.generation
}

func (r *InstanceReconciler) provision(ctx context.Context, s *instanceStep) (ctrl.Result, error) {
	inst, res := s.inst, s.res
	// A request already sent is answered first, whatever happened to the
	// spec meanwhile, as it would have been had the reconcile waited.
	switch out, st := brokercalls.Take[*osb.InstanceResponse](r.calls.runner, r.calls.key(inst, callProvision)); st {
	case brokercalls.Pending:
		return answerPending(&s.discard)
	case brokercalls.Done:
		return r.provisionAnswered(ctx, s, out)
	}
	if inst.Status.GetCondition(scv1beta1.ServiceInstanceConditionFailed) != nil {
		if inst.Status.ObservedGeneration == inst.Generation {
			return ctrl.Result{}, nil // failed for good; waits for a new spec
		}
		clearFailed(&inst.Status)
	}
	if res.classRemoved || res.planRemoved {
		reason, what := scv1beta1.ReasonReferencesDeletedServiceClass, "class"
		if !res.classRemoved {
			reason, what = scv1beta1.ReasonReferencesDeletedServicePlan, "plan"
		}
		r.setReady(s, scv1beta1.ConditionFalse, reason, fmt.Sprintf("The %s was removed from the broker's catalog; nothing new can be provisioned from it", what))
		return ctrl.Result{}, nil
	}
	p, ok, err := r.buildParams(ctx, s, res.plan.InstanceCreateParameterSchema)
	if !ok {
		return ctrl.Result{}, err
	}
	env, err := r.env(ctx, inst.Namespace)
	if err != nil {
		return ctrl.Result{}, err
	}
	c, err := r.client(ctx, s)
	if err != nil {
		r.setReady(s, scv1beta1.ConditionFalse, scv1beta1.ReasonProvisionCallFailed, "Error provisioning: "+describeBrokerError(res.broker.Spec.URL, err))
		return ctrl.Result{}, err
	}
	props, err := osbrequest.InstanceProperties(inst, res.plan, p)
	if err != nil {
		return ctrl.Result{}, err
	}
	if stop, result, err := requeueIfStale(ctx, r.fresh, r.APIReader, inst, &s.discard); stop {
		return result, err
	}
	st := &inst.Status
	// From here the broker may hold the instance: a deletion must ask it.
	// That is persisted before the request, or a crash right after it would
	// leave a status (NotRequired after an orphan mitigation, say) that lets
	// a deletion skip the broker: an orphan. An instance never sent before
	// has none, and a deletion then asks the broker anyway (its refs are
	// recorded), so the common first provision costs no extra write.
	if st.DeprovisionStatus != "" && st.DeprovisionStatus != scv1beta1.ServiceInstanceDeprovisionStatusRequired {
		before := inst.DeepCopy()
		st.DeprovisionStatus = scv1beta1.ServiceInstanceDeprovisionStatusRequired
		pending := inst.Status.DeepCopy()
		if err := r.Client.Status().Patch(ctx, inst, client.MergeFrom(before)); err != nil {
			return ctrl.Result{}, err
		}
		// The response carries the stored status; keep this reconcile's
		// other changes for the final patch.
		inst.Status = *pending
	}
	if err := r.recordUnanswered(ctx, inst); err != nil {
		return ctrl.Result{}, err
	}
	req := osbrequest.Provision(inst, res.class, res.plan, p, env)
	req.User = r.Identity.User(req.User, inst.CreationTimestamp)
	out, ok := brokercalls.Do(r.calls.runner, r.calls.call(inst, callProvision, res.broker.Key, r.sent(s, props)),
		func(ctx context.Context) (*osb.InstanceResponse, error) { return c.ProvisionInstance(ctx, req) })
	if !ok {
		return answerPending(&s.discard)
	}
	return r.provisionAnswered(ctx, s, out)
}

// recordUnanswered makes sure the claim records a generation whose
// provision may go unanswered before one is sent (see
// idclaim.AnnotationUnanswered). The claim's creation recorded the first;
// only after a 409 cleared it does this write. An ID that is the object's
// own UID has no claim and needs no record (see conflictIsOurs).
func (r *InstanceReconciler) recordUnanswered(ctx context.Context, inst *scv1beta1.ServiceInstance) error {
	if _, ok, err := r.Claims.Unanswered(ctx, idclaim.Instance, inst.Spec.ExternalID, inst.UID); ok || err != nil {
		return err
	}
	return r.Claims.SetUnanswered(ctx, idclaim.Instance, inst.Spec.ExternalID, inst.UID, inst.Generation)
}

// provisionAnswered applies the broker's answer to a provision request.
func (r *InstanceReconciler) provisionAnswered(ctx context.Context, s *instanceStep, out brokercalls.Result[*osb.InstanceResponse]) (ctrl.Result, error) {
	r.record(s, scv1beta1.ServiceInstanceOperationProvision, out.Sent.(instanceSent))
	st := &s.inst.Status
	resp, err := out.Value, out.Err
	if err != nil {
		return r.provisionFailed(ctx, s, err)
	}
	if u, ok := brokerDashboardURL(resp.DashboardURL); ok {
		st.DashboardURL = &u
	}
	if resp.Async() {
		st.AsyncOpInProgress = true
		st.LastOperation = optional(resp.Operation)
		r.setReady(s, scv1beta1.ConditionFalse, scv1beta1.ReasonProvisioning, "The instance is being provisioned asynchronously")
		return r.polls.After(s.inst.UID, r.now(), pollschedule.Delay(resp.RetryAfter, st.OperationStartTime.Time, s.now.Time)), nil
	}
	r.finishProvision(s)
	return ctrl.Result{}, nil
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func (r *InstanceReconciler) finishProvision(s *instanceStep) {
	st := &s.inst.Status
	st.ProvisionStatus = scv1beta1.ServiceInstanceProvisionStatusProvisioned
	st.DeprovisionStatus = scv1beta1.ServiceInstanceDeprovisionStatusRequired
	st.ExternalProperties = st.InProgressProperties
	r.endOperation(s)
	r.setReady(s, scv1beta1.ConditionTrue, scv1beta1.ReasonProvisionedSuccessfully, scv1beta1.MessageProvisionedSuccessfully)
}

// endOperation clears the in-flight operation and marks the spec as done.
func (r *InstanceReconciler) endOperation(s *instanceStep) {
	st := &s.inst.Status
	st.AsyncOpInProgress = false
	st.LastOperation = nil
	st.CurrentOperation = ""
	st.InProgressProperties = nil
	st.OperationStartTime = nil
	st.ObservedGeneration = s.gen
	st.ReconciledGeneration = s.gen
}

// provisionFailed applies the OSB rules to a failed provision request:
// orphan mitigation where the broker may have created something, a
// terminal failure where retrying cannot help, a retry otherwise.
func (r *InstanceReconciler) provisionFailed(ctx context.Context, s *instanceStep, err error) (ctrl.Result, error) {
	msg := "Error provisioning: " + describeBrokerError(s.res.broker.Spec.URL, err)
	if osb.OrphanMitigationRequired(osb.OpProvision, osb.OutcomeOf(osb.StatusCodeOf(err), err)) {
		r.startOrphanMitigation(s, scv1beta1.ReasonProvisionCallFailed, msg)
		return ctrl.Result{Requeue: true}, nil
	}
	if terminalProvisionError(err) {
		s.inst.Status.DeprovisionStatus = scv1beta1.ServiceInstanceDeprovisionStatusNotRequired
		if osb.IsConflict(err) {
			ours, cerr := r.conflictIsOurs(ctx, s)
			if cerr != nil {
				return ctrl.Result{}, cerr
			}
			if ours {
				s.inst.Status.DeprovisionStatus = scv1beta1.ServiceInstanceDeprovisionStatusRequired
			}
		}
		r.endOperation(s)
		r.setFailed(s, scv1beta1.ReasonProvisionCallFailed, msg)
		return ctrl.Result{}, nil
	}
	r.setReady(s, scv1beta1.ConditionFalse, scv1beta1.ReasonProvisionCallFailed, msg)
	return ctrl.Result{}, err
}

// conflictIsOurs decides whom the broker's instance behind a 409 belongs
// to, and so whether deleting this object must deprovision it. A 4xx leaves
// the broker unchanged; a 409 says it holds a different instance under this
// ID. Usually that is not this object's: deleting it there would destroy
// what another platform, or a namespace that copied the ID, provisioned
// (issue 14). It is this object's only when an earlier request of it, for
// another generation of its spec, may have reached the broker with its
// answer lost (a crash before the status write, then a spec change): the
// claim records that generation. Answered now, the record is cleared, so a
// later 409 is not taken for ours.
func (r *InstanceReconciler) conflictIsOurs(ctx context.Context, s *instanceStep) (bool, error) {
	inst := s.inst
	if idclaim.OwnID(inst.Spec.ExternalID, inst.UID) {
		// Nobody could provision under this object's UID before it existed:
		// the broker's instance can only be from an earlier request of its
		// own.
		return true, nil
	}
	g, ok, err := r.Claims.Unanswered(ctx, idclaim.Instance, inst.Spec.ExternalID, inst.UID)
	if err != nil {
		return false, err
	}
	if ok && g != s.gen {
		return true, nil
	}
	return false, r.Claims.SetUnanswered(ctx, idclaim.Instance, inst.Spec.ExternalID, inst.UID, 0)
}

// terminalProvisionError: the broker said the request itself is wrong, so
// sending it again cannot succeed (400, 409 for a different instance with
// this ID, 422 other than ConcurrencyError).
func terminalProvisionError(err error) bool {
	return osb.IsBadRequest(err) || osb.IsConflict(err) ||
		(osb.IsUnprocessableEntity(err) && !osb.IsConcurrencyError(err))
}

// startOrphanMitigation reports as v0.3 did: the OrphanMitigation
// condition carries the failure that started it, Ready says that the
// instance is being deleted at the broker.
func (r *InstanceReconciler) startOrphanMitigation(s *instanceStep, reason, msg string) {
	st := &s.inst.Status
	st.OrphanMitigationInProgress = true
	st.AsyncOpInProgress = false
	st.LastOperation = nil
	st.DeprovisionStatus = scv1beta1.ServiceInstanceDeprovisionStatusRequired
	if st.SetCondition(scv1beta1.ServiceInstanceConditionOrphanMitigation, scv1beta1.ConditionTrue, reason, msg, s.now) {
		// The failure is in no Ready message now: the event keeps it.
		r.Recorder.Eventf(s.inst, nil, corev1.EventTypeWarning, reason, "Reconcile", "%s", msg)
	}
	r.setReady(s, scv1beta1.ConditionFalse, scv1beta1.ReasonStartingInstanceOrphanMitigation, scv1beta1.MessageStartingOrphanMitigation)
}

func (r *InstanceReconciler) poll(ctx context.Context, s *instanceStep) (ctrl.Result, error) {
	inst, res := s.inst, s.res
	st := &inst.Status
	out, answered := brokercalls.Take[*osb.LastOperationResponse](r.calls.runner, r.calls.key(inst, callPoll))
	if answered == brokercalls.Pending {
		return answerPending(&s.discard)
	}
	if d := r.polls.Wait(inst.UID, r.now()); d > 0 && answered == brokercalls.None {
		return ctrl.Result{RequeueAfter: d}, nil
	}
	started := s.now.Time
	if st.OperationStartTime != nil {
		started = st.OperationStartTime.Time
	}
	op := st.CurrentOperation
	var state osb.LastOperationState
	var description string
	var retryAfter time.Duration
	if max := res.plan.MaximumPollingDuration; max != nil && *max > 0 && s.now.Sub(started) > time.Duration(*max)*time.Second && answered == brokercalls.None {
		state, description = osb.StateFailed, fmt.Sprintf("the broker did not finish within the plan's maximum_polling_duration of %ds", *max)
	} else {
		if answered == brokercalls.None {
			// A cached status older than the last poll's answer would
			// poll an operation already finished.
			if stop, result, err := requeueIfStale(ctx, r.fresh, r.APIReader, inst, &s.discard); stop {
				return result, err
			}
			var ok bool
			var err error
			if out, ok, err = r.sendPoll(ctx, s); err != nil {
				return ctrl.Result{}, err
			}
			if !ok {
				return answerPending(&s.discard)
			}
		}
		lo, err := out.Value, out.Err
		switch {
		case err == nil:
			state, description, retryAfter = lo.State, lo.Description, lo.RetryAfter
		case osb.IsGone(err) && op == scv1beta1.ServiceInstanceOperationDeprovision:
			state = osb.StateSucceeded
		case osb.IsGone(err):
			state, description = osb.StateFailed, "the broker no longer knows the instance (HTTP 410)"
		default:
			r.setReady(s, scv1beta1.ConditionFalse, scv1beta1.ReasonErrorPollingLastOperation, "Error polling last operation: "+describeBrokerError(res.broker.Spec.URL, err))
			return ctrl.Result{}, err
		}
	}
	switch state {
	case osb.StateSucceeded:
		r.polls.Done(inst.UID)
		return r.operationSucceeded(ctx, s)
	case osb.StateFailed:
		r.polls.Done(inst.UID)
		return r.operationFailed(s, description)
	}
	msg := "The instance is being provisioned asynchronously"
	reason := scv1beta1.ReasonProvisioning
	switch op {
	case scv1beta1.ServiceInstanceOperationUpdate:
		msg, reason = "The instance is being updated asynchronously", scv1beta1.ReasonUpdatingInstance
	case scv1beta1.ServiceInstanceOperationDeprovision:
		msg, reason = "The instance is being deprovisioned asynchronously", scv1beta1.ReasonDeprovisioning
	}
	if description != "" {
		msg += " (" + description + ")"
	}
	r.setReady(s, scv1beta1.ConditionFalse, reason, msg)
	return r.polls.After(s.inst.UID, r.now(), pollschedule.Delay(retryAfter, started, s.now.Time)), nil
}

// sendPoll asks the broker for the state of the operation in flight.
func (r *InstanceReconciler) sendPoll(ctx context.Context, s *instanceStep) (brokercalls.Result[*osb.LastOperationResponse], bool, error) {
	inst, res := s.inst, s.res
	st := &inst.Status
	c, err := r.client(ctx, s)
	if err != nil {
		return brokercalls.Result[*osb.LastOperationResponse]{}, false, err
	}
	planID := osbrequest.PlanExternalID(st.InProgressProperties)
	if planID == "" {
		planID = osbrequest.PlanExternalID(st.ExternalProperties)
	}
	req := &osb.LastOperationRequest{InstanceID: inst.Spec.ExternalID, ServiceID: res.class.ExternalID,
		PlanID: planID, Operation: ptrValue(st.LastOperation), User: r.Identity.User(osbrequest.User(inst.Spec.UserInfo), inst.CreationTimestamp)}
	out, ok := brokercalls.Do(r.calls.runner, r.calls.call(inst, callPoll, res.broker.Key, nil),
		func(ctx context.Context) (*osb.LastOperationResponse, error) { return c.PollLastOperation(ctx, req) })
	return out, ok, nil
}

func ptrValue(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func (r *InstanceReconciler) operationSucceeded(ctx context.Context, s *instanceStep) (ctrl.Result, error) {
	st := &s.inst.Status
	switch st.CurrentOperation {
	case scv1beta1.ServiceInstanceOperationDeprovision:
		return r.deprovisioned(ctx, s)
	case scv1beta1.ServiceInstanceOperationUpdate:
		r.finishUpdate(s)
	default:
		r.finishProvision(s)
	}
	return ctrl.Result{}, nil
}

func (r *InstanceReconciler) operationFailed(s *instanceStep, description string) (ctrl.Result, error) {
	st := &s.inst.Status
	switch st.CurrentOperation {
	case scv1beta1.ServiceInstanceOperationDeprovision:
		// The table says: delete again until it succeeds.
		st.AsyncOpInProgress, st.LastOperation = false, nil
		r.setReady(s, scv1beta1.ConditionFalse, scv1beta1.ReasonDeprovisionCallFailed, "The broker failed to deprovision the instance: "+description+"; retrying")
		return ctrl.Result{}, fmt.Errorf("deprovision failed at the broker: %s", description)
	case scv1beta1.ServiceInstanceOperationUpdate:
		r.endOperation(s)
		r.setFailed(s, scv1beta1.ReasonUpdateInstanceCallFailed, "The broker failed to update the instance: "+description)
		return ctrl.Result{}, nil
	}
	// A failed asynchronous provision may have left resources behind.
	r.startOrphanMitigation(s, scv1beta1.ReasonProvisionCallFailed, "The broker failed to provision the instance: "+description)
	st.SetCondition(scv1beta1.ServiceInstanceConditionFailed, scv1beta1.ConditionTrue, scv1beta1.ReasonProvisionCallFailed, "The broker failed to provision the instance: "+description, s.now)
	return ctrl.Result{Requeue: true}, nil
}

func (r *InstanceReconciler) update(ctx context.Context, s *instanceStep) (ctrl.Result, error) {
	inst, res := s.inst, s.res
	st := &inst.Status
	switch out, state := brokercalls.Take[*osb.InstanceResponse](r.calls.runner, r.calls.key(inst, callUpdate)); state {
	case brokercalls.Pending:
		return answerPending(&s.discard)
	case brokercalls.Done:
		return r.updateAnswered(s, out)
	}
	if c := st.GetCondition(scv1beta1.ServiceInstanceConditionFailed); c != nil {
		if st.ObservedGeneration == inst.Generation {
			return ctrl.Result{}, nil
		}
		clearFailed(st)
	}
	planChanged := osbrequest.PlanExternalID(st.ExternalProperties) != res.plan.ExternalID
	if planChanged && !res.planUpdatable() {
		r.setReady(s, scv1beta1.ConditionFalse, scv1beta1.ReasonPlanChangeNotAllowed, fmt.Sprintf(
			"The plan cannot be changed to %q: the class %q does not allow plan changes (planUpdatable is false); set the plan back to %q",
			res.plan.ExternalName, res.class.ExternalName, st.ExternalProperties.ClusterServicePlanExternalName+st.ExternalProperties.ServicePlanExternalName))
		return ctrl.Result{}, nil
	}
	if planChanged && res.planRemoved {
		r.setReady(s, scv1beta1.ConditionFalse, scv1beta1.ReasonReferencesDeletedServicePlan, "The plan was removed from the broker's catalog; the instance cannot move to it")
		return ctrl.Result{}, nil
	}
	p, ok, err := r.buildParams(ctx, s, res.plan.InstanceUpdateParameterSchema)
	if !ok {
		return ctrl.Result{}, err
	}
	paramsChanged := st.ExternalProperties == nil || st.ExternalProperties.ParameterChecksum != p.Checksum
	if !planChanged && !paramsChanged && st.ObservedGeneration == inst.Generation {
		// Nothing to do; make sure the condition says so after a restart.
		if c := st.GetCondition(scv1beta1.ServiceInstanceConditionReady); c == nil || c.Status != scv1beta1.ConditionTrue {
			r.setReady(s, scv1beta1.ConditionTrue, scv1beta1.ReasonProvisionedSuccessfully, scv1beta1.MessageProvisionedSuccessfully)
		}
		return ctrl.Result{}, nil
	}
	env, err := r.env(ctx, inst.Namespace)
	if err != nil {
		return ctrl.Result{}, err
	}
	c, err := r.client(ctx, s)
	if err != nil {
		r.setReady(s, scv1beta1.ConditionFalse, scv1beta1.ReasonUpdateInstanceCallFailed, "Error updating: "+describeBrokerError(res.broker.Spec.URL, err))
		return ctrl.Result{}, err
	}
	props, err := osbrequest.InstanceProperties(inst, res.plan, p)
	if err != nil {
		return ctrl.Result{}, err
	}
	if stop, result, err := requeueIfStale(ctx, r.fresh, r.APIReader, inst, &s.discard); stop {
		return result, err
	}
	req := osbrequest.Update(inst, res.class, res.plan, p, env)
	req.User = r.Identity.User(req.User, inst.CreationTimestamp)
	out, ok := brokercalls.Do(r.calls.runner, r.calls.call(inst, callUpdate, res.broker.Key, r.sent(s, props)),
		func(ctx context.Context) (*osb.InstanceResponse, error) { return c.UpdateInstance(ctx, req) })
	if !ok {
		return answerPending(&s.discard)
	}
	return r.updateAnswered(s, out)
}

// updateAnswered applies the broker's answer to an update request.
func (r *InstanceReconciler) updateAnswered(s *instanceStep, out brokercalls.Result[*osb.InstanceResponse]) (ctrl.Result, error) {
	r.record(s, scv1beta1.ServiceInstanceOperationUpdate, out.Sent.(instanceSent))
	st := &s.inst.Status
	resp, err := out.Value, out.Err
	if err != nil {
		msg := "Error updating: " + describeBrokerError(s.res.broker.Spec.URL, err)
		// Update errors never need orphan mitigation; 4xx other than a
		// concurrent operation cannot be fixed by sending it again.
		if osb.IsBadRequest(err) || (osb.IsUnprocessableEntity(err) && !osb.IsConcurrencyError(err)) {
			r.endOperation(s)
			r.setFailed(s, scv1beta1.ReasonUpdateInstanceCallFailed, msg)
			return ctrl.Result{}, nil
		}
		r.setReady(s, scv1beta1.ConditionFalse, scv1beta1.ReasonUpdateInstanceCallFailed, msg)
		return ctrl.Result{}, err
	}
	if u, ok := brokerDashboardURL(resp.DashboardURL); ok {
		st.DashboardURL = &u
	}
	if resp.Async() {
		st.AsyncOpInProgress = true
		st.LastOperation = optional(resp.Operation)
		r.setReady(s, scv1beta1.ConditionFalse, scv1beta1.ReasonUpdatingInstance, "The instance is being updated asynchronously")
		return r.polls.After(s.inst.UID, r.now(), pollschedule.Delay(resp.RetryAfter, st.OperationStartTime.Time, s.now.Time)), nil
	}
	r.finishUpdate(s)
	return ctrl.Result{}, nil
}

func (r *InstanceReconciler) finishUpdate(s *instanceStep) {
	st := &s.inst.Status
	st.ExternalProperties = st.InProgressProperties
	r.endOperation(s)
	r.setReady(s, scv1beta1.ConditionTrue, scv1beta1.ReasonInstanceUpdatedSuccessfully, "The instance was updated successfully")
}

// reconcileDelete deprovisions at the broker, then lets the object go.
func (r *InstanceReconciler) reconcileDelete(ctx context.Context, s *instanceStep) (ctrl.Result, error) {
	inst := s.inst
	if inst.Annotations[scv1beta1.AnnotationAbandon] == scv1beta1.AnnotationAbandonValue {
		r.Recorder.Eventf(inst, nil, "Warning", scv1beta1.ReasonAbandoned, "Abandon",
			"The finalizer was removed on request (%s) without deprovisioning: the broker may still hold instance %s", scv1beta1.AnnotationAbandon, inst.Spec.ExternalID)
		return r.letGo(ctx, inst)
	}
	bindings := &scv1beta1.ServiceBindingList{}
	if err := r.Client.List(ctx, bindings, client.InNamespace(inst.Namespace), client.MatchingFields{bindingInstanceField: inst.Name}); err != nil {
		return ctrl.Result{}, err
	}
	if n := len(bindings.Items); n > 0 {
		r.setReady(s, scv1beta1.ConditionFalse, scv1beta1.ReasonDeprovisionBlockedByExistingCredentials,
			fmt.Sprintf("The instance has %d binding(s), for example %q; delete them first", n, bindings.Items[0].Name))
		return ctrl.Result{}, nil // a binding's deletion triggers the next try
	}
	st := &inst.Status
	// Nothing to ask the broker when it was told nothing. The first
	// provision request goes out with no deprovisionStatus persisted (its
	// outcome is written with the result), but only after the class and
	// plan refs are: with refs and no status, the broker is asked (a 410
	// for an instance it never made means gone). After an orphan
	// mitigation or a failure, Required is persisted before the next
	// request (see provision).
	neverSent := st.DeprovisionStatus == "" && inst.Spec.ClusterServiceClassRef == nil && inst.Spec.ServiceClassRef == nil
	done := st.DeprovisionStatus == scv1beta1.ServiceInstanceDeprovisionStatusNotRequired || st.DeprovisionStatus == scv1beta1.ServiceInstanceDeprovisionStatusSucceeded
	if (neverSent || done) && !st.AsyncOpInProgress {
		return r.letGo(ctx, inst)
	}
	// A reconcile queued while the last one let the instance go sees the
	// finalizer in a stale cache: it must neither deprovision again nor take
	// the claim back, which nothing would release.
	if stop, result, err := requeueIfStale(ctx, r.fresh, r.APIReader, inst, &s.discard); stop {
		return result, err
	}
	// The broker's instance is deprovisioned only by the owner of its ID: a
	// copy of another namespace's ID must not take the original with it.
	owned, err := ownsID(ctx, r.Claims, r.Client, idclaim.Instance, inst, inst.Spec.ExternalID)
	if err != nil {
		return ctrl.Result{}, err
	}
	if !owned {
		r.Recorder.Eventf(inst, nil, corev1.EventTypeWarning, scv1beta1.ReasonExternalIDInUse, "Delete",
			"Deleted without deprovisioning: spec.externalID %q belongs to another ServiceInstance, whose instance at the broker is left alone", inst.Spec.ExternalID)
		return r.letGo(ctx, inst)
	}
	res, err := resolve(ctx, r.Client, inst)
	if err != nil {
		var re *resolveError
		if errors.As(err, &re) {
			r.setReady(s, scv1beta1.ConditionFalse, scv1beta1.ReasonDeprovisionCallFailed, "Cannot deprovision: "+re.message+
				"; to delete the object without deprovisioning, run svcat deprovision --abandon")
		}
		return ctrl.Result{}, err
	}
	s.res = res
	if st.AsyncOpInProgress && st.CurrentOperation == scv1beta1.ServiceInstanceOperationDeprovision {
		return r.poll(ctx, s)
	}
	return r.deprovision(ctx, s)
}

// deprovision sends the DELETE, for a deletion or for orphan mitigation.
func (r *InstanceReconciler) deprovision(ctx context.Context, s *instanceStep) (ctrl.Result, error) {
	inst, res := s.inst, s.res
	st := &inst.Status
	switch out, state := brokercalls.Take[*osb.DeprovisionResponse](r.calls.runner, r.calls.key(inst, callDeprovision)); state {
	case brokercalls.Pending:
		return answerPending(&s.discard)
	case brokercalls.Done:
		return r.deprovisionAnswered(ctx, s, out)
	}
	c, err := r.client(ctx, s)
	if err != nil {
		r.setReady(s, scv1beta1.ConditionFalse, scv1beta1.ReasonDeprovisionCallFailed, "Error deprovisioning: "+describeBrokerError(res.broker.Spec.URL, err))
		return ctrl.Result{}, err
	}
	req, err := osbrequest.Deprovision(inst, res.class, res.plan.ExternalID)
	if err != nil {
		return ctrl.Result{}, err
	}
	req.User = r.Identity.User(req.User, inst.CreationTimestamp)
	// A deletion's last reconcile removes the finalizer; one queued
	// meanwhile may still see the finalizer and the old status in the
	// cache, and would send the DELETE again.
	if stop, result, err := requeueIfStale(ctx, r.fresh, r.APIReader, inst, &s.discard); stop {
		return result, err
	}
	sent := instanceSent{generation: inst.Generation, started: s.now}
	if st.OperationStartTime != nil && st.OrphanMitigationInProgress {
		sent.started = *st.OperationStartTime
	}
	out, ok := brokercalls.Do(r.calls.runner, r.calls.call(inst, callDeprovision, res.broker.Key, sent),
		func(ctx context.Context) (*osb.DeprovisionResponse, error) { return c.DeprovisionInstance(ctx, req) })
	if !ok {
		return answerPending(&s.discard)
	}
	return r.deprovisionAnswered(ctx, s, out)
}

// deprovisionAnswered applies the broker's answer to a DELETE.
func (r *InstanceReconciler) deprovisionAnswered(ctx context.Context, s *instanceStep, out brokercalls.Result[*osb.DeprovisionResponse]) (ctrl.Result, error) {
	st := &s.inst.Status
	// The DELETE supersedes an operation still in flight (OSB: a delete
	// halts a create). Were the old operation kept, a failed DELETE would
	// be followed by polling it, and its success taken for the deletion's.
	st.AsyncOpInProgress, st.LastOperation = false, nil
	r.polls.Done(s.inst.UID)
	r.record(s, scv1beta1.ServiceInstanceOperationDeprovision, out.Sent.(instanceSent))
	resp, err := out.Value, out.Err
	switch {
	case err == nil && resp.Async():
		st.AsyncOpInProgress = true
		st.LastOperation = optional(resp.Operation)
		r.setReady(s, scv1beta1.ConditionFalse, scv1beta1.ReasonDeprovisioning, "The instance is being deprovisioned asynchronously")
		return r.polls.After(s.inst.UID, r.now(), pollschedule.Delay(resp.RetryAfter, st.OperationStartTime.Time, s.now.Time)), nil
	case err == nil, osb.IsGone(err):
		return r.deprovisioned(ctx, s)
	}
	r.setReady(s, scv1beta1.ConditionFalse, scv1beta1.ReasonDeprovisionCallFailed, "Error deprovisioning: "+describeBrokerError(s.res.broker.Spec.URL, err))
	return ctrl.Result{}, err
}

// deprovisioned records that the broker no longer holds the instance and
// either ends orphan mitigation or lets a deleted object go.
func (r *InstanceReconciler) deprovisioned(ctx context.Context, s *instanceStep) (ctrl.Result, error) {
	inst := s.inst
	st := &inst.Status
	st.ProvisionStatus = scv1beta1.ServiceInstanceProvisionStatusNotProvisioned
	st.DeprovisionStatus = scv1beta1.ServiceInstanceDeprovisionStatusSucceeded
	st.AsyncOpInProgress, st.LastOperation, st.CurrentOperation, st.InProgressProperties = false, nil, "", nil
	st.OperationStartTime = nil
	if st.OrphanMitigationInProgress {
		st.OrphanMitigationInProgress = false
		st.DeprovisionStatus = scv1beta1.ServiceInstanceDeprovisionStatusNotRequired
		st.ExternalProperties = nil
		st.SetCondition(scv1beta1.ServiceInstanceConditionOrphanMitigation, scv1beta1.ConditionFalse, scv1beta1.ReasonOrphanMitigationSuccessful,
			scv1beta1.MessageOrphanMitigationSuccessful, s.now)
		r.setReady(s, scv1beta1.ConditionFalse, scv1beta1.ReasonOrphanMitigationSuccessful, scv1beta1.MessageOrphanMitigationSuccessful)
		if inst.DeletionTimestamp.IsZero() {
			if st.GetCondition(scv1beta1.ServiceInstanceConditionFailed) != nil {
				st.ObservedGeneration = inst.Generation
				return ctrl.Result{}, nil
			}
			// A transient failure: provision again after a pause.
			return ctrl.Result{RequeueAfter: time.Second}, nil
		}
	}
	if inst.DeletionTimestamp.IsZero() {
		return ctrl.Result{}, nil
	}
	r.setReady(s, scv1beta1.ConditionFalse, scv1beta1.ReasonDeprovisionedSuccessfully, scv1beta1.MessageDeprovisionedSuccessfully)
	// The status patch would fail once the finalizer is gone and the object
	// with it, so it goes first.
	return r.letGo(ctx, inst)
}
