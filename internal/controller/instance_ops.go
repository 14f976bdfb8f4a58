package controller

import (
	"context"
	"errors"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	scv1beta1 "github.com/svcat-io/svcat/api/v1beta1"
	"github.com/svcat-io/svcat/internal/controller/brokercalls"
	"github.com/svcat-io/svcat/internal/controller/brokerop"
	"github.com/svcat-io/svcat/internal/controller/idclaim"
	"github.com/svcat-io/svcat/internal/controller/osbrequest"
	"github.com/svcat-io/svcat/internal/controller/stepresult"
	"github.com/svcat-io/svcat/internal/osb"
	"k8s.io/utils/ptr"
)

// instanceSent is what a provision, update or deprovision request carried
// that the status records with its answer. The answer may be applied by a
// later reconcile, after the spec changed: it is recorded as what was sent.
type instanceSent struct {
	generation int64
	props      *scv1beta1.ServiceInstancePropertiesState
	started    metav1.Time
}

func (r *InstanceReconciler) sent(s *instanceStep, op osb.Operation, props *scv1beta1.ServiceInstancePropertiesState) instanceSent {
	st := &s.inst.Status
	return instanceSent{generation: s.inst.Generation, props: props,
		started: brokerop.Started(op, st.OperationStartTime, st.OrphanMitigationInProgress, s.now)}
}

// instanceTexts are the instance's words for its operations, v0.3's.
var instanceTexts = map[osb.Operation]brokerop.Texts{
	osb.OpProvision: {InProgress: scv1beta1.ReasonProvisioning, InProgressMessage: scv1beta1.MessageProvisioning,
		CallFailed: scv1beta1.ReasonProvisionCallFailed, ErrorPrefix: scv1beta1.MessageErrorProvisioning,
		BrokerFailed: scv1beta1.MessageBrokerFailedToProvision},
	osb.OpUpdate: {InProgress: scv1beta1.ReasonUpdatingInstance, InProgressMessage: scv1beta1.MessageUpdatingInstance,
		CallFailed: scv1beta1.ReasonUpdateInstanceCallFailed, ErrorPrefix: scv1beta1.MessageErrorUpdating,
		BrokerFailed: scv1beta1.MessageBrokerFailedToUpdate},
	osb.OpDeprovision: {InProgress: scv1beta1.ReasonDeprovisioning, InProgressMessage: scv1beta1.MessageDeprovisioning,
		CallFailed: scv1beta1.ReasonDeprovisionCallFailed, ErrorPrefix: scv1beta1.MessageErrorDeprovisioning,
		BrokerFailed: scv1beta1.MessageBrokerFailedToDeprovision},
}

// instanceOp is the OSB operation of the instance's operation in flight.
func instanceOp(op scv1beta1.ServiceInstanceOperation) osb.Operation {
	switch op {
	case scv1beta1.ServiceInstanceOperationUpdate:
		return osb.OpUpdate
	case scv1beta1.ServiceInstanceOperationDeprovision:
		return osb.OpDeprovision
	}
	return osb.OpProvision
}

func opStatus(st *scv1beta1.ServiceInstanceStatus) brokerop.Status {
	return brokerop.Status{Async: &st.AsyncOpInProgress, LastOperation: &st.LastOperation, Started: &st.OperationStartTime}
}

// accepted records an asynchronous answer to op and schedules its poll.
func (r *InstanceReconciler) accepted(s *instanceStep, op osb.Operation, operation string, retryAfter time.Duration) stepresult.Result {
	return instanceTexts[op].Accepted(opStatus(&s.inst.Status), &r.polls, s.inst.UID, s.now.Time, r.now(), operation, retryAfter)
}

// failed is the result of op's failed request.
func (r *InstanceReconciler) failed(s *instanceStep, op osb.Operation, f brokerop.Failure, err error) stepresult.Result {
	return instanceTexts[op].RequestFailed(f, brokerop.Describe(s.res.broker.Spec.URL, err), err)
}

// record writes what was sent into the status, as the operation in flight.
func (r *InstanceReconciler) record(s *instanceStep, op scv1beta1.ServiceInstanceOperation, sent instanceSent) {
	st := &s.inst.Status
	st.CurrentOperation = op
	if op != scv1beta1.ServiceInstanceOperationDeprovision {
		st.InProgressProperties = sent.props
	}
	opStatus(st).Begin(sent.started)
	s.gen = sent.generation
}

