package osbcheck

import (
	"context"
	"fmt"
	"net/http"
	"net/url"

	"github.com/google/uuid"

	"github.com/svcat-io/svcat/internal/osb"
)

// lifecycle drives one plan from provision to deprovision.
func (r *runner) lifecycle(ctx context.Context, t target) {
	pn := t.name()
	id, ok := r.provision(ctx, t)
	if !ok {
		return
	}
	path := instancePath(id)
	q := idsQuery(t.svc.ID, t.plan.ID)

	resp, err := r.send(ctx, request{method: http.MethodPut, path: path, query: incomplete(), body: r.provisionBody(t, id)})
	r.expect("provision.identical", pn, resp, err, http.StatusOK)

	if other := otherPlan(t); other != nil {
		b := r.provisionBody(t, id)
		b["plan_id"] = other.ID
		delete(b, "maintenance_info")
		resp, err = r.send(ctx, request{method: http.MethodPut, path: path, query: incomplete(), body: b})
		r.expect("provision.conflict", pn, resp, err, http.StatusConflict)
	} else {
		r.skip("provision.conflict", pn, "the offering has one plan only")
	}

	if t.svc.InstancesRetrievable {
		resp, err = r.send(ctx, request{method: http.MethodGet, path: path, query: q})
		if r.expect("instance.get", pn, resp, err, http.StatusOK) {
			m := resp.object()
			if sid, _ := m["service_id"].(string); sid != "" && sid != t.svc.ID {
				r.fail("instance.get", pn, "service_id "+sid+" is not the instance's")
			}
		}
		resp, err = r.send(ctx, request{method: http.MethodGet, path: instancePath(uuid.NewString()), query: q})
		r.expect("instance.get-unknown", pn, resp, err, http.StatusNotFound)
	} else {
		r.skip("instance.get", pn, "instances_retrievable is false")
		r.skip("instance.get-unknown", pn, "instances_retrievable is false")
	}

	r.checkMaintenanceConflict(ctx, t, id)
	r.update(ctx, t, id)
	if t.plan.IsBindable(t.svc) {
		r.binding(ctx, t, id)
		r.expiryVerdict(pn)
	} else {
		for _, c := range []string{"bind.create", "bind.identical", "bind.conflict", "bind.missing-field", "bind.unknown-plan", "binding.last-operation-unknown", "binding.get", "binding.get-unknown", "unbind.delete", "unbind.missing-field", "unbind.unknown", "bind.rotate", "bind.expiry-metadata"} {
			r.skip(c, pn, "the plan is not bindable")
		}
	}

	r.rejectDeletes(ctx, "deprovision.missing-field", pn, path, t)
	r.deprovision(ctx, t, id)
}

func withIncomplete(q map[string][]string) map[string][]string {
	q["accepts_incomplete"] = []string{"true"}
	return q
}

