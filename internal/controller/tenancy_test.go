package controller_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	scv1beta1 "github.com/svcat-io/svcat/api/v1beta1"
	"github.com/svcat-io/svcat/internal/controller/idclaim"
	"github.com/svcat-io/svcat/internal/osb"
	"github.com/svcat-io/svcat/internal/testbroker"
)

// A 409 means the broker holds something else under this ID: another
// platform's instance, or a victim's that a tenant copied the ID of. The
// failed object must never deprovision or unbind it when it is deleted.
func TestConflictNeverDeprovisions(t *testing.T) {
	t.Parallel()
	conflictNeverDeprovisions(t, newFixture(t, "conflict409"))
}

// The same when the 409s arrive after the reconcile stopped waiting for
// them: the late answers are applied by the reconcile their arrival
// triggers, and the rule holds there too.
func TestLateConflictNeverDeprovisions(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "late409")
	const slow = 500 * time.Millisecond // past the 200 ms wait
	f.broker.On(testbroker.Rule{Operation: osb.OpProvision, Hang: slow})
	f.broker.On(testbroker.Rule{Operation: osb.OpBind, Hang: slow})
	conflictNeverDeprovisions(t, f)
}

func conflictNeverDeprovisions(t *testing.T, f *fixture) {
	t.Helper()
	ctx := context.Background()
	iid := f.id("theirs")
	svc := f.prefix + "-svc"
	// Another platform's instance under the ID, on another plan.
	f.brokerPut("/v2/service_instances/"+iid+"?accepts_incomplete=true",
		fmt.Sprintf(`{"service_id":%q,"plan_id":%q,"organization_guid":"o","space_guid":"s"}`, svc, f.prefix+"-large"))

	inst := f.instance("theirs", "kafka", "small", nil)
	got := waitInstance(t, f.c, f.ns, "theirs", instanceCondition(scv1beta1.ServiceInstanceConditionFailed, "True", scv1beta1.ReasonProvisionCallFailed))
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
	gotB := waitBinding(t, f.c, f.ns, "their-binding", bindingCondition(scv1beta1.ServiceBindingConditionFailed, "True", scv1beta1.ReasonBindCallFailed))
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

// waitRefused waits for an object's Ready condition to say ExternalIDInUse
// and checks that the message names the field and the value and gives away
// nothing of the owner.
func waitRefused(t *testing.T, f *fixture, ns, name, id string) string {
	t.Helper()
	inst := waitInstance(t, f.c, ns, name, instanceReason(scv1beta1.ReasonExternalIDInUse))
	msg := readyMessage(inst)
	checkRefusal(t, msg, id, f.ns)
	return msg
}

func checkRefusal(t *testing.T, msg, id, ownerNS string) {
	t.Helper()
	if !strings.Contains(msg, "spec.externalID") || !strings.Contains(msg, fmt.Sprintf("%q", id)) || !strings.Contains(msg, "without spec.externalID") {
		t.Errorf("message does not name the field, the value and what to do: %s", msg)
	}
	if strings.Contains(msg, ownerNS) {
		t.Errorf("message names the owner's namespace: %s", msg)
	}
}

// A tenant who knows another namespace's external IDs copies them into
// objects of their own: nothing is sent to the broker for the copies, their
// deletion leaves the victim's service alone, and the victim stays Ready.
func TestExternalIDTakeover(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "takeover")
	ctx := context.Background()
	attackerNS := f.env.Namespace(t)
	f.instance("victim", "kafka", "small", nil)
	f.ready("victim")
	f.binding("victim-b", "victim", nil)
	f.bindingReady("victim-b")
	iid, bid := f.id("victim"), f.id("victim-b")
	victimSecret := f.secret("victim-b")

	// The copy of the instance.
	copyInst := &scv1beta1.ServiceInstance{ObjectMeta: metav1.ObjectMeta{Namespace: attackerNS, Name: "copy"},
		Spec: scv1beta1.ServiceInstanceSpec{
			PlanReference: scv1beta1.PlanReference{ClusterServiceClassExternalName: f.prefix + "-kafka", ClusterServicePlanExternalName: "small"},
			ExternalID:    iid,
		}}
	if err := f.c.Create(ctx, copyInst); err != nil {
		t.Fatal(err)
	}
	waitRefused(t, f, attackerNS, "copy", iid)
	if got := f.opsFor(iid); got != "provision" {
		t.Errorf("broker saw %s for the ID; want only the victim's provision", got)
	}

	// The copy of the binding, to an instance of the attacker's own.
	own := &scv1beta1.ServiceInstance{ObjectMeta: metav1.ObjectMeta{Namespace: attackerNS, Name: "own"},
		Spec: scv1beta1.ServiceInstanceSpec{
			PlanReference: scv1beta1.PlanReference{ClusterServiceClassExternalName: f.prefix + "-kafka", ClusterServicePlanExternalName: "small"},
		}}
	if err := f.c.Create(ctx, own); err != nil {
		t.Fatal(err)
	}
	waitInstance(t, f.c, attackerNS, "own", instanceCondition(scv1beta1.ServiceInstanceConditionReady, "True", ""))
	copyB := &scv1beta1.ServiceBinding{ObjectMeta: metav1.ObjectMeta{Namespace: attackerNS, Name: "copy-b"},
		Spec: scv1beta1.ServiceBindingSpec{InstanceRef: scv1beta1.InstanceReference{Name: "own"}, ExternalID: bid}}
	if err := f.c.Create(ctx, copyB); err != nil {
		t.Fatal(err)
	}
	gotB := waitBinding(t, f.c, attackerNS, "copy-b", bindingReason(scv1beta1.ReasonExternalIDInUse))
	checkRefusal(t, gotB.Status.GetCondition(scv1beta1.ServiceBindingConditionReady).Message, bid, f.ns)
	if got := f.bindOps(bid); got != "bind" {
		t.Errorf("broker saw %s for the binding ID; want only the victim's bind", got)
	}

	// Deleting the copies sends nothing.
	for _, o := range []client.Object{copyB, copyInst} {
		if err := f.c.Delete(ctx, o); err != nil {
			t.Fatal(err)
		}
		waitGone(t, f.c, o)
	}
	if got := f.opsFor(iid); got != "provision" {
		t.Errorf("after deleting the copy the broker saw %s; want only the victim's provision", got)
	}
	if got := f.bindOps(bid); got != "bind" {
		t.Errorf("after deleting the copy the broker saw %s; want only the victim's bind", got)
	}
	if f.brokerInstances(iid) != 1 || f.brokerBindings(bid) != 1 {
		t.Error("the victim's instance or binding is gone from the broker")
	}
	f.ready("victim")
	f.bindingReady("victim-b")
	if s := f.secret("victim-b"); s == nil || s.UID != victimSecret.UID {
		t.Error("the victim's Secret was replaced or deleted")
	}
	for _, e := range f.events() {
		if strings.Contains(e, attackerNS) {
			t.Errorf("an event in the victim's namespace names the attacker's: %s", e)
		}
	}

	// Once the victim's objects are gone, their IDs are free again.
	for _, o := range []client.Object{&scv1beta1.ServiceBinding{ObjectMeta: metav1.ObjectMeta{Namespace: f.ns, Name: "victim-b"}},
		&scv1beta1.ServiceInstance{ObjectMeta: metav1.ObjectMeta{Namespace: f.ns, Name: "victim"}}} {
		if err := f.c.Delete(ctx, o); err != nil {
			t.Fatal(err)
		}
		waitGone(t, f.c, o)
	}
	// The claims go right after the finalizers.
	eventually(t, 30*time.Second, "claims released", func() error {
		if n := countClaims(t, f.c, idclaim.Instance, iid) + countClaims(t, f.c, idclaim.Binding, bid); n != 0 {
			return fmt.Errorf("%d claims left after the owners were deleted", n)
		}
		return nil
	})
	again := copyInst.DeepCopy()
	again.ObjectMeta = metav1.ObjectMeta{Namespace: attackerNS, Name: "again"}
	if err := f.c.Create(ctx, again); err != nil {
		t.Fatal(err)
	}
	waitInstance(t, f.c, attackerNS, "again", instanceCondition(scv1beta1.ServiceInstanceConditionReady, "True", ""))
}

