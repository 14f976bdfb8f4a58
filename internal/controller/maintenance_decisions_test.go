package controller

import (
	"testing"

	scv1beta1 "github.com/svcat-io/svcat/api/v1beta1"
)

// Which updates carry maintenance_info: only those that ask for the plan's
// current version, and never one the broker already refused.
func TestMaintenanceToSend(t *testing.T) {
	plan := &scv1beta1.MaintenanceInfo{Version: "1.1.0"}
	status := func(recorded, conflict string) *scv1beta1.ServiceInstanceStatus {
		return &scv1beta1.ServiceInstanceStatus{MaintenanceInfoConflict: conflict,
			ExternalProperties: &scv1beta1.ServiceInstancePropertiesState{MaintenanceInfoVersion: recorded}}
	}
	manual := scv1beta1.ServiceInstanceSpec{}
	asked := scv1beta1.ServiceInstanceSpec{MaintenanceInfoVersion: "1.1.0"}
	askedOld := scv1beta1.ServiceInstanceSpec{MaintenanceInfoVersion: "1.0.5"}
	auto := scv1beta1.ServiceInstanceSpec{MaintenanceUpgradePolicy: scv1beta1.MaintenanceUpgradeAutomatic}
	tests := []struct {
		name        string
		spec        scv1beta1.ServiceInstanceSpec
		st          *scv1beta1.ServiceInstanceStatus
		plan        *scv1beta1.MaintenanceInfo
		planChanged bool
		want        string // "" for none
	}{
		{"plan without maintenance_info", asked, status("1.0.0", ""), nil, false, ""},
		{"upgrade available, not asked", manual, status("1.0.0", ""), plan, false, ""},
		{"asked for the plan's version", asked, status("1.0.0", ""), plan, false, "1.1.0"},
		{"asked for a version the plan no longer has", askedOld, status("1.0.0", ""), plan, false, ""},
		{"automatic", auto, status("1.0.0", ""), plan, false, "1.1.0"},
		{"already there", auto, status("1.1.0", ""), plan, false, ""},
		{"refused, catalog unchanged", asked, status("1.0.0", "1.1.0"), plan, false, ""},
		{"refused an older version, catalog moved on", auto, status("1.0.0", "1.0.9"), plan, false, "1.1.0"},
		{"v0.3 instance, manual", manual, status("", ""), plan, false, ""},
		{"plan change sends the new plan's version", manual, status("1.1.0", ""), plan, true, "1.1.0"},
		{"plan change whose version was refused goes without it", manual, status("1.0.0", "1.1.0"), plan, true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ""
			if mi := maintenanceToSend(&tt.spec, tt.st, tt.plan, tt.planChanged); mi != nil {
				got = mi.Version
			}
			if got != tt.want {
				t.Errorf("maintenanceToSend = %q, want %q", got, tt.want)
			}
		})
	}
}
