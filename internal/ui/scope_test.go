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
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/svcat-io/svcat/api/v1beta1"
	"github.com/svcat-io/svcat/internal/cli/apiview"
	"github.com/svcat-io/svcat/internal/localcluster"
)

// TestNamespacedOfferings: the marketplace follows svcat's scope rules.
// With a namespaced broker beside the cluster one, both classes are shown
// by default, --scope picks one, and provisioning the namespaced class
// names it as svcat provision does.
func TestNamespacedOfferings(t *testing.T) {
	env := localcluster.Get(t)
	catalogFixture(t, env)
	ns := env.Namespace(t)
	ctx := context.Background()
	auth := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "auth"},
		StringData: map[string]string{"username": "admin", "password": "password"}}
	if err := env.Client.Create(ctx, auth); err != nil {
		t.Fatal(err)
	}
	br := &v1beta1.ServiceBroker{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "team-kafka"}}
	br.Spec.URL = fixtureBroker.URL()
	br.Spec.RelistBehavior = v1beta1.ServiceBrokerRelistBehaviorManual
	br.Spec.AuthInfo = &v1beta1.ServiceBrokerAuthInfo{Basic: &v1beta1.BasicAuthConfig{SecretRef: &v1beta1.LocalObjectReference{Name: "auth"}}}
	if err := env.Client.Create(ctx, br); err != nil {
		t.Fatal(err)
	}
	eventually(t, time.Minute, "the namespaced plans", func() bool {
		var l v1beta1.ServicePlanList
		return env.Client.List(ctx, &l, client.InNamespace(ns)) == nil && len(l.Items) > 0
	})

	classes := func(scope apiview.Scope) (string, []string) {
		u := startUIScope(t, env.Config, ns, scope)
		_, body := u.get("/marketplace")
		var brokers []string
		for _, part := range strings.Split(body, "<dt>Broker</dt><dd>")[1:] {
			brokers = append(brokers, html.UnescapeString(part[:strings.Index(part, "</dd>")]))
		}
		return body, brokers
	}
	if _, b := classes(apiview.AllScope); strings.Join(b, "; ") != "cloudkarafka (cluster); team-kafka (namespace "+ns+")" {
		t.Errorf("--scope all shows brokers %q", b)
	}
	if _, b := classes(apiview.ClusterScope); strings.Join(b, "; ") != "cloudkarafka (cluster)" {
		t.Errorf("--scope cluster shows brokers %q", b)
	}
	body, b := classes(apiview.NamespaceScope)
	if strings.Join(b, "; ") != "team-kafka (namespace "+ns+")" {
		t.Errorf("--scope namespace shows brokers %q", b)
	}
	if !strings.Contains(body, "scope=namespace") {
		t.Fatalf("the namespaced class's provision link does not say its scope:\n%s", body)
	}

	u := startUIScope(t, env.Config, ns, apiview.NamespaceScope)
	_, q := provisionForm(t, u)
	status, body := u.post("/provision", url.Values{"class": {q.Get("class")}, "plan": {q.Get("plan")}, "scope": {q.Get("scope")},
		"name": {"team"}, "p/topicPrefix": {"team"}, "p/retentionDays": {"3"}})
	if status != http.StatusOK {
		t.Fatalf("provision: %d\n%s", status, body)
	}
	in, err := getInstance(env, ns, "team")
	if err != nil {
		t.Fatal(err)
	}
	if in.Spec.ServiceClassName == "" || in.Spec.ServicePlanName == "" || in.Spec.ClusterServiceClassName != "" {
		t.Errorf("the instance does not name the namespaced class and plan: %+v", in.Spec.PlanReference)
	}
	u.waitLive("view=instance&name=team", `<span class="status ready"`, time.Minute)
}
