package controller

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	scv1beta1 "github.com/svcat-io/svcat/api/v1beta1"
)

// A new spec clears the Failed condition; lastConditionState (the STATUS
// column) must stop saying Failed with it, not wait for the next condition
// write, which a reconcile ending pending or stale never makes.
func TestClearFailedRefreshesLastConditionState(t *testing.T) {
	now := metav1.Now()
	st := &scv1beta1.ServiceInstanceStatus{}
	st.SetCondition(scv1beta1.ServiceInstanceConditionReady, scv1beta1.ConditionFalse, scv1beta1.ReasonProvisionCallFailed, "Error provisioning: 400", now)
	st.SetCondition(scv1beta1.ServiceInstanceConditionFailed, scv1beta1.ConditionTrue, scv1beta1.ReasonProvisionCallFailed, "Error provisioning: 400", now)
	if st.LastConditionState != string(scv1beta1.ServiceInstanceConditionFailed) {
		t.Fatalf("lastConditionState %q before, want Failed", st.LastConditionState)
	}
	clearFailed(st)
	if st.GetCondition(scv1beta1.ServiceInstanceConditionFailed) != nil {
		t.Fatalf("Failed still there: %+v", st.Conditions)
	}
	if st.LastConditionState != scv1beta1.ReasonProvisionCallFailed {
		t.Errorf("lastConditionState %q after clearing Failed, want %q (the Ready condition's reason)", st.LastConditionState, scv1beta1.ReasonProvisionCallFailed)
	}
}
