package v1beta1_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"sigs.k8s.io/yaml"

	"github.com/svcat-io/svcat/internal/localcluster"
)

func loadCRDs(t *testing.T) map[string]*apiextensionsv1.CustomResourceDefinition {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join("..", "..", "config", "crd", "bases", "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	crds := map[string]*apiextensionsv1.CustomResourceDefinition{}
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		crd := &apiextensionsv1.CustomResourceDefinition{}
		if err := yaml.UnmarshalStrict(data, crd); err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		crds[crd.Spec.Names.Kind] = crd
	}
	return crds
}

// The printer columns are v0.3's, so `kubectl get` prints what the seed
// shows; scope, categories and the approval annotation are what users and
// protected *.k8s.io groups expect.
func TestCRDsMatchV03(t *testing.T) {
	type col struct{ Name, Path string }
	want := map[string]struct {
		scope   apiextensionsv1.ResourceScope
		columns []col
	}{
		"ClusterServiceBroker": {"Cluster", []col{{"URL", ".spec.url"}, {"Status", ".status.lastConditionState"}, {"Age", ".metadata.creationTimestamp"}}},
		"ServiceBroker":        {"Namespaced", []col{{"URL", ".spec.url"}, {"Status", ".status.lastConditionState"}, {"Age", ".metadata.creationTimestamp"}}},
		"ClusterServiceClass":  {"Cluster", []col{{"External-Name", ".spec.externalName"}, {"Broker", ".spec.clusterServiceBrokerName"}, {"Age", ".metadata.creationTimestamp"}}},
		"ServiceClass":         {"Namespaced", []col{{"External-Name", ".spec.externalName"}, {"Broker", ".spec.serviceBrokerName"}, {"Age", ".metadata.creationTimestamp"}}},
		"ClusterServicePlan":   {"Cluster", []col{{"External-Name", ".spec.externalName"}, {"Broker", ".spec.clusterServiceBrokerName"}, {"Class", ".spec.clusterServiceClassRef.name"}, {"Age", ".metadata.creationTimestamp"}}},
		"ServicePlan":          {"Namespaced", []col{{"External-Name", ".spec.externalName"}, {"Broker", ".spec.serviceBrokerName"}, {"Class", ".spec.serviceClassRef.name"}, {"Age", ".metadata.creationTimestamp"}}},
		"ServiceInstance": {"Namespaced", []col{{"Class", ".status.userSpecifiedClassName"}, {"Plan", ".status.userSpecifiedPlanName"}, {"Status", ".status.lastConditionState"},
			// svcat's one addition, before Age as kubectl puts it: a user-provided
			// instance has no class or plan, and says so here.
			{"User-Provided", ".spec.userProvided.secretRef.name"}, {"Age", ".metadata.creationTimestamp"}}},
		"ServiceBinding": {"Namespaced", []col{{"Service-Instance", ".spec.instanceRef.name"}, {"Secret-Name", ".spec.secretName"}, {"Status", ".status.lastConditionState"}, {"Age", ".metadata.creationTimestamp"}}},
	}
	crds := loadCRDs(t)
	if len(crds) != len(want) {
		t.Fatalf("found %d CRDs, want %d", len(crds), len(want))
	}
	for kind, w := range want {
		crd, ok := crds[kind]
		if !ok {
			t.Errorf("no CRD for %s", kind)
			continue
		}
		if crd.Spec.Group != "servicecatalog.k8s.io" || crd.Spec.Scope != w.scope {
			t.Errorf("%s: group %s scope %s", kind, crd.Spec.Group, crd.Spec.Scope)
		}
		if !reflect.DeepEqual(crd.Spec.Names.Categories, []string{"all", "svcat"}) {
			t.Errorf("%s: categories %v, want [all svcat]", kind, crd.Spec.Names.Categories)
		}
		if a := crd.Annotations["api-approved.kubernetes.io"]; !strings.HasPrefix(a, "unapproved") {
			t.Errorf("%s: api-approved.kubernetes.io = %q, must start with 'unapproved' for a *.k8s.io group", kind, a)
		}
		if len(crd.Spec.Versions) != 1 || crd.Spec.Versions[0].Name != "v1beta1" || crd.Spec.Versions[0].Subresources == nil || crd.Spec.Versions[0].Subresources.Status == nil {
			t.Errorf("%s: want one served version v1beta1 with a status subresource", kind)
			continue
		}
		var got []col
		for _, c := range crd.Spec.Versions[0].AdditionalPrinterColumns {
			got = append(got, col{c.Name, c.JSONPath})
		}
		if !reflect.DeepEqual(got, w.columns) {
			t.Errorf("%s printer columns:\n got  %v\n want %v", kind, got, w.columns)
		}
	}
}

// kubectl explain teaches the API only if every field has a description.
func TestEveryFieldHasADescription(t *testing.T) {
	for kind, crd := range loadCRDs(t) {
		var walk func(path string, s apiextensionsv1.JSONSchemaProps)
		walk = func(path string, s apiextensionsv1.JSONSchemaProps) {
			for name, p := range s.Properties {
				child := path + "." + name
				if p.Description == "" && child != ".metadata" {
					t.Errorf("%s%s has no description", kind, child)
				}
				walk(child, p)
			}
			if s.Items != nil && s.Items.Schema != nil {
				walk(path+"[]", *s.Items.Schema)
			}
		}
		walk("", *crd.Spec.Versions[0].Schema.OpenAPIV3Schema)
	}
}

func TestKubectlExplain(t *testing.T) {
	env := localcluster.Get(t)
	kubectl, err := exec.LookPath("kubectl")
	if err != nil {
		t.Skip("kubectl is not installed")
	}
	// The API server publishes a new CRD's OpenAPI a moment after the CRD is
	// established, so the first explain right after start-up may miss it.
	var out []byte
	deadline := time.Now().Add(time.Minute)
	for {
		cmd := exec.Command(kubectl, "explain", "serviceinstance.spec.parametersFrom")
		cmd.Env = append(os.Environ(), "KUBECONFIG="+env.Kubeconfig)
		out, err = cmd.CombinedOutput()
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("kubectl explain: %v\n%s", err, out)
		}
		time.Sleep(500 * time.Millisecond)
	}
	for _, want := range []string{"servicecatalog.k8s.io", "ParametersFrom lists Secrets", "secretKeyRef"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("kubectl explain output lacks %q:\n%s", want, out)
		}
	}
}