func (r *InstanceReconciler) provision(ctx context.Context, s *instanceStep) stepresult.Result {
	inst, res := s.inst, s.res
	// A request already sent is answered first, whatever happened to the
	// spec meanwhile, as it would have been had the reconcile waited.
	switch out, st := brokercalls.Take[*osb.InstanceResponse](r.calls.Runner, r.calls.Key(inst, callProvision)); st {
	case brokercalls.Pending:
		return stepresult.AwaitAnswer()
	case brokercalls.Done:
		return r.provisionAnswered(ctx, s, out)
	}
	if inst.Status.GetCondition(scv1beta1.ServiceInstanceConditionFailed) != nil {
		if inst.Status.ObservedGeneration == inst.Generation {
			return stepresult.Nothing() // failed for good; waits for a new spec
		}
		clearFailed(&inst.Status)
	}
	if res.classRemoved || res.planRemoved {
		reason, what := scv1beta1.ReasonReferencesDeletedServiceClass, "class"
		if !res.classRemoved {
			reason, what = scv1beta1.ReasonReferencesDeletedServicePlan, "plan"
		}
		return stepresult.Stall(reason, fmt.Sprintf(scv1beta1.MessageReferencesDeletedFormat, what))
	}
	p, stop, ok := r.buildParams(ctx, s, res.plan.InstanceCreateParameterSchema)
	if !ok {
		return stop
	}
	env, err := r.env(ctx, inst.Namespace)
	if err != nil {
		return stepresult.Error(err)
	}
	c, err := r.client(ctx, s)
	if err != nil {
		return r.failed(s, osb.OpProvision, brokerop.Retry, err)
	}
	props, err := osbrequest.InstanceProperties(inst, res.plan, p)
	if err != nil {
		return stepresult.Error(err)
	}
	if mi := res.plan.MaintenanceInfo; mi != nil {
		props.MaintenanceInfoVersion = mi.Version
	}
	if res, stale := cacheBehind(ctx, r.fresh, r.APIReader, inst); stale {
		return res
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
			return stepresult.Error(err)
		}
		// The response carries the stored status; keep this reconcile's
		// other changes for the final patch.
		inst.Status = *pending
	}
	if err := r.recordUnanswered(ctx, inst); err != nil {
		return stepresult.Error(err)
	}
	req := osbrequest.Provision(inst, res.class, res.plan, p, env)
	req.User = r.Identity.User(req.User, inst.CreationTimestamp)
	out, ok := brokercalls.Do(r.calls.Runner, r.calls.Call(inst, callProvision, res.broker.Key, r.sent(s, osb.OpProvision, props)),
		func(ctx context.Context) (*osb.InstanceResponse, error) { return c.ProvisionInstance(ctx, req) })
	if !ok {
		return stepresult.AwaitAnswer()
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
func (r *InstanceReconciler) provisionAnswered(ctx context.Context, s *instanceStep, out brokercalls.Result[*osb.InstanceResponse]) stepresult.Result {
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
		return r.accepted(s, osb.OpProvision, resp.Operation, resp.RetryAfter)
	}
	return r.finishProvision(s)
}

func (r *InstanceReconciler) finishProvision(s *instanceStep) stepresult.Result {
	st := &s.inst.Status
	st.ProvisionStatus = scv1beta1.ServiceInstanceProvisionStatusProvisioned
	st.DeprovisionStatus = scv1beta1.ServiceInstanceDeprovisionStatusRequired
	st.ExternalProperties = st.InProgressProperties
	r.endOperation(s)
	return stepresult.Ready(scv1beta1.ReasonProvisionedSuccessfully, scv1beta1.MessageProvisionedSuccessfully)
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
	s.ended = true
}

