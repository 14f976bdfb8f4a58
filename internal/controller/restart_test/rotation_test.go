package restart_test

import (
	"context"
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

func getBinding(t *testing.T, c client.Client, ns, name string) *scv1beta1.ServiceBinding {
	t.Helper()
	b := &scv1beta1.ServiceBinding{}
	if err := c.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, b); err != nil {
		t.Fatal(err)
	}
	return b
}

// The controller is killed (SIGKILL) while a rotation's bind is at the
// broker, which has made the new binding; the next controller is killed
// during the old binding's grace period. In the end the broker holds the
// new binding alone, the Secret holds its credentials, and no binding was
// made twice or left behind.
func TestKilledDuringRotation(t *testing.T) {
	env := localcluster.Get(t)
	ctx := context.Background()
	c := env.Client
	ns := env.Namespace(t)
	bin := buildController(t)

	broker := testbroker.Start(t, testbroker.Options{Catalog: []osb.Service{{ID: "restart-rot-svc", Name: "restart-rot", Description: "d",
		Bindable: true, BindingsRetrievable: true,
		Plans: []osb.Plan{{ID: "restart-rot-plan", Name: "p", Description: "d", BindingRotatable: true}}}}})
	registerBroker(t, c, ns, "restart-rotation", broker)
	procs := []*controllerProcess{start(t, bin, env)}
	defer func() { logControllersIfFailed(t, procs...) }()
	const instID, oldID = "restart-rot-inst", "restart-rot-binding"
	inst := &scv1beta1.ServiceInstance{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "db"}, Spec: scv1beta1.ServiceInstanceSpec{
		PlanReference: scv1beta1.PlanReference{ClusterServiceClassExternalName: "restart-rot", ClusterServicePlanExternalName: "p"},
		ExternalID:    instID}}
	if err := c.Create(ctx, inst); err != nil {
		t.Fatal(err)
	}
	grace := 3 * time.Second
	b := &scv1beta1.ServiceBinding{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "app"}, Spec: scv1beta1.ServiceBindingSpec{
		InstanceRef: scv1beta1.InstanceReference{Name: "db"}, ExternalID: oldID,
		RotationPolicy: &scv1beta1.BindingRotationPolicy{GracePeriod: &metav1.Duration{Duration: grace}}}}
	if err := c.Create(ctx, b); err != nil {
		t.Fatal(err)
	}
	eventually(t, 60*time.Second, "bound", func() error {
		b := getBinding(t, c, ns, "app")
		if cond := b.Status.GetCondition(scv1beta1.ServiceBindingConditionReady); cond == nil || cond.Status != scv1beta1.ConditionTrue {
			return fmt.Errorf("not Ready: %+v", b.Status.Conditions)
		}
		return nil
	})

	// The broker makes the new binding, then holds the answer back long
	// enough for the controller to die waiting for it.
	broker.On(testbroker.Rule{Operation: osb.OpBind, InstanceID: instID, Hang: 4 * time.Second, Times: 1})
	eventually(t, 10*time.Second, "annotate", func() error {
		b := getBinding(t, c, ns, "app")
		b.Annotations = map[string]string{scv1beta1.AnnotationRotationRequest: "r1"}
		return c.Update(ctx, b)
	})
	var newID string
	eventually(t, 30*time.Second, "the rotation's bind at the broker", func() error {
		r := getBinding(t, c, ns, "app").Status.Rotation
		if r == nil || r.Pending == nil {
			return fmt.Errorf("no rotation pending: %+v", r)
		}
		newID = r.Pending.BindingID
		if bindsOf(broker, newID) == 0 {
			return fmt.Errorf("no bind for %s yet", newID)
		}
		return nil
	})
	procs[0].kill()

	procs = append(procs, start(t, bin, env))
	eventually(t, 60*time.Second, "rotated", func() error {
		r := getBinding(t, c, ns, "app").Status.Rotation
		if r == nil || r.LastRequest != "r1" || r.CurrentBindingID != newID || r.Pending != nil {
			return fmt.Errorf("status.rotation %+v", r)
		}
		return nil
	})
	// Killed during the grace period: the next controller unbinds the old
	// binding from the status.
	procs[1].kill()
	procs = append(procs, start(t, bin, env))
	eventually(t, 60*time.Second, "the old binding unbound", func() error {
		r := getBinding(t, c, ns, "app").Status.Rotation
		if len(r.Retiring) != 0 {
			return fmt.Errorf("retiring %+v", r.Retiring)
		}
		return nil
	})

	var held []string
	for _, bd := range broker.Bindings() {
		if bd.InstanceID == instID {
			held = append(held, bd.ID)
		}
	}
	if len(held) != 1 || held[0] != newID {
		t.Errorf("the broker holds bindings %v, want only the new one %s", held, newID)
	}
	sec := &corev1.Secret{}
	if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: "app"}, sec); err != nil {
		t.Fatal(err)
	}
	if string(sec.Data["password"]) != fmt.Sprint(broker.Credentials(newID)["password"]) {
		t.Errorf("the Secret does not hold the new binding's credentials")
	}
	if n := bindsOf(broker, oldID); n != 1 {
		t.Errorf("the old binding was bound %d times", n)
	}

	// The deletion leaves nothing at the broker.
	if err := c.Delete(ctx, getBinding(t, c, ns, "app")); err != nil {
		t.Fatal(err)
	}
	eventually(t, 60*time.Second, "deleted", func() error {
		for _, bd := range broker.Bindings() {
			if bd.InstanceID == instID {
				return fmt.Errorf("the broker still holds %s", bd.ID)
			}
		}
		return nil
	})
}

func bindsOf(b *testbroker.Broker, id string) int {
	n := 0
	for _, r := range b.RequestsFor(osb.OpBind) {
		if r.BindingID == id {
			n++
		}
	}
	return n
}
