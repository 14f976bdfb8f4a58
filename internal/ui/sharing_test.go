package ui_test

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/svcat-io/svcat/api/v1beta1"
	"github.com/svcat-io/svcat/internal/localcluster"
	"github.com/svcat-io/svcat/internal/osb"
)

// tenant is a user with rights in namespace ns only: the given rules, as
// a Role there.
func tenant(t *testing.T, env *localcluster.Env, ns, user string, rules ...rbacv1.PolicyRule) *rest.Config {
	t.Helper()
	ctx := context.Background()
	for _, o := range []client.Object{
		&rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: user}, Rules: rules},
		&rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: user},
			RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: user},
			Subjects: []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: "User", Name: user}}},
	} {
		if err := env.Client.Create(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	cfg, err := env.User(user)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// editRules are what a namespace's edit role gives for the catalog:
// everything on its kinds, and reading ConfigMaps and Secrets.
var editRules = []rbacv1.PolicyRule{
	{APIGroups: []string{"servicecatalog.k8s.io"}, Resources: []string{"*"}, Verbs: []string{"*"}},
	{APIGroups: []string{""}, Resources: []string{"configmaps", "secrets"}, Verbs: []string{"get", "list"}},
	{APIGroups: []string{""}, Resources: []string{"secrets"}, Verbs: []string{"create"}},
	{APIGroups: []string{""}, Resources: []string{"events"}, Verbs: []string{"list"}},
}

// postNoCSRF is a form another page posts: it cannot know the token.
func (u *uiServer) postNoCSRF(path string, form url.Values) (int, string) {
	u.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, u.base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return u.do(req)
}

func sharedWith(t *testing.T, env *localcluster.Env, ns, name string) string {
	t.Helper()
	in, err := getInstance(env, ns, name)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, s := range in.Spec.SharedWith {
		out = append(out, s.Namespace)
	}
	return strings.Join(out, ",")
}

// shareCatalog has a shareable service and one that is not.
func shareCatalog() []osb.Service {
	return []osb.Service{
		{ID: "uishare-svc", Name: "uishare", Description: "Shareable Kafka", Bindable: true, Metadata: map[string]any{"shareable": true},
			Plans: []osb.Plan{{ID: "uishare-duck", Name: "duck", Description: "Duck"}}},
		{ID: "uiprivate-svc", Name: "uiprivate", Description: "Kafka for one namespace", Bindable: true,
			Plans: []osb.Plan{{ID: "uiprivate-duck", Name: "duck", Description: "Duck"}}},
	}
}

// TestSharingActions: the owner shares and unshares from the instance
// page (each share's state shown, unsharing after a confirmation); a
// reader of the owner's namespace is refused in the API's words; a forged
// post changes nothing; the consuming namespace lists the instance as
// shared from the owner, shows its marker and binds to it with
// instanceRef.namespace.
func TestSharingActions(t *testing.T) {
	env := localcluster.Get(t)
	catalogFixture(t, env)
	ctx := context.Background()
	owner, consumer := env.Namespace(t), env.Namespace(t)
	namespacedBroker(t, env, owner, "sharekafka", shareCatalog())
	orders := &v1beta1.ServiceInstance{ObjectMeta: metav1.ObjectMeta{Namespace: owner, Name: "orders"}}
	orders.Spec.ServiceClassExternalName, orders.Spec.ServicePlanExternalName = "uishare", "duck"
	private := &v1beta1.ServiceInstance{ObjectMeta: metav1.ObjectMeta{Namespace: owner, Name: "private"}}
	private.Spec.ServiceClassExternalName, private.Spec.ServicePlanExternalName = "uiprivate", "duck"
	for _, o := range []client.Object{orders, private} {
		if err := env.Client.Create(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	olga := tenant(t, env, owner, "olga-"+owner, editRules...)
	reader := tenant(t, env, owner, "reader-"+owner, rbacv1.PolicyRule{APIGroups: []string{"servicecatalog.k8s.io"},
		Resources: []string{"*"}, Verbs: []string{"get", "list", "watch"}})
	bea := tenant(t, env, consumer, "bea-"+consumer, editRules...)

	o := startUI(t, olga, owner)
	o.waitLive("view=instance&name=orders", `<span class="status ready"`, time.Minute)
	_, body := o.get("/instances/orders")
	mustContain(t, "instance page", body, `<form method="post" action="/instances/orders/share" class="inline" id="share">`, `name="namespace"`)

	// Refusals before anything is written, in svcat share's words.
	for _, tc := range []struct{ ns, want string }{
		{"Team_B", `namespace "Team_B" is not a namespace name`},
		{owner, `namespace "` + owner + `" is the instance's own namespace, whose bindings need no share`},
		{"", `namespace "" is not a namespace name`},
	} {
		status, body := o.post("/instances/orders/share", url.Values{"namespace": {tc.ns}})
		if status != http.StatusUnprocessableEntity || !strings.Contains(html.UnescapeString(body), tc.want) {
			t.Errorf("share with %q: %d, want 422 and %q\n%s", tc.ns, status, tc.want, body)
		}
	}
	// Another page posting to the UI has no CSRF token.
	if status, body := o.postNoCSRF("/instances/orders/share", url.Values{"namespace": {consumer}}); status != http.StatusForbidden ||
		!strings.Contains(body, "CSRF token is missing or wrong") {
		t.Errorf("share without the CSRF token: %d\n%s", status, body)
	}
	if got := sharedWith(t, env, owner, "orders"); got != "" {
		t.Fatalf("spec.sharedWith %q after refused shares", got)
	}

	// Someone who may only read the owner's namespace is told so.
	rd := startUI(t, reader, owner)
	status, body := rd.post("/instances/orders/share", url.Values{"namespace": {consumer}})
	if status != http.StatusForbidden {
		t.Errorf("share as a reader: %d, want 403", status)
	}
	mustContain(t, "share as a reader", html.UnescapeString(body),
		`permission denied: you may not update serviceinstances.servicecatalog.k8s.io in namespace "`+owner+`"`)
	if got := sharedWith(t, env, owner, "orders"); got != "" {
		t.Fatalf("spec.sharedWith %q after the reader's share", got)
	}

	// The owner shares both; the page shows each share's state.
	if status, body := o.post("/instances/orders/share", url.Values{"namespace": {consumer}}); status != http.StatusOK {
		t.Fatalf("share: %d\n%s", status, body)
	}
	if status, body := o.post("/instances/private/share", url.Values{"namespace": {consumer}}); status != http.StatusOK {
		t.Fatalf("share private: %d\n%s", status, body)
	}
	if got := sharedWith(t, env, owner, "orders"); got != consumer {
		t.Fatalf("spec.sharedWith %q after sharing with %s", got, consumer)
	}
	o.waitLive("view=instance&name=orders", `<span class="status ready">Shared</span>`, time.Minute)
	refused := html.UnescapeString(o.waitLive("view=instance&name=private", `<span class="status failed">Refused</span>`, time.Minute))
	mustContain(t, "refused share", refused, v1beta1.ReasonServiceNotShareable, `href="/instances/private/unshare?namespace=`+consumer+`"`)

	// The consuming namespace sees what is shared with it, and only that.
	c := startUI(t, bea, consumer)
	eventually(t, time.Minute, "the shared instance listed in "+consumer, func() bool {
		_, body := c.get("/instances")
		return strings.Contains(body, `data-shared="`+owner+`/orders"`)
	})
	_, body = c.get("/instances")
	mustContain(t, "consumer's instances", body, "shared from "+owner, `href="/shared/`+owner+`/orders"`)
	if strings.Contains(body, "private") {
		t.Errorf("the consumer's list shows an instance whose share was refused:\n%s", body)
	}
	status, body = c.get("/shared/" + owner + "/orders")
	if status != http.StatusOK {
		t.Fatalf("shared instance page: %d\n%s", status, body)
	}
	mustContain(t, "shared instance page", body, "Shared with this namespace by namespace "+owner, "<dd>uishare</dd>", "<dd>duck</dd>",
		`action="/shared/`+owner+`/orders/bind"`)
	if status, body = c.get("/shared/" + owner + "/private"); status != http.StatusNotFound {
		t.Errorf("the page of an instance not shared: %d\n%s", status, body)
	}

	// Bind from the consuming namespace.
	if status, body = c.post("/shared/"+owner+"/orders/bind", url.Values{"binding": {"reader"}}); status != http.StatusOK {
		t.Fatalf("bind to the shared instance: %d\n%s", status, body)
	}
	var bnd v1beta1.ServiceBinding
	if err := env.Client.Get(ctx, client.ObjectKey{Namespace: consumer, Name: "reader"}, &bnd); err != nil {
		t.Fatal(err)
	}
	if bnd.Spec.InstanceRef != (v1beta1.InstanceReference{Namespace: owner, Name: "orders"}) {
		t.Errorf("the binding's instanceRef %+v", bnd.Spec.InstanceRef)
	}
	c.waitLive("view=binding&name=reader", `<span class="status ready"`, time.Minute)
	_, body = c.get("/bindings/reader")
	mustContain(t, "shared binding page", body, `<a href="/shared/`+owner+`/orders">`+owner+`/orders</a>`)
	_, body = c.get("/shared/" + owner + "/orders")
	mustContain(t, "shared instance page", body, `id="shared-bindings"`, `href="/bindings/reader"`)

	// Unsharing asks first; a forged or unconfirmed post changes nothing.
	status, body = o.get("/instances/orders/unshare?namespace=" + consumer)
	if status != http.StatusOK {
		t.Fatalf("unshare confirmation: %d\n%s", status, body)
	}
	mustContain(t, "unshare confirmation", html.UnescapeString(body), `Stop sharing instance "orders" with namespace "`+consumer+`"?`,
		`<input type="hidden" name="namespace" value="`+consumer+`">`)
	if status, _ = o.get("/instances/orders/unshare?namespace=..%2Fx"); status != http.StatusUnprocessableEntity {
		t.Errorf("unshare confirmation of a namespace that is no name: %d", status)
	}
	if status, _ = o.post("/instances/orders/unshare", url.Values{"namespace": {consumer}}); status != http.StatusBadRequest {
		t.Errorf("unshare without confirmation: %d", status)
	}
	if status, _ = o.postNoCSRF("/instances/orders/unshare", url.Values{"namespace": {consumer}, "confirm": {"yes"}}); status != http.StatusForbidden {
		t.Errorf("unshare without the CSRF token: %d", status)
	}
	if got := sharedWith(t, env, owner, "orders"); got != consumer {
		t.Fatalf("spec.sharedWith %q after unconfirmed unshares", got)
	}
	if status, body = o.post("/instances/orders/unshare", url.Values{"namespace": {consumer}, "confirm": {"yes"}}); status != http.StatusOK {
		t.Fatalf("unshare: %d\n%s", status, body)
	}
	if got := sharedWith(t, env, owner, "orders"); got != "" {
		t.Fatalf("spec.sharedWith %q after unsharing", got)
	}
	c.waitLive("view=binding&name=reader", v1beta1.ReasonInstanceNotShared, time.Minute)
	eventually(t, time.Minute, "the shared instance gone from "+consumer+"'s list", func() bool {
		_, body := c.get("/instances")
		return !strings.Contains(body, `data-shared="`)
	})
}
