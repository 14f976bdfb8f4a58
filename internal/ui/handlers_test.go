package ui_test

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/svcat-io/svcat/api/v1beta1"
	"github.com/svcat-io/svcat/internal/localcluster"
	"github.com/svcat-io/svcat/internal/osb"
)

func mustContain(t *testing.T, what, body string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(body, w) {
			t.Errorf("%s does not show %q:\n%s", what, w, body)
		}
	}
}

func TestMarketplace(t *testing.T) {
	env := localcluster.Get(t)
	catalogFixture(t, env)
	u := startUI(t, env.Config, env.Namespace(t))

	status, body := u.get("/marketplace")
	if status != http.StatusOK {
		t.Fatalf("marketplace: %d\n%s", status, body)
	}
	// The seed's catalog as the broker sent it: description, metadata,
	// bullets and costs.
	mustContain(t, "marketplace", html.UnescapeString(body),
		"CloudKarafka", "cloudkarafka", "Developer Duck", "duck", "Shared cluster", "Max 5 topics",
		"Max 28 days retention", "0 USD / monthly", "Free", "@making", "https://twitter.com/making",
		`data-search="`, "kafka")
	if !strings.Contains(body, `href="/provision?class=`) {
		t.Errorf("no provision link:\n%s", body)
	}

	_, body = u.get("/marketplace?q=postgres")
	if strings.Contains(body, `data-class="cloudkarafka"`) || !strings.Contains(body, "1 class(es) hidden by the filter") {
		t.Errorf("the filter postgres still shows cloudkarafka:\n%s", body)
	}
	_, body = u.get("/marketplace?q=duck+kafka")
	if !strings.Contains(body, `data-class="cloudkarafka"`) {
		t.Errorf("the filter 'duck kafka' hides cloudkarafka:\n%s", body)
	}
}

// provisionForm fetches the duck plan's form through the marketplace link.
func provisionForm(t *testing.T, u *uiServer) (string, url.Values) {
	t.Helper()
	_, body := u.get("/marketplace")
	i := strings.Index(body, `href="/provision?`)
	if i < 0 {
		t.Fatalf("no provision link in the marketplace:\n%s", body)
	}
	link := html.UnescapeString(body[i+len(`href="`) : i+strings.Index(body[i:], `">`)])
	status, form := u.get(link)
	if status != http.StatusOK {
		t.Fatalf("provision form: %d\n%s", status, form)
	}
	q, _ := url.ParseQuery(strings.SplitN(link, "?", 2)[1])
	return form, q
}