// countClaims is 1 when the ID's claim exists.
func countClaims(t *testing.T, c client.Client, kind idclaim.Kind, id string) int {
	t.Helper()
	err := c.Get(context.Background(), client.ObjectKey{Namespace: claimNamespace, Name: idclaim.LeaseName(kind, id)}, &coordinationv1.Lease{})
	if apierrors.IsNotFound(err) {
		return 0
	}
	if err != nil {
		t.Fatal(err)
	}
	return 1
}

// claimNamespace is where the test controller keeps its claims: it runs
// outside a pod, without a leader election namespace.
const claimNamespace = "kube-system"

// Two instances with one new ID, created at the same moment in two
// namespaces: exactly one is provisioned, each time.
func TestExternalIDRace(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "idrace")
	ctx := context.Background()
	other := f.env.Namespace(t)
	for round := 0; round < 5; round++ {
		id := f.id(fmt.Sprintf("race-%d", round))
		var objs []*scv1beta1.ServiceInstance
		for _, ns := range []string{f.ns, other} {
			objs = append(objs, &scv1beta1.ServiceInstance{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: fmt.Sprintf("race-%d", round)},
				Spec: scv1beta1.ServiceInstanceSpec{
					PlanReference: scv1beta1.PlanReference{ClusterServiceClassExternalName: f.prefix + "-kafka", ClusterServicePlanExternalName: "small"},
					ExternalID:    id,
				}})
		}
		var wg sync.WaitGroup
		errs := make([]error, len(objs))
		for i, o := range objs {
			wg.Add(1)
			go func() { defer wg.Done(); errs[i] = f.c.Create(ctx, o) }()
		}
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		ready, refused := 0, 0
		for _, o := range objs {
			got := waitInstance(t, f.c, o.Namespace, o.Name, func(i *scv1beta1.ServiceInstance) error {
				c := i.Status.GetCondition(scv1beta1.ServiceInstanceConditionReady)
				if c == nil || (c.Status != "True" && c.Reason != scv1beta1.ReasonExternalIDInUse) {
					return fmt.Errorf("neither Ready nor refused")
				}
				return nil
			})
			if got.Status.GetCondition(scv1beta1.ServiceInstanceConditionReady).Status == "True" {
				ready++
			} else {
				refused++
			}
		}
		if ready != 1 || refused != 1 {
			t.Errorf("round %d: %d Ready and %d refused; want one of each", round, ready, refused)
		}
		if got := f.opsFor(id); got != "provision" {
			t.Errorf("round %d: broker saw %s; want one provision", round, got)
		}
	}
}

