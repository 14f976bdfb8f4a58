package ui_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/svcat-io/svcat/internal/localcluster"
	"github.com/svcat-io/svcat/internal/osb"
)

// The plan form offers the plans the catalog lets the instance move to;
// after the confirmation the update reaches the broker with the new plan,
// once. A name no plan has is refused, with the plans there are.
func TestPlanChangeAction(t *testing.T) {
	env := localcluster.Get(t)
	catalogFixture(t, env)
	ns := env.Namespace(t)
	b, _ := namespacedBroker(t, env, ns, "uiplan", []osb.Service{{ID: "uiplan-svc", Name: "uiplan", Description: "d",
		Bindable: true, PlanUpdateable: true, Plans: []osb.Plan{
			{ID: "uiplan-duck", Name: "duck", Description: "small"}, {ID: "uiplan-bear", Name: "bear", Description: "large"}}}})
	namespacedInstance(t, env, ns, "app", "uiplan", "duck")
	planAtBroker := func() string {
		got, err := getInstance(env, ns, "app")
		if err != nil || got.Status.ExternalProperties == nil {
			return ""
		}
		return got.Status.ExternalProperties.ServicePlanExternalName
	}
	eventually(t, time.Minute, "the instance provisioned with duck", func() bool { return planAtBroker() == "duck" })

	u := startUI(t, env.Config, ns)
	_, body := u.get("/instances/app")
	mustContain(t, "instance page", body, `<select id="plan-select" name="plan"><option>bear</option></select>`)
	status, body := u.get("/instances/app/plan?plan=bear")
	if status != http.StatusOK {
		t.Errorf("plan confirmation: %d", status)
	}
	mustContain(t, "plan confirmation", body, "Move instance &#34;app&#34; to plan &#34;bear&#34;?", `name="plan" value="bear"`)

	status, body = u.post("/instances/app/plan", url.Values{"plan": {"baer"}, "confirm": {"yes"}})
	if status != http.StatusUnprocessableEntity || !strings.Contains(body, "plan &#34;baer&#34; not found in class &#34;uiplan&#34;") || !strings.Contains(body, "bear") {
		t.Errorf("a plan no class has: %d\n%s", status, body)
	}
	status, body = u.post("/instances/app/plan", url.Values{"plan": {"bear"}})
	if status != http.StatusBadRequest {
		t.Errorf("plan change without confirmation: %d\n%s", status, body)
	}
	if n := len(b.RequestsFor(osb.OpUpdate)); n != 0 {
		t.Fatalf("%d updates sent before the change was confirmed", n)
	}

	status, body = u.post("/instances/app/plan", url.Values{"plan": {"bear"}, "confirm": {"yes"}})
	if status != http.StatusOK {
		t.Errorf("plan change: %d\n%s", status, body)
	}
	eventually(t, time.Minute, "the instance moved to bear", func() bool { return planAtBroker() == "bear" })
	ups := b.RequestsFor(osb.OpUpdate)
	if len(ups) != 1 || !strings.Contains(string(ups[0].Body), `"plan_id":"uiplan-bear"`) {
		t.Errorf("updates sent: %d, want one with plan_id uiplan-bear", len(ups))
	}
	_, body = u.get("/instances/app")
	mustContain(t, "instance page after the change", body, `<select id="plan-select" name="plan"><option>duck</option></select>`)
}
