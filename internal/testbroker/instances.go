package testbroker

import (
	"net/http"
	"reflect"

	"github.com/svcat-io/svcat/internal/osb"
)

// The functions in this file run with b.mu held and follow the spec's
// status codes, so that tests of a correct platform pass against them.

func (b *Broker) provision(in *input, r Rule) reply {
	switch {
	case b.faulty(FaultAcceptMissingPlanID) && in.present != nil && in.present["plan_id"] == nil,
		b.faulty(FaultAcceptEmptyServiceID) && in.present["service_id"] != nil && in.ServiceID == "":
		return reply{status: http.StatusCreated}
	case in.ServiceID == "" || in.PlanID == "" || in.OrganizationGUID == "" || in.SpaceGUID == "":
		return fail(http.StatusBadRequest, "", "service_id, plan_id, organization_guid and space_guid are required")
	}
	if f := emptyContextField(in.Context); f != "" && !b.faulty(FaultAcceptEmptyContext) {
		return fail(http.StatusBadRequest, "", "context."+f+" must not be empty")
	}
	if b.faulty(FaultAsyncWithoutIncomplete) && !in.acceptsIncomplete {
		r.Async, in.acceptsIncomplete = true, true
	}
	_, plan := b.findPlan(in.ServiceID, in.PlanID)
	if plan == nil && b.faulty(FaultUnknownService404) && !b.knownService(in.ServiceID) {
		return fail(http.StatusNotFound, "", "unknown service_id")
	}
	if plan == nil && b.faulty(FaultUnknownPlan422) && b.knownService(in.ServiceID) {
		return fail(http.StatusUnprocessableEntity, "", "unknown plan_id")
	}
	if rep, bad := b.checkRequest(in, r, plan); bad {
		return rep
	}
	id := in.instanceID
	dashboard := "https://dashboard.testbroker.invalid/instances/" + id
	if cur, ok := b.instances[id]; ok && cur.State != StateFailed {
		switch {
		case !sameInstance(&cur.Instance, in) && b.faulty(FaultProvisionConflictOK):
			return reply{status: http.StatusOK, body: map[string]any{"dashboard_url": dashboard}}
		case !sameInstance(&cur.Instance, in):
			return reply{status: http.StatusConflict}
		case inProgress(cur.op, osb.OpProvision) && b.faulty(FaultInProgressRepeat409):
			return reply{status: http.StatusConflict}
		case inProgress(cur.op, osb.OpProvision):
			return reply{status: http.StatusAccepted, body: asyncBody(cur.op.key, dashboard)}
		case cur.State == StateReady && b.faulty(FaultProvisionIdentical409):
			return reply{status: http.StatusConflict}
		case cur.State == StateReady:
			return reply{status: http.StatusOK, body: map[string]any{"dashboard_url": dashboard}}
		}
		return fail(http.StatusUnprocessableEntity, osb.ErrorCodeConcurrencyError, "another operation is in progress")
	}
	inst := &instanceRec{Instance: Instance{
		ID: id, ServiceID: in.ServiceID, PlanID: in.PlanID, Parameters: in.Parameters,
		Context: in.Context, MaintenanceInfo: in.MaintenanceInfo, DashboardURL: dashboard, State: StateCreating,
	}}
	b.instances[id] = inst
	b.provisions[id]++
	delete(b.gone, id)
	done := func(ok bool) { inst.State = pick(ok, StateReady, StateFailed) }
	if rep, async := b.run(osb.OpProvision, r, &inst.op, done, dashboard); async {
		return rep
	}
	return reply{status: pick(b.faulty(FaultProvisionNewOK), http.StatusOK, http.StatusCreated), body: map[string]any{"dashboard_url": dashboard}}
}

// emptyContextField names a required field of the Kubernetes profile's
// context that is present but empty, or returns "".
func emptyContextField(c map[string]any) string {
	if c == nil {
		return ""
	}
	fields := []string{"platform"}
	if c["platform"] == osb.Platform {
		fields = append(fields, "namespace", "clusterid")
	}
	for _, f := range fields {
		if v, ok := c[f]; ok && v == "" {
			return f
		}
	}
	return ""
}

func (b *Broker) knownService(id string) bool {
	for _, s := range b.catalog {
		if s.ID == id {
			return true
		}
	}
	return false
}