// A claim whose owner is gone (the controller stopped between removing the
// finalizer and deleting the claim) is taken over by the next instance
// with the ID.
func TestStaleClaimTakenOver(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "staleclaim")
	ctx := context.Background()
	id := f.id("heir")
	holder := "0000-gone"
	if err := f.c.Create(ctx, &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Namespace: claimNamespace, Name: idclaim.LeaseName(idclaim.Instance, id),
		Labels:      map[string]string{scv1beta1.LabelManagedBy: scv1beta1.ManagedByValue, idclaim.LabelKind: string(idclaim.Instance)},
		Annotations: map[string]string{idclaim.AnnotationExternal: id, idclaim.AnnotationOwner: f.ns + "/gone"}},
		Spec: coordinationv1.LeaseSpec{HolderIdentity: &holder}}); err != nil {
		t.Fatal(err)
	}
	inst := f.instance("heir", "kafka", "small", nil)
	f.ready("heir")
	l := &coordinationv1.Lease{}
	if err := f.c.Get(ctx, client.ObjectKey{Namespace: claimNamespace, Name: idclaim.LeaseName(idclaim.Instance, id)}, l); err != nil {
		t.Fatal(err)
	}
	if l.Spec.HolderIdentity == nil || *l.Spec.HolderIdentity != string(inst.UID) {
		t.Errorf("claim held by %v, want the new instance %s", l.Spec.HolderIdentity, inst.UID)
	}
}

