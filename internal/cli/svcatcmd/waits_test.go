package svcatcmd

import (
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/svcat-io/svcat/api/v1beta1"
	"github.com/svcat-io/svcat/internal/cli/output"
)

func TestInstanceSettled(t *testing.T) {
	cond := func(typ v1beta1.ServiceInstanceConditionType, st v1beta1.ConditionStatus, reason string) v1beta1.ServiceInstanceCondition {
		return v1beta1.ServiceInstanceCondition{Type: typ, Status: st, Reason: reason, Message: "m"}
	}
	ready := cond(v1beta1.ServiceInstanceConditionReady, v1beta1.ConditionTrue, "ProvisionedSuccessfully")
	tests := []struct {
		name       string
		generation int64
		observed   int64
		async      bool
		conds      []v1beta1.ServiceInstanceCondition
		wantDone   bool
		wantErr    string
		wantCond   string
	}{
		{name: "nothing yet", generation: 1, wantCond: ""},
		{name: "ready", generation: 1, observed: 1, conds: []v1beta1.ServiceInstanceCondition{ready}, wantDone: true,
			wantCond: "Ready=True (ProvisionedSuccessfully): m"},
		{name: "ready but spec changed since", generation: 2, observed: 1, conds: []v1beta1.ServiceInstanceCondition{ready}},
		{name: "ready but the broker is still working", generation: 1, observed: 1, async: true, conds: []v1beta1.ServiceInstanceCondition{ready}},
		{name: "in progress", generation: 1, observed: 1,
			conds:    []v1beta1.ServiceInstanceCondition{cond(v1beta1.ServiceInstanceConditionReady, v1beta1.ConditionFalse, "Provisioning")},
			wantCond: "Ready=False (Provisioning): m"},
		{name: "failed", generation: 1, observed: 1, wantDone: true, wantErr: "instance ns/db failed: ProvisionCallFailed: m",
			conds: []v1beta1.ServiceInstanceCondition{
				cond(v1beta1.ServiceInstanceConditionReady, v1beta1.ConditionFalse, "ProvisionCallFailed"),
				cond(v1beta1.ServiceInstanceConditionFailed, v1beta1.ConditionTrue, "ProvisionCallFailed")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := &v1beta1.ServiceInstance{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "db", Generation: tt.generation}}
			in.Status.ObservedGeneration = tt.observed
			in.Status.AsyncOpInProgress = tt.async
			in.Status.Conditions = tt.conds
			st := instanceSettled(in)
			if st.Done != tt.wantDone {
				t.Errorf("done = %v, want %v", st.Done, tt.wantDone)
			}
			if tt.wantErr == "" && st.Err != nil || tt.wantErr != "" && (st.Err == nil || st.Err.Error() != tt.wantErr) {
				t.Errorf("err = %v, want %q", st.Err, tt.wantErr)
			}
			if tt.wantCond != "" && st.Condition != tt.wantCond {
				t.Errorf("condition = %q, want %q", st.Condition, tt.wantCond)
			}
		})
	}
}

func TestDeletionState(t *testing.T) {
	if st := deletionState(condition("Ready", "False", "Deprovisioning"), false, "x"); st.Done {
		t.Error("an object being deleted is not done")
	}
	st := deletionState(condition("Failed", "True", "DeprovisionCallFailed"), true, "deprovisioning instance \"db\"")
	if !st.Done || st.Err == nil || !strings.Contains(st.Err.Error(), "--abandon") {
		t.Errorf("a failed deprovision ends the wait and points at --abandon: %+v", st)
	}
}

func condition(typ, status, reason string) output.Condition {
	return output.Condition{Type: typ, Status: v1beta1.ConditionStatus(status), Reason: reason}
}

func TestDisplayName(t *testing.T) {
	tests := map[string]string{
		"svcat":                      "svcat",
		"/usr/local/bin/svcat":       "svcat",
		"/home/me/bin/kubectl-svcat": "kubectl svcat",
		"kubectl-service_catalog":    "kubectl service-catalog",
		"kubectl-":                   "svcat",
		"./bin/svcat-dev":            "svcat",
	}
	for argv0, want := range tests {
		if got := displayName(argv0); got != want {
			t.Errorf("displayName(%q) = %q, want %q", argv0, got, want)
		}
	}
}

func TestParseTimeout(t *testing.T) {
	tests := []struct {
		in      string
		want    string
		wantErr bool
	}{
		{"5m", "5m0s", false}, {"30s", "30s", false}, {"-1", "0s", false},
		{"0", "", true}, {"-5m", "", true}, {"soon", "", true},
	}
	for _, tt := range tests {
		got, err := parseTimeout(tt.in)
		if (err != nil) != tt.wantErr || err == nil && got.String() != tt.want {
			t.Errorf("parseTimeout(%q) = %v, %v", tt.in, got, err)
		}
	}
}

func TestRegisterCompletions(t *testing.T) {
	root := NewRoot(genericiooptions.IOStreams{}, "svcat")
	// NewRoot registered them once; a second run must find every command
	// and flag again, and fail only because they are already registered.
	err := registerCompletions(&Factory{}, root)
	if err == nil {
		t.Fatal("registering twice should fail")
	}
	for _, line := range strings.Split(err.Error(), "\n") {
		if !strings.Contains(line, "already registered") {
			t.Errorf("unexpected: %s", line)
		}
	}
}

