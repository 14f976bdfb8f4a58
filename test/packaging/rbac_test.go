package packaging

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/yaml"
)

// generatedRules reads config/rbac/role.yaml, which controller-gen writes
// from the controller's kubebuilder markers: what the controller needs.
func generatedRules(t testing.TB) []rbacv1.PolicyRule {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot(t), "config", "rbac", "role.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var role rbacv1.ClusterRole
	if err := yaml.UnmarshalStrict(b, &role); err != nil {
		t.Fatal(err)
	}
	if len(role.Rules) == 0 {
		t.Fatal("config/rbac/role.yaml has no rules")
	}
	return role.Rules
}

// permissions expands rules into one string per (group, resource, verb,
// resourceName): two rule lists grant the same access exactly when these
// sets are equal, however the rules are grouped.
func permissions(rules []rbacv1.PolicyRule) map[string]bool {
	set := map[string]bool{}
	for _, r := range rules {
		names := r.ResourceNames
		if len(names) == 0 {
			names = []string{"*any*"}
		}
		for _, g := range r.APIGroups {
			for _, res := range r.Resources {
				for _, v := range r.Verbs {
					for _, n := range names {
						set[g+"|"+res+"|"+v+"|"+n] = true
					}
				}
			}
		}
		for _, u := range r.NonResourceURLs {
			for _, v := range r.Verbs {
				set["nonResource|"+u+"|"+v] = true
			}
		}
	}
	return set
}

func diffSets(t testing.TB, what string, got, want map[string]bool) {
	t.Helper()
	var extra, missing []string
	for k := range got {
		if !want[k] {
			extra = append(extra, k)
		}
	}
	for k := range want {
		if !got[k] {
			missing = append(missing, k)
		}
	}
	sort.Strings(extra)
	sort.Strings(missing)
	if len(extra) > 0 || len(missing) > 0 {
		t.Errorf("%s differs from config/rbac/role.yaml:\n  granted but not generated: %v\n  generated but not granted: %v", what, extra, missing)
	}
}

func toTyped(t testing.TB, u *unstructured.Unstructured, into any) {
	t.Helper()
	if err := runtime.DefaultUnstructuredConverter.FromUnstructuredWithValidation(u.Object, into, true); err != nil {
		t.Fatalf("%s: %v", objKey(u), err)
	}
}

// rbacOf gathers what a rendered set of objects grants a ServiceAccount,
// following the bindings rather than trusting object names.
type grants struct {
	cluster    []rbacv1.PolicyRule
	namespaced map[string][]rbacv1.PolicyRule // by namespace
}

func rbacOf(t testing.TB, objs []*unstructured.Unstructured, saNamespace, saName string) grants {
	t.Helper()
	clusterRoles := map[string]rbacv1.ClusterRole{}
	roles := map[string]rbacv1.Role{}
	for _, u := range ofKind(objs, "ClusterRole") {
		var r rbacv1.ClusterRole
		toTyped(t, u, &r)
		clusterRoles[r.Name] = r
	}
	for _, u := range ofKind(objs, "Role") {
		var r rbacv1.Role
		toTyped(t, u, &r)
		roles[r.Namespace+"/"+r.Name] = r
	}
	bound := func(subjects []rbacv1.Subject) bool {
		for _, s := range subjects {
			if s.Kind == "ServiceAccount" && s.Name == saName && s.Namespace == saNamespace {
				return true
			}
		}
		return false
	}
	g := grants{namespaced: map[string][]rbacv1.PolicyRule{}}
	for _, u := range ofKind(objs, "ClusterRoleBinding") {
		var b rbacv1.ClusterRoleBinding
		toTyped(t, u, &b)
		if !bound(b.Subjects) {
			continue
		}
		r, ok := clusterRoles[b.RoleRef.Name]
		if b.RoleRef.Kind != "ClusterRole" || !ok {
			t.Fatalf("ClusterRoleBinding %s refers to %s %s, which is not rendered", b.Name, b.RoleRef.Kind, b.RoleRef.Name)
		}
		g.cluster = append(g.cluster, r.Rules...)
	}
	for _, u := range ofKind(objs, "RoleBinding") {
		var b rbacv1.RoleBinding
		toTyped(t, u, &b)
		if !bound(b.Subjects) {
			continue
		}
		switch b.RoleRef.Kind {
		case "Role":
			r, ok := roles[b.Namespace+"/"+b.RoleRef.Name]
			if !ok {
				t.Fatalf("RoleBinding %s/%s refers to Role %s, which is not rendered in its namespace", b.Namespace, b.Name, b.RoleRef.Name)
			}
			g.namespaced[b.Namespace] = append(g.namespaced[b.Namespace], r.Rules...)
		case "ClusterRole":
			r, ok := clusterRoles[b.RoleRef.Name]
			if !ok {
				t.Fatalf("RoleBinding %s/%s refers to ClusterRole %s, which is not rendered", b.Namespace, b.Name, b.RoleRef.Name)
			}
			g.namespaced[b.Namespace] = append(g.namespaced[b.Namespace], r.Rules...)
		}
	}
	return g
}