func TestProvisionFormFromSchema(t *testing.T) {
	env := localcluster.Get(t)
	catalogFixture(t, env)
	ns := env.Namespace(t)
	u := startUI(t, env.Config, ns)
	form, q := provisionForm(t, u)

	// Every kind of input the schema asks for, with its constraints.
	mustContain(t, "provision form", form,
		`name="p/topicPrefix" type="text" value="" maxlength="20" pattern="^[a-z][a-z0-9-]*$" required`,
		`name="p/retentionDays" type="number" step="1" value="7" min="1" max="28" required`,
		`<option value="&#34;eu-west-1&#34;" selected>eu-west-1</option>`,
		`<select id="p/compressed" name="p/compressed">`,
		`data-kind="lines" data-item="string"`,
		`<legend>limits</legend>`, `name="p/limits/maxTopics"`,
		"Prefix of the instance&#39;s topics.", `name="secretName"`)

	// The server applies the plan's schema with the controller's rules and
	// says what is wrong with each field; nothing is created.
	vals := url.Values{"class": {q.Get("class")}, "plan": {q.Get("plan")}, "scope": {q.Get("scope")}, "name": {"bad"},
		"p/topicPrefix": {"Not-Valid"}, "p/retentionDays": {"99"}, "p/limits/maxTopics": {"9"}, "p/region": {`"eu-west-1"`}}
	status, body := u.post("/provision", vals)
	if status != http.StatusUnprocessableEntity {
		t.Fatalf("invalid parameters: %d, want 422\n%s", status, body)
	}
	mustContain(t, "refused form", html.UnescapeString(body),
		"parameter /retentionDays: must be <= 28", "parameter /limits/maxTopics: must be <= 5",
		`parameter /topicPrefix: must match the pattern "^[a-z][a-z0-9-]*$"`)
	// What the user typed stays in the form.
	mustContain(t, "refused form", body, `name="p/retentionDays" type="number" step="1" value="99"`)
	if _, err := getInstance(env, ns, "bad"); !apierrors.IsNotFound(err) {
		t.Errorf("a refused form created instance bad: %v", err)
	}

	// A missing required field and an integer that is not one.
	vals = url.Values{"class": {q.Get("class")}, "plan": {q.Get("plan")}, "scope": {q.Get("scope")}, "name": {"bad"},
		"p/retentionDays": {"2.5"}}
	_, body = u.post("/provision", vals)
	mustContain(t, "refused form", body, "parameter /retentionDays: must be an integer")
	vals.Set("p/retentionDays", "3")
	_, body = u.post("/provision", vals)
	mustContain(t, "refused form", body, "parameter /topicPrefix: is required")

	// A valid form makes the instance with typed parameters.
	vals = url.Values{"class": {q.Get("class")}, "plan": {q.Get("plan")}, "scope": {q.Get("scope")}, "name": {"orders"},
		"p/topicPrefix": {"orders"}, "p/retentionDays": {"14"}, "p/region": {`"us-east-1"`}, "p/compressed": {"true"},
		"p/topics": {"a\nb\n"}, "p/limits/maxTopics": {"3"}}
	status, body = u.post("/provision", vals)
	if status != http.StatusOK || !strings.Contains(body, "Instance orders") {
		t.Fatalf("provision: %d\n%s", status, body)
	}
	in, err := getInstance(env, ns, "orders")
	if err != nil {
		t.Fatal(err)
	}
	want := `{"compressed":true,"limits":{"maxTopics":3},"region":"us-east-1","retentionDays":14,"topicPrefix":"orders","topics":["a","b"]}`
	if string(in.Spec.Parameters.Raw) != want {
		t.Errorf("parameters %s, want %s", in.Spec.Parameters.Raw, want)
	}
	if in.Spec.ClusterServiceClassName == "" || in.Spec.ClusterServicePlanName == "" {
		t.Errorf("the instance does not name its class and plan by Kubernetes name: %+v", in.Spec.PlanReference)
	}
}

