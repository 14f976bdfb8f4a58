package tenancy

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"

	"github.com/svcat-io/svcat/internal/localcluster"
)

// controllerNamespace is where the chart and the kustomize tree install the
// controller (config/default's namespace).
const controllerNamespace = "svcat-system"

// manifestDirs are applied once per run, in order: the controller's RBAC
// exactly as kustomize builds it, then whatever admission policies the tree
// ships (MutatingAdmissionPolicy for spec.userInfo, ...), if any.
var manifestDirs = []string{"config/rbac", "config/admission"}

// notManifests are config/ directories the suite installs otherwise (CRDs
// by localcluster, the controller as a process) or not at all.
var notManifests = map[string]bool{"crd": true, "default": true, "manager": true, "samples": true, "rbac": true, "admission": true}

// isAdmissionPolicy says which objects of other config/ directories are
// applied too, wherever the tree puts them.
func isAdmissionPolicy(kind string) bool {
	return strings.HasSuffix(kind, "AdmissionPolicy") || strings.HasSuffix(kind, "AdmissionPolicyBinding")
}

// cluster is what the suite sets up once per run.
type cluster struct {
	env  *localcluster.Env
	root string
	// applied lists "Kind/name" of everything applied from manifestDirs.
	applied []string
	// admissionPolicies is true when a MutatingAdmissionPolicy was applied.
	admissionPolicies bool
	// serviceAccount is the controller's ServiceAccount name, from the
	// RBAC manifests.
	serviceAccount string
	// manager is config/manager/manager.yaml's controller container.
	manager corev1.Container
}

var (
	setupOnce sync.Once
	shared    *cluster
	setupErr  error
)

// setup returns the suite's cluster, set up on first use.
func setup(t *testing.T) *cluster {
	t.Helper()
	env := localcluster.Get(t)
	setupOnce.Do(func() {
		shared, setupErr = newCluster(env)
	})
	if setupErr != nil {
		t.Fatalf("setting up the tenant suite: %v", setupErr)
	}
	return shared
}

func newCluster(env *localcluster.Env) (*cluster, error) {
	root, err := repoRoot()
	if err != nil {
		return nil, err
	}
	c := &cluster{env: env, root: root}
	ctx := context.Background()
	if err := env.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: controllerNamespace}}); err != nil && !apierrors.IsAlreadyExists(err) {
		return nil, err
	}
	for _, dir := range manifestDirs {
		objs, err := loadManifests(filepath.Join(root, dir))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", dir, err)
		}
		for _, o := range objs {
			if err := c.apply(ctx, o); err != nil {
				return nil, fmt.Errorf("%s: applying %s %s: %w", dir, o.GetKind(), o.GetName(), err)
			}
		}
	}
	others, err := os.ReadDir(filepath.Join(root, "config"))
	if err != nil {
		return nil, err
	}
	for _, d := range others {
		if !d.IsDir() || notManifests[d.Name()] {
			continue
		}
		objs, err := loadManifests(filepath.Join(root, "config", d.Name()))
		if err != nil {
			return nil, fmt.Errorf("config/%s: %w", d.Name(), err)
		}
		for _, o := range objs {
			if !isAdmissionPolicy(o.GetKind()) {
				continue
			}
			if err := c.apply(ctx, o); err != nil {
				return nil, fmt.Errorf("config/%s: applying %s %s: %w", d.Name(), o.GetKind(), o.GetName(), err)
			}
		}
	}
	if c.serviceAccount == "" {
		return nil, fmt.Errorf("no ServiceAccount in %v", manifestDirs)
	}
	if c.admissionPolicies {
		if err := waitMutatingPolicies(ctx, env); err != nil {
			return nil, err
		}
	}
	if c.manager, err = managerContainer(root); err != nil {
		return nil, err
	}
	fmt.Printf("tenant suite: applied %s\n", strings.Join(c.applied, ", "))
	return c, nil
}

// apply creates o as kustomize with config/default would install it: in
// the controller's namespace when it is namespaced and has none, and with
// ServiceAccount subjects in that namespace.
func (c *cluster) apply(ctx context.Context, o *unstructured.Unstructured) error {
	switch o.GetKind() {
	case "ServiceAccount", "Role", "RoleBinding":
		if o.GetNamespace() == "" {
			o.SetNamespace(controllerNamespace)
		}
	}
	if o.GetKind() == "ServiceAccount" {
		c.serviceAccount = o.GetName()
	}
	if o.GetKind() == "MutatingAdmissionPolicy" {
		c.admissionPolicies = true
	}
	if subjects, ok, _ := unstructured.NestedSlice(o.Object, "subjects"); ok {
		for _, s := range subjects {
			if m, ok := s.(map[string]any); ok && m["kind"] == "ServiceAccount" {
				m["namespace"] = controllerNamespace
			}
		}
		if err := unstructured.SetNestedSlice(o.Object, subjects, "subjects"); err != nil {
			return err
		}
	}
	c.applied = append(c.applied, o.GetKind()+"/"+o.GetName())
	err := c.env.Client.Create(ctx, o)
	if apierrors.IsAlreadyExists(err) {
		return nil
	}
	return err
}

// loadManifests reads a directory the way it is installed: kustomize build
// when it has a kustomization.yaml (config/rbac's patch moves the Lease rule
// out of the ClusterRole), every YAML document otherwise. A missing
// directory is empty.
func loadManifests(dir string) ([]*unstructured.Unstructured, error) {
	if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if _, err := os.Stat(filepath.Join(dir, "kustomization.yaml")); err == nil {
		k := krusty.MakeKustomizer(krusty.MakeDefaultOptions())
		res, err := k.Run(filesys.MakeFsOnDisk(), dir)
		if err != nil {
			return nil, fmt.Errorf("kustomize build: %w", err)
		}
		out, err := res.AsYaml()
		if err != nil {
			return nil, err
		}
		return decodeYAML(out)
	}
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil {
		return nil, err
	}
	var objs []*unstructured.Unstructured
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		o, err := decodeYAML(b)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		objs = append(objs, o...)
	}
	return objs, nil
}

