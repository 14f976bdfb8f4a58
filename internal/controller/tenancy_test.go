package controller_test

import (
	"context"
	"fmt"
	"testing"

	scv1beta1 "github.com/svcat-io/svcat/api/v1beta1"
	"github.com/svcat-io/svcat/internal/controller"
)

// A 409 means the broker holds something else under this ID: another
// platform's instance, or a victim's that a tenant copied the ID of. The
// failed object must never deprovision or unbind it when it is deleted.
func TestConflictNeverDeprovisions(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "conflict409")
	ctx := context.Background()
	iid := f.id("theirs")
	svc := f.prefix + "-svc"
	// Another platform's instance under the ID, on another plan.
	f.brokerPut("/v2/service_instances/"+iid+"?accepts_incomplete=true",
		fmt.Sprintf(`{"service_id":%q,"plan_id":%q,"organization_guid":"o","space_guid":"s"}`, svc, f.prefix+"-large"))

	inst := f.instance("theirs", "kafka", "small", nil)
	got := waitInstance(t, f.c, f.ns, "theirs", instanceCondition(scv1beta1.ServiceInstanceConditionFailed, "True", controller.ReasonProvisionCallFailed))
	if got.Status.DeprovisionStatus != scv1beta1.ServiceInstanceDeprovisionStatusNotRequired {
		t.Errorf("deprovisionStatus %q after a 409, want NotRequired", got.Status.DeprovisionStatus)
	}
	if err := f.c.Delete(ctx, inst); err != nil {
		t.Fatal(err)
	}
	waitGone(t, f.c, inst)
	if ops := f.opsFor(iid); ops != "provision,provision" {
		// The broker saw the other platform's PUT and ours, nothing more.
		t.Errorf("broker saw %s; want only the two provisions", ops)
	}
	if f.brokerInstances(iid) != 1 {
		t.Error("the other platform's instance is gone from the broker")
	}

	// The same for a binding: the broker holds another binding under the ID.
	f.instance("db", "kafka", "small", nil)
	db := f.ready("db")
	bid := f.id("their-binding")
	f.brokerPut("/v2/service_instances/"+db.Spec.ExternalID+"/service_bindings/"+bid,
		fmt.Sprintf(`{"service_id":%q,"plan_id":%q,"parameters":{"other":"platform"}}`, svc, f.prefix+"-small"))
	b := f.binding("their-binding", "db", nil)
	gotB := waitBinding(t, f.c, f.ns, "their-binding", bindingCondition(scv1beta1.ServiceBindingConditionFailed, "True", controller.ReasonBindCallFailed))
	if gotB.Status.UnbindStatus != scv1beta1.ServiceBindingUnbindStatusNotRequired {
		t.Errorf("unbindStatus %q after a 409, want NotRequired", gotB.Status.UnbindStatus)
	}
	if err := f.c.Delete(ctx, b); err != nil {
		t.Fatal(err)
	}
	waitGone(t, f.c, b)
	if ops := f.bindOps(bid); ops != "bind,bind" {
		t.Errorf("broker saw %s; want only the two binds", ops)
	}
	if f.brokerBindings(bid) != 1 {
		t.Error("the other platform's binding is gone from the broker")
	}
}
