package osbcheck

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/svcat-io/svcat/internal/osb"
)

const maxOperationLength = 10000

func instancePath(id string) string { return "/v2/service_instances/" + url.PathEscape(id) }

func bindingPath(instanceID, bindingID string) string {
	return instancePath(instanceID) + "/service_bindings/" + url.PathEscape(bindingID)
}

func idsQuery(serviceID, planID string) url.Values {
	q := url.Values{}
	if serviceID != "" {
		q.Set("service_id", serviceID)
	}
	if planID != "" {
		q.Set("plan_id", planID)
	}
	return q
}

// mayExist says whether a PUT may have created something: a success, or
// no answer at all (the broker may have done the work and then timed out).
// Cleanup deletes it; a 410 there means it never existed.
func mayExist(resp *response, err error) bool {
	return err != nil || resp.status < 300
}

func incomplete() url.Values { return url.Values{"accepts_incomplete": {"true"}} }

func operationOf(resp *response) string {
	if s, ok := resp.object()["operation"].(string); ok {
		return s
	}
	return ""
}

// checkHeaders runs the checks of headers and authentication on the catalog.
func (r *runner) checkHeaders(ctx context.Context) {
	cat := func(rq request) (*response, error) {
		rq.method, rq.path = http.MethodGet, "/v2/catalog"
		return r.send(ctx, rq)
	}
	resp, err := cat(request{version: "-"})
	r.expect("version.missing", "", resp, err, http.StatusPreconditionFailed)
	resp, err = cat(request{version: "1.0"})
	r.expect("version.unsupported", "", resp, err, http.StatusPreconditionFailed)
	resp, err = cat(request{originating: true})
	r.expect("identity.originating", "", resp, err, http.StatusOK)
	if r.cfg.Username == "" && r.cfg.Password == "" && r.cfg.Token == "" {
		for _, id := range []string{"auth.missing", "auth.wrong", "auth.www-authenticate"} {
			r.skip(id, "", "no credentials given")
		}
		return
	}
	resp, err = cat(request{auth: authNone})
	if r.expect("auth.missing", "", resp, err, http.StatusUnauthorized) {
		if resp.header.Get("WWW-Authenticate") == "" {
			r.fail("auth.www-authenticate", "", "401 without WWW-Authenticate")
		} else {
			r.pass("auth.www-authenticate", "")
		}
	} else {
		r.skip("auth.www-authenticate", "", "no 401 to look at")
	}
	resp, err = cat(request{auth: authWrong})
	r.expect("auth.wrong", "", resp, err, http.StatusUnauthorized)
}

// provisionBody is what a correct platform sends for t.
func (r *runner) provisionBody(t target, instanceID string) map[string]any {
	body := map[string]any{
		"service_id": t.svc.ID, "plan_id": t.plan.ID,
		"organization_guid": "osb-check-cluster", "space_guid": "osb-check-namespace-uid",
		"context": r.context(instanceID),
	}
	if p := r.params(t); p != nil {
		body["parameters"] = p
	}
	if t.plan.MaintenanceInfo != nil {
		body["maintenance_info"] = t.plan.MaintenanceInfo
	}
	return body
}

func (r *runner) context(instanceID string) map[string]any {
	if r.cfg.Context != nil {
		return maps.Clone(r.cfg.Context)
	}
	return map[string]any{
		"platform": osb.Platform, "namespace": "osb-check", "clusterid": "osb-check-cluster",
		"instance_name": "osb-check-" + instanceID[:8],
	}
}

func (r *runner) params(t target) map[string]any {
	if p, ok := r.cfg.Parameters[t.plan.ID]; ok {
		return p
	}
	if p, ok := r.cfg.Parameters[t.plan.Name]; ok {
		return p
	}
	return r.cfg.Parameters[""]
}

