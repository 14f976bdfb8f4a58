package v1beta1_test

import (
	"context"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/svcat-io/svcat/internal/localcluster"
)

// A user-provided instance has no broker: the API server refuses it with
// anything that only a broker would use, naming the fields, and accepts it
// alone.
func TestUserProvidedValidation(t *testing.T) {
	env := localcluster.Get(t)
	ns := env.Namespace(t)
	const excludes = "userProvided excludes every class and plan field"
	cases := []struct {
		name    string
		invalid string
		wantMsg string
	}{
		{"with a class", instance + `  {userProvided: {secretRef: {name: s}}, clusterServiceClassExternalName: cloudkarafka}`, excludes},
		{"with a namespaced plan", instance + `  {userProvided: {secretRef: {name: s}}, servicePlanName: p}`, excludes},
		{"with a class ref", instance + `  {userProvided: {secretRef: {name: s}}, clusterServiceClassRef: {name: c}}`, excludes},
		{"with parametersFrom", instance + `  {userProvided: {secretRef: {name: s}}, parametersFrom: [{secretKeyRef: {name: s, key: k}}]}`, excludes},
		{"with a maintenance version", instance + `  {userProvided: {secretRef: {name: s}}, maintenanceInfoVersion: "1.0.0"}`, excludes},
		{"shared with another namespace", instance + `  {userProvided: {secretRef: {name: s}}, sharedWith: [{namespace: other}]}`, "and sharedWith: a user-provided instance has no broker and is not shared"},
		{"without a Secret name", instance + `  {userProvided: {secretRef: {}}}`, "spec.userProvided.secretRef.name: Required value"},
		{"with an empty Secret name", instance + `  {userProvided: {secretRef: {name: ""}}}`, "spec.userProvided.secretRef.name: Invalid value"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := createAndClean(t, env.Client, object(t, tc.invalid, ns))
			if err == nil {
				t.Fatalf("the API server accepted an invalid object:\n%s", tc.invalid)
			}
			if !strings.Contains(err.Error(), tc.wantMsg) {
				t.Fatalf("rejected with\n  %v\nwant a message containing\n  %q", err, tc.wantMsg)
			}
		})
	}

	valid := object(t, instance+`  {userProvided: {secretRef: {name: s}}}`, ns)
	if err := createAndClean(t, env.Client, valid); err != nil {
		t.Fatalf("the API server rejected a user-provided instance: %v", err)
	}

	t.Run("cannot become brokered", func(t *testing.T) {
		u := valid.DeepCopy()
		unstructured.RemoveNestedField(u.Object, "spec", "userProvided")
		_ = unstructured.SetNestedField(u.Object, "cloudkarafka", "spec", "clusterServiceClassExternalName")
		err := env.Client.Update(context.Background(), u)
		if err == nil || !strings.Contains(err.Error(), "userProvided cannot be added to or removed from an existing instance") {
			t.Fatalf("update to a brokered instance: %v, want the userProvided transition refused", err)
		}
	})
	t.Run("brokered cannot become user-provided", func(t *testing.T) {
		u := object(t, `
apiVersion: servicecatalog.k8s.io/v1beta1
kind: ServiceInstance
metadata: {name: brokered}
spec: {clusterServiceClassExternalName: cloudkarafka}
`, ns)
		if err := createAndClean(t, env.Client, u); err != nil {
			t.Fatal(err)
		}
		unstructured.RemoveNestedField(u.Object, "spec", "clusterServiceClassExternalName")
		_ = unstructured.SetNestedMap(u.Object, map[string]any{"secretRef": map[string]any{"name": "s"}}, "spec", "userProvided")
		err := env.Client.Update(context.Background(), u)
		if err == nil || !strings.Contains(err.Error(), "userProvided cannot be added to or removed from an existing instance") {
			t.Fatalf("update to a user-provided instance: %v, want the userProvided transition refused", err)
		}
	})
	t.Run("no namespace can be named", func(t *testing.T) {
		// A Secret of another namespace cannot even be named: strict field
		// validation refuses the field, and without it the API server
		// drops it (the controller then reads only the instance's own
		// namespace; see internal/controller's test of that).
		u := object(t, `
apiVersion: servicecatalog.k8s.io/v1beta1
kind: ServiceInstance
metadata: {name: other-ns}
spec: {userProvided: {secretRef: {name: s, namespace: kube-system}}}
`, ns)
		err := env.Client.Create(context.Background(), u, client.FieldValidation("Strict"))
		if err == nil || !strings.Contains(err.Error(), `unknown field "spec.userProvided.secretRef.namespace"`) {
			t.Fatalf("create naming a namespace: %v, want the unknown field refused", err)
		}
	})
}
