package v1beta1_test

import (
	"strings"
	"testing"

	"github.com/svcat-io/svcat/internal/localcluster"
)

// spec.sharedWith and instanceRef.namespace are checked by the API server:
// each refusal names the field, the value and what is allowed.
func TestSharingValidation(t *testing.T) {
	env := localcluster.Get(t)
	ns := env.Namespace(t)
	instance := func(shared string) string {
		return `apiVersion: servicecatalog.k8s.io/v1beta1
kind: ServiceInstance
metadata: {name: shared}
spec:
  clusterServiceClassExternalName: kafka
  sharedWith: ` + shared + "\n"
	}
	binding := func(ref string) string {
		return `apiVersion: servicecatalog.k8s.io/v1beta1
kind: ServiceBinding
metadata: {name: shared}
spec:
  instanceRef: ` + ref + "\n"
	}
	many := make([]string, 65)
	for i := range many {
		many[i] = `{namespace: ns` + string(rune('a'+i%26)) + strings.Repeat("x", i/26) + `}`
	}
	cases := []struct {
		name, manifest, wantMsg string
	}{
		{"duplicate namespace", instance(`[{namespace: b}, {namespace: c}, {namespace: b}]`), `spec.sharedWith[2]: Duplicate value: {"namespace":"b"}`},
		{"not a DNS label", instance(`[{namespace: "B_ns"}]`), `spec.sharedWith[0].namespace: Invalid value: "B_ns"`},
		{"too long", instance(`[{namespace: ` + strings.Repeat("a", 64) + `}]`), "spec.sharedWith[0].namespace: Too long"},
		{"too many", instance("[" + strings.Join(many, ",") + "]"), "spec.sharedWith: Too many: 65: must have at most 64 items"},
		{"binding namespace not a label", binding(`{name: x, namespace: "A.B"}`), `spec.instanceRef.namespace: Invalid value: "A.B"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := createAndClean(t, env.Client, object(t, tc.manifest, ns))
			if err == nil {
				t.Fatal("accepted")
			}
			if !strings.Contains(err.Error(), tc.wantMsg) {
				t.Fatalf("rejected with\n  %v\nwant a message containing\n  %q", err, tc.wantMsg)
			}
		})
	}
	for _, ok := range []string{instance(`[{namespace: b}, {namespace: c}]`), binding(`{name: x, namespace: other}`)} {
		if err := createAndClean(t, env.Client, object(t, ok, ns)); err != nil {
			t.Errorf("refused a valid object: %v\n%s", err, ok)
		}
	}
}
