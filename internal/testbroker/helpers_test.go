package testbroker_test

import (
	"testing"

	"github.com/svcat-io/svcat/internal/osb"
	"github.com/svcat-io/svcat/internal/testbroker"
)

func client(t testing.TB, b *testbroker.Broker) *osb.Client {
	t.Helper()
	c, err := osb.New(osb.Config{
		URL: b.URL(), Username: testbroker.DefaultUsername, Password: testbroker.DefaultPassword, CABundle: b.CAPEM(),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

func provision(id, planID string, params map[string]any) *osb.ProvisionRequest {
	return &osb.ProvisionRequest{
		InstanceID: id, ServiceID: testbroker.SeedServiceID, PlanID: planID, AcceptsIncomplete: true,
		OrganizationGUID: "c", SpaceGUID: "ns", Parameters: params,
	}
}

func bind(instanceID, bindingID string, params map[string]any) *osb.BindRequest {
	return &osb.BindRequest{
		InstanceID: instanceID, BindingID: bindingID, ServiceID: testbroker.SeedServiceID,
		PlanID: testbroker.SeedPlanID, AcceptsIncomplete: true, Parameters: params,
	}
}

func deprovision(id string) *osb.DeprovisionRequest {
	return &osb.DeprovisionRequest{InstanceID: id, ServiceID: testbroker.SeedServiceID, PlanID: testbroker.SeedPlanID, AcceptsIncomplete: true}
}

func unbind(instanceID, bindingID string) *osb.UnbindRequest {
	return &osb.UnbindRequest{
		InstanceID: instanceID, BindingID: bindingID, ServiceID: testbroker.SeedServiceID,
		PlanID: testbroker.SeedPlanID, AcceptsIncomplete: true,
	}
}

// twoPlans is the seed catalog plus an updateable "goose" plan with
// maintenance_info.
func twoPlans() []osb.Service {
	cat := testbroker.SeedCatalog()
	yes := true
	cat[0].Plans = append(cat[0].Plans, osb.Plan{
		ID: "goose-id", Name: "goose", Description: "Goose", PlanUpdateable: &yes,
		MaintenanceInfo: &osb.MaintenanceInfo{Version: "1.2.0"},
	})
	return cat
}

func must[T any](t testing.TB) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}
