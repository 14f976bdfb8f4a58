package controller_test

import (
	"context"
	"errors"
	"testing"
	"time"

	scv1beta1 "github.com/svcat-io/svcat/api/v1beta1"
	"github.com/svcat-io/svcat/internal/controller"
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

	got := waitInstance(t, f.c, f.ns, "a", instanceCondition(scv1beta1.ServiceInstanceConditionReady, "True", controller.ReasonInstanceUpdatedSuccessfully))
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