func (b *Broker) update(in *input, r Rule) reply {
	cur, ok := b.instances[in.instanceID]
	if !ok || cur.State == StateDeleting {
		return fail(http.StatusNotFound, "", "instance not found")
	}
	if inProgress(cur.op, "") {
		return fail(http.StatusUnprocessableEntity, osb.ErrorCodeConcurrencyError, "another operation is in progress")
	}
	if in.ServiceID == "" && b.faulty(FaultUpdateNoServiceID) {
		return reply{status: http.StatusOK}
	}
	if in.ServiceID != cur.ServiceID {
		return fail(http.StatusBadRequest, "", "service_id does not match the instance")
	}
	planID := cmp(in.PlanID, cur.PlanID)
	_, plan := b.findPlan(cur.ServiceID, planID)
	switch {
	case plan == nil && b.faulty(FaultUpdateUnknownPlan500):
		return fail(http.StatusInternalServerError, "", "no such plan")
	case plan == nil:
		return fail(http.StatusBadRequest, "", "unknown plan_id")
	case planID != cur.PlanID && b.faulty(FaultPlanChange422):
		return fail(http.StatusUnprocessableEntity, "", "the plan cannot be changed")
	}
	// plan_updateable belongs to the plan being left.
	if svc, from := b.findPlan(cur.ServiceID, cur.PlanID); from != nil && planID != cur.PlanID && !from.IsUpdateable(svc) {
		return fail(http.StatusUnprocessableEntity, "", "the plan cannot be changed")
	}
	if rep, bad := b.checkRequest(in, r, plan); bad {
		return rep
	}
	done := func(ok bool) {
		cur.State = StateReady
		if !ok {
			return
		}
		cur.PlanID = planID
		if in.Parameters != nil {
			cur.Parameters = in.Parameters
		}
		if in.Context != nil {
			cur.Context = in.Context
		}
		if in.MaintenanceInfo != nil {
			cur.MaintenanceInfo = in.MaintenanceInfo
		}
	}
	planChange := planID != cur.PlanID
	cur.State = StateUpdating
	if rep, async := b.run(osb.OpUpdate, r, &cur.op, done, ""); async {
		return rep
	}
	return reply{status: pick(b.faulty(FaultUpdateCreated) && !planChange, http.StatusCreated, http.StatusOK)}
}

func (b *Broker) deprovision(in *input, r Rule) reply {
	id := in.instanceID
	cur, ok := b.instances[id]
	switch {
	case !ok && b.faulty(FaultDeprovisionUnknown404):
		return fail(http.StatusNotFound, "", "instance not found")
	case !ok:
		return reply{status: http.StatusGone}
	case in.ServiceID == "" && b.faulty(FaultDeprovisionNoServiceID):
		return reply{status: http.StatusOK}
	case in.ServiceID == "" || in.PlanID == "":
		return fail(http.StatusBadRequest, "", "service_id and plan_id are required")
	}
	switch {
	case inProgress(cur.op, osb.OpDeprovision):
		return reply{status: http.StatusAccepted, body: asyncBody(cur.op.key, "")}
	case inProgress(cur.op, osb.OpUpdate):
		return fail(http.StatusUnprocessableEntity, osb.ErrorCodeConcurrencyError, "an update is in progress")
	case r.async() && !in.acceptsIncomplete:
		return fail(http.StatusUnprocessableEntity, osb.ErrorCodeAsyncRequired, "this plan deprovisions asynchronously")
	}
	// A delete halts a create in progress, as the spec requires: the create's
	// operation is simply replaced.
	before := cur.State
	done := func(ok bool) {
		if !ok {
			cur.State = before
			return
		}
		delete(b.instances, id)
		b.gone[id] = true
		for bid, bd := range b.bindings {
			if bd.InstanceID == id {
				delete(b.bindings, bid)
				b.gone[bid] = true
			}
		}
	}
	cur.State = StateDeleting
	if rep, async := b.run(osb.OpDeprovision, r, &cur.op, done, ""); async {
		return rep
	}
	return reply{status: pick(b.faulty(FaultDeprovisionCreated), http.StatusCreated, http.StatusOK)}
}