func TestParametersFromSecret(t *testing.T) {
	env := localcluster.Get(t)
	catalogFixture(t, env)
	ns := env.Namespace(t)
	ctx := context.Background()
	const hidden = "hunter2-topic-prefix"
	sec := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "params"},
		StringData: map[string]string{
			"bad":  `{"topicPrefix": "` + hidden + `", "limits": {"maxTopics": 9}}`,
			"good": `{"topicPrefix": "abc", "retentionDays": 5}`}}
	if err := env.Client.Create(ctx, sec); err != nil {
		t.Fatal(err)
	}
	u := startUI(t, env.Config, ns)
	_, q := provisionForm(t, u)
	base := url.Values{"class": {q.Get("class")}, "plan": {q.Get("plan")}, "scope": {q.Get("scope")}}

	// The Secret's keys are merged as the controller merges them and then
	// checked; the refusal names the parameter, not the value.
	vals := url.Values{"name": {"from-bad"}, "p/retentionDays": {"7"}, "secretName": {"params"}, "secretKey": {"bad"}}
	for k, v := range base {
		vals[k] = v
	}
	status, body := u.post("/provision", vals)
	if status != http.StatusUnprocessableEntity {
		t.Fatalf("bad secret parameters: %d\n%s", status, body)
	}
	mustContain(t, "refused form", body, "parameter /limits/maxTopics: must be &lt;= 5")
	if strings.Contains(body, hidden) {
		t.Errorf("the page shows a value from the Secret:\n%s", body)
	}
	// The same key in the form and in the Secret is the controller's
	// DuplicateParameter refusal.
	vals.Set("secretKey", "good")
	status, body = u.post("/provision", vals)
	mustContain(t, "refused form", html.UnescapeString(body), `top-level key "retentionDays" appears in both spec.parameters and spec.parametersFrom[0].secretKeyRef`)
	if status != http.StatusUnprocessableEntity {
		t.Errorf("duplicate parameter: %d", status)
	}
	vals.Del("p/retentionDays")
	status, body = u.post("/provision", vals)
	if status != http.StatusOK {
		t.Fatalf("provision with parametersFrom: %d\n%s", status, body)
	}
	in, err := getInstance(env, ns, "from-bad")
	if err != nil {
		t.Fatal(err)
	}
	if len(in.Spec.ParametersFrom) != 1 || in.Spec.ParametersFrom[0].SecretKeyRef.Key != "good" || in.Spec.Parameters != nil {
		t.Errorf("instance spec: parameters %v, parametersFrom %+v", in.Spec.Parameters, in.Spec.ParametersFrom)
	}
	// Once the controller has sent them, the page shows them redacted.
	eventually(t, time.Minute, "the instance to be Ready", func() bool {
		in, err := getInstance(env, ns, "from-bad")
		return err == nil && in.Status.LastConditionState == "Ready"
	})
	_, body = u.get("/instances/from-bad")
	mustContain(t, "instance page", body, "Secret params, key good", "&#34;topicPrefix&#34;: &#34;&lt;redacted&gt;&#34;")
	if strings.Contains(body, `"abc"`) || strings.Contains(body, "&#34;abc&#34;") {
		t.Errorf("the instance page shows a value from the Secret:\n%s", body)
	}
}

// TestSeedFlow is the seed's walkthrough over HTTP with the real
// controller and broker: provision, watch it become Ready live, bind, see
// the Secret's name, unbind, deprovision. No page shows a credential unless
// it is revealed.
func TestSeedFlow(t *testing.T) {
	env := localcluster.Get(t)
	catalogFixture(t, env)
	ns := env.Namespace(t)
	ctx := context.Background()
	u := startUI(t, env.Config, ns)
	var pages []string
	get := func(path string) string {
		t.Helper()
		status, body := u.get(path)
		if status != http.StatusOK {
			t.Fatalf("GET %s: %d\n%s", path, status, body)
		}
		pages = append(pages, body)
		return body
	}

	_, q := provisionForm(t, u)
	status, body := u.post("/provision", url.Values{"class": {q.Get("class")}, "plan": {q.Get("plan")}, "scope": {q.Get("scope")},
		"name": {"demo-kafka"}, "p/topicPrefix": {"demo"}, "p/retentionDays": {"7"}})
	if status != http.StatusOK {
		t.Fatalf("provision: %d\n%s", status, body)
	}
	ready := u.waitLive("view=instance&name=demo-kafka", `<span class="status ready"`, time.Minute)
	mustContain(t, "live instance", ready, "The instance was provisioned successfully", "cloudkarafka", "duck")
	body = get("/instances/demo-kafka")
	mustContain(t, "instance page", body, "Conditions", "<td>Ready</td><td>True</td><td>ProvisionedSuccessfully</td>",
		"Events", "<td>Normal</td><td>ProvisionedSuccessfully</td>", "&#34;topicPrefix&#34;: &#34;demo&#34;")
	body = get("/instances")
	mustContain(t, "instances page", body, `href="/instances/demo-kafka"`, "Ready")

	status, body = u.post("/instances/demo-kafka/bind", url.Values{"binding": {"demo-kafka"}, "secretName": {"demo-kafka-creds"}})
	if status != http.StatusOK || !strings.Contains(body, "Binding demo-kafka") {
		t.Fatalf("bind: %d\n%s", status, body)
	}
	u.waitLive("view=binding&name=demo-kafka", `<span class="status ready"`, time.Minute)
	body = get("/bindings/demo-kafka")
	mustContain(t, "binding page", body, `<dd id="secret-name">demo-kafka-creds</dd>`, "password (24 bytes)", "username (")
	get("/bindings")
	get("/instances/demo-kafka")

	var secret corev1.Secret
	if err := env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: "demo-kafka-creds"}, &secret); err != nil {
		t.Fatal(err)
	}
	password := string(secret.Data["password"])
	// Revealing needs the confirmation; without it nothing is shown.
	status, body = u.post("/bindings/demo-kafka/reveal", url.Values{})
	if status != http.StatusBadRequest || strings.Contains(body, password) {
		t.Errorf("reveal without confirmation: %d, shows the password: %v", status, strings.Contains(body, password))
	}
	pages = append(pages, body)
	status, revealed := u.post("/bindings/demo-kafka/reveal", url.Values{"confirm": {"yes"}})
	if status != http.StatusOK || !strings.Contains(revealed, password) {
		t.Errorf("reveal: %d, shows the password: %v\n%s", status, strings.Contains(revealed, password), revealed)
	}
	for _, p := range pages {
		if strings.Contains(p, password) {
			t.Errorf("a page shows the binding's password without a reveal:\n%s", p)
		}
	}

	// Unbind and deprovision, each after its confirmation page.
	_, body = u.get("/bindings/demo-kafka/unbind")
	mustContain(t, "unbind confirmation", body, `name="confirm" value="yes"`, "Unbind &#34;demo-kafka&#34;?")
	if err := deleted(u.post("/bindings/demo-kafka/unbind", url.Values{"confirm": {"yes"}})); err != nil {
		t.Fatalf("unbind: %v", err)
	}
	u.waitLive("view=binding&name=demo-kafka", `id="gone"`, time.Minute)
	if err := deleted(u.post("/instances/demo-kafka/deprovision", url.Values{"confirm": {"yes"}})); err != nil {
		t.Fatalf("deprovision: %v", err)
	}
	u.waitLive("view=instance&name=demo-kafka", `id="gone"`, time.Minute)
}

