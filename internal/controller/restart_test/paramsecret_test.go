package restart_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	scv1beta1 "github.com/svcat-io/svcat/api/v1beta1"
	"github.com/svcat-io/svcat/internal/localcluster"
	"github.com/svcat-io/svcat/internal/osb"
	"github.com/svcat-io/svcat/internal/testbroker"
)

// A parametersFrom Secret changed while no controller runs is sent as one
// update by the next controller, which also watches the Secret again: a
// second change reaches the broker without anything else touching the
// instance.
func TestParameterSecretChangedWhileDown(t *testing.T) {
	env := localcluster.Get(t)
	ctx := context.Background()
	c := env.Client
	ns := env.Namespace(t)
	bin := buildController(t)

	broker := testbroker.Start(t, testbroker.Options{Catalog: []osb.Service{{ID: "psr-svc", Name: "psr", Description: "parameter Secrets", Bindable: true,
		PlanUpdateable: true, Plans: []osb.Plan{{ID: "psr-plan", Name: "small", Description: "small"}}}}})
	if err := c.Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "params"}, Data: map[string][]byte{"p": []byte(`{"level":1}`)}}); err != nil {
		t.Fatal(err)
	}
	cb := registerBroker(t, c, ns, "paramsecret", broker)
	t.Cleanup(func() { _ = c.Delete(context.Background(), cb) })

	first := start(t, bin, env)
	const id = "paramsecret-id"
	inst := &scv1beta1.ServiceInstance{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "watched"}, Spec: scv1beta1.ServiceInstanceSpec{
		PlanReference:  scv1beta1.PlanReference{ClusterServiceClassExternalName: "psr", ClusterServicePlanExternalName: "small"},
		ExternalID:     id,
		ParametersFrom: []scv1beta1.ParametersFromSource{{SecretKeyRef: &scv1beta1.SecretKeyReference{Name: "params", Key: "p"}}}}}
	if err := c.Create(ctx, inst); err != nil {
		t.Fatal(err)
	}
	eventually(t, 60*time.Second, "provisioned", func() error { return ready(getInstance(t, c, ns, "watched")) })
	first.kill()

	setLevel := func(level int) {
		t.Helper()
		s := &corev1.Secret{}
		if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: "params"}, s); err != nil {
			t.Fatal(err)
		}
		s.Data["p"] = []byte(fmt.Sprintf(`{"level":%d}`, level))
		if err := c.Update(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	levels := func() []string {
		var out []string
		for _, r := range broker.RequestsFor(osb.OpUpdate) {
			if r.InstanceID != id {
				continue
			}
			var b struct{ Parameters map[string]any }
			if err := json.Unmarshal(r.Body, &b); err != nil {
				t.Fatal(err)
			}
			out = append(out, fmt.Sprint(b.Parameters["level"]))
		}
		return out
	}
	waitLevels := func(want string) {
		t.Helper()
		eventually(t, 30*time.Second, "updates "+want, func() error {
			if got := fmt.Sprint(levels()); got != want {
				return fmt.Errorf("updates with levels %s", got)
			}
			return ready(getInstance(t, c, ns, "watched"))
		})
	}

	setLevel(2)
	start(t, bin, env)
	waitLevels("[2]")
	setLevel(3)
	waitLevels("[2 3]")
	time.Sleep(3 * time.Second)
	if got := fmt.Sprint(levels()); got != "[2 3]" {
		t.Errorf("updates with levels %s, want [2 3]", got)
	}
}
