package ui_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/svcat-io/svcat/api/v1beta1"
	"github.com/svcat-io/svcat/internal/localcluster"
	"github.com/svcat-io/svcat/internal/osb"
	"github.com/svcat-io/svcat/internal/testbroker"
)

// The Upgrade button does what svcat upgrade instance does: nothing to do
// is said plainly; once the broker's catalog offers a new version, the
// confirmed upgrade reaches the broker with it, once.
func TestUpgradeAction(t *testing.T) {
	env := localcluster.Get(t)
	catalogFixture(t, env)
	ctx := context.Background()
	ns := env.Namespace(t)
	b, br := namespacedBroker(t, env, ns, "upgkafka", testbroker.MaintenanceCatalog("uiupg", "1.0.0", ""))
	in := &v1beta1.ServiceInstance{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "app"}}
	in.Spec.ServiceClassExternalName, in.Spec.ServicePlanExternalName = "uiupg", "duck"
	if err := env.Client.Create(ctx, in); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = env.Client.Delete(ctx, in) })
	recorded := func() string {
		got, err := getInstance(env, ns, "app")
		if err != nil || got.Status.ExternalProperties == nil {
			return ""
		}
		return got.Status.ExternalProperties.MaintenanceInfoVersion
	}
	eventually(t, time.Minute, "the instance provisioned with 1.0.0", func() bool { return recorded() == "1.0.0" })

	u := startUI(t, env.Config, ns)
	status, body := u.get("/instances/app/upgrade")
	mustContain(t, "upgrade confirmation", body, `name="confirm" value="yes"`, "Upgrade instance &#34;app&#34;")
	if status != http.StatusOK {
		t.Errorf("upgrade confirmation: %d", status)
	}
	status, body = u.post("/instances/app/upgrade", url.Values{"confirm": {"yes"}})
	if status != http.StatusUnprocessableEntity || !strings.Contains(body, "instance &#34;app&#34; already has maintenance version 1.0.0: there is nothing to upgrade") {
		t.Errorf("upgrade with nothing to upgrade to: %d\n%s", status, body)
	}

	if err := b.SetCatalog(testbroker.MaintenanceCatalog("uiupg", "1.1.0", "new topic defaults")); err != nil {
		t.Fatal(err)
	}
	if err := env.Client.Get(ctx, client.ObjectKeyFromObject(br), br); err != nil {
		t.Fatal(err)
	}
	br.Spec.RelistRequests++
	if err := env.Client.Update(ctx, br); err != nil {
		t.Fatal(err)
	}
	u.waitLive("view=instance&name=app", "UpgradeAvailable", time.Minute)
	status, body = u.post("/instances/app/upgrade", url.Values{"confirm": {"yes"}})
	if status != http.StatusOK || !strings.Contains(body, "app") {
		t.Errorf("upgrade: %d\n%s", status, body)
	}
	eventually(t, time.Minute, "the instance upgraded to 1.1.0", func() bool { return recorded() == "1.1.0" })
	var versions []string
	for _, r := range b.RequestsFor(osb.OpUpdate) {
		versions = append(versions, string(r.Body))
	}
	if len(versions) != 1 || !strings.Contains(versions[0], `"maintenance_info":{"version":"1.1.0"`) {
		t.Errorf("updates sent: %q, want one with maintenance version 1.1.0", versions)
	}
}
