package v1beta1_test

import (
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	scv1beta1 "github.com/svcat-io/svcat/api/v1beta1"
)

// Every helper that changes the conditions keeps lastConditionState (the
// STATUS column: the last condition's type when True, else its reason) and
// moves lastTransitionTime only when the status changes.
func TestConditionHelpersKeepLastConditionState(t *testing.T) {
	t0 := metav1.NewTime(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	t1 := metav1.NewTime(t0.Add(time.Minute))

	inst := &scv1beta1.ServiceInstanceStatus{}
	inst.SetCondition(scv1beta1.ServiceInstanceConditionReady, scv1beta1.ConditionFalse, scv1beta1.ReasonProvisioning, "m", t0)
	inst.SetCondition(scv1beta1.ServiceInstanceConditionFailed, scv1beta1.ConditionTrue, scv1beta1.ReasonProvisionCallFailed, "m", t0)
	if inst.LastConditionState != "Failed" {
		t.Errorf("instance after Failed: %q", inst.LastConditionState)
	}
	inst.SetCondition(scv1beta1.ServiceInstanceConditionReady, scv1beta1.ConditionFalse, scv1beta1.ReasonProvisionCallFailed, "m2", t1)
	if c := inst.GetCondition(scv1beta1.ServiceInstanceConditionReady); !c.LastTransitionTime.Equal(&t0) {
		t.Errorf("Ready stayed False but its lastTransitionTime moved to %v", c.LastTransitionTime)
	}
	inst.RemoveCondition(scv1beta1.ServiceInstanceConditionFailed)
	if inst.LastConditionState != scv1beta1.ReasonProvisionCallFailed {
		t.Errorf("instance after removing Failed: %q, want %q", inst.LastConditionState, scv1beta1.ReasonProvisionCallFailed)
	}
	inst.SetCondition(scv1beta1.ServiceInstanceConditionReady, scv1beta1.ConditionTrue, scv1beta1.ReasonProvisionedSuccessfully, "m", t1)
	if c := inst.GetCondition(scv1beta1.ServiceInstanceConditionReady); !c.LastTransitionTime.Equal(&t1) || inst.LastConditionState != "Ready" {
		t.Errorf("Ready True: %+v, lastConditionState %q", c, inst.LastConditionState)
	}

	b := &scv1beta1.ServiceBindingStatus{}
	b.SetCondition(scv1beta1.ServiceBindingConditionReady, scv1beta1.ConditionFalse, scv1beta1.ReasonBinding, "m", t0)
	b.SetCondition(scv1beta1.ServiceBindingConditionFailed, scv1beta1.ConditionTrue, scv1beta1.ReasonBindCallFailed, "m", t0)
	b.RemoveCondition(scv1beta1.ServiceBindingConditionFailed)
	if b.LastConditionState != scv1beta1.ReasonBinding || len(b.Conditions) != 1 {
		t.Errorf("binding after removing Failed: %q %+v", b.LastConditionState, b.Conditions)
	}
	b.RemoveCondition(scv1beta1.ServiceBindingConditionReady)
	if b.LastConditionState != "" {
		t.Errorf("binding without conditions: %q", b.LastConditionState)
	}
}

// An advisory condition never becomes the last one: v0.3 clients and the
// STATUS column keep showing Ready.
func TestAdvisoryConditionStaysBehindReady(t *testing.T) {
	t0 := metav1.NewTime(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	inst := &scv1beta1.ServiceInstanceStatus{}
	inst.SetCondition(scv1beta1.ServiceInstanceConditionReady, scv1beta1.ConditionTrue, scv1beta1.ReasonProvisionedSuccessfully, "m", t0)
	inst.SetAdvisoryCondition(scv1beta1.ServiceInstanceConditionUpgradeAvailable, scv1beta1.ConditionTrue, scv1beta1.ReasonMaintenanceUpgradeAvailable, "a", t0)
	inst.SetAdvisoryCondition(scv1beta1.ServiceInstanceConditionUpgradeAvailable, scv1beta1.ConditionTrue, scv1beta1.ReasonMaintenanceInfoConflict, "b", t0)
	if inst.LastConditionState != "Ready" || len(inst.Conditions) != 2 || inst.Conditions[1].Type != scv1beta1.ServiceInstanceConditionReady {
		t.Errorf("after UpgradeAvailable: lastConditionState %q, conditions %+v", inst.LastConditionState, inst.Conditions)
	}
	inst.SetCondition(scv1beta1.ServiceInstanceConditionFailed, scv1beta1.ConditionTrue, scv1beta1.ReasonUpdateInstanceCallFailed, "m", t0)
	if inst.LastConditionState != "Failed" {
		t.Errorf("after Failed: lastConditionState %q", inst.LastConditionState)
	}
}