// provisionFailed applies the OSB rules to a failed provision request:
// orphan mitigation where the broker may have created something, a
// terminal failure where retrying cannot help, a retry otherwise.
func (r *InstanceReconciler) provisionFailed(ctx context.Context, s *instanceStep, err error) stepresult.Result {
	f := brokerop.Classify(osb.OpProvision, err)
	if f == brokerop.Refused {
		s.inst.Status.DeprovisionStatus = scv1beta1.ServiceInstanceDeprovisionStatusNotRequired
		if osb.IsConflict(err) {
			ours, cerr := r.conflictIsOurs(ctx, s)
			if cerr != nil {
				return stepresult.Error(cerr)
			}
			if ours {
				s.inst.Status.DeprovisionStatus = scv1beta1.ServiceInstanceDeprovisionStatusRequired
			}
		}
		r.endOperation(s)
	}
	return r.failed(s, osb.OpProvision, f, err)
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

func (r *InstanceReconciler) poll(ctx context.Context, s *instanceStep) stepresult.Result {
	out, answered := brokercalls.Take[*osb.LastOperationResponse](r.calls.Runner, r.calls.Key(s.inst, callPoll))
	return r.polled(ctx, s, out, answered)
}

// polled polls the operation in flight, or applies the answer of a poll
// already sent.
func (r *InstanceReconciler) polled(ctx context.Context, s *instanceStep, out brokercalls.Result[*osb.LastOperationResponse], answered brokercalls.Status) stepresult.Result {
	inst, res := s.inst, s.res
	st := &inst.Status
	op := instanceOp(st.CurrentOperation)
	started := s.now.Time
	if st.OperationStartTime != nil {
		started = st.OperationStartTime.Time
	}
	read, _, result, ended := brokerop.Poller[*osb.LastOperationResponse]{
		Op: op, What: "instance", Texts: instanceTexts[op], UID: inst.UID, Polls: &r.polls,
		Started: started, StepNow: s.now.Time, Now: r.now, MaxSeconds: res.plan.MaximumPollingDuration,
		Answer: out, Answered: answered,
		Stale: func() (stepresult.Result, bool) { return cacheBehind(ctx, r.fresh, r.APIReader, inst) },
		Send:  func() (brokercalls.Result[*osb.LastOperationResponse], bool, error) { return r.sendPoll(ctx, s) },
		Read: func(out brokercalls.Result[*osb.LastOperationResponse]) (*osb.LastOperationResponse, error) {
			return out.Value, out.Err
		},
		Describe: func(err error) string { return brokerop.Describe(res.broker.Spec.URL, err) },
	}.Poll()
	switch {
	case !ended:
		return result
	case read.State == osb.StateSucceeded:
		return r.operationSucceeded(ctx, s)
	}
	return r.operationFailed(s, op, read)
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
		PlanID: planID, Operation: ptr.Deref(st.LastOperation, ""), User: r.Identity.User(osbrequest.User(inst.Spec.UserInfo), inst.CreationTimestamp)}
	out, ok := brokercalls.Do(r.calls.Runner, r.calls.Call(inst, callPoll, res.broker.Key, nil),
		func(ctx context.Context) (*osb.LastOperationResponse, error) { return c.PollLastOperation(ctx, req) })
	return out, ok, nil
}

func (r *InstanceReconciler) operationSucceeded(ctx context.Context, s *instanceStep) stepresult.Result {
	switch s.inst.Status.CurrentOperation {
	case scv1beta1.ServiceInstanceOperationDeprovision:
		return r.deprovisioned(ctx, s)
	case scv1beta1.ServiceInstanceOperationUpdate:
		return r.finishUpdate(s)
	}
	return r.finishProvision(s)
}

// operationFailed ends an asynchronous operation the broker reported
// failed: a deprovision is sent again, an update and a provision end (the
// provision's leftovers are deprovisioned first).
func (r *InstanceReconciler) operationFailed(s *instanceStep, op osb.Operation, read brokerop.Poll) stepresult.Result {
	switch op {
	case osb.OpDeprovision:
		opStatus(&s.inst.Status).Supersede()
	case osb.OpUpdate:
		recordFailedUpdate(s)
		r.endOperation(s)
	}
	return instanceTexts[op].AsyncFailed(op, read)
}

