package svcatcmd_test

import (
	"context"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/svcat-io/svcat/api/v1beta1"
	"github.com/svcat-io/svcat/internal/cli/svcatcmd"
	"github.com/svcat-io/svcat/internal/localcluster"
)

// tenantIn gives user the catalog's kinds and ConfigMaps (read) in ns
// only, as a namespace's edit role would.
func tenantIn(t *testing.T, env *localcluster.Env, ns, user string) {
	t.Helper()
	ctx := context.Background()
	for _, o := range []client.Object{
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}},
		&rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "tenant"}, Rules: []rbacv1.PolicyRule{
			{APIGroups: []string{"servicecatalog.k8s.io"}, Resources: []string{"*"}, Verbs: []string{"*"}},
			{APIGroups: []string{""}, Resources: []string{"configmaps", "secrets"}, Verbs: []string{"get", "list"}}}},
		&rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "tenant"},
			RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: "tenant"},
			Subjects: []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: "User", Name: user}}},
	} {
		if err := env.Client.Create(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
}

// TestShareCommands: the owner shares and unshares with share/unshare
// instance; the consumer, with no rights in the owner's namespace, binds
// with NAMESPACE/NAME, sees the instance in get instances marked as
// shared, and cannot change the owner's shares.
func TestShareCommands(t *testing.T) {
	env := localcluster.Get(t)
	seedCatalog(t, env)
	ctx := context.Background()
	const owner, consumer = "share-owner", "share-consumer"
	tenantIn(t, env, owner, "olga")
	tenantIn(t, env, consumer, "bea")
	if _, err := createInstance(ctx, env.Client, owner, "kafka", "5d3f0a1e-7c2b-4e8a-9f10-2a3b4c5d6e70", nil); err != nil {
		t.Fatal(err)
	}
	shares := func() string {
		in := &v1beta1.ServiceInstance{}
		if err := env.Client.Get(ctx, client.ObjectKey{Namespace: owner, Name: "kafka"}, in); err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, s := range in.Spec.SharedWith {
			out = append(out, s.Namespace)
		}
		return strings.Join(out, ",")
	}

	r := svcat(t, env, "", "--as", "olga", "-n", owner, "share", "instance", "kafka", "--with", consumer, "--with", "reports")
	mustSucceed(t, r)
	if got := shares(); got != consumer+",reports" {
		t.Fatalf("spec.sharedWith %q after share", got)
	}
	if !strings.Contains(r.stdout, "svcat bind "+owner+"/kafka") {
		t.Errorf("share does not say how to bind: %s", r.stdout)
	}
	mustSucceed(t, svcat(t, env, "", "--as", "olga", "-n", owner, "share", "instance", "kafka", "--with", consumer))
	if got := shares(); got != consumer+",reports" {
		t.Fatalf("spec.sharedWith %q after sharing again", got)
	}
	r = svcat(t, env, "", "--as", "olga", "-n", owner, "unshare", "instance", "kafka", "--from", "reports")
	mustSucceed(t, r)
	if got := shares(); got != consumer {
		t.Fatalf("spec.sharedWith %q after unshare", got)
	}
	if !strings.Contains(r.stdout, "unbound") {
		t.Errorf("unshare does not say what happens to the bindings: %s", r.stdout)
	}

	for _, tt := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"own namespace", []string{"--as", "olga", "-n", owner, "share", "instance", "kafka", "--with", owner}, svcatcmd.ExitUsage,
			`--with "share-owner" is the instance's own namespace`},
		{"not a namespace name", []string{"--as", "olga", "-n", owner, "share", "instance", "kafka", "--with", "Team_B"}, svcatcmd.ExitUsage,
			`--with "Team_B" is not a namespace name`},
		{"no namespace", []string{"--as", "olga", "-n", owner, "unshare", "instance", "kafka"}, svcatcmd.ExitUsage,
			"give at least one namespace with --from"},
		{"the consumer edits the owner's shares", []string{"--as", "bea", "-n", owner, "share", "instance", "kafka", "--with", "share-other"}, svcatcmd.ExitError,
			"permission denied: you may not get serviceinstances.servicecatalog.k8s.io in namespace \"share-owner\""},
		{"two namespaces for the instance", []string{"--as", "bea", "-n", consumer, "bind", owner + "/kafka", "--instance-namespace", "x"}, svcatcmd.ExitUsage,
			"give one"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := svcat(t, env, "", tt.args...)
			if r.code != tt.code || !strings.Contains(strings.ToLower(r.stderr), strings.ToLower(tt.want)) {
				t.Errorf("exit %d, stderr %q; want exit %d and %q", r.code, r.stderr, tt.code, tt.want)
			}
		})
	}
	if got := shares(); got != consumer {
		t.Fatalf("spec.sharedWith %q after the refused commands", got)
	}

	// The consumer binds without any right in the owner's namespace.
	mustSucceed(t, svcat(t, env, "", "--as", "bea", "-n", consumer, "bind", owner+"/kafka", "--name", "orders"))
	mustSucceed(t, svcat(t, env, "", "--as", "bea", "-n", consumer, "bind", "kafka", "--instance-namespace", owner, "--name", "orders-2"))
	for _, name := range []string{"orders", "orders-2"} {
		b := &v1beta1.ServiceBinding{}
		if err := env.Client.Get(ctx, client.ObjectKey{Namespace: consumer, Name: name}, b); err != nil {
			t.Fatal(err)
		}
		if b.Spec.InstanceRef != (v1beta1.InstanceReference{Name: "kafka", Namespace: owner}) {
			t.Errorf("binding %s: instanceRef %+v", name, b.Spec.InstanceRef)
		}
	}
	r = svcat(t, env, "", "--as", "bea", "-n", consumer, "get", "bindings")
	mustSucceed(t, r)
	if !strings.Contains(r.stdout, owner+"/kafka") {
		t.Errorf("get bindings does not name the shared instance with its namespace:\n%s", r.stdout)
	}

	// get instances lists what the controller's marker says is shared.
	marker := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: consumer, Name: v1beta1.SharedMarkerObjectName(owner, "kafka"),
		Labels: map[string]string{v1beta1.LabelSharedInstance: "true"}},
		Data: map[string]string{"namespace": owner, "name": "kafka", "class": "ClusterServiceClass/cloudkarafka", "plan": "duck"}}
	if err := env.Client.Create(ctx, marker); err != nil {
		t.Fatal(err)
	}
	r = svcat(t, env, "", "--as", "bea", "-n", consumer, "get", "instances")
	mustSucceed(t, r)
	var row string
	for _, l := range strings.Split(r.stdout, "\n") {
		if strings.Contains(l, owner) {
			row = strings.Join(strings.Fields(l), " ")
		}
	}
	if row != "kafka "+owner+" cloudkarafka duck Shared with this namespace" {
		t.Errorf("get instances in the consumer's namespace:\n%s", r.stdout)
	}
	// Elsewhere, nothing of it.
	r = svcat(t, env, "", "--as", "olga", "-n", owner, "get", "instances")
	mustSucceed(t, r)
	if strings.Contains(r.stdout, "Shared with this namespace") {
		t.Errorf("the owner's namespace lists a shared instance:\n%s", r.stdout)
	}
	r = svcat(t, env, "", "--as", "olga", "-n", owner, "describe", "instance", "kafka")
	mustSucceed(t, r)
	if !strings.Contains(r.stdout, "Shared with:") || !strings.Contains(r.stdout, consumer) {
		t.Errorf("describe instance does not show the share:\n%s", r.stdout)
	}
}