// checkRejections sends the requests a broker must refuse, on IDs that
// never existed; whatever is wrongly created is removed at cleanup.
func (r *runner) checkRejections(ctx context.Context, t target) {
	put := func(id string, rq request) (*response, error) {
		rq.method, rq.path, rq.query = http.MethodPut, instancePath(id), incomplete()
		resp, err := r.send(ctx, rq)
		if mayExist(resp, err) {
			r.track(id, t.svc.ID, t.plan.ID)
		}
		return resp, err
	}
	resp, err := put(uuid.NewString(), request{raw: []byte(`{"service_id":"` + t.svc.ID + `","plan_id":`)})
	r.expect("provision.malformed", "", resp, err, http.StatusBadRequest)
	resp, err = put(uuid.NewString(), request{raw: []byte(`[]`)})
	r.expect("provision.non-object", "", resp, err, http.StatusBadRequest)

	r.rejectFields(ctx, "provision.missing-field", t, put, func(b map[string]any, f string) { delete(b, f) }, "service_id", "plan_id")
	r.rejectFields(ctx, "provision.empty-field", t, put, func(b map[string]any, f string) { b[f] = "" }, "service_id", "plan_id")
	if r.cfg.Context == nil {
		r.rejectFields(ctx, "provision.empty-context", t, put, func(b map[string]any, f string) {
			b["context"].(map[string]any)[f] = ""
		}, "platform", "namespace", "clusterid")
	} else {
		r.skip("provision.empty-context", "", "--context replaces the context the check empties")
	}

	id := uuid.NewString()
	b := r.provisionBody(t, id)
	b["service_id"] = unknownID()
	resp, err = put(id, request{body: b})
	r.expect("provision.unknown-service", "", resp, err, http.StatusBadRequest)
	id = uuid.NewString()
	b = r.provisionBody(t, id)
	b["plan_id"] = unknownID()
	resp, err = put(id, request{body: b})
	r.expect("provision.unknown-plan", "", resp, err, http.StatusBadRequest)

	q := idsQuery(t.svc.ID, t.plan.ID)
	resp, err = r.send(ctx, request{method: http.MethodGet, path: instancePath(uuid.NewString()) + "/last_operation", query: q})
	r.expect("last-operation.unknown", "", resp, err, http.StatusNotFound)
	resp, err = r.send(ctx, request{method: http.MethodDelete, path: instancePath(uuid.NewString()), query: q})
	r.expect("deprovision.unknown", "", resp, err, http.StatusGone)
}

// rejectFields sends a provision damaged by damage(body, field) for each
// field and expects 400 for every one.
func (r *runner) rejectFields(ctx context.Context, id string, t target, put func(string, request) (*response, error), damage func(map[string]any, string), fields ...string) {
	var problems []string
	for _, f := range fields {
		iid := uuid.NewString()
		b := r.provisionBody(t, iid)
		damage(b, f)
		resp, err := put(iid, request{body: b})
		switch {
		case err != nil:
			problems = append(problems, f+": "+err.Error())
		case resp.status != http.StatusBadRequest:
			problems = append(problems, f+": "+resp.String())
		}
	}
	r.verdict(id, "", problems)
}

func unknownID() string {
	return "osb-check-unknown-" + uuid.NewString()
}

// poll asks last_operation until the operation ends and returns its state,
// or "gone" for a 410. It waits as Retry-After says, at least 100ms.
func (r *runner) poll(ctx context.Context, path, serviceID, planID, operation string, limit time.Duration) (string, error) {
	q := idsQuery(serviceID, planID)
	if operation != "" {
		q.Set("operation", operation)
	}
	deadline := time.Now().Add(limit)
	for {
		resp, err := r.send(ctx, request{method: http.MethodGet, path: path + "/last_operation", query: q})
		if err != nil {
			return "", err
		}
		if resp.status == http.StatusGone {
			return "gone", nil
		}
		if resp.status != http.StatusOK {
			return "", fmt.Errorf("last_operation answered %s", resp.String())
		}
		state, _ := resp.object()["state"].(string)
		switch osb.LastOperationState(state) {
		case osb.StateSucceeded, osb.StateFailed:
			return state, nil
		case osb.StateInProgress:
		default:
			return "", fmt.Errorf("last_operation state %q is not in progress, succeeded or failed", state)
		}
		wait, ok := retryAfter(resp.header.Get("Retry-After"), time.Now())
		if !ok {
			r.global("last-operation.retry-after", fmt.Sprintf("Retry-After %q is neither seconds nor an HTTP date", resp.header.Get("Retry-After")))
		}
		wait = max(wait, 100*time.Millisecond)
		if time.Now().Add(wait).After(deadline) {
			return "", fmt.Errorf("still in progress after %s", limit)
		}
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case <-time.After(wait):
		}
	}
}

func (r *runner) pollLimit(t target) time.Duration {
	if t.plan.MaximumPollingDuration != nil && *t.plan.MaximumPollingDuration > 0 {
		return min(time.Duration(*t.plan.MaximumPollingDuration)*time.Second, r.cfg.PollTimeout)
	}
	return r.cfg.PollTimeout
}

// settle waits for a 202's operation and records check id on the outcome;
// a 200 or 201 settles at once.
func (r *runner) settle(ctx context.Context, id string, t target, path string, resp *response, wantGone bool) bool {
	if resp.status != http.StatusAccepted {
		return true
	}
	if op := operationOf(resp); len(op) > maxOperationLength {
		r.fail(id, t.name(), fmt.Sprintf("operation is %d characters long", len(op)))
	}
	pollID := "last-operation.poll"
	if strings.Contains(path, "/service_bindings/") {
		pollID = "bind.last-operation"
	}
	st, err := r.poll(ctx, path, t.svc.ID, t.plan.ID, operationOf(resp), r.pollLimit(t))
	switch {
	case err != nil:
		r.fail(pollID, t.name(), err.Error())
		return false
	case st == "gone" && !wantGone:
		r.fail(pollID, t.name(), "410 Gone, which is an answer for a delete only")
		return false
	case st == string(osb.StateFailed):
		r.fail(pollID, t.name(), "the operation failed")
		return false
	}
	r.pass(pollID, t.name())
	return true
}
