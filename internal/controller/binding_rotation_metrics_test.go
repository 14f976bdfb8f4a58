package controller

import (
	"testing"

	scv1beta1 "github.com/svcat-io/svcat/api/v1beta1"
)

// A rotation is counted once, when its pending binding leaves the status,
// with what started it and how it ended; a step in between, a retry that
// keeps the pending binding and a deletion count nothing.
func TestRotationOutcome(t *testing.T) {
	pending := func(trigger scv1beta1.RotationTrigger) scv1beta1.ServiceBindingStatus {
		return scv1beta1.ServiceBindingStatus{Rotation: &scv1beta1.ServiceBindingRotationStatus{
			CurrentBindingID: "old", Pending: &scv1beta1.PendingRotation{BindingID: "new", Trigger: trigger}}}
	}
	withCondition := func(st scv1beta1.ServiceBindingStatus, reason string) scv1beta1.ServiceBindingStatus {
		st.Conditions = []scv1beta1.ServiceBindingCondition{{Type: scv1beta1.ServiceBindingConditionRotation, Status: scv1beta1.ConditionFalse, Reason: reason}}
		return st
	}
	done := func(current string) scv1beta1.ServiceBindingStatus {
		return scv1beta1.ServiceBindingStatus{Rotation: &scv1beta1.ServiceBindingRotationStatus{CurrentBindingID: current,
			Retiring: []scv1beta1.RetiringBinding{{BindingID: "old"}}}}
	}
	dropped := scv1beta1.ServiceBindingStatus{Rotation: &scv1beta1.ServiceBindingRotationStatus{CurrentBindingID: "old",
		Retiring: []scv1beta1.RetiringBinding{{BindingID: "new"}}}}
	tests := []struct {
		name          string
		before, after scv1beta1.ServiceBindingStatus
		trigger       string
		outcome       string
	}{
		{"no rotation", scv1beta1.ServiceBindingStatus{}, scv1beta1.ServiceBindingStatus{}, "", ""},
		{"started", done("old"), pending(scv1beta1.RotationTriggerRequest), "", ""},
		{"still pending after a 500", pending(scv1beta1.RotationTriggerRequest),
			withCondition(pending(scv1beta1.RotationTriggerRequest), scv1beta1.ReasonRotationFailed), "", ""},
		{"succeeded on request", pending(scv1beta1.RotationTriggerRequest), done("new"), "request", "succeeded"},
		{"succeeded on schedule", pending(scv1beta1.RotationTriggerSchedule), done("new"), "schedule", "succeeded"},
		{"succeeded before expiry", pending(scv1beta1.RotationTriggerExpiry), done("new"), "expiry", "succeeded"},
		{"refused", pending(scv1beta1.RotationTriggerRequest), withCondition(dropped, scv1beta1.ReasonRotationRefused), "request", "refused"},
		{"failed", pending(scv1beta1.RotationTriggerSchedule), withCondition(dropped, scv1beta1.ReasonRotationFailed), "schedule", "failed"},
		{"dropped by a deletion", pending(scv1beta1.RotationTriggerRequest), dropped, "", ""},
		{"trigger someone else wrote", pending(scv1beta1.RotationTrigger("Whatever")), done("new"), "other", "succeeded"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			trigger, outcome, ended := rotationOutcome(&tc.before, &tc.after)
			if ended != (tc.outcome != "") || trigger != tc.trigger || outcome != tc.outcome {
				t.Fatalf("rotationOutcome = %q, %q, %v; want %q, %q", trigger, outcome, ended, tc.trigger, tc.outcome)
			}
		})
	}
}
