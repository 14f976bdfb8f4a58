package tenancy

import (
	"context"
	"fmt"
	"testing"

	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// The controller's own rights, asked as the controller: with its
// ServiceAccount's token, the API server says who it is and what it may do.
// What it must never be able to do is asserted: escalate (RBAC, tokens,
// impersonation), change the admission policies or CRDs that protect
// tenants, run code (pods, exec), delete what tenants own. (It may update
// every instance's spec, so a right to create instances, e.g. for a dry-run
// probe, would add nothing and is not asserted.)
// What the shipped RBAC grants on Secrets is logged as it is: the controller
// reads broker credentials and writes binding Secrets in any namespace, so
// it may get, list and watch every Secret of the cluster; docs/security.md
// says so and why.
func TestControllerServiceAccountRights(t *testing.T) {
	c := setup(t)
	ctx := context.Background()
	cs, err := kubernetes.NewForConfig(c.serviceAccountConfig(t))
	must(t, err)
	who, err := cs.AuthenticationV1().SelfSubjectReviews().Create(ctx, &authenticationv1.SelfSubjectReview{}, metav1.CreateOptions{})
	must(t, err)
	if got := who.Status.UserInfo.Username; got != c.controllerSubject() {
		t.Fatalf("the controller's token authenticates as %q, want %q", got, c.controllerSubject())
	}
	random := c.env.Namespace(t)
	can := func(verb, group, resource, sub, ns string) bool {
		t.Helper()
		r, err := cs.AuthorizationV1().SelfSubjectAccessReviews().Create(ctx, &authorizationv1.SelfSubjectAccessReview{Spec: authorizationv1.SelfSubjectAccessReviewSpec{
			ResourceAttributes: &authorizationv1.ResourceAttributes{Verb: verb, Group: group, Resource: resource, Subresource: sub, Namespace: ns}}}, metav1.CreateOptions{})
		must(t, err)
		return r.Status.Allowed
	}
	never := []struct{ verb, group, resource, sub, ns string }{
		{"create", "rbac.authorization.k8s.io", "clusterrolebindings", "", ""},
		{"create", "rbac.authorization.k8s.io", "rolebindings", "", random},
		{"escalate", "rbac.authorization.k8s.io", "clusterroles", "", ""},
		{"bind", "rbac.authorization.k8s.io", "clusterroles", "", ""},
		{"impersonate", "", "users", "", ""},
		{"impersonate", "", "serviceaccounts", "", random},
		{"create", "", "serviceaccounts", "token", random},
		{"create", "", "pods", "", random},
		{"create", "", "pods", "exec", random},
		{"get", "", "nodes", "proxy", ""},
		{"update", "admissionregistration.k8s.io", "mutatingadmissionpolicies", "", ""},
		{"delete", "admissionregistration.k8s.io", "mutatingadmissionpolicybindings", "", ""},
		{"update", "admissionregistration.k8s.io", "validatingadmissionpolicies", "", ""},
		{"update", "apiextensions.k8s.io", "customresourcedefinitions", "", ""},
		{"delete", "servicecatalog.k8s.io", "serviceinstances", "", random},
		{"delete", "servicecatalog.k8s.io", "servicebindings", "", random},
		{"delete", "servicecatalog.k8s.io", "clusterservicebrokers", "", ""},
		{"delete", "", "namespaces", "", ""},
		{"create", "coordination.k8s.io", "leases", "", random},
	}
	for _, n := range never {
		if can(n.verb, n.group, n.resource, n.sub, n.ns) {
			t.Errorf("the controller's ServiceAccount may %s %s.%s/%s in %q", n.verb, n.resource, n.group, n.sub, n.ns)
		}
	}
	// Granted, and stated in docs/security.md.
	for _, verb := range []string{"get", "list", "watch", "create", "update", "delete"} {
		t.Logf("the shipped RBAC lets the controller %s Secrets in any namespace: %v", verb, can(verb, "", "secrets", "", random))
	}
	if !can("update", "coordination.k8s.io", "leases", "", controllerNamespace) {
		t.Errorf("the controller cannot update its leader-election Lease in %s", controllerNamespace)
	}
	fmt.Printf("tenant suite: the controller runs as %s\n", who.Status.UserInfo.Username)
}
