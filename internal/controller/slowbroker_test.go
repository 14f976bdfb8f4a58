package controller_test

import (
	"context"
	"errors"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	scv1beta1 "github.com/svcat-io/svcat/api/v1beta1"
	"github.com/svcat-io/svcat/internal/osb"
	"github.com/svcat-io/svcat/internal/testbroker"
)

// A provision answered after the reconcile stopped waiting is applied as
// the answer to the request that was sent, even though the spec changed
// meanwhile: the instance is provisioned with the parameters sent first,
// then updated to the new ones.
func TestSlowProvisionAnswersTheRequestSent(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "slow-spec")
	id := f.id("a")
	f.broker.On(testbroker.Rule{Operation: osb.OpProvision, InstanceID: id, Hang: 2 * time.Second, Times: 1})
	inst := f.instance("a", "kafka", "small", func(i *scv1beta1.ServiceInstance) { i.Spec.Parameters = raw(t, map[string]any{"size": 1}) })
	eventually(t, 10*time.Second, "the provision at the broker", func() error {
		if len(f.requestsFor(osb.OpProvision, id)) == 0 {
			return errNotYet
		}
		return nil
	})
	update(t, f.c, inst, func(i *scv1beta1.ServiceInstance) { i.Spec.Parameters = raw(t, map[string]any{"size": 2}) })

	got := waitInstance(t, f.c, f.ns, "a", instanceCondition(scv1beta1.ServiceInstanceConditionReady, "True", scv1beta1.ReasonInstanceUpdatedSuccessfully))
	if ops := f.opsFor(id); ops != "provision,update" {
		t.Errorf("broker saw %s, want the provision then an update", ops)
	}
	if p := body(t, f.requestsFor(osb.OpProvision, id)[0])["parameters"]; jsonOf(p) != `{"size":1}` {
		t.Errorf("provision parameters %s", jsonOf(p))
	}
	if p := body(t, f.requestsFor(osb.OpUpdate, id)[0])["parameters"]; jsonOf(p) != `{"size":2}` {
		t.Errorf("update parameters %s", jsonOf(p))
	}
	if st := got.Status; st.ObservedGeneration != got.Generation || st.ExternalProperties == nil || jsonOf(st.ExternalProperties.Parameters) != `{"size":2}` {
		t.Errorf("status %+v", st)
	}
}

// A deletion while a provision is still in flight sends its DELETE only
// once the broker has answered the PUT: were it to arrive first, the PUT
// would then create an instance nobody deletes.
func TestDeleteWaitsForSlowProvision(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "slow-del")
	id := f.id("a")
	const hang = 2 * time.Second
	f.broker.On(testbroker.Rule{Operation: osb.OpProvision, InstanceID: id, Hang: hang, Times: 1})
	inst := f.instance("a", "kafka", "small", nil)
	eventually(t, 10*time.Second, "the provision at the broker", func() error {
		if len(f.requestsFor(osb.OpProvision, id)) == 0 {
			return errNotYet
		}
		return nil
	})
	if err := f.c.Delete(context.Background(), inst); err != nil {
		t.Fatal(err)
	}
	waitGone(t, f.c, inst)
	if ops := f.opsFor(id); ops != "provision,deprovision" {
		t.Errorf("broker saw %s", ops)
	}
	puts, deletes := f.requestTimes("PUT", "/"+id), f.requestTimes("DELETE", "/"+id)
	if len(puts) != 1 || len(deletes) != 1 || deletes[0].Sub(puts[0]) < hang-100*time.Millisecond {
		t.Errorf("PUT at %v, DELETE at %v: the DELETE did not wait for the PUT's answer", puts, deletes)
	}
	if n := f.brokerInstances(id); n != 0 {
		t.Errorf("the broker still holds %d instance(s)", n)
	}
}

var errNotYet = errors.New("not yet")

// A broker slower than the reconcile's wait, on every operation, leads to
// the same end states as a fast one, with each request sent once: the
// answers that arrive after the reconcile stopped waiting are applied by
// the reconcile their arrival triggers.
func TestSlowBrokerEveryOperation(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "slow-all")
	const slow = 500 * time.Millisecond // past the 200 ms wait
	f.broker.On(testbroker.Rule{Hang: slow})
	f.broker.On(testbroker.Rule{Operation: osb.OpProvision, Async: true, AsyncPolls: 1, Hang: slow})
	f.broker.On(testbroker.Rule{Operation: osb.OpBind, Async: true, AsyncPolls: 1, Hang: slow})
	ctx := context.Background()
	id, bid := f.id("a"), f.id("b")

	inst := f.instance("a", "kafka", "small", nil)
	f.ready("a")
	update(t, f.c, inst, func(i *scv1beta1.ServiceInstance) { i.Spec.Parameters = raw(t, map[string]any{"size": 3}) })
	waitInstance(t, f.c, f.ns, "a", instanceCondition(scv1beta1.ServiceInstanceConditionReady, "True", scv1beta1.ReasonInstanceUpdatedSuccessfully))

	b := f.binding("b", "a", nil)
	f.bindingReady("b")
	sec := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: f.ns, Name: "b"}}
	f.get(sec)
	if err := f.c.Delete(ctx, sec); err != nil {
		t.Fatal(err)
	}
	f.waitEvent("SecretRestored")
	eventually(t, 30*time.Second, "the restored Secret", func() error { return f.c.Get(ctx, client.ObjectKeyFromObject(sec), sec) })

	if err := f.c.Delete(ctx, b); err != nil {
		t.Fatal(err)
	}
	waitGone(t, f.c, b)
	if err := f.c.Delete(ctx, inst); err != nil {
		t.Fatal(err)
	}
	waitGone(t, f.c, inst)

	if ops := f.opsFor(id); ops != "provision,update,deprovision" {
		t.Errorf("instance requests %s", ops)
	}
	for op, want := range map[osb.Operation]int{osb.OpBind: 1, osb.OpGetBinding: 2, osb.OpUnbind: 1} {
		n := 0
		for _, r := range f.broker.RequestsFor(op) {
			if r.BindingID == bid {
				n++
			}
		}
		if n != want {
			t.Errorf("%d %s requests, want %d", n, op, want)
		}
	}
	if n := f.brokerInstances(id); n != 0 {
		t.Errorf("the broker still holds the instance")
	}
}
