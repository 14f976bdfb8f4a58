package packaging

import (
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/svcat-io/svcat/internal/localcluster"
)

func defaultKustomization(t testing.TB) []*unstructured.Unstructured {
	return renderKustomize(t, filepath.Join(repoRoot(t), "config", "default"))
}

// Every generated CRD is in the kustomize output, unchanged but for labels:
// config/crd/kustomization.yaml lists the files by hand.
func TestKustomizeCRDsAreGenerated(t *testing.T) {
	objs := defaultKustomization(t)
	got := map[string]*unstructured.Unstructured{}
	for _, u := range ofKind(objs, "CustomResourceDefinition") {
		got[u.GetName()] = u
	}
	files, err := filepath.Glob(filepath.Join(repoRoot(t), "config", "crd", "bases", "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no generated CRDs: %v", err)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var want map[string]any
		if err := yaml.Unmarshal(b, &want); err != nil {
			t.Fatal(err)
		}
		w := &unstructured.Unstructured{Object: want}
		g, ok := got[w.GetName()]
		if !ok {
			t.Errorf("%s is not in config/crd/kustomization.yaml", filepath.Base(f))
			continue
		}
		if !reflect.DeepEqual(g.Object["spec"], w.Object["spec"]) {
			t.Errorf("CRD %s differs from %s", w.GetName(), filepath.Base(f))
		}
		delete(got, w.GetName())
	}
	for name := range got {
		t.Errorf("CRD %s is not generated", name)
	}
}

func TestKustomizeRBACIsTheGeneratedRBAC(t *testing.T) {
	checkControllerRBAC(t, defaultKustomization(t), "svcat-system", "svcat-catalog-controller", "svcat-system")
}

// helmOnly are labels only one of the two renderings can carry: Helm's
// bookkeeping and the chart version.
var helmOnly = []string{"helm.sh/chart", "app.kubernetes.io/managed-by", "app.kubernetes.io/version"}

func comparable(u *unstructured.Unstructured) map[string]any {
	c := u.DeepCopy()
	labels := c.GetLabels()
	for _, k := range helmOnly {
		delete(labels, k)
	}
	if c.GetKind() == "CustomResourceDefinition" {
		// The chart installs crds/ as they are; kustomize labels them.
		labels = nil
	}
	c.SetLabels(labels)
	return c.Object
}

// config/default is the chart's default render for a release named svcat
// in svcat-system, object for object, plus the Namespace.
func TestKustomizeMatchesTheChart(t *testing.T) {
	k := map[string]*unstructured.Unstructured{}
	for _, u := range defaultKustomization(t) {
		k[objKey(u)] = u
	}
	h := map[string]*unstructured.Unstructured{}
	for _, u := range renderChart(t, "svcat", "svcat-system", nil) {
		h[objKey(u)] = u
	}
	var keys []string
	for key := range k {
		keys = append(keys, key)
	}
	sort.Strings(keys)
	for _, key := range keys {
		if key == "Namespace//svcat-system" {
			continue
		}
		hu, ok := h[key]
		if !ok {
			t.Errorf("kustomize renders %s, the chart does not", key)
			continue
		}
		if diff := cmp.Diff(comparable(hu), comparable(k[key])); diff != "" {
			t.Errorf("%s differs (-chart +kustomize):\n%s", key, diff)
		}
		delete(h, key)
	}
	for key := range h {
		t.Errorf("the chart renders %s, kustomize does not", key)
	}
	if _, ok := k["Namespace//svcat-system"]; !ok {
		t.Error("no svcat-system Namespace")
	}
}

func TestKustomizeApply(t *testing.T) {
	env := localcluster.Get(t)
	objs := defaultKustomization(t)
	cleanupClusterScoped(t, env, objs)
	t.Cleanup(func() {
		for _, u := range ofKind(objs, "Namespace") {
			_ = env.Client.Delete(ctx, u.DeepCopy())
		}
	})
	applyAll(t, env, objs)
	// svcat-system enforces the restricted Pod Security Standard.
	admitPods(t, env, objs)
	d := deployment(t, objs, "svcat-catalog-controller")
	checkRestricted(t, objs)
	opts, _, _ := parseControllerArgs(t, d.Spec.Template.Spec.Containers[0].Args)
	if !opts.LeaderElect {
		t.Error("no leader election")
	}
}