// TestActionsNeedConfirmation: a deprovision posted without the
// confirmation page's answer changes nothing.
func TestActionsNeedConfirmation(t *testing.T) {
	env := localcluster.Get(t)
	catalogFixture(t, env)
	ns := env.Namespace(t)
	in := &v1beta1.ServiceInstance{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "keep"}}
	in.Spec.ClusterServiceClassExternalName, in.Spec.ClusterServicePlanExternalName = "cloudkarafka", "duck"
	if err := env.Client.Create(context.Background(), in); err != nil {
		t.Fatal(err)
	}
	u := startUI(t, env.Config, ns)
	status, body := u.post("/instances/keep/deprovision", url.Values{})
	if status != http.StatusBadRequest || !strings.Contains(body, "Confirm first: nothing was changed.") {
		t.Errorf("deprovision without confirmation: %d\n%s", status, body)
	}
	got, err := getInstance(env, ns, "keep")
	if err != nil || got.DeletionTimestamp != nil {
		t.Errorf("the instance was deleted without confirmation: %v", err)
	}
}

// TestNonAdminSeesRefusals: a user with only the rights RBAC gave them
// sees the API's refusal as a sentence, and the UI does nothing for them
// that they could not do with kubectl.
func TestNonAdminSeesRefusals(t *testing.T) {
	env := localcluster.Get(t)
	catalogFixture(t, env)
	ns := env.Namespace(t)
	ctx := context.Background()
	// The catalog may be browsed, instances only read.
	rules := []rbacv1.PolicyRule{{APIGroups: []string{"servicecatalog.k8s.io"},
		Resources: []string{"clusterserviceclasses", "clusterserviceplans", "serviceclasses", "serviceplans", "serviceinstances", "servicebindings"},
		Verbs:     []string{"get", "list", "watch"}}}
	cr := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "ui-viewer-" + ns}, Rules: rules}
	crb := &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "ui-viewer-" + ns},
		RoleRef:  rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: cr.Name},
		Subjects: []rbacv1.Subject{{APIGroup: "rbac.authorization.k8s.io", Kind: "User", Name: "viewer-" + ns}}}
	for _, o := range []client.Object{cr, crb} {
		if err := env.Client.Create(ctx, o); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = env.Client.Delete(ctx, o) })
	}
	viewer, err := env.User("viewer-" + ns)
	if err != nil {
		t.Fatal(err)
	}
	u := startUI(t, viewer, ns)
	status, body := u.get("/marketplace")
	if status != http.StatusOK || !strings.Contains(body, "Developer Duck") {
		t.Fatalf("the viewer cannot browse: %d\n%s", status, body)
	}
	_, q := provisionForm(t, u)
	status, body = u.post("/provision", url.Values{"class": {q.Get("class")}, "plan": {q.Get("plan")}, "scope": {q.Get("scope")},
		"name": {"nope"}, "p/topicPrefix": {"x"}, "p/retentionDays": {"1"}})
	if status != http.StatusForbidden {
		t.Errorf("provision as viewer: %d, want 403", status)
	}
	mustContain(t, "refusal", html.UnescapeString(body),
		"permission denied: you may not create serviceinstances.servicecatalog.k8s.io in namespace \""+ns+"\"",
		"kubectl auth can-i create serviceinstances.servicecatalog.k8s.io -n "+ns)
	if _, err := getInstance(env, ns, "nope"); !apierrors.IsNotFound(err) {
		t.Errorf("the viewer's provision made an instance: %v", err)
	}

	// Revealing credentials needs the right to read Secrets, which the
	// viewer lacks: the refusal says so and shows nothing.
	bnd := &v1beta1.ServiceBinding{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "creds"},
		Spec: v1beta1.ServiceBindingSpec{InstanceRef: v1beta1.InstanceReference{Name: "elsewhere"}}}
	sec := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "creds"}, StringData: map[string]string{"password": "s3cr3t-viewer"}}
	for _, o := range []client.Object{bnd, sec} {
		if err := env.Client.Create(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	status, body = u.post("/bindings/creds/reveal", url.Values{"confirm": {"yes"}})
	if status != http.StatusForbidden || strings.Contains(body, "s3cr3t-viewer") {
		t.Errorf("reveal as viewer: %d\n%s", status, body)
	}
	mustContain(t, "reveal as viewer", html.UnescapeString(body), "permission denied: you may not get secrets in namespace \""+ns+"\"")
	_, body = u.get("/bindings/creds")
	mustContain(t, "binding as viewer", html.UnescapeString(body), "permission denied: you may not get secrets")

	// Someone with no rights at all is told why each page is empty.
	nobody, err := env.User("nobody-" + ns)
	if err != nil {
		t.Fatal(err)
	}
	n := startUI(t, nobody, ns)
	status, body = n.get("/marketplace")
	if status != http.StatusForbidden {
		t.Errorf("marketplace as nobody: %d, want 403", status)
	}
	mustContain(t, "marketplace as nobody", html.UnescapeString(body), "permission denied: you may not list clusterserviceclasses.servicecatalog.k8s.io at cluster scope")
	status, body = n.get("/instances")
	if status != http.StatusForbidden {
		t.Errorf("instances as nobody: %d, want 403", status)
	}
	mustContain(t, "instances as nobody", html.UnescapeString(body), "permission denied: you may not list serviceinstances.servicecatalog.k8s.io in namespace \""+ns+"\"")
}

// deleted checks the page a confirmed deletion leads to: the object's page,
// which shows the deletion going on, or, when the object went before the
// page was asked for (an abandon removes it at once), its "no longer
// exists" page, a 404.
func deleted(status int, body string) error {
	if status == http.StatusOK || (status == http.StatusNotFound && strings.Contains(body, `id="gone"`)) {
		return nil
	}
	return fmt.Errorf("%d\n%s", status, body)
}

// TestAbandon: the UI's abandon is svcat's --abandon: after its
// confirmation the instance goes without a deprovision at the broker.
func TestAbandon(t *testing.T) {
	env := localcluster.Get(t)
	catalogFixture(t, env)
	ns := env.Namespace(t)
	u := startUI(t, env.Config, ns)
	_, q := provisionForm(t, u)
	if status, body := u.post("/provision", url.Values{"class": {q.Get("class")}, "plan": {q.Get("plan")}, "scope": {q.Get("scope")},
		"name": {"left-behind"}, "p/topicPrefix": {"x"}, "p/retentionDays": {"1"}}); status != http.StatusOK {
		t.Fatalf("provision: %d\n%s", status, body)
	}
	u.waitLive("view=instance&name=left-behind", `<span class="status ready"`, time.Minute)
	in, err := getInstance(env, ns, "left-behind")
	if err != nil {
		t.Fatal(err)
	}
	_, body := u.get("/instances/left-behind/abandon")
	mustContain(t, "abandon confirmation", html.UnescapeString(body), `Abandon instance "left-behind"? It is deleted without telling the broker`)
	if err := deleted(u.post("/instances/left-behind/abandon", url.Values{"confirm": {"yes"}})); err != nil {
		t.Fatalf("abandon: %v", err)
	}
	u.waitLive("view=instance&name=left-behind", `id="gone"`, time.Minute)
	for _, r := range fixtureBroker.RequestsFor(osb.OpDeprovision) {
		if r.InstanceID == in.Spec.ExternalID {
			t.Errorf("the broker was asked to deprovision the abandoned instance")
		}
	}
}

// TestUnreadableParametersSecret: a user who may create instances but not
// read Secrets can still name one in parametersFrom; the controller reads
// it. The form's own values are still checked, required keys excepted.
func TestUnreadableParametersSecret(t *testing.T) {
	env := localcluster.Get(t)
	catalogFixture(t, env)
	ns := env.Namespace(t)
	ctx := context.Background()
	user := "provisioner-" + ns
	cr := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: user}, Rules: []rbacv1.PolicyRule{
		{APIGroups: []string{"servicecatalog.k8s.io"}, Resources: []string{"clusterserviceclasses", "clusterserviceplans", "serviceclasses", "serviceplans", "serviceinstances", "servicebindings"}, Verbs: []string{"get", "list", "watch"}},
		{APIGroups: []string{"servicecatalog.k8s.io"}, Resources: []string{"serviceinstances"}, Verbs: []string{"create"}}}}
	crb := &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: user},
		RoleRef:  rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: user},
		Subjects: []rbacv1.Subject{{APIGroup: "rbac.authorization.k8s.io", Kind: "User", Name: user}}}
	sec := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "team-params"},
		StringData: map[string]string{"parameters": `{"topicPrefix": "team"}`}}
	for _, o := range []client.Object{cr, crb, sec} {
		if err := env.Client.Create(ctx, o); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = env.Client.Delete(ctx, o) })
	}
	cfg, err := env.User(user)
	if err != nil {
		t.Fatal(err)
	}
	u := startUI(t, cfg, ns)
	_, q := provisionForm(t, u)
	vals := url.Values{"class": {q.Get("class")}, "plan": {q.Get("plan")}, "scope": {q.Get("scope")},
		"name": {"team"}, "p/retentionDays": {"99"}, "secretName": {"team-params"}, "secretKey": {"parameters"}}
	status, body := u.post("/provision", vals)
	if status != http.StatusUnprocessableEntity {
		t.Fatalf("an out-of-range value with an unreadable Secret: %d\n%s", status, body)
	}
	body = html.UnescapeString(body)
	mustContain(t, "refused form", body, "parameter /retentionDays: must be <= 28", "You may not read Secret team-params")
	if strings.Contains(body, "/topicPrefix: is required") {
		t.Errorf("the form demands a key the unreadable Secret may hold:\n%s", body)
	}
	vals.Set("p/retentionDays", "9")
	if status, body = u.post("/provision", vals); status != http.StatusOK {
		t.Fatalf("provision with an unreadable Secret: %d\n%s", status, body)
	}
	u.waitLive("view=instance&name=team", `<span class="status ready"`, time.Minute)
}