func decodeYAML(b []byte) ([]*unstructured.Unstructured, error) {
	var objs []*unstructured.Unstructured
	d := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(b), 4096)
	for {
		u := &unstructured.Unstructured{}
		if err := d.Decode(&u.Object); err != nil {
			if errors.Is(err, io.EOF) {
				return objs, nil
			}
			return nil, err
		}
		if len(u.Object) == 0 || u.GetKind() == "Kustomization" {
			continue
		}
		objs = append(objs, u)
	}
}

// managerContainer reads the controller container of the kustomize tree's
// Deployment, whose arguments are the chart's (test/packaging checks that).
func managerContainer(root string) (corev1.Container, error) {
	b, err := os.ReadFile(filepath.Join(root, "config", "manager", "manager.yaml"))
	if err != nil {
		return corev1.Container{}, err
	}
	objs, err := decodeYAML(b)
	if err != nil {
		return corev1.Container{}, err
	}
	for _, o := range objs {
		if o.GetKind() != "Deployment" {
			continue
		}
		raw, err := yaml.Marshal(o.Object)
		if err != nil {
			return corev1.Container{}, err
		}
		var d struct {
			Spec struct {
				Template struct {
					Spec corev1.PodSpec `json:"spec"`
				} `json:"template"`
			} `json:"spec"`
		}
		if err := yaml.Unmarshal(raw, &d); err != nil {
			return corev1.Container{}, err
		}
		for _, c := range d.Spec.Template.Spec.Containers {
			if c.Name == "catalog-controller" {
				return c, nil
			}
		}
	}
	return corev1.Container{}, errors.New("config/manager/manager.yaml: no catalog-controller container")
}

// memoryLimit is the controller container's memory limit in bytes.
func (c *cluster) memoryLimit() int64 {
	return c.manager.Resources.Limits.Memory().Value()
}

func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "config", "rbac")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("cannot find the repository root (with config/rbac)")
		}
		dir = parent
	}
}

// tenant is a namespace user: full rights on the catalog's objects and on
// Secrets in their own namespace, nothing else (no cluster role at all).
type tenant struct {
	name string
	ns   string
	cfg  *rest.Config
	c    client.Client
}

// newTenant creates a namespace and its user. Everything the tenant
// created is removed when the test ends (see cleanupNamespace).
func (c *cluster) newTenant(t *testing.T, name string) *tenant {
	t.Helper()
	ctx := context.Background()
	ns := c.env.Namespace(t)
	t.Cleanup(func() { cleanupNamespace(t, c.env.Client, ns) })
	user := "tenant-" + name + "-" + ns
	must(t, c.env.Client.Create(ctx, &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "tenant"}, Rules: []rbacv1.PolicyRule{
		{APIGroups: []string{"servicecatalog.k8s.io"}, Resources: []string{"*"}, Verbs: []string{"*"}},
		{APIGroups: []string{""}, Resources: []string{"secrets"}, Verbs: []string{"*"}},
		{APIGroups: []string{""}, Resources: []string{"events"}, Verbs: []string{"get", "list", "watch"}},
	}}))
	must(t, c.env.Client.Create(ctx, &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "tenant"},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: "tenant"},
		Subjects: []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: user}}}))
	cfg, err := c.env.User(user)
	if err != nil {
		t.Fatal(err)
	}
	cl, err := client.New(cfg, client.Options{Scheme: c.env.Scheme})
	if err != nil {
		t.Fatal(err)
	}
	return &tenant{name: user, ns: ns, cfg: cfg, c: cl}
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// waitMutatingPolicies waits until the API server can apply the mutating
// policies to every catalog kind: until it has loaded a CRD's schema for
// them it answers a write of that kind 503 ("Resource kind ... not found"),
// for a few seconds after the CRDs and policies are created.
func waitMutatingPolicies(ctx context.Context, env *localcluster.Env) error {
	const group = "servicecatalog.k8s.io/v1beta1"
	probes := []map[string]any{
		{"kind": "ClusterServiceBroker", "metadata": map[string]any{"name": "policy-probe"}, "spec": map[string]any{"url": "https://probe.invalid"}},
		{"kind": "ServiceBroker", "spec": map[string]any{"url": "https://probe.invalid"}},
		{"kind": "ServiceInstance", "spec": map[string]any{"clusterServiceClassExternalName": "probe", "clusterServicePlanExternalName": "probe"}},
		{"kind": "ServiceBinding", "spec": map[string]any{"instanceRef": map[string]any{"name": "probe"}}},
		{"kind": "ClusterServiceClass", "metadata": map[string]any{"name": "policy-probe"}},
		{"kind": "ServiceClass"},
		{"kind": "ClusterServicePlan", "metadata": map[string]any{"name": "policy-probe"}},
		{"kind": "ServicePlan"},
	}
	deadline := time.Now().Add(time.Minute)
	for _, p := range probes {
		p["apiVersion"] = group
		if _, ok := p["metadata"]; !ok {
			p["metadata"] = map[string]any{"name": "policy-probe", "namespace": controllerNamespace}
		}
		for {
			err := env.Client.Create(ctx, &unstructured.Unstructured{Object: p}, client.DryRunAll)
			if !apierrors.IsServiceUnavailable(err) {
				break // created, or refused for what it is: the policies ran
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("the mutating admission policies never applied to %s: %w", p["kind"], err)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	return nil
}
