package testbroker_test

import (
	"reflect"
	"testing"

	"github.com/svcat-io/svcat/internal/osb"
	"github.com/svcat-io/svcat/internal/testbroker"
)

func TestIdempotency(t *testing.T) {
	b := testbroker.Start(t, testbroker.Options{})
	c := client(t, b)
	ctx := t.Context()
	params := map[string]any{"topics": 2.0}

	if p := must[*osb.InstanceResponse](t)(c.ProvisionInstance(ctx, provision("i1", testbroker.SeedPlanID, params))); p.StatusCode != 201 {
		t.Fatalf("first provision %d", p.StatusCode)
	}
	if p := must[*osb.InstanceResponse](t)(c.ProvisionInstance(ctx, provision("i1", testbroker.SeedPlanID, params))); p.StatusCode != 200 {
		t.Fatalf("identical provision %d, want 200", p.StatusCode)
	}
	if _, err := c.ProvisionInstance(ctx, provision("i1", testbroker.SeedPlanID, nil)); !osb.IsConflict(err) {
		t.Fatalf("different provision: %v, want 409", err)
	}
	if n := b.ProvisionCount("i1"); n != 1 {
		t.Errorf("ProvisionCount = %d, want 1", n)
	}

	first := must[*osb.BindResponse](t)(c.Bind(ctx, bind("i1", "b1", nil)))
	again := must[*osb.BindResponse](t)(c.Bind(ctx, bind("i1", "b1", nil)))
	if first.StatusCode != 201 || again.StatusCode != 200 || !reflect.DeepEqual(first.Credentials, again.Credentials) {
		t.Fatalf("bind twice = %d, %d; credentials equal: %v", first.StatusCode, again.StatusCode, reflect.DeepEqual(first.Credentials, again.Credentials))
	}
	if _, err := c.Bind(ctx, bind("i1", "b1", map[string]any{"x": 1})); !osb.IsConflict(err) {
		t.Fatalf("different bind: %v, want 409", err)
	}
	for _, k := range []string{"brokers", "username", "password", "topicPrefix", "ca", "name"} {
		if _, ok := first.Credentials[k]; !ok {
			t.Errorf("credentials lack %q", k)
		}
	}

	if _, err := c.Unbind(ctx, unbind("i1", "nope")); !osb.IsGone(err) {
		t.Errorf("unknown unbind: %v, want 410", err)
	}
	if _, err := c.DeprovisionInstance(ctx, deprovision("nope")); !osb.IsGone(err) {
		t.Errorf("unknown deprovision: %v, want 410", err)
	}

	// Deprovision takes the instance's bindings with it; issued
	// credentials stay on record.
	must[*osb.DeprovisionResponse](t)(c.DeprovisionInstance(ctx, deprovision("i1")))
	if len(b.Instances()) != 0 || len(b.Bindings()) != 0 {
		t.Errorf("after deprovision: %v, %v", b.Instances(), b.Bindings())
	}
	if b.Credentials("b1")["password"] != first.Credentials["password"] {
		t.Error("issued credentials forgotten after deprovision")
	}
	must[*osb.InstanceResponse](t)(c.ProvisionInstance(ctx, provision("i1", testbroker.SeedPlanID, nil)))
	if n := b.ProvisionCount("i1"); n != 2 {
		t.Errorf("ProvisionCount after re-create = %d, want 2", n)
	}
}

func TestUpdate(t *testing.T) {
	b := testbroker.Start(t, testbroker.Options{Catalog: twoPlans()})
	c := client(t, b)
	ctx := t.Context()
	must[*osb.InstanceResponse](t)(c.ProvisionInstance(ctx, provision("i1", "goose-id", nil)))
	must[*osb.InstanceResponse](t)(c.ProvisionInstance(ctx, provision("i2", testbroker.SeedPlanID, nil)))
	update := func(id, plan, version string) error {
		r := &osb.UpdateRequest{InstanceID: id, ServiceID: testbroker.SeedServiceID, PlanID: plan, AcceptsIncomplete: true}
		if version != "" {
			r.MaintenanceInfo = &osb.MaintenanceInfo{Version: version}
		}
		_, err := c.UpdateInstance(ctx, r)
		return err
	}
	if err := update("i1", "goose-id", "1.1.0"); !osb.IsMaintenanceInfoConflict(err) {
		t.Errorf("stale maintenance_info: %v, want MaintenanceInfoConflict", err)
	}
	if err := update("i1", "goose-id", "1.2.0"); err != nil {
		t.Errorf("current maintenance_info: %v", err)
	}
	if err := update("i2", "goose-id", ""); !osb.IsUnprocessableEntity(err) {
		t.Errorf("change from the non-updateable duck plan: %v, want 422", err)
	}
	if err := update("nope", "", ""); !osb.IsNotFound(err) {
		t.Errorf("update of a missing instance: %v, want 404", err)
	}

	b.On(testbroker.Rule{Operation: osb.OpUpdate, AsyncPolls: 1})
	if err := update("i1", testbroker.SeedPlanID, ""); err != nil {
		t.Fatal(err)
	}
	if got, _ := b.Instance("i1"); got.State != testbroker.StateUpdating || got.PlanID != "goose-id" {
		t.Errorf("during async update: %+v", got)
	}
	if err := update("i1", "", ""); !osb.IsConcurrencyError(err) {
		t.Errorf("update during update: %v, want ConcurrencyError", err)
	}
	if _, err := c.DeprovisionInstance(ctx, deprovision("i1")); !osb.IsConcurrencyError(err) {
		t.Errorf("deprovision during update: %v, want ConcurrencyError", err)
	}
	for range 2 {
		must[*osb.LastOperationResponse](t)(c.PollLastOperation(ctx, &osb.LastOperationRequest{InstanceID: "i1"}))
	}
	if got, _ := b.Instance("i1"); got.State != testbroker.StateReady || got.PlanID != testbroker.SeedPlanID {
		t.Errorf("after async update: %+v", got)
	}
}

