package controller

import (
	"testing"

	scv1beta1 "github.com/svcat-io/svcat/api/v1beta1"
)

// Which instances whose update failed for good get another: a spec change,
// or a request that differs from the refused one; never the same request
// again, whatever brought the reconcile.
func TestAfterFailedUpdate(t *testing.T) {
	refused := &scv1beta1.ServiceInstanceFailedUpdate{PlanExternalID: "bear", ParameterChecksum: "c1", MaintenanceInfoVersion: "1.0.0", Generation: 3}
	status := func(observed int64, last *scv1beta1.ServiceInstanceFailedUpdate) *scv1beta1.ServiceInstanceStatus {
		return &scv1beta1.ServiceInstanceStatus{ObservedGeneration: observed, LastFailedUpdate: last}
	}
	attempt := func(plan, checksum, version string, gen int64) *scv1beta1.ServiceInstanceFailedUpdate {
		return &scv1beta1.ServiceInstanceFailedUpdate{PlanExternalID: plan, ParameterChecksum: checksum, MaintenanceInfoVersion: version, Generation: gen}
	}
	tests := []struct {
		name   string
		failed bool
		gen    int64
		st     *scv1beta1.ServiceInstanceStatus
		next   *scv1beta1.ServiceInstanceFailedUpdate
		want   failedUpdateDecision
	}{
		{"not failed", false, 3, status(3, nil), nil, failedNotYet},
		{"spec changed (updateRequests, plan, parameters)", true, 4, status(3, refused), nil, failedRetry},
		{"failed before svcat recorded the attempt: v0.3's rule", true, 3, status(3, nil), nil, failedStays},
		{"recorded, parameters not built yet", true, 3, status(3, refused), nil, failedNotYet},
		{"the same request (resync, a Secret rewritten alike)", true, 3, status(3, refused), attempt("bear", "c1", "1.0.0", 3), failedStays},
		{"a Secret's value changed", true, 3, status(3, refused), attempt("bear", "c2", "1.0.0", 3), failedRetry},
		{"the catalog moved the maintenance version", true, 3, status(3, refused), attempt("bear", "c1", "1.1.0", 3), failedRetry},
		{"another plan (its ID renamed by the catalog)", true, 3, status(3, refused), attempt("duck", "c1", "1.0.0", 3), failedRetry},
		{"only the generation recorded differs", true, 3, status(3, refused), attempt("bear", "c1", "1.0.0", 7), failedStays},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := afterFailedUpdate(tt.failed, tt.gen, tt.st, tt.next); got != tt.want {
				t.Errorf("afterFailedUpdate = %d, want %d", got, tt.want)
			}
		})
	}
}

// The attempt recorded is what the update in flight carried.
func TestUpdateAttempt(t *testing.T) {
	if updateAttempt(nil, 1) != nil {
		t.Error("an attempt without properties")
	}
	got := updateAttempt(&scv1beta1.ServiceInstancePropertiesState{ServicePlanExternalID: "ns-plan", ParameterChecksum: "c", MaintenanceInfoVersion: "2.0.0"}, 5)
	want := scv1beta1.ServiceInstanceFailedUpdate{PlanExternalID: "ns-plan", ParameterChecksum: "c", MaintenanceInfoVersion: "2.0.0", Generation: 5}
	if *got != want {
		t.Errorf("updateAttempt = %+v, want %+v", *got, want)
	}
}