// provision creates the instance the lifecycle works on; a broker that
// provisions synchronously gets that instance deprovisioned and a second one
// made with accepts_incomplete, so both paths are checked.
func (r *runner) provision(ctx context.Context, t target) (string, bool) {
	pn := t.name()
	first := uuid.NewString()
	resp, err := r.send(ctx, request{method: http.MethodPut, path: instancePath(first), body: r.provisionBody(t, first)})
	switch {
	case err != nil:
		r.track(first, t.svc.ID, t.plan.ID)
		r.fail("provision.async-required", pn, err.Error())
	case resp.status == http.StatusCreated || resp.status == http.StatusOK:
		r.track(first, t.svc.ID, t.plan.ID)
		r.pass("provision.async-required", pn)
		r.deprovision(ctx, t, first)
	case resp.status == http.StatusUnprocessableEntity && resp.object()["error"] == osb.ErrorCodeAsyncRequired:
		r.pass("provision.async-required", pn)
	case resp.status == http.StatusAccepted:
		r.track(first, t.svc.ID, t.plan.ID)
		r.fail("provision.async-required", pn, "202 to a request without accepts_incomplete=true")
	default:
		r.fail("provision.async-required", pn, resp.String())
	}

	id := uuid.NewString()
	resp, err = r.send(ctx, request{method: http.MethodPut, path: instancePath(id), query: incomplete(), body: r.provisionBody(t, id)})
	if !r.expect("provision.create", pn, resp, err, http.StatusCreated, http.StatusAccepted) {
		if mayExist(resp, err) {
			r.track(id, t.svc.ID, t.plan.ID)
		}
		return "", false
	}
	r.track(id, t.svc.ID, t.plan.ID)
	if problem := instanceAnswerProblem(resp); problem != "" {
		r.fail("provision.create", pn, problem)
	}
	if resp.status == http.StatusAccepted {
		again, err := r.send(ctx, request{method: http.MethodPut, path: instancePath(id), query: incomplete(), body: r.provisionBody(t, id)})
		r.expect("provision.repeat-in-progress", pn, again, err, http.StatusAccepted)
	} else {
		r.skip("provision.repeat-in-progress", pn, "the provision was synchronous")
	}
	return id, r.settle(ctx, "provision.create", t, instancePath(id), resp, false)
}

func instanceAnswerProblem(resp *response) string {
	m := resp.object()
	if m == nil {
		return "the body is not a JSON object: " + resp.String()
	}
	if v, ok := m["dashboard_url"]; ok {
		if _, isStr := v.(string); !isStr {
			return fmt.Sprintf("dashboard_url is %s, not a string", jsonType(v))
		}
	}
	if v, ok := m["operation"]; ok {
		if _, isStr := v.(string); !isStr {
			return fmt.Sprintf("operation is %s, not a string", jsonType(v))
		}
	}
	return ""
}

func otherPlan(t target) *osb.Plan {
	for i := range t.svc.Plans {
		if t.svc.Plans[i].ID != t.plan.ID {
			return &t.svc.Plans[i]
		}
	}
	return nil
}

func (r *runner) update(ctx context.Context, t target, id string) {
	pn, path := t.name(), instancePath(id)
	body := map[string]any{"service_id": t.svc.ID, "plan_id": t.plan.ID, "context": r.context(id)}
	if p := r.params(t); p != nil {
		body["parameters"] = p
	} else {
		body["parameters"] = map[string]any{}
	}
	resp, err := r.send(ctx, request{method: http.MethodPatch, path: path, query: incomplete(), body: body})
	if r.expect("update.parameters", pn, resp, err, http.StatusOK, http.StatusAccepted) {
		r.settle(ctx, "update.parameters", t, path, resp, false)
	}

	var problems []string
	for _, b := range []map[string]any{
		{"plan_id": t.plan.ID, "context": r.context(id)},
		{"service_id": "", "plan_id": t.plan.ID, "context": r.context(id)},
	} {
		resp, err := r.send(ctx, request{method: http.MethodPatch, path: path, query: incomplete(), body: b})
		problems = append(problems, notRejected(fmt.Sprintf("service_id %q", b["service_id"]), resp, err)...)
	}
	r.verdict("update.missing-service-id", pn, problems)
	resp, err = r.send(ctx, request{method: http.MethodPatch, path: path, query: incomplete(),
		body: map[string]any{"service_id": t.svc.ID, "plan_id": unknownID(), "context": r.context(id)}})
	r.expect("update.unknown-plan", pn, resp, err, http.StatusBadRequest)

	other := otherPlan(t)
	if other == nil || !t.plan.IsUpdateable(t.svc) {
		r.skip("update.plan", pn, "plan_updateable is false or the offering has one plan")
		return
	}
	// Changing to the other plan and back leaves the instance as the rest
	// of the lifecycle expects it.
	for _, to := range []*osb.Plan{other, t.plan} {
		b := map[string]any{"service_id": t.svc.ID, "plan_id": to.ID, "context": r.context(id),
			"previous_values": map[string]any{"plan_id": t.plan.ID}}
		resp, err = r.send(ctx, request{method: http.MethodPatch, path: path, query: incomplete(), body: b})
		if !r.expect("update.plan", pn, resp, err, http.StatusOK, http.StatusAccepted) ||
			!r.settle(ctx, "update.plan", t, path, resp, false) {
			return
		}
		r.setPlan(id, to.ID)
	}
}

