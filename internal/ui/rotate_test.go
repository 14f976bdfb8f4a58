package ui_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/svcat-io/svcat/api/v1beta1"
	"github.com/svcat-io/svcat/internal/localcluster"
	"github.com/svcat-io/svcat/internal/osb"
)

// The Rotate button does what svcat rotate binding does: after the
// confirmation the broker is asked for new credentials naming the old
// binding as predecessor, and they land in the same Secret.
func TestRotateAction(t *testing.T) {
	env := localcluster.Get(t)
	catalogFixture(t, env)
	ctx := context.Background()
	ns := env.Namespace(t)
	b, _ := namespacedBroker(t, env, ns, "uirot", []osb.Service{{ID: "uirot-svc", Name: "uirot", Description: "d", Bindable: true,
		Plans: []osb.Plan{{ID: "uirot-duck", Name: "duck", Description: "rotatable", BindingRotatable: true}}}})
	namespacedInstance(t, env, ns, "app", "uirot", "duck")
	bn := &v1beta1.ServiceBinding{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "app"},
		Spec: v1beta1.ServiceBindingSpec{InstanceRef: v1beta1.InstanceReference{Name: "app"}}}
	if err := env.Client.Create(ctx, bn); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = env.Client.Delete(ctx, bn) })
	secret := func() map[string][]byte {
		var s corev1.Secret
		if env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: "app"}, &s) != nil {
			return nil
		}
		return s.Data
	}
	eventually(t, time.Minute, "the binding's Secret", func() bool { return secret() != nil })
	before := secret()
	if err := env.Client.Get(ctx, client.ObjectKeyFromObject(bn), bn); err != nil {
		t.Fatal(err)
	}
	first := bn.Spec.ExternalID

	u := startUI(t, env.Config, ns)
	status, body := u.get("/bindings/app/rotate")
	if status != http.StatusOK {
		t.Errorf("rotate confirmation: %d", status)
	}
	mustContain(t, "rotate confirmation", body, `name="confirm" value="yes"`, "Rotate the credentials of binding &#34;app&#34;?")
	if status, body := u.post("/bindings/app/rotate", url.Values{}); status != http.StatusBadRequest {
		t.Errorf("rotate without confirmation: %d\n%s", status, body)
	}
	if status, body := u.post("/bindings/app/rotate", url.Values{"confirm": {"yes"}}); status != http.StatusOK {
		t.Errorf("rotate: %d\n%s", status, body)
	}
	eventually(t, time.Minute, "the rotation done", func() bool {
		if env.Client.Get(ctx, client.ObjectKeyFromObject(bn), bn) != nil {
			return false
		}
		r := bn.Status.Rotation
		return r != nil && r.Pending == nil && r.CurrentBindingID != "" && r.CurrentBindingID != first
	})
	binds := b.RequestsFor(osb.OpBind)
	if len(binds) != 2 {
		t.Fatalf("%d binds sent, want the first and the rotation's", len(binds))
	}
	var req struct {
		Predecessor string `json:"predecessor_binding_id"`
	}
	if err := json.Unmarshal(binds[1].Body, &req); err != nil || req.Predecessor != first || binds[1].BindingID != bn.Status.Rotation.CurrentBindingID {
		t.Errorf("the rotation's bind: binding %s, predecessor %q (%v); want %s naming %s", binds[1].BindingID, req.Predecessor, err, bn.Status.Rotation.CurrentBindingID, first)
	}
	eventually(t, 30*time.Second, "new credentials in the same Secret", func() bool {
		after := secret()
		return after != nil && !bytes.Equal(after["password"], before["password"])
	})
}