// upgrade --wait ends when the instance has the version, when the broker
// refused it, or when the update failed; not while the controller has not
// acted yet.
func TestUpgradeState(t *testing.T) {
	ready := v1beta1.ServiceInstanceCondition{Type: v1beta1.ServiceInstanceConditionReady, Status: v1beta1.ConditionTrue, Reason: "ProvisionedSuccessfully", Message: "m"}
	failed := v1beta1.ServiceInstanceCondition{Type: v1beta1.ServiceInstanceConditionFailed, Status: v1beta1.ConditionTrue, Reason: "UpdateInstanceCallFailed", Message: "boom"}
	refused := v1beta1.ServiceInstanceCondition{Type: v1beta1.ServiceInstanceConditionUpgradeAvailable, Status: v1beta1.ConditionTrue, Reason: v1beta1.ReasonMaintenanceInfoConflict, Message: "The broker refused maintenance version 1.1.0"}
	inst := func(observed int64, recorded, conflict string, conds ...v1beta1.ServiceInstanceCondition) *v1beta1.ServiceInstance {
		in := &v1beta1.ServiceInstance{}
		in.Generation = 2
		in.Status.ObservedGeneration = observed
		in.Status.ExternalProperties = &v1beta1.ServiceInstancePropertiesState{MaintenanceInfoVersion: recorded}
		in.Status.MaintenanceInfoConflict = conflict
		in.Status.Conditions = conds
		return in
	}
	tests := []struct {
		name     string
		in       *v1beta1.ServiceInstance
		wantDone bool
		wantErr  string
	}{
		{"not yet acted on", inst(1, "1.0.0", "", ready), false, ""},
		{"upgraded", inst(2, "1.1.0", "", ready), true, ""},
		{"refused", inst(2, "1.0.0", "1.1.0", refused, ready), true, "The broker refused maintenance version 1.1.0"},
		{"an older refusal does not count", inst(1, "1.0.0", "1.0.5", refused, ready), false, ""},
		{"update failed", inst(2, "1.0.0", "", ready, failed), true, "UpdateInstanceCallFailed: boom"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := upgradeState(tt.in, "1.1.0")
			if st.Done != tt.wantDone || (tt.wantErr == "") != (st.Err == nil) || (st.Err != nil && !strings.Contains(st.Err.Error(), tt.wantErr)) {
				t.Errorf("upgradeState = done %v err %v; want done %v err %q", st.Done, st.Err, tt.wantDone, tt.wantErr)
			}
		})
	}
}

// update --wait ends as any operation does, and also when the controller
// refuses the new spec without sending anything; an older refusal seen
// before the update does not end it.
func TestUpdateState(t *testing.T) {
	at := metav1.NewTime(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	later := metav1.NewTime(at.Add(time.Minute))
	cond := func(reason string, when metav1.Time) v1beta1.ServiceInstanceCondition {
		return v1beta1.ServiceInstanceCondition{Type: v1beta1.ServiceInstanceConditionReady, Status: v1beta1.ConditionFalse, Reason: reason, Message: "topics: must have at most 2 items", LastTransitionTime: when}
	}
	ready := v1beta1.ServiceInstanceCondition{Type: v1beta1.ServiceInstanceConditionReady, Status: v1beta1.ConditionTrue, Reason: "InstanceUpdatedSuccessfully", Message: "m"}
	inst := func(observed int64, c v1beta1.ServiceInstanceCondition) *v1beta1.ServiceInstance {
		in := &v1beta1.ServiceInstance{}
		in.Generation = 2
		in.Status.ObservedGeneration = observed
		in.Status.Conditions = []v1beta1.ServiceInstanceCondition{c}
		return in
	}
	old := cond(v1beta1.ReasonInvalidParameters, at)
	tests := []struct {
		name     string
		in       *v1beta1.ServiceInstance
		before   *v1beta1.ServiceInstanceCondition
		wantDone bool
		wantErr  string
	}{
		{"updated", inst(2, ready), &ready, true, ""},
		{"not yet acted on", inst(1, ready), &ready, false, ""},
		{"refused by the plan's schema", inst(1, cond(v1beta1.ReasonInvalidParameters, later)), &ready, true, "sent nothing to the broker: InvalidParameters: topics"},
		{"the same refusal as before the update", inst(1, old), &old, false, ""},
		{"a new refusal after an older one", inst(1, cond(v1beta1.ReasonInvalidParameters, later)), &old, true, "InvalidParameters"},
		{"plan change not allowed", inst(1, cond(v1beta1.ReasonPlanChangeNotAllowed, later)), nil, true, "PlanChangeNotAllowed"},
		{"a broker call failing is retried, not the end", inst(1, cond(v1beta1.ReasonUpdateInstanceCallFailed, later)), &ready, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := updateState(tt.in, tt.before)
			if st.Done != tt.wantDone || (tt.wantErr == "") != (st.Err == nil) || (st.Err != nil && !strings.Contains(st.Err.Error(), tt.wantErr)) {
				t.Errorf("updateState = done %v err %v; want done %v err %q", st.Done, st.Err, tt.wantDone, tt.wantErr)
			}
		})
	}
}
