package testbroker

import (
	"net/http"

	"github.com/svcat-io/svcat/internal/osb"
)

// Like instances.go, these run with b.mu held.

func (b *Broker) bind(in *input, r Rule) reply {
	if b.faulty(FaultBindAcceptMissingPlanID) && in.present != nil && in.present["plan_id"] == nil {
		return reply{status: http.StatusCreated, body: map[string]any{"credentials": map[string]any{}}}
	}
	if in.ServiceID == "" || in.PlanID == "" {
		return fail(http.StatusBadRequest, "", "service_id and plan_id are required")
	}
	if in.PredecessorBindingID != "" && b.faulty(FaultRejectPredecessor) {
		return fail(http.StatusBadRequest, "", "predecessor_binding_id is not supported")
	}
	if rep, bad := b.checkPredecessor(in); bad {
		return rep
	}
	inst, ok := b.instances[in.instanceID]
	switch {
	case !ok || inst.State == StateDeleting:
		return fail(http.StatusNotFound, "", "instance not found")
	case inst.State == StateFailed:
		return fail(http.StatusBadRequest, "", "instance failed to provision")
	case inst.State != StateReady:
		return fail(http.StatusUnprocessableEntity, osb.ErrorCodeConcurrencyError, "the instance is busy")
	case in.PlanID != inst.PlanID && b.faulty(FaultBindUnknownPlan422):
		if _, plan := b.findPlan(in.ServiceID, in.PlanID); plan == nil {
			return fail(http.StatusUnprocessableEntity, "", "unknown plan_id")
		}
		return fail(http.StatusBadRequest, "", "service_id or plan_id does not match the instance")
	case in.ServiceID != inst.ServiceID || in.PlanID != inst.PlanID:
		return fail(http.StatusBadRequest, "", "service_id or plan_id does not match the instance")
	}
	svc, plan := b.findPlan(in.ServiceID, in.PlanID)
	if plan != nil && !plan.IsBindable(svc) {
		return fail(http.StatusBadRequest, "", "the plan is not bindable")
	}
	if rep, bad := b.checkRequest(in, r, plan); bad {
		return rep
	}
	id := in.bindingID
	if cur, ok := b.bindings[id]; ok && cur.State != StateFailed {
		switch {
		case (cur.InstanceID != in.instanceID || !sameBinding(&cur.Binding, in)) && b.faulty(FaultBindConflictOK):
			return reply{status: http.StatusOK, body: map[string]any{"credentials": cur.Credentials}}
		case cur.InstanceID != in.instanceID || !sameBinding(&cur.Binding, in):
			return reply{status: http.StatusConflict}
		case inProgress(cur.op, osb.OpBind):
			return reply{status: http.StatusAccepted, body: asyncBody(cur.op.key, "")}
		case cur.State == StateReady:
			return reply{status: pick(b.faulty(FaultBindIdentical201), http.StatusCreated, http.StatusOK), body: b.bindingBody(&cur.Binding)}
		}
		return fail(http.StatusUnprocessableEntity, osb.ErrorCodeConcurrencyError, "the binding is being deleted")
	}
	bd := &bindingRec{Binding: Binding{
		ID: id, InstanceID: in.instanceID, ServiceID: in.ServiceID, PlanID: in.PlanID,
		Parameters: in.Parameters, AppGUID: appGUID(in), State: StateCreating,
		Predecessor: in.PredecessorBindingID, ExpiresAt: b.expiresAt(),
	}}
	b.bindings[id] = bd
	delete(b.gone, id)
	done := func(ok bool) {
		bd.State = pick(ok, StateReady, StateFailed)
		if ok {
			bd.Credentials = b.opts.Credentials(bd.InstanceID, id)
			b.issued[id] = bd.Credentials
		}
	}
	if rep, async := b.run(osb.OpBind, r, &bd.op, done, ""); async {
		return rep
	}
	return reply{status: pick(b.faulty(FaultBindNewOK), http.StatusOK, http.StatusCreated), body: b.bindingBody(&bd.Binding)}
}

func (b *Broker) unbind(in *input, r Rule) reply {
	id := in.bindingID
	cur, ok := b.bindings[id]
	if !ok || cur.InstanceID != in.instanceID {
		if b.faulty(FaultUnbindUnknown404) {
			return fail(http.StatusNotFound, "", "binding not found")
		}
		return reply{status: http.StatusGone}
	}
	switch {
	case in.ServiceID == "" && b.faulty(FaultUnbindNoServiceID):
		return reply{status: http.StatusOK}
	case in.ServiceID == "" || in.PlanID == "":
		return fail(http.StatusBadRequest, "", "service_id and plan_id are required")
	case inProgress(cur.op, osb.OpUnbind):
		return reply{status: http.StatusAccepted, body: asyncBody(cur.op.key, "")}
	case r.async() && !in.acceptsIncomplete:
		return fail(http.StatusUnprocessableEntity, osb.ErrorCodeAsyncRequired, "this plan unbinds asynchronously")
	}
	before := cur.State
	done := func(ok bool) {
		if !ok {
			cur.State = before
			return
		}
		delete(b.bindings, id)
		b.gone[id] = true
	}
	cur.State = StateDeleting
	if rep, async := b.run(osb.OpUnbind, r, &cur.op, done, ""); async {
		return rep
	}
	return reply{status: pick(b.faulty(FaultUnbindCreated), http.StatusCreated, http.StatusOK)}
}

func (b *Broker) getBinding(in *input) reply {
	cur, ok := b.bindings[in.bindingID]
	switch {
	case !ok && b.faulty(FaultGetUnknownBinding410):
		return reply{status: http.StatusGone}
	case !ok || cur.InstanceID != in.instanceID || cur.State != StateReady || b.faulty(FaultGetBindingNotFound):
		return fail(http.StatusNotFound, "", "binding not found")
	case b.faulty(FaultBindCredentialsString):
		return reply{status: http.StatusOK, body: map[string]any{"credentials": "secret", "parameters": cur.Parameters}}
	}
	body := b.bindingBody(&cur.Binding)
	body["parameters"] = cur.Parameters
	return reply{status: http.StatusOK, body: body}
}

func (b *Broker) pollBinding(in *input) reply {
	cur, ok := b.bindings[in.bindingID]
	ok = ok && cur.InstanceID == in.instanceID
	var op *asyncOp
	if ok {
		op = cur.op
	}
	return b.poll(ok, op, in)
}

func sameBinding(bd *Binding, in *input) bool {
	return bd.ServiceID == in.ServiceID && bd.PlanID == in.PlanID &&
		sameParams(bd.Parameters, in.Parameters) && bd.AppGUID == appGUID(in)
}

func appGUID(in *input) string {
	if in.BindResource != nil && in.BindResource.AppGUID != "" {
		return in.BindResource.AppGUID
	}
	return in.AppGUID
}