func (r *runner) binding(ctx context.Context, t target, id string) {
	pn := t.name()
	bid := uuid.NewString()
	path := bindingPath(id, bid)
	body := func(app string) map[string]any {
		return map[string]any{"service_id": t.svc.ID, "plan_id": t.plan.ID, "context": r.context(id),
			"bind_resource": map[string]any{"app_guid": app}}
	}
	resp, err := r.send(ctx, request{method: http.MethodPut, path: path, query: incomplete(), body: body("osb-check-app")})
	if mayExist(resp, err) {
		r.trackBinding(id, bid)
	}
	if !r.expect("bind.create", pn, resp, err, http.StatusCreated, http.StatusAccepted) {
		return
	}
	if resp.status == http.StatusCreated {
		r.credentials("bind.create", pn, resp)
		r.noteExpiry(pn, "the bind's answer", resp)
	} else {
		if _, has := resp.object()["credentials"]; has {
			r.fail("bind.create", pn, "a 202 carries credentials, which exist only once the bind has finished")
		}
		if !r.settle(ctx, "bind.create", t, path, resp, false) {
			return
		}
	}
	resp, err = r.send(ctx, request{method: http.MethodPut, path: path, query: incomplete(), body: body("osb-check-app")})
	if r.expect("bind.identical", pn, resp, err, http.StatusOK) {
		r.credentials("bind.identical", pn, resp)
		r.noteExpiry(pn, "the repeated bind's answer", resp)
	}
	resp, err = r.send(ctx, request{method: http.MethodPut, path: path, query: incomplete(), body: body("osb-check-other-app")})
	r.expect("bind.conflict", pn, resp, err, http.StatusConflict)
	r.checkRotation(ctx, t, id, bid, body("osb-check-app"))

	var problems []string
	for _, f := range []string{"service_id", "plan_id"} {
		for _, empty := range []bool{false, true} {
			b := body("osb-check-app")
			what := "without " + f
			if delete(b, f); empty {
				b[f], what = "", f+` ""`
			}
			nb := uuid.NewString()
			resp, err := r.send(ctx, request{method: http.MethodPut, path: bindingPath(id, nb), query: incomplete(), body: b})
			if mayExist(resp, err) {
				r.trackBinding(id, nb)
			}
			problems = append(problems, notRejected(what, resp, err)...)
		}
	}
	r.verdict("bind.missing-field", pn, problems)

	ub := body("osb-check-app")
	ub["plan_id"] = unknownID()
	nb := uuid.NewString()
	resp, err = r.send(ctx, request{method: http.MethodPut, path: bindingPath(id, nb), query: incomplete(), body: ub})
	if mayExist(resp, err) {
		r.trackBinding(id, nb)
	}
	r.expect("bind.unknown-plan", pn, resp, err, http.StatusBadRequest)
	resp, err = r.send(ctx, request{method: http.MethodGet, path: bindingPath(id, uuid.NewString()) + "/last_operation", query: idsQuery(t.svc.ID, t.plan.ID)})
	r.expect("binding.last-operation-unknown", pn, resp, err, http.StatusNotFound)

	q := idsQuery(t.svc.ID, t.plan.ID)
	if t.svc.BindingsRetrievable {
		resp, err = r.send(ctx, request{method: http.MethodGet, path: path, query: q})
		if r.expect("binding.get", pn, resp, err, http.StatusOK) {
			r.credentials("binding.get", pn, resp)
			r.noteExpiry(pn, "GET binding's answer", resp)
		}
		resp, err = r.send(ctx, request{method: http.MethodGet, path: bindingPath(id, uuid.NewString()), query: q})
		r.expect("binding.get-unknown", pn, resp, err, http.StatusNotFound)
	} else {
		r.skip("binding.get", pn, "bindings_retrievable is false")
		r.skip("binding.get-unknown", pn, "bindings_retrievable is false")
	}

	r.rejectDeletes(ctx, "unbind.missing-field", pn, path, t)
	resp, err = r.send(ctx, request{method: http.MethodDelete, path: bindingPath(id, uuid.NewString()), query: withIncomplete(idsQuery(t.svc.ID, t.plan.ID))})
	r.expect("unbind.unknown", pn, resp, err, http.StatusGone)

	resp, err = r.send(ctx, request{method: http.MethodDelete, path: path, query: withIncomplete(idsQuery(t.svc.ID, t.plan.ID))})
	if r.expect("unbind.delete", pn, resp, err, http.StatusOK, http.StatusAccepted) && r.settle(ctx, "unbind.delete", t, path, resp, true) {
		r.forget(id, bid)
	}
}

