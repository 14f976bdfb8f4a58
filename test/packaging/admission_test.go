package packaging

import (
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// The chart renders config/admission's policies under the release's name,
// each binding naming its own release's policy, and leaves either pair out
// on request (the user info policy needs Kubernetes 1.36).
func TestChartAdmissionPolicies(t *testing.T) {
	kinds := []string{"ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding", "MutatingAdmissionPolicy", "MutatingAdmissionPolicyBinding"}
	names := func(objs []*unstructured.Unstructured) map[string]string {
		out := map[string]string{}
		for _, k := range kinds {
			for _, u := range ofKind(objs, k) {
				policy, _, _ := unstructured.NestedString(u.Object, "spec", "policyName")
				if out[k] != "" {
					out[k] += ", "
				}
				out[k] += u.GetName() + " " + policy
			}
		}
		return out
	}
	got := names(renderChart(t, "prod", "catalog", nil))
	want := map[string]string{
		"ValidatingAdmissionPolicy":        "prod-svcat-external-id , prod-svcat-instance-sharing ",
		"ValidatingAdmissionPolicyBinding": "prod-svcat-external-id prod-svcat-external-id, prod-svcat-instance-sharing prod-svcat-instance-sharing",
		"MutatingAdmissionPolicy":          "prod-svcat-user-info , prod-svcat-v03-broker-defaults , prod-svcat-v03-defaults ",
		"MutatingAdmissionPolicyBinding":   "prod-svcat-user-info prod-svcat-user-info, prod-svcat-v03-broker-defaults prod-svcat-v03-broker-defaults, prod-svcat-v03-defaults prod-svcat-v03-defaults",
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s: %q, want %q (name, policyName)", k, got[k], w)
		}
	}
	if roles := ofKind(renderChart(t, "prod", "catalog", nil), "ClusterRole"); !hasName(roles, "prod-svcat-external-id-adopter") {
		t.Error("no adopter ClusterRole")
	}

	off := names(renderChart(t, "svcat", "svcat-system", values(t, "admission: {userInfoPolicy: false}")))
	if off["MutatingAdmissionPolicy"] != "svcat-v03-broker-defaults , svcat-v03-defaults " || off["ValidatingAdmissionPolicy"] == "" {
		t.Errorf("admission.userInfoPolicy=false renders %v", off)
	}
	off = names(renderChart(t, "svcat", "svcat-system", values(t, "admission: {v03DefaultsPolicy: false}")))
	if off["MutatingAdmissionPolicy"] != "svcat-user-info " || off["ValidatingAdmissionPolicy"] == "" {
		t.Errorf("admission.v03DefaultsPolicy=false renders %v", off)
	}
	off = names(renderChart(t, "svcat", "svcat-system", values(t, "admission: {externalIDPolicy: false}")))
	if off["ValidatingAdmissionPolicy"] != "svcat-instance-sharing " || off["MutatingAdmissionPolicy"] == "" {
		t.Errorf("admission.externalIDPolicy=false renders %v", off)
	}
	off = names(renderChart(t, "svcat", "svcat-system", values(t, "admission: {externalIDPolicy: false, sharingPolicy: false}")))
	if _, ok := off["ValidatingAdmissionPolicy"]; ok || off["MutatingAdmissionPolicy"] == "" {
		t.Errorf("admission.externalIDPolicy=false, sharingPolicy=false renders %v", off)
	}
}

func hasName(objs []*unstructured.Unstructured, name string) bool {
	for _, u := range objs {
		if u.GetName() == name {
			return true
		}
	}
	return false
}