func (r *InstanceReconciler) update(ctx context.Context, s *instanceStep) stepresult.Result {
	inst, res := s.inst, s.res
	st := &inst.Status
	switch out, state := brokercalls.Take[*osb.InstanceResponse](r.calls.Runner, r.calls.Key(inst, callUpdate)); state {
	case brokercalls.Pending:
		return stepresult.AwaitAnswer()
	case brokercalls.Done:
		return r.updateAnswered(s, out)
	}
	failed := st.GetCondition(scv1beta1.ServiceInstanceConditionFailed) != nil
	switch afterFailedUpdate(failed, inst.Generation, st, nil) {
	case failedStays:
		return stepresult.Nothing()
	case failedRetry:
		clearFailed(st)
		failed = false
	}
	planChanged := osbrequest.PlanExternalID(st.ExternalProperties) != res.plan.ExternalID
	if planChanged && !res.planUpdatable() {
		return stepresult.Stall(scv1beta1.ReasonPlanChangeNotAllowed, fmt.Sprintf(
			scv1beta1.MessagePlanChangeNotAllowedFormat,
			res.plan.ExternalName, res.class.ExternalName, st.ExternalProperties.ClusterServicePlanExternalName+st.ExternalProperties.ServicePlanExternalName))
	}
	if planChanged && res.planRemoved {
		return stepresult.Stall(scv1beta1.ReasonReferencesDeletedServicePlan, scv1beta1.MessagePlanRemoved)
	}
	p, stop, ok := r.buildParams(ctx, s, res.plan.InstanceUpdateParameterSchema)
	if !ok {
		return stop
	}
	paramsChanged := st.ExternalProperties == nil || st.ExternalProperties.ParameterChecksum != p.Checksum
	mi := maintenanceToSend(&inst.Spec, st, res.plan.MaintenanceInfo, planChanged)
	if failed {
		// The refused request is sent again only when it would differ.
		next, err := osbrequest.InstanceProperties(inst, res.plan, p)
		if err != nil {
			return stepresult.Error(err)
		}
		next.MaintenanceInfoVersion = maintenanceVersionSent(st, mi)
		if afterFailedUpdate(failed, inst.Generation, st, updateAttempt(next, inst.Generation)) == failedStays {
			return stepresult.Nothing()
		}
		clearFailed(st)
	}
	if !planChanged && !paramsChanged && mi == nil && st.ObservedGeneration == inst.Generation {
		// Nothing to do; make sure the condition says so after a restart.
		if c := st.GetCondition(scv1beta1.ServiceInstanceConditionReady); c == nil || c.Status != scv1beta1.ConditionTrue {
			return stepresult.Ready(scv1beta1.ReasonProvisionedSuccessfully, scv1beta1.MessageProvisionedSuccessfully)
		}
		return stepresult.Nothing()
	}
	env, err := r.env(ctx, inst.Namespace)
	if err != nil {
		return stepresult.Error(err)
	}
	c, err := r.client(ctx, s)
	if err != nil {
		return r.failed(s, osb.OpUpdate, brokerop.Retry, err)
	}
	props, err := osbrequest.InstanceProperties(inst, res.plan, p)
	if err != nil {
		return stepresult.Error(err)
	}
	props.MaintenanceInfoVersion = maintenanceVersionSent(st, mi)
	if res, stale := cacheBehind(ctx, r.fresh, r.APIReader, inst); stale {
		return res
	}
	req := osbrequest.Update(inst, res.class, res.plan, p, env)
	req.MaintenanceInfo = mi
	if v := recordedMaintenance(st); v != "" {
		req.PreviousValues.MaintenanceInfo = &osb.MaintenanceInfo{Version: v}
	}
	req.User = r.Identity.User(req.User, inst.CreationTimestamp)
	out, ok := brokercalls.Do(r.calls.Runner, r.calls.Call(inst, callUpdate, res.broker.Key, r.sent(s, osb.OpUpdate, props)),
		func(ctx context.Context) (*osb.InstanceResponse, error) { return c.UpdateInstance(ctx, req) })
	if !ok {
		return stepresult.AwaitAnswer()
	}
	return r.updateAnswered(s, out)
}

// updateAnswered applies the broker's answer to an update request.
// Update errors never need orphan mitigation.
func (r *InstanceReconciler) updateAnswered(s *instanceStep, out brokercalls.Result[*osb.InstanceResponse]) stepresult.Result {
	r.record(s, scv1beta1.ServiceInstanceOperationUpdate, out.Sent.(instanceSent))
	st := &s.inst.Status
	resp, err := out.Value, out.Err
	if sent := st.InProgressProperties; err != nil && osb.IsMaintenanceInfoConflict(err) && sent != nil && sent.MaintenanceInfoVersion != recordedMaintenance(st) {
		// The instance at the broker is unchanged and still usable: this
		// is no failure of the instance, and parameters changed with the
		// upgrade go out alone on the next reconcile.
		r.endOperation(s)
		r.maintenanceRefused(s, sent.MaintenanceInfoVersion, err)
		out := stepresult.Nothing()
		out.Requeue = true
		return out
	}
	if err != nil {
		f := brokerop.Classify(osb.OpUpdate, err)
		if f == brokerop.Refused {
			recordFailedUpdate(s)
			r.endOperation(s)
		}
		return r.failed(s, osb.OpUpdate, f, err)
	}
	if u, ok := brokerDashboardURL(resp.DashboardURL); ok {
		st.DashboardURL = &u
	}
	if resp.Async() {
		return r.accepted(s, osb.OpUpdate, resp.Operation, resp.RetryAfter)
	}
	return r.finishUpdate(s)
}

