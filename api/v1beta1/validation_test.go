package v1beta1_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/svcat-io/svcat/internal/localcluster"
)

// object parses a manifest and puts namespaced kinds into ns.
func object(t *testing.T, manifest, ns string) *unstructured.Unstructured {
	t.Helper()
	u := &unstructured.Unstructured{}
	if err := yaml.Unmarshal([]byte(manifest), &u.Object); err != nil {
		t.Fatalf("parsing manifest: %v\n%s", err, manifest)
	}
	if !strings.HasPrefix(u.GetKind(), "Cluster") {
		u.SetNamespace(ns)
	}
	return u
}

// createAndClean creates the object and deletes it when the test ends, so
// cluster-scoped names can be reused across cases.
func createAndClean(t *testing.T, c client.Client, u *unstructured.Unstructured) error {
	t.Helper()
	err := c.Create(context.Background(), u)
	if err == nil {
		t.Cleanup(func() { _ = c.Delete(context.Background(), u) })
	}
	return err
}

func TestSeedManifestsAreAccepted(t *testing.T) {
	env := localcluster.Get(t)
	ns := env.Namespace(t)
	for _, name := range []string{"cluster-service-broker.yml", "service-instance.yml", "service-binding.yml"} {
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("..", "..", "test", "testdata", "seed", name))
			if err != nil {
				t.Fatal(err)
			}
			u := object(t, string(data), ns)
			if err := createAndClean(t, env.Client, u); err != nil {
				t.Fatalf("the API server rejected the seed's %s: %v", name, err)
			}
		})
	}

}

// The seed's broker leaves relistBehavior out; the schema defaults it as
// v0.3's webhook did.
func TestRelistBehaviorDefaultsToDuration(t *testing.T) {
	env := localcluster.Get(t)
	u := object(t, `
apiVersion: servicecatalog.k8s.io/v1beta1
kind: ClusterServiceBroker
metadata: {name: defaulted}
spec: {url: "http://broker.example"}
`, "")
	if err := createAndClean(t, env.Client, u); err != nil {
		t.Fatal(err)
	}
	got, _, _ := unstructured.NestedString(u.Object, "spec", "relistBehavior")
	if got != "Duration" {
		t.Fatalf("spec.relistBehavior = %q, want the default Duration", got)
	}
}

const broker = `
apiVersion: servicecatalog.k8s.io/v1beta1
kind: ClusterServiceBroker
metadata: {name: b}
spec:
`

const nsBroker = `
apiVersion: servicecatalog.k8s.io/v1beta1
kind: ServiceBroker
metadata: {name: b}
spec:
`

const instance = `
apiVersion: servicecatalog.k8s.io/v1beta1
kind: ServiceInstance
metadata: {name: i}
spec:
`

const binding = `
apiVersion: servicecatalog.k8s.io/v1beta1
kind: ServiceBinding
metadata: {name: bnd}
spec:
`