// credentials checks that an answer with credentials has them as an object.
func (r *runner) credentials(id, plan string, resp *response) {
	m := resp.object()
	if m == nil {
		r.fail(id, plan, "the body is not a JSON object")
		return
	}
	if c, ok := m["credentials"]; ok {
		if _, isObj := c.(map[string]any); !isObj {
			r.fail(id, plan, fmt.Sprintf("credentials is %s, not an object", jsonType(c)))
		}
	}
}

func (r *runner) deprovision(ctx context.Context, t target, id string) {
	pn, path := t.name(), instancePath(id)
	r.mu.Lock()
	planID := t.plan.ID
	var bindings []string
	if c := r.created[id]; c != nil {
		planID = c.planID
		for b := range c.bindings {
			bindings = append(bindings, b)
		}
	}
	r.mu.Unlock()
	// Bindings go first, as a platform removes them: a broker may refuse
	// to deprovision an instance that has some. Those left here (a failed
	// check, an answer that never came) stay tracked for cleanup.
	for _, b := range bindings {
		if r.unbind(ctx, id, b, t.svc.ID, planID) == nil {
			r.forget(id, b)
		}
	}
	resp, err := r.send(ctx, request{method: http.MethodDelete, path: path, query: withIncomplete(idsQuery(t.svc.ID, planID))})
	if r.expect("deprovision.delete", pn, resp, err, http.StatusOK, http.StatusAccepted) && r.settle(ctx, "deprovision.delete", t, path, resp, true) {
		r.forget(id, "")
	}
}

// notRejected describes an answer other than 400 to a request that lacks
// mandatory data; nil for a 400.
func notRejected(what string, resp *response, err error) []string {
	switch {
	case err != nil:
		return []string{what + ": " + err.Error()}
	case resp.status != http.StatusBadRequest:
		return []string{what + ": " + resp.String()}
	}
	return nil
}

// rejectDeletes sends DELETEs of path whose service_id or plan_id is
// missing or empty, and expects 400 for each: the spec makes both
// mandatory query parameters.
func (r *runner) rejectDeletes(ctx context.Context, id, pn, path string, t target) {
	var problems []string
	for _, q := range []url.Values{
		{"plan_id": {t.plan.ID}},
		{"service_id": {""}, "plan_id": {t.plan.ID}},
		{"service_id": {t.svc.ID}},
		{"service_id": {t.svc.ID}, "plan_id": {""}},
	} {
		what := "query " + q.Encode()
		q.Set("accepts_incomplete", "true")
		resp, err := r.send(ctx, request{method: http.MethodDelete, path: path, query: q})
		problems = append(problems, notRejected(what, resp, err)...)
	}
	r.verdict(id, pn, problems)
}