func (r *InstanceReconciler) finishUpdate(s *instanceStep) stepresult.Result {
	st := &s.inst.Status
	st.ExternalProperties = st.InProgressProperties
	st.LastFailedUpdate = nil
	r.endOperation(s)
	return stepresult.Ready(scv1beta1.ReasonInstanceUpdatedSuccessfully, scv1beta1.MessageInstanceUpdatedSuccessfully)
}

// reconcileDelete deprovisions at the broker, then lets the object go.
func (r *InstanceReconciler) reconcileDelete(ctx context.Context, s *instanceStep) stepresult.Result {
	inst := s.inst
	if inst.Annotations[scv1beta1.AnnotationAbandon] == scv1beta1.AnnotationAbandonValue {
		r.Recorder.Eventf(inst, nil, corev1.EventTypeWarning, scv1beta1.ReasonAbandoned, "Abandon",
			scv1beta1.MessageInstanceAbandonedFormat, scv1beta1.AnnotationAbandon, inst.Spec.ExternalID)
		return stepresult.Error(r.letGo(ctx, inst))
	}
	bindings := &scv1beta1.ServiceBindingList{}
	if err := r.Client.List(ctx, bindings, client.InNamespace(inst.Namespace), client.MatchingFields{bindingInstanceField: inst.Name}); err != nil {
		return stepresult.Error(err)
	}
	n, first, err := blockingBindings(ctx, r.Client, inst, bindings.Items)
	if err != nil {
		return stepresult.Error(err)
	}
	if n > 0 {
		// A binding's deletion triggers the next try.
		return stepresult.Stall(scv1beta1.ReasonDeprovisionBlockedByExistingCredentials,
			fmt.Sprintf(scv1beta1.MessageDeprovisionBlockedFormat, n, first))
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
		return stepresult.Error(r.letGo(ctx, inst))
	}
	// A reconcile queued while the last one let the instance go sees the
	// finalizer in a stale cache: it must neither deprovision again nor take
	// the claim back, which nothing would release.
	if res, stale := cacheBehind(ctx, r.fresh, r.APIReader, inst); stale {
		return res
	}
	// The broker's instance is deprovisioned only by the owner of its ID: a
	// copy of another namespace's ID must not take the original with it.
	owned, err := r.Claims.Owns(ctx, r.Client, idclaim.Instance, inst, inst.Spec.ExternalID)
	if err != nil {
		return stepresult.Error(err)
	}
	if !owned {
		r.Recorder.Eventf(inst, nil, corev1.EventTypeWarning, scv1beta1.ReasonExternalIDInUse, "Delete",
			scv1beta1.MessageInstanceDeletedWithoutDeprovisioningFormat, inst.Spec.ExternalID)
		return stepresult.Error(r.letGo(ctx, inst))
	}
	res, err := resolve(ctx, r.Client, inst)
	if err != nil {
		var re *resolveError
		if errors.As(err, &re) {
			return stepresult.Retry(scv1beta1.ReasonDeprovisionCallFailed, fmt.Sprintf(scv1beta1.MessageCannotDeprovisionFormat, re.message), err)
		}
		return stepresult.Error(err)
	}
	s.res = res
	if st.AsyncOpInProgress && st.CurrentOperation == scv1beta1.ServiceInstanceOperationDeprovision {
		return r.poll(ctx, s)
	}
	return r.deprovision(ctx, s)
}

