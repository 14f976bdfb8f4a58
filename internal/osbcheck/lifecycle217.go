package osbcheck

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/google/uuid"

	"github.com/svcat-io/svcat/internal/osb"
)

// The checks of OSB 2.17's lifecycle features: maintenance_info conflicts,
// binding rotation and binding expiry. Each applies only to plans that
// offer the feature, so brokers without them skip these checks.

// otherVersion is a maintenance_info version that is not v.
func otherVersion(v string) string {
	if v == "0.0.1-osb-check" {
		return "0.0.2-osb-check"
	}
	return "0.0.1-osb-check"
}

// checkMaintenanceConflict sends a provision of a new instance and an
// update of instance id, each with a maintenance_info version other than
// the plan's; OSB requires 422 MaintenanceInfoConflict for both.
func (r *runner) checkMaintenanceConflict(ctx context.Context, t target, id string) {
	pn := t.name()
	if t.plan.MaintenanceInfo == nil {
		r.skip("maintenance-info.conflict", pn, "the plan has no maintenance_info")
		return
	}
	wrong := map[string]any{"version": otherVersion(t.plan.MaintenanceInfo.Version)}
	var problems []string
	check := func(what string, resp *response, err error) {
		switch {
		case err != nil:
			problems = append(problems, what+": "+err.Error())
		case resp.status != http.StatusUnprocessableEntity:
			problems = append(problems, what+": "+resp.String())
		default:
			if code, _ := resp.object()["error"].(string); code != osb.ErrorCodeMaintenanceInfoConflict {
				problems = append(problems, fmt.Sprintf("%s: 422 with error %q, not %s", what, code, osb.ErrorCodeMaintenanceInfoConflict))
			}
		}
	}
	nid := uuid.NewString()
	b := r.provisionBody(t, nid)
	b["maintenance_info"] = wrong
	resp, err := r.send(ctx, request{method: http.MethodPut, path: instancePath(nid), query: incomplete(), body: b})
	if mayExist(resp, err) {
		r.track(nid, t.svc.ID, t.plan.ID)
	}
	check("provision", resp, err)
	resp, err = r.send(ctx, request{method: http.MethodPatch, path: instancePath(id), query: incomplete(),
		body: map[string]any{"service_id": t.svc.ID, "plan_id": t.plan.ID, "context": r.context(id), "maintenance_info": wrong}})
	check("update", resp, err)
	r.verdict("maintenance-info.conflict", pn, problems)
}

// checkRotation makes a binding that names bid as its predecessor, for
// plans that say binding_rotatable, and removes it again.
func (r *runner) checkRotation(ctx context.Context, t target, id, bid string, body map[string]any) {
	pn := t.name()
	if !t.plan.BindingRotatable {
		r.skip("bind.rotate", pn, "the plan is not binding_rotatable")
		return
	}
	nb := uuid.NewString()
	path := bindingPath(id, nb)
	body["predecessor_binding_id"] = bid
	resp, err := r.send(ctx, request{method: http.MethodPut, path: path, query: incomplete(), body: body})
	if mayExist(resp, err) {
		r.trackBinding(id, nb)
	}
	if r.expect("bind.rotate", pn, resp, err, http.StatusCreated, http.StatusAccepted) {
		if resp.status == http.StatusCreated {
			r.credentials("bind.rotate", pn, resp)
			r.noteExpiry(pn, "the rotation's answer", resp)
		} else {
			r.settle(ctx, "bind.rotate", t, path, resp, false)
		}
	}
	// Removing it is cleanup, not a check; a failure shows as a leftover.
	if err := r.unbind(ctx, id, nb, t.svc.ID, t.plan.ID); err == nil {
		r.forget(id, nb)
	}
}

// expiry collects, per plan, what the bind answers said about expiry.
type expiry struct {
	seen     bool
	problems []string
}

// noteExpiry checks a bind or GET binding answer's metadata: expires_at and
// renew_before, when present, are ISO 8601 date-times (RFC 3339 is its
// profile the spec's examples use), and renewal comes before expiry.
func (r *runner) noteExpiry(plan, what string, resp *response) {
	md, _ := resp.object()["metadata"].(map[string]any)
	if md == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.expiries == nil {
		r.expiries = map[string]*expiry{}
	}
	e := r.expiries[plan]
	if e == nil {
		e = &expiry{}
		r.expiries[plan] = e
	}
	times := map[string]time.Time{}
	for _, f := range []string{"expires_at", "renew_before"} {
		v, present := md[f]
		if !present {
			continue
		}
		e.seen = true
		s, _ := v.(string)
		at, ok := parseISO8601(s)
		if !ok {
			e.problems = append(e.problems, fmt.Sprintf("%s: metadata.%s %v is not an ISO 8601 date-time", what, f, v))
			continue
		}
		times[f] = at
	}
	if exp, ok := times["expires_at"]; ok {
		if renew, ok := times["renew_before"]; ok && renew.After(exp) {
			e.problems = append(e.problems, what+": metadata.renew_before is after expires_at")
		}
	}
}

func parseISO8601(s string) (time.Time, bool) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05Z0700", "2006-01-02T15:04:05.999999999Z0700"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// expiryVerdict reports bind.expiry-metadata for a plan once its bindings
// are done.
func (r *runner) expiryVerdict(plan string) {
	r.mu.Lock()
	e := r.expiries[plan]
	r.mu.Unlock()
	if e == nil || !e.seen {
		r.skip("bind.expiry-metadata", plan, "no answer carried metadata.expires_at or renew_before")
		return
	}
	r.verdict("bind.expiry-metadata", plan, e.problems)
}
