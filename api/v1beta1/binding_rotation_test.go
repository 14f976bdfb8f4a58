package v1beta1_test

import (
	"strings"
	"testing"

	"github.com/svcat-io/svcat/internal/localcluster"
)

// The API server itself refuses a rotation policy out of bounds, and its
// message names the field, the value and what is allowed.
func TestRotationPolicyValidation(t *testing.T) {
	env := localcluster.Get(t)
	ns := env.Namespace(t)
	cases := []struct {
		name, policy string
		want         []string // substrings of the refusal; none: accepted
	}{
		{"interval only", `{interval: 720h}`, nil},
		{"grace only", `{gracePeriod: 30s}`, nil},
		{"both", `{interval: 1h, gracePeriod: 10m}`, nil},
		{"zero grace", `{gracePeriod: 0s}`, nil},
		{"interval too short", `{interval: 30s}`, []string{"spec.rotationPolicy.interval 30s", "between 1m and 8760h"}},
		{"interval too long", `{interval: 9000h}`, []string{"spec.rotationPolicy.interval 9000h", "between 1m and 8760h"}},
		{"grace too long", `{gracePeriod: 200h}`, []string{"spec.rotationPolicy.gracePeriod 200h", "between 0s and 168h"}},
		{"negative grace", `{gracePeriod: -1s}`, []string{"spec.rotationPolicy.gracePeriod -1s"}},
		{"grace not shorter", `{interval: 1h, gracePeriod: 1h}`, []string{"gracePeriod 1h must be shorter than spec.rotationPolicy.interval 1h"}},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			u := object(t, `apiVersion: servicecatalog.k8s.io/v1beta1
kind: ServiceBinding
metadata: {name: rot-`+string(rune('a'+i))+`}
spec:
  instanceRef: {name: db}
  rotationPolicy: `+c.policy+`
`, ns)
			err := createAndClean(t, env.Client, u)
			if c.want == nil {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("accepted rotationPolicy %s", c.policy)
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("the refusal does not say %q: %v", w, err)
				}
			}
		})
	}
}