func TestBindChecks(t *testing.T) {
	b := testbroker.Start(t, testbroker.Options{})
	c := client(t, b)
	if _, err := c.Bind(t.Context(), bind("nope", "b1", nil)); !osb.IsNotFound(err) {
		t.Errorf("bind to a missing instance: %v, want 404", err)
	}
	b.On(testbroker.Rule{Operation: osb.OpProvision, AsyncPolls: 1})
	must[*osb.InstanceResponse](t)(c.ProvisionInstance(t.Context(), provision("i1", testbroker.SeedPlanID, nil)))
	if _, err := c.Bind(t.Context(), bind("i1", "b1", nil)); !osb.IsConcurrencyError(err) {
		t.Errorf("bind while provisioning: %v, want ConcurrencyError", err)
	}
	if _, err := c.GetInstance(t.Context(), &osb.GetInstanceRequest{InstanceID: "i1"}); !osb.IsNotFound(err) {
		t.Errorf("get while provisioning: %v, want 404", err)
	}
}

func TestSetCatalog(t *testing.T) {
	b := testbroker.Start(t, testbroker.Options{})
	c := client(t, b)
	if err := b.SetCatalog(twoPlans()); err != nil {
		t.Fatal(err)
	}
	cat := must[*osb.CatalogResponse](t)(c.GetCatalog(t.Context()))
	if len(cat.Services[0].Plans) != 2 || cat.Services[0].Plans[1].MaintenanceInfo.Version != "1.2.0" {
		t.Fatalf("catalog after SetCatalog = %+v", cat.Services)
	}
	if err := b.SetCatalog([]osb.Service{}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ProvisionInstance(t.Context(), provision("i1", testbroker.SeedPlanID, nil)); !osb.IsBadRequest(err) {
		t.Errorf("provision of a plan no longer in the catalog: %v, want 400", err)
	}
}

func TestStopRestartKeepsState(t *testing.T) {
	b := testbroker.Start(t, testbroker.Options{})
	c := client(t, b)
	url := b.URL()
	must[*osb.InstanceResponse](t)(c.ProvisionInstance(t.Context(), provision("i1", testbroker.SeedPlanID, nil)))
	b.Stop()
	if _, err := c.GetCatalog(t.Context()); !osb.IsUnreachable(err) {
		t.Fatalf("stopped broker: %v, want unreachable", err)
	}
	if err := b.Restart(); err != nil {
		t.Fatal(err)
	}
	if b.URL() != url {
		t.Errorf("URL after restart = %s, want %s", b.URL(), url)
	}
	if p := must[*osb.InstanceResponse](t)(c.ProvisionInstance(t.Context(), provision("i1", testbroker.SeedPlanID, nil))); p.StatusCode != 200 {
		t.Errorf("provision after restart = %d, want 200 (state kept)", p.StatusCode)
	}
}

func TestSetAuth(t *testing.T) {
	b := testbroker.Start(t, testbroker.Options{})
	c := client(t, b)
	b.SetAuth(testbroker.Auth{Username: "new", Password: "pw"})
	if _, err := c.GetCatalog(t.Context()); !osb.IsUnauthorized(err) {
		t.Errorf("old credentials after SetAuth: %v, want 401", err)
	}
}

func TestRecording(t *testing.T) {
	b := testbroker.Start(t, testbroker.Options{})
	c := client(t, b)
	must[*osb.InstanceResponse](t)(c.ProvisionInstance(t.Context(), provision("i1", testbroker.SeedPlanID, map[string]any{"k": "v"})))
	must[*osb.BindResponse](t)(c.Bind(t.Context(), bind("i1", "b1", nil)))
	reqs := b.Requests()
	if len(reqs) != 2 || len(b.RequestsFor(osb.OpBind)) != 1 {
		t.Fatalf("recorded %d requests", len(reqs))
	}
	r := reqs[1]
	if r.Operation != osb.OpBind || r.InstanceID != "i1" || r.BindingID != "b1" || r.Method != "PUT" ||
		r.Path != "/v2/service_instances/i1/service_bindings/b1" || r.Header.Get("Authorization") != "" || len(r.Body) == 0 {
		t.Errorf("recorded bind = %+v", r)
	}
	b.ResetRequests()
	if len(b.Requests()) != 0 {
		t.Error("ResetRequests kept requests")
	}

	quiet := testbroker.Start(t, testbroker.Options{DisableRecording: true})
	must[*osb.CatalogResponse](t)(client(t, quiet).GetCatalog(t.Context()))
	if len(quiet.Requests()) != 0 {
		t.Error("DisableRecording recorded")
	}
}