func (b *Broker) getInstance(in *input) reply {
	cur, ok := b.instances[in.instanceID]
	switch {
	case !ok && b.faulty(FaultGetUnknownInstance410):
		return reply{status: http.StatusGone}
	case !ok || cur.State == StateCreating || cur.State == StateFailed || b.faulty(FaultGetInstanceNotFound):
		return fail(http.StatusNotFound, "", "instance not found")
	}
	if cur.State == StateUpdating {
		return fail(http.StatusUnprocessableEntity, osb.ErrorCodeConcurrencyError, "an update is in progress")
	}
	return reply{status: http.StatusOK, body: map[string]any{
		"service_id": cur.ServiceID, "plan_id": cur.PlanID, "dashboard_url": cur.DashboardURL,
		"parameters": cur.Parameters, "maintenance_info": cur.MaintenanceInfo,
	}}
}

func (b *Broker) pollInstance(in *input) reply {
	cur, ok := b.instances[in.instanceID]
	var op *asyncOp
	if ok {
		op = cur.op
	}
	return b.poll(ok, op, in)
}

// poll answers last_operation for a resource that exists or not.
func (b *Broker) poll(exists bool, op *asyncOp, in *input) reply {
	id := cmp(in.bindingID, in.instanceID)
	switch {
	case !exists && (b.gone[id] || b.faulty(pick(in.op == osb.OpPollLastOperation, FaultLastOperationUnknown410, FaultBindingLastOpUnknown410))):
		return reply{status: http.StatusGone}
	case !exists:
		return fail(http.StatusNotFound, "", "not found")
	case op == nil:
		return reply{status: http.StatusOK, body: map[string]any{"state": osb.StateSucceeded}}
	case in.operation != "" && in.operation != op.key:
		return fail(http.StatusBadRequest, "", "unknown operation")
	}
	op.advance(true)
	body := map[string]any{"state": op.state}
	if op.state == osb.StateFailed && op.desc != "" {
		body["description"] = op.desc
	}
	if op.op == osb.OpProvision && b.faulty(FaultPollProvisionState) || op.op == osb.OpBind && b.faulty(FaultPollBindState) {
		body["state"] = "ok"
	}
	return reply{status: http.StatusOK, body: body, retryAfter: op.retryAfter}
}

// checkRequest applies the checks provision, update and bind share.
func (b *Broker) checkRequest(in *input, r Rule, plan *osb.Plan) (reply, bool) {
	switch {
	case plan == nil:
		return fail(http.StatusBadRequest, "", "unknown service_id or plan_id"), true
	case in.MaintenanceInfo != nil && plan.MaintenanceInfo != nil && in.MaintenanceInfo.Version != plan.MaintenanceInfo.Version &&
		!b.faulty(FaultIgnoreMaintenanceInfo):
		return fail(http.StatusUnprocessableEntity, osb.ErrorCodeMaintenanceInfoConflict, "maintenance_info.version does not match the catalog"), true
	case r.async() && !in.acceptsIncomplete:
		return fail(http.StatusUnprocessableEntity, osb.ErrorCodeAsyncRequired, "this plan is asynchronous"), true
	}
	return reply{}, false
}

func sameInstance(i *Instance, in *input) bool {
	return i.ServiceID == in.ServiceID && i.PlanID == in.PlanID &&
		sameParams(i.Parameters, in.Parameters) && reflect.DeepEqual(i.MaintenanceInfo, in.MaintenanceInfo)
}

func sameParams(a, b map[string]any) bool {
	return len(a) == 0 && len(b) == 0 || reflect.DeepEqual(a, b)
}

// run does the work of an operation now through done, or, when r makes it
// asynchronous, starts it as operation kind and returns the 202 to send.
func (b *Broker) run(kind osb.Operation, r Rule, slot **asyncOp, done func(bool), dashboard string) (reply, bool) {
	if !r.async() {
		done(true)
		return reply{}, false
	}
	*slot = b.newOp(kind, r, done)
	return reply{status: http.StatusAccepted, body: asyncBody((*slot).key, dashboard), retryAfter: r.RetryAfter}, true
}

// inProgress reports whether o is running and, if kind is set, of that kind.
func inProgress(o *asyncOp, kind osb.Operation) bool {
	// A real broker finishes its operations whether or not anyone polls
	// (a platform that crashed may never poll that operation again), so an
	// operation whose time has come is finished before it can block another.
	if o != nil {
		o.advance(false)
	}
	return o != nil && o.state == osb.StateInProgress && (kind == "" || o.op == kind)
}

func asyncBody(key, dashboard string) map[string]any {
	body := map[string]any{"operation": key}
	if dashboard != "" {
		body["dashboard_url"] = dashboard
	}
	return body
}

func pick[T any](ok bool, yes, no T) T {
	if ok {
		return yes
	}
	return no
}
