package packaging

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/svcat-io/svcat/internal/localcluster"
)

const fieldOwner = client.FieldOwner("svcat-packaging-test")

// applyAll server-side applies every object, in the order Helm and kubectl
// would need (CRDs and namespaces first), and reads each one back. An
// object the API server rejects (schema, CEL rules, admission) fails the
// test with the server's message.
func applyAll(t *testing.T, env *localcluster.Env, objs []*unstructured.Unstructured) {
	t.Helper()
	first := func(u *unstructured.Unstructured) bool {
		return u.GetKind() == "CustomResourceDefinition" || u.GetKind() == "Namespace"
	}
	var ordered []*unstructured.Unstructured
	for _, u := range objs {
		if first(u) {
			ordered = append(ordered, u)
		}
	}
	for _, u := range objs {
		if !first(u) {
			ordered = append(ordered, u)
		}
	}
	for _, u := range ordered {
		u := u.DeepCopy()
		if err := env.Client.Apply(ctx, client.ApplyConfigurationFromUnstructured(u), fieldOwner, client.ForceOwnership); err != nil {
			t.Errorf("API server rejected %s: %v", objKey(u), err)
			continue
		}
		got := &unstructured.Unstructured{}
		got.SetGroupVersionKind(u.GroupVersionKind())
		if err := env.Client.Get(ctx, client.ObjectKeyFromObject(u), got); err != nil {
			t.Errorf("reading back %s: %v", objKey(u), err)
		}
	}
}

// cleanupClusterScoped deletes what a test applied outside its namespaces
// (ClusterRoles, bindings, brokers), so later tests start clean. CRDs stay:
// localcluster installed them for the whole package.
func cleanupClusterScoped(t *testing.T, env *localcluster.Env, objs []*unstructured.Unstructured) {
	t.Cleanup(func() {
		for _, u := range objs {
			if u.GetNamespace() != "" || u.GetKind() == "CustomResourceDefinition" || u.GetKind() == "Namespace" {
				continue
			}
			if err := env.Client.Delete(ctx, u.DeepCopy()); err != nil && !apierrors.IsNotFound(err) {
				t.Logf("cleanup %s: %v", objKey(u), err)
			}
		}
	})
}

// restrictedNamespace makes a namespace whose Pod Security admission
// enforces the restricted standard, like a hardened cluster's.
func restrictedNamespace(t *testing.T, env *localcluster.Env, prefix string) string {
	t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{
		GenerateName: prefix + "-",
		Labels: map[string]string{
			"pod-security.kubernetes.io/enforce":         "restricted",
			"pod-security.kubernetes.io/enforce-version": "latest",
		},
	}}
	if err := env.Client.Create(ctx, ns); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = env.Client.Delete(ctx, ns) })
	return ns.Name
}

// admitPods asks the API server to admit a Pod made from each Deployment's
// template (dry run: nothing is stored, but admission, including Pod
// Security, runs; envtest turns the ServiceAccount plugin off). No kube-controller-manager
// runs here, so this is how a Deployment's pods are judged.
func admitPods(t *testing.T, env *localcluster.Env, objs []*unstructured.Unstructured) {
	t.Helper()
	for _, u := range ofKind(objs, "Deployment") {
		d := deploymentOf(t, u)
		pod := &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{GenerateName: d.Name + "-", Namespace: d.Namespace, Labels: d.Spec.Template.Labels},
			Spec:       d.Spec.Template.Spec,
		}
		if err := env.Client.Create(ctx, pod, client.DryRunAll); err != nil {
			t.Errorf("a pod of %s is not admitted: %v", d.Name, err)
		}
	}
}

// TestPodSecurityIsEnforced is the control for admitPods: if the test API
// server did not run Pod Security admission, admitPods would pass anything.
func TestPodSecurityIsEnforced(t *testing.T) {
	env := localcluster.Get(t)
	ns := restrictedNamespace(t, env, "psa-control")
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "root", Namespace: ns},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "busybox"}}},
	}
	err := env.Client.Create(ctx, pod, client.DryRunAll)
	if err == nil || !strings.Contains(err.Error(), "violates PodSecurity") {
		t.Fatalf("a pod with no securityContext in a restricted namespace: %v, want a PodSecurity rejection", err)
	}
}

// installServiceMonitorCRD stands in for the Prometheus Operator's CRD so
// the API server can accept a ServiceMonitor. It keeps unknown fields, so
// it checks the object's group, version and kind, not the operator's schema
// (TestChartProbesAndMetricsWiring checks the fields that matter).
func installServiceMonitorCRD(t *testing.T, env *localcluster.Env) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "servicemonitor-crd.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	objs, err := decodeManifests(string(b))
	if err != nil {
		t.Fatal(err)
	}
	applyAll(t, env, objs)
	waitEstablished(t, env, objs[0].GetName())
}

func TestChartApply(t *testing.T) {
	env := localcluster.Get(t)
	installServiceMonitorCRD(t, env)
	cases := []struct {
		name, release string
		values        func(leaseNS string) map[string]any
		wantKinds     []string
	}{
		{"defaults", "svcat-defaults", func(string) map[string]any { return nil },
			[]string{"CustomResourceDefinition", "ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding", "Deployment", "Service", "PodDisruptionBudget"}},
		{"all values", "svcat-all", func(ns string) map[string]any { return allValues(t, ns) },
			[]string{"ServiceMonitor", "Secret", "ConfigMap", "ClusterServiceBroker"}},
		{"embedded broker", "svcat-embedded", func(string) map[string]any { return embeddedValues(t) },
			[]string{"PersistentVolumeClaim", "Secret", "ClusterServiceBroker"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ns := restrictedNamespace(t, env, c.release)
			leaseNS := restrictedNamespace(t, env, c.release+"-leases")
			objs := renderChart(t, c.release, ns, c.values(leaseNS))
			kinds := map[string]bool{}
			for _, u := range objs {
				kinds[u.GetKind()] = true
			}
			for _, k := range c.wantKinds {
				if !kinds[k] {
					t.Errorf("no %s rendered", k)
				}
			}
			cleanupClusterScoped(t, env, objs)
			applyAll(t, env, objs)
			admitPods(t, env, objs)
		})
	}
}

func waitEstablished(t *testing.T, env *localcluster.Env, name string) {
	t.Helper()
	for i := 0; i < 100; i++ {
		u := &unstructured.Unstructured{}
		u.SetAPIVersion("apiextensions.k8s.io/v1")
		u.SetKind("CustomResourceDefinition")
		if err := env.Client.Get(ctx, client.ObjectKey{Name: name}, u); err == nil {
			conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
			for _, c := range conds {
				m := c.(map[string]any)
				if m["type"] == "Established" && m["status"] == "True" {
					return
				}
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("CRD %s not established", name)
}