// Each invalid object is rejected with the message of the rule it breaks,
// and its valid twin (the smallest change that fixes it) is accepted.
func TestValidationRules(t *testing.T) {
	env := localcluster.Get(t)
	ns := env.Namespace(t)
	cases := []struct {
		name    string
		invalid string
		wantMsg string
		valid   string
	}{
		{"broker url scheme", broker + `  url: ftp://broker.example`,
			"url must be an absolute http:// or https:// URL with a host", broker + `  url: https://broker.example`},
		{"broker url not a URL", broker + `  url: "not a url"`,
			"url must be an absolute http:// or https:// URL with a host", broker + `  url: http://broker.example:8080/osb`},
		{"broker url missing", broker + `  insecureSkipTLSVerify: true`,
			"spec.url: Required value", broker + `  {url: "https://b.example", insecureSkipTLSVerify: true}`},
		{"broker caBundle and insecureSkipTLSVerify", broker + `  {url: "https://b.example", caBundle: "Y2E=", insecureSkipTLSVerify: true}`,
			"caBundle and insecureSkipTLSVerify are mutually exclusive", broker + `  {url: "https://b.example", caBundle: "Y2E="}`},
		{"broker basic and bearer", broker + `
  url: https://b.example
  authInfo: {basic: {secretRef: {namespace: osb, name: s}}, bearer: {secretRef: {namespace: osb, name: s}}}`,
			"authInfo: use basic or bearer authentication, not both", broker + `
  url: https://b.example
  authInfo: {bearer: {secretRef: {namespace: osb, name: s}}}`},
		{"namespaced broker basic and bearer", nsBroker + `
  url: https://b.example
  authInfo: {basic: {secretRef: {name: s}}, bearer: {secretRef: {name: s}}}`,
			"authInfo: use basic or bearer authentication, not both", nsBroker + `
  url: https://b.example
  authInfo: {basic: {secretRef: {name: s}}}`},
		{"broker relistDuration with Manual", broker + `  {url: "https://b.example", relistBehavior: Manual, relistDuration: 10m}`,
			"relistDuration may only be set when relistBehavior is Duration", broker + `  {url: "https://b.example", relistBehavior: Duration, relistDuration: 10m}`},
		{"broker relistDuration zero", broker + `  {url: "https://b.example", relistDuration: 0s}`,
			"relistDuration must be greater than zero", broker + `  {url: "https://b.example", relistDuration: 1h30m}`},
		{"broker relistBehavior unknown", broker + `  {url: "https://b.example", relistBehavior: Sometimes}`,
			`Unsupported value: "Sometimes"`, broker + `  {url: "https://b.example", relistBehavior: Manual}`},
		{"broker relistRequests negative", broker + `  {url: "https://b.example", relistRequests: -1}`,
			"spec.relistRequests: Invalid value: -1", broker + `  {url: "https://b.example", relistRequests: 3}`},
		{"instance without class", instance + `  {clusterServicePlanExternalName: duck}`,
			"specify exactly one class", instance + `  {clusterServiceClassExternalName: cloudkarafka}`},
		{"instance with two classes", instance + `  {clusterServiceClassExternalName: cloudkarafka, clusterServiceClassName: d21df959}`,
			"specify exactly one class", instance + `  {clusterServiceClassName: d21df959}`},
		{"instance cluster and namespaced class", instance + `  {clusterServiceClassExternalName: cloudkarafka, serviceClassExternalName: cloudkarafka}`,
			"specify exactly one class", instance + `  {serviceClassExternalName: cloudkarafka, servicePlanExternalName: duck}`},
		{"instance plan by name, class by external name", instance + `  {clusterServiceClassExternalName: cloudkarafka, clusterServicePlanName: e64a8b50}`,
			"clusterServicePlanName must be used with clusterServiceClassName", instance + `  {clusterServiceClassName: d21df959, clusterServicePlanName: e64a8b50}`},
		{"instance plan by external ID, class by external name", instance + `  {clusterServiceClassExternalName: cloudkarafka, clusterServicePlanExternalID: e64a8b50}`,
			"clusterServicePlanExternalID must be used with clusterServiceClassExternalID", instance + `  {clusterServiceClassExternalID: d21df959, clusterServicePlanExternalID: e64a8b50}`},
		{"instance plan by external name, class by external ID", instance + `  {clusterServiceClassExternalID: d21df959, clusterServicePlanExternalName: duck}`,
			"clusterServicePlanExternalName must be used with clusterServiceClassExternalName", instance + `  {clusterServiceClassExternalName: cloudkarafka, clusterServicePlanExternalName: duck}`},
		{"instance namespaced plan with cluster class", instance + `  {clusterServiceClassExternalName: cloudkarafka, servicePlanExternalName: duck}`,
			"servicePlanExternalName must be used with serviceClassExternalName", instance + `  {serviceClassExternalName: cloudkarafka, servicePlanExternalName: duck}`},
		{"instance namespaced plan ID with class name", instance + `  {serviceClassName: c, servicePlanExternalID: p}`,
			"servicePlanExternalID must be used with serviceClassExternalID", instance + `  {serviceClassExternalID: c, servicePlanExternalID: p}`},
		{"instance namespaced plan name with external ID class", instance + `  {serviceClassExternalID: c, servicePlanName: p}`,
			"servicePlanName must be used with serviceClassName", instance + `  {serviceClassName: c, servicePlanName: p}`},
		{"instance empty class name", instance + `  {clusterServiceClassExternalName: ""}`,
			"spec.clusterServiceClassExternalName: Invalid value", instance + `  {clusterServiceClassExternalName: "x"}`},
		{"instance parametersFrom without secretKeyRef", instance + `
  clusterServiceClassExternalName: cloudkarafka
  parametersFrom: [{}]`,
			"each parametersFrom entry needs a secretKeyRef", instance + `
  clusterServiceClassExternalName: cloudkarafka
  parametersFrom: [{secretKeyRef: {name: s, key: k}}]`},
		{"instance negative updateRequests", instance + `  {clusterServiceClassExternalName: cloudkarafka, updateRequests: -1}`,
			"spec.updateRequests: Invalid value: -1", instance + `  {clusterServiceClassExternalName: cloudkarafka, updateRequests: 1}`},
		{"binding without instanceRef", binding + `  {secretName: s}`,
			"spec.instanceRef: Required value", binding + `  {secretName: s, instanceRef: {name: i}}`},
		{"binding transform with two kinds", binding + `
  instanceRef: {name: i}
  secretTransforms: [{renameKey: {from: a, to: b}, removeKey: {key: c}}]`,
			"each secretTransforms entry must set exactly one of renameKey, addKey, addKeysFrom or removeKey", binding + `
  instanceRef: {name: i}
  secretTransforms: [{renameKey: {from: a, to: b}}, {removeKey: {key: c}}]`},
		{"binding empty transform", binding + `
  instanceRef: {name: i}
  secretTransforms: [{}]`,
			"each secretTransforms entry must set exactly one of renameKey, addKey, addKeysFrom or removeKey", binding + `
  instanceRef: {name: i}
  secretTransforms: [{addKeysFrom: {secretRef: {namespace: other, name: s}}}]`},
		{"binding addKey with two values", binding + `
  instanceRef: {name: i}
  secretTransforms: [{addKey: {key: k, value: "dg==", stringValue: v}}]`,
			"addKey must set exactly one of value, stringValue or jsonPathExpression", binding + `
  instanceRef: {name: i}
  secretTransforms: [{addKey: {key: k, jsonPathExpression: "{.host}:{.port}"}}]`},
		{"binding addKey without value", binding + `
  instanceRef: {name: i}
  secretTransforms: [{addKey: {key: k}}]`,
			"addKey must set exactly one of value, stringValue or jsonPathExpression", binding + `
  instanceRef: {name: i}
  secretTransforms: [{addKey: {key: k, value: "dg=="}}]`},
		{"binding addKeysFrom without secretRef", binding + `
  instanceRef: {name: i}
  secretTransforms: [{addKeysFrom: {}}]`,
			"addKeysFrom needs a secretRef", binding + `
  instanceRef: {name: i}
  secretTransforms: [{addKeysFrom: {secretRef: {name: s}}}]`},
		{"binding renameKey from empty", binding + `
  instanceRef: {name: i}
  secretTransforms: [{renameKey: {from: "", to: b}}]`,
			"spec.secretTransforms[0].renameKey.from: Invalid value", binding + `
  instanceRef: {name: i}
  secretTransforms: [{renameKey: {from: a, to: b}}]`},
	}
	if len(cases) < 20 {
		t.Fatalf("the table must cover at least 20 rules, has %d", len(cases))
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
			if err := createAndClean(t, env.Client, object(t, tc.valid, ns)); err != nil {
				t.Fatalf("the API server rejected the valid twin:\n%s\n%v", tc.valid, err)
			}
		})
	}
}
