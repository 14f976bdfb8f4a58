package svcate2e_test

import (
	"strings"
	"testing"

	"github.com/svcat-io/svcat/internal/localcluster"
	"github.com/svcat-io/svcat/internal/osb"
	"github.com/svcat-io/svcat/internal/testbroker"
)

// updateCatalog has two plans that may change, the second with an update
// schema that caps size; its IDs are its own.
func updateCatalog() []osb.Service {
	capped := &osb.Schemas{ServiceInstance: &osb.ServiceInstanceSchema{Update: &osb.InputParametersSchema{Parameters: map[string]any{
		"$schema":    "http://json-schema.org/draft-07/schema#",
		"type":       "object",
		"properties": map[string]any{"size": map[string]any{"type": "string", "maxLength": 2}},
	}}}}
	return []osb.Service{{ID: "upd-svc", Name: "updkafka", Description: "Kafka whose plans change", Bindable: true, PlanUpdateable: true,
		Plans: []osb.Plan{
			{ID: "upd-duck", Name: "duck", Description: "Duck"},
			{ID: "upd-bear", Name: "bear", Description: "Bear", Schemas: capped},
		}}}
}

// A person changes an instance's plan and parameters with svcat against
// the real controller: --wait ends with the update done, with the broker's
// refusal, or with the controller's own refusal of parameters the plan's
// schema forbids (nothing is sent then), never by running out of time.
func TestUpdateWithController(t *testing.T) {
	env := localcluster.Get(t)
	broker := testbroker.Start(t, testbroker.Options{Catalog: updateCatalog()})
	startController(t, env)
	ns := "e2e-update"
	namespaceWithBrokerAuth(t, env, ns)
	wait := []string{"--wait", "--interval", "200ms", "--timeout", "1m"}
	svcat(t, env, append([]string{"-n", ns, "register", "updkafka", "--url", broker.URL(), "--scope", "cluster", "--basic-secret", "broker-auth"}, wait...)...)
	defer svcat(t, env, append([]string{"-n", ns, "deregister", "updkafka", "--scope", "cluster"}, wait...)...)
	svcat(t, env, append([]string{"-n", ns, "provision", "app", "--class", "updkafka", "--plan", "duck", "-p", "size=1"}, wait...)...)
	defer svcat(t, env, append([]string{"-n", ns, "deprovision", "app"}, wait...)...)

	out, _ := svcat(t, env, append([]string{"-n", ns, "update", "instance", "app", "--plan", "bear", "-p", "zone=a"}, wait...)...)
	if !strings.Contains(out, "Update requested for instance: app (plan bear; parameters zone)") {
		t.Errorf("update instance printed %q", out)
	}
	if got := len(broker.RequestsFor(osb.OpUpdate)); got != 1 {
		t.Fatalf("%d update requests after the plan change, want 1", got)
	}
	if inst, ok := broker.Instance(broker.RequestsFor(osb.OpUpdate)[0].InstanceID); !ok || inst.PlanID != "upd-bear" || inst.Parameters["zone"] != "a" || inst.Parameters["size"] != "1" {
		t.Errorf("the broker has %+v", inst)
	}

	// The plan's update schema refuses a size of three characters: the
	// controller sends nothing, and --wait says so at once.
	code, _, errOut := svcatExit(env, append([]string{"-n", ns, "update", "instance", "app", "-p", "size=100"}, wait...)...)
	if code == 0 || !strings.Contains(errOut, "the controller sent nothing to the broker: InvalidParameters") {
		t.Errorf("update with parameters the schema refuses: exit %d, stderr %q", code, errOut)
	}
	if strings.Contains(errOut, "timed out") {
		t.Errorf("--wait ran out of time instead of ending on the refusal: %q", errOut)
	}

	// The broker refuses going back: --wait ends with its words.
	broker.On(testbroker.Rule{Operation: osb.OpUpdate, PlanID: "upd-duck", Status: 422, Description: "the tenant does not fit plan duck"})
	code, _, errOut = svcatExit(env, append([]string{"-n", ns, "update", "instance", "app", "--plan", "duck", "-p", "size=2"}, wait...)...)
	if code == 0 || !strings.Contains(errOut, "the tenant does not fit plan duck") {
		t.Errorf("refused plan change: exit %d, stderr %q", code, errOut)
	}
	if out, _ := svcat(t, env, "-n", ns, "describe", "instance", "app"); !hasField(out, "Plan at broker:", "bear") {
		t.Errorf("describe instance after the refusal:\n%s", out)
	}
	broker.ClearRules()
}