// deprovision sends the DELETE, for a deletion or for orphan mitigation.
func (r *InstanceReconciler) deprovision(ctx context.Context, s *instanceStep) stepresult.Result {
	inst, res := s.inst, s.res
	switch out, state := brokercalls.Take[*osb.DeprovisionResponse](r.calls.Runner, r.calls.Key(inst, callDeprovision)); state {
	case brokercalls.Pending:
		return stepresult.AwaitAnswer()
	case brokercalls.Done:
		return r.deprovisionAnswered(ctx, s, out)
	}
	c, err := r.client(ctx, s)
	if err != nil {
		return r.failed(s, osb.OpDeprovision, brokerop.Retry, err)
	}
	req, err := osbrequest.Deprovision(inst, res.class, res.plan.ExternalID)
	if err != nil {
		return stepresult.Error(err)
	}
	req.User = r.Identity.User(req.User, inst.CreationTimestamp)
	// A deletion's last reconcile removes the finalizer; one queued
	// meanwhile may still see the finalizer and the old status in the
	// cache, and would send the DELETE again.
	if res, stale := cacheBehind(ctx, r.fresh, r.APIReader, inst); stale {
		return res
	}
	out, ok := brokercalls.Do(r.calls.Runner, r.calls.Call(inst, callDeprovision, res.broker.Key, r.sent(s, osb.OpDeprovision, nil)),
		func(ctx context.Context) (*osb.DeprovisionResponse, error) { return c.DeprovisionInstance(ctx, req) })
	if !ok {
		return stepresult.AwaitAnswer()
	}
	return r.deprovisionAnswered(ctx, s, out)
}

// deprovisionAnswered applies the broker's answer to a DELETE.
func (r *InstanceReconciler) deprovisionAnswered(ctx context.Context, s *instanceStep, out brokercalls.Result[*osb.DeprovisionResponse]) stepresult.Result {
	opStatus(&s.inst.Status).Supersede()
	r.polls.Done(s.inst.UID)
	r.record(s, scv1beta1.ServiceInstanceOperationDeprovision, out.Sent.(instanceSent))
	resp, err := out.Value, out.Err
	if err == nil && resp.Async() {
		return r.accepted(s, osb.OpDeprovision, resp.Operation, resp.RetryAfter)
	}
	if f := brokerop.Classify(osb.OpDeprovision, err); err != nil && f != brokerop.Gone {
		return r.failed(s, osb.OpDeprovision, f, err)
	}
	return r.deprovisioned(ctx, s)
}

// deprovisioned records that the broker no longer holds the instance and
// either ends orphan mitigation or lets a deleted object go.
func (r *InstanceReconciler) deprovisioned(ctx context.Context, s *instanceStep) stepresult.Result {
	inst := s.inst
	st := &inst.Status
	st.ProvisionStatus = scv1beta1.ServiceInstanceProvisionStatusNotProvisioned
	st.DeprovisionStatus = scv1beta1.ServiceInstanceDeprovisionStatusSucceeded
	st.AsyncOpInProgress, st.LastOperation, st.CurrentOperation, st.InProgressProperties = false, nil, "", nil
	st.OperationStartTime = nil
	deleting := !inst.DeletionTimestamp.IsZero()
	if st.OrphanMitigationInProgress {
		st.OrphanMitigationInProgress = false
		st.DeprovisionStatus = scv1beta1.ServiceInstanceDeprovisionStatusNotRequired
		st.ExternalProperties = nil
		st.SetCondition(scv1beta1.ServiceInstanceConditionOrphanMitigation, scv1beta1.ConditionFalse, scv1beta1.ReasonOrphanMitigationSuccessful,
			scv1beta1.MessageOrphanMitigationSuccessful, s.now)
		mitigated := stepresult.Wait(scv1beta1.ReasonOrphanMitigationSuccessful, scv1beta1.MessageOrphanMitigationSuccessful, 0)
		switch {
		case deleting:
			r.note(s, mitigated) // and on to the deletion's end
		case st.GetCondition(scv1beta1.ServiceInstanceConditionFailed) != nil:
			st.ObservedGeneration = inst.Generation
			return mitigated
		default:
			// A transient failure: provision again after a pause.
			mitigated.After = time.Second
			return mitigated
		}
	}
	if !deleting {
		return stepresult.Nothing()
	}
	// The status patch would fail once the finalizer is gone and the object
	// with it, so it goes first.
	return stepresult.Wait(scv1beta1.ReasonDeprovisionedSuccessfully, scv1beta1.MessageDeprovisionedSuccessfully, 0).WithErr(r.letGo(ctx, inst))
}