// Without svcat's MutatingAdmissionPolicy spec.userInfo is what the user
// wrote: the controller sends no originating identity rather than a claim
// to be system:admin.
func TestForgedIdentityNotSent(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "forged")
	forged := &scv1beta1.UserInfo{Username: "system:admin", Groups: []string{"system:masters"}}
	f.instance("forged", "kafka", "small", func(i *scv1beta1.ServiceInstance) { i.Spec.UserInfo = forged })
	f.ready("forged")
	f.binding("forged-b", "forged", func(b *scv1beta1.ServiceBinding) { b.Spec.UserInfo = forged })
	f.bindingReady("forged-b")
	reqs := append(f.requestsFor(osb.OpProvision, f.id("forged")), f.broker.RequestsFor(osb.OpBind)...)
	if len(reqs) < 2 {
		t.Fatalf("%d requests recorded", len(reqs))
	}
	for _, r := range reqs {
		if h := r.Header.Get("X-Broker-API-Originating-Identity"); h != "" {
			t.Errorf("%s %s carries the user-written identity: %s", r.Method, r.Path, h)
		}
	}
}

// Objects stored before any claim (by an earlier svcat, or v0.3's) that
// share an ID: the oldest gets it, whichever is reconciled first, and the
// other gets it once the oldest is gone.
func TestOldestTakesUnclaimedID(t *testing.T) {
	t.Parallel()
	f := startFixture(t, "oldest")
	ctx := context.Background()
	other := f.env.Namespace(t)
	id := f.id("shared")
	// No class yet: neither can claim the ID before both exist.
	older := f.instance("shared", "kafka", "small", nil)
	time.Sleep(1100 * time.Millisecond) // creationTimestamp has whole seconds
	newer := older.DeepCopy()
	newer.ObjectMeta = metav1.ObjectMeta{Namespace: other, Name: "shared"}
	if err := f.c.Create(ctx, newer); err != nil {
		t.Fatal(err)
	}
	f.register(f.proxy.URL)
	f.ready("shared")
	waitRefused(t, f, other, "shared", id)
	if got := f.opsFor(id); got != "provision" {
		t.Errorf("broker saw %s; want the older instance's provision only", got)
	}

	if err := f.c.Delete(ctx, older); err != nil {
		t.Fatal(err)
	}
	waitGone(t, f.c, older)
	waitInstance(t, f.c, other, "shared", instanceCondition(scv1beta1.ServiceInstanceConditionReady, "True", ""))
	if got := f.opsFor(id); got != "provision,deprovision,provision" {
		t.Errorf("broker saw %s; want the older's provision and deprovision, then the newer's provision", got)
	}
}

// An ID the controller generates is its object's own UID: no claim is
// written for it (idclaim.OwnID), and a copy in another namespace is still
// refused, by age, before any broker call.
func TestGeneratedIDNeedsNoClaim(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "ownid")
	ctx := context.Background()
	other := f.env.Namespace(t)
	plan := scv1beta1.PlanReference{ClusterServiceClassExternalName: f.prefix + "-kafka", ClusterServicePlanExternalName: "small"}
	orig := &scv1beta1.ServiceInstance{ObjectMeta: metav1.ObjectMeta{Namespace: f.ns, Name: "orig"}, Spec: scv1beta1.ServiceInstanceSpec{PlanReference: plan}}
	if err := f.c.Create(ctx, orig); err != nil {
		t.Fatal(err)
	}
	waitInstance(t, f.c, f.ns, "orig", instanceCondition(scv1beta1.ServiceInstanceConditionReady, "True", ""))
	if err := f.c.Get(ctx, client.ObjectKeyFromObject(orig), orig); err != nil {
		t.Fatal(err)
	}
	id := orig.Spec.ExternalID
	if id != string(orig.UID) {
		t.Fatalf("generated ID %q, want the object's UID %q", id, orig.UID)
	}
	leases := &coordinationv1.LeaseList{}
	if err := f.c.List(ctx, leases, client.HasLabels{idclaim.LabelKind}); err != nil {
		t.Fatal(err)
	}
	for _, l := range leases.Items {
		if l.Annotations[idclaim.AnnotationExternal] == id {
			t.Errorf("claim %s/%s written for the generated ID", l.Namespace, l.Name)
		}
	}
	cp := &scv1beta1.ServiceInstance{ObjectMeta: metav1.ObjectMeta{Namespace: other, Name: "copy"}, Spec: scv1beta1.ServiceInstanceSpec{PlanReference: plan, ExternalID: id}}
	if err := f.c.Create(ctx, cp); err != nil {
		t.Fatal(err)
	}
	waitRefused(t, f, other, "copy", id)
	if got := f.opsFor(id); got != "provision" {
		t.Errorf("broker saw %s for the ID; want only the original's provision", got)
	}
}
