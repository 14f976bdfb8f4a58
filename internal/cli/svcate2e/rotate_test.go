package svcate2e_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/svcat-io/svcat/api/v1beta1"
	"github.com/svcat-io/svcat/internal/cli/svcatcmd"
	"github.com/svcat-io/svcat/internal/localcluster"
	"github.com/svcat-io/svcat/internal/osb"
	"github.com/svcat-io/svcat/internal/testbroker"
)

// A person rotates a binding's credentials with svcat and sees the
// expiry, the rotation and the old binding waiting for unbind; a broker's
// refusal ends the wait with its words; unbinding leaves nothing at the
// broker.
func TestRotateWithController(t *testing.T) {
	env := localcluster.Get(t)
	ctx := context.Background()
	broker := testbroker.Start(t, testbroker.Options{BindingLifetime: time.Hour, Catalog: []osb.Service{{ID: "rot-svc", Name: "rotkafka",
		Description: "Kafka with rotatable bindings", Bindable: true, BindingsRetrievable: true,
		Plans: []osb.Plan{{ID: "rot-bear", Name: "bear", Description: "Bear", BindingRotatable: true}}}}})
	startController(t, env)
	ns := "e2e-rotate"
	namespaceWithBrokerAuth(t, env, ns)
	wait := []string{"--wait", "--interval", "200ms", "--timeout", "1m"}
	svcat(t, env, append([]string{"-n", ns, "register", "rotkafka", "--url", broker.URL(), "--scope", "cluster", "--basic-secret", "broker-auth"}, wait...)...)
	defer svcat(t, env, append([]string{"-n", ns, "deregister", "rotkafka", "--scope", "cluster"}, wait...)...)
	svcat(t, env, append([]string{"-n", ns, "provision", "app", "--class", "rotkafka", "--plan", "bear"}, wait...)...)
	defer svcat(t, env, append([]string{"-n", ns, "deprovision", "app"}, wait...)...)
	svcat(t, env, append([]string{"-n", ns, "bind", "app", "--name", "creds"}, wait...)...)
	out, _ := svcat(t, env, "-n", ns, "describe", "binding", "creds")
	if !strings.Contains(out, "Expires:") || strings.Contains(out, "Last Rotation:") {
		t.Errorf("describe binding after the bind:\n%s", out)
	}
	binding := func() *v1beta1.ServiceBinding {
		b := &v1beta1.ServiceBinding{}
		if err := env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: "creds"}, b); err != nil {
			t.Fatal(err)
		}
		return b
	}
	password := func() string {
		s := &corev1.Secret{}
		if err := env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: "creds"}, s); err != nil {
			t.Fatal(err)
		}
		return string(s.Data["password"])
	}
	oldID, oldPass := binding().Spec.ExternalID, password()

	out, _ = svcat(t, env, append([]string{"-n", ns, "rotate", "binding", "creds"}, wait...)...)
	if out != "Rotation requested for binding: creds\n" {
		t.Errorf("rotate binding: %q", out)
	}
	b := binding()
	newID := b.BrokerBindingID()
	if newID == oldID || password() == oldPass || password() != fmt.Sprint(broker.Credentials(newID)["password"]) {
		t.Fatalf("after rotate binding --wait the Secret does not hold the new binding's credentials (current %s)", newID)
	}
	out, _ = svcat(t, env, "-n", ns, "describe", "binding", "creds")
	for _, want := range []string{"Last Rotation:", "CredentialsRotated", newID + "   current, in the Secret", oldID + "   old, waiting for unbind"} {
		if !strings.Contains(out, want) {
			t.Errorf("describe binding after the rotation does not show %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, password()) {
		t.Errorf("describe binding shows the password without --show-secrets")
	}

	// Refused with and without predecessor_binding_id.
	broker.On(testbroker.Rule{Operation: osb.OpBind, Status: 400, Description: "rotation is paused", Times: 2})
	code, out, errOut := svcatExit(env, append([]string{"-n", ns, "rotate", "binding", "creds"}, wait...)...)
	if code != svcatcmd.ExitError || !strings.Contains(errOut, `the rotation of binding "creds" failed`) || !strings.Contains(errOut, "rotation is paused") {
		t.Errorf("rotate binding refused: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	if out, _ = svcat(t, env, "-n", ns, "get", "bindings"); !strings.Contains(out, "Ready, rotation failed") {
		t.Errorf("get bindings after the refusal:\n%s", out)
	}

	// The old binding still waits for its grace period (10m by default);
	// unbinding removes it with the current one.
	svcat(t, env, append([]string{"-n", ns, "unbind", "--name", "creds"}, wait...)...)
	for _, bd := range broker.Bindings() {
		t.Errorf("the broker still holds binding %s after unbind", bd.ID)
	}
}
