package svcatcmd_test

import (
	"context"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/svcat-io/svcat/internal/localcluster"
)

// TestInstancesWithoutCatalogAccess: a user who may read instances but not
// classes and plans still gets the listing, named from the instances'
// status, and the same table as an administrator.
func TestInstancesWithoutCatalogAccess(t *testing.T) {
	env := localcluster.Get(t)
	seedCatalog(t, env)
	ctx := context.Background()
	role := &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "instance-reader"},
		Rules: []rbacv1.PolicyRule{{APIGroups: []string{"servicecatalog.k8s.io"}, Resources: []string{"serviceinstances", "servicebindings"}, Verbs: []string{"get", "list"}}}}
	binding := &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "instance-reader"},
		RoleRef:  rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "Role", Name: "instance-reader"},
		Subjects: []rbacv1.Subject{{APIGroup: "rbac.authorization.k8s.io", Kind: "User", Name: "reader"}}}
	if err := env.Client.Create(ctx, role); err != nil {
		t.Fatal(err)
	}
	if err := env.Client.Create(ctx, binding); err != nil {
		t.Fatal(err)
	}
	r := svcat(t, env, "", "--as", "reader", "-n", "default", "get", "instances")
	mustSucceed(t, r)
	golden(t, "get-instances", r.stdout)
	r = svcat(t, env, "", "--as", "reader", "-n", "default", "describe", "instance", "demo-kafka")
	mustSucceed(t, r)
	golden(t, "describe-instance", r.stdout)

	// Browsing the catalog is what this user may not do, and is told so.
	r = svcat(t, env, "", "--as", "reader", "-n", "default", "marketplace")
	if r.code != 1 {
		t.Errorf("marketplace: exit %d, want 1", r.code)
	}
	golden(t, "error-forbidden-classes", r.stderr)
}