// checkControllerRBAC asserts that the controller's ServiceAccount is
// granted exactly the generated rules: everything but Leases cluster-wide,
// and Leases (only used for leader election) only in the lease namespace.
func checkControllerRBAC(t *testing.T, objs []*unstructured.Unstructured, saNamespace, saName, leaseNamespace string) {
	t.Helper()
	g := rbacOf(t, objs, saNamespace, saName)
	var all []rbacv1.PolicyRule
	all = append(all, g.cluster...)
	for ns, rules := range g.namespaced {
		if ns != leaseNamespace {
			t.Errorf("rules granted in namespace %s, want only the lease namespace %s", ns, leaseNamespace)
		}
		for _, r := range rules {
			if strings.Join(r.APIGroups, ",") != "coordination.k8s.io" || strings.Join(r.Resources, ",") != "leases" {
				t.Errorf("namespaced rule %+v is not the Lease rule", r)
			}
		}
		all = append(all, rules...)
	}
	if len(g.namespaced[leaseNamespace]) == 0 {
		t.Errorf("no Lease rule in the lease namespace %s", leaseNamespace)
	}
	for _, r := range g.cluster {
		for _, res := range r.Resources {
			if res == "leases" {
				t.Errorf("Leases granted cluster-wide: %+v", r)
			}
		}
	}
	diffSets(t, "the union of the ClusterRole and the lease Role", permissions(all), permissions(generatedRules(t)))
}

func TestChartRBACIsTheGeneratedRBAC(t *testing.T) {
	t.Run("defaults", func(t *testing.T) {
		objs := renderChart(t, "svcat", "svcat-system", nil)
		checkControllerRBAC(t, objs, "svcat-system", "svcat-catalog-controller", "svcat-system")
	})
	t.Run("all values", func(t *testing.T) {
		objs := renderChart(t, "prod", "catalog", allValues(t, "leases"))
		checkControllerRBAC(t, objs, "catalog", "svcat-controller-sa", "leases")
	})
	t.Run("existing ServiceAccount", func(t *testing.T) {
		objs := renderChart(t, "svcat", "svcat-system", values(t, "controller: {serviceAccount: {create: false, name: byo}}"))
		if len(ofKind(objs, "ServiceAccount")) != 0 {
			t.Error("a ServiceAccount is rendered with controller.serviceAccount.create=false")
		}
		checkControllerRBAC(t, objs, "svcat-system", "byo", "svcat-system")
	})
}

// The chart's files/role.yaml is a copy (make chart-sync); the template
// reads rules from it, so a stale copy would silently grant old rules.
func TestChartCopiesAreCurrent(t *testing.T) {
	root := repoRoot(t)
	same := func(a, b string) {
		t.Helper()
		x, err := os.ReadFile(filepath.Join(root, a))
		if err != nil {
			t.Fatal(err)
		}
		y, err := os.ReadFile(filepath.Join(root, b))
		if err != nil {
			t.Fatal(err)
		}
		if string(x) != string(y) {
			t.Errorf("%s differs from %s: run 'make chart-sync'", b, a)
		}
	}
	same("config/rbac/role.yaml", "charts/svcat/files/role.yaml")

	policies, err := filepath.Glob(filepath.Join(root, "config", "admission", "*.yaml"))
	if err != nil || len(policies) < 2 {
		t.Fatalf("no admission policies in config/admission: %v", err)
	}
	n := 0
	for _, p := range policies {
		if filepath.Base(p) == "kustomization.yaml" {
			continue
		}
		n++
		same(filepath.Join("config", "admission", filepath.Base(p)), filepath.Join("charts", "svcat", "files", "admission", filepath.Base(p)))
	}
	if copies, _ := filepath.Glob(filepath.Join(root, "charts", "svcat", "files", "admission", "*.yaml")); len(copies) != n {
		t.Errorf("charts/svcat/files/admission has %d files, config/admission %d: run 'make chart-sync'", len(copies), n)
	}

	gen, err := filepath.Glob(filepath.Join(root, "config", "crd", "bases", "*.yaml"))
	if err != nil || len(gen) == 0 {
		t.Fatalf("no generated CRDs: %v", err)
	}
	copies, _ := filepath.Glob(filepath.Join(root, "charts", "svcat", "crds", "*.yaml"))
	if len(copies) != len(gen) {
		t.Errorf("charts/svcat/crds has %d files, config/crd/bases %d: run 'make chart-sync'", len(copies), len(gen))
	}
	for _, g := range gen {
		same(filepath.Join("config", "crd", "bases", filepath.Base(g)), filepath.Join("charts", "svcat", "crds", filepath.Base(g)))
	}
}
