package ui_test

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/svcat-io/svcat/api/v1beta1"
	"github.com/svcat-io/svcat/internal/localcluster"
)

// TestUserProvidedPages: "Create a user-provided instance" is svcat create
// user-provided: from a Secret, or from KEY=VALUE lines that become a
// Secret the instance owns; refusals come before anything is created and
// never show a value; the lists and pages show such instances as
// user-provided, without the broker's actions, and they bind.
func TestUserProvidedPages(t *testing.T) {
	env := localcluster.Get(t)
	catalogFixture(t, env)
	ctx := context.Background()
	ns := env.Namespace(t)
	for _, s := range []*corev1.Secret{
		{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "db-creds"}, StringData: map[string]string{"uri": "postgres://db.example/orders-up"}},
		{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "taken-credentials"}},
	} {
		if err := env.Client.Create(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	u := startUI(t, env.Config, ns)
	status, body := u.get("/instances")
	if status != http.StatusOK || !strings.Contains(body, `href="/user-provided"`) {
		t.Fatalf("instances page: %d, no link to the user-provided form\n%s", status, body)
	}
	status, body = u.get("/user-provided")
	mustContain(t, "user-provided form", body, `<form method="post" action="/user-provided" id="user-provided">`,
		`name="name"`, `name="secretName"`, `<textarea id="credentials" name="credentials"`)
	if status != http.StatusOK {
		t.Errorf("user-provided form: %d", status)
	}

	const hidden = "hunter2-user-provided"
	for _, tc := range []struct {
		name string
		form url.Values
		want string
	}{
		{"no credentials", url.Values{"name": {"x"}}, "give the credentials: the name of a Secret of this namespace, or KEY=VALUE lines"},
		{"both", url.Values{"name": {"x"}, "secretName": {"db-creds"}, "credentials": {"a=b"}}, "not both"},
		{"a line without =", url.Values{"name": {"x"}, "credentials": {"host=db\n" + hidden + "\n"}}, `credential number 2 has no "=": want KEY=VALUE`},
		{"a key twice", url.Values{"name": {"x"}, "credentials": {"a=" + hidden + "\na=2"}}, `credential "a" is given twice`},
		{"a bad key", url.Values{"name": {"x"}, "credentials": {"a/b=" + hidden}}, `credential "a/b": not valid as a Secret key`},
		{"a missing Secret", url.Values{"name": {"x"}, "secretName": {"missing"}}, `no Secret "missing" in namespace "` + ns + `": create it first`},
		{"a taken Secret", url.Values{"name": {"taken"}, "credentials": {"a=" + hidden}}, `a Secret "taken-credentials" already exists in namespace "` + ns + `"`},
		{"a bad name", url.Values{"name": {"Not_A_Name"}, "secretName": {"db-creds"}}, `instance name "Not_A_Name" is not valid`},
	} {
		status, body := u.post("/user-provided", tc.form)
		if status != http.StatusUnprocessableEntity || !strings.Contains(html.UnescapeString(body), tc.want) {
			t.Errorf("%s: %d, want 422 and %q\n%s", tc.name, status, tc.want, body)
		}
		if strings.Contains(body, hidden) {
			t.Errorf("%s: the refused form shows a credential:\n%s", tc.name, body)
		}
		if tc.form.Get("credentials") != "" && !strings.Contains(body, "The lines you gave are not shown again") {
			t.Errorf("%s: the refused form does not say the lines must be given again:\n%s", tc.name, body)
		}
	}
	// Another page posting to the UI has no CSRF token.
	if status, _ := u.postNoCSRF("/user-provided", url.Values{"name": {"forged"}, "secretName": {"db-creds"}}); status != http.StatusForbidden {
		t.Errorf("create without the CSRF token: %d", status)
	}
	var l v1beta1.ServiceInstanceList
	if err := env.Client.List(ctx, &l, client.InNamespace(ns)); err != nil || len(l.Items) != 0 {
		t.Fatalf("refused forms left %d instances (%v)", len(l.Items), err)
	}

	// From the user's Secret, and from lines.
	status, body = u.post("/user-provided", url.Values{"name": {"orders-db"}, "secretName": {"db-creds"}})
	if status != http.StatusOK {
		t.Fatalf("create from a Secret: %d\n%s", status, body)
	}
	mustContain(t, "user-provided instance page", body, `<dd id="user-provided">user-provided, credentials from Secret db-creds</dd>`)
	for _, absent := range []string{`id="action-upgrade"`, `id="action-update"`, `id="share"`, "postgres://"} {
		if strings.Contains(body, absent) {
			t.Errorf("the user-provided instance's page has %s:\n%s", absent, body)
		}
	}
	status, body = u.post("/user-provided", url.Values{"name": {"smtp"}, "credentials": {"host=smtp.example.com\r\npassword=s3cret=" + hidden + "\r\n\r\n"}})
	if status != http.StatusOK || strings.Contains(body, hidden) {
		t.Fatalf("create from lines: %d, shows the value: %v\n%s", status, strings.Contains(body, hidden), body)
	}
	var sec corev1.Secret
	if err := env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: "smtp-credentials"}, &sec); err != nil {
		t.Fatal(err)
	}
	if string(sec.Data["password"]) != "s3cret="+hidden || string(sec.Data["host"]) != "smtp.example.com" || len(sec.Data) != 2 ||
		len(sec.OwnerReferences) != 1 || sec.OwnerReferences[0].Name != "smtp" {
		t.Errorf("the Secret made from the lines: %d keys, owners %+v", len(sec.Data), sec.OwnerReferences)
	}
	u.waitLive("view=instance&name=smtp", `<span class="status ready"`, time.Minute)
	_, body = u.get("/instances")
	mustContain(t, "instances page", body, "user-provided, credentials from Secret db-creds", "user-provided, credentials from Secret smtp-credentials")

	// Not shared: the owner is told why before the API refuses it.
	status, body = u.post("/instances/orders-db/share", url.Values{"namespace": {"analytics"}})
	if status != http.StatusUnprocessableEntity || !strings.Contains(html.UnescapeString(body),
		`instance "orders-db" is user-provided: its credentials stay in namespace "`+ns+`" and it is not shared with other namespaces`) {
		t.Errorf("sharing a user-provided instance: %d\n%s", status, body)
	}

	// Bound like any instance; the binding page shows keys, not values.
	u.waitLive("view=instance&name=orders-db", `<span class="status ready"`, time.Minute)
	if status, body = u.post("/instances/orders-db/bind", url.Values{}); status != http.StatusOK {
		t.Fatalf("bind: %d\n%s", status, body)
	}
	u.waitLive("view=binding&name=orders-db", `<span class="status ready"`, time.Minute)
	_, body = u.get("/bindings/orders-db")
	mustContain(t, "binding page", body, "type (13 bytes), uri (31 bytes)")
	if strings.Contains(body, "postgres://") {
		t.Errorf("the binding page shows a credential:\n%s", body)
	}

	// Someone who may read the namespace but not create instances is told
	// so, in the API's words.
	viewer := tenant(t, env, ns, "viewer-"+ns,
		rbacv1.PolicyRule{APIGroups: []string{"servicecatalog.k8s.io"}, Resources: []string{"*"}, Verbs: []string{"get", "list", "watch"}},
		rbacv1.PolicyRule{APIGroups: []string{""}, Resources: []string{"secrets"}, Verbs: []string{"get"}})
	v := startUI(t, viewer, ns)
	status, body = v.post("/user-provided", url.Values{"name": {"nope"}, "secretName": {"db-creds"}})
	if status != http.StatusForbidden {
		t.Errorf("create as a viewer: %d, want 403", status)
	}
	mustContain(t, "create as a viewer", html.UnescapeString(body),
		`permission denied: you may not create serviceinstances.servicecatalog.k8s.io in namespace "`+ns+`"`)
}
