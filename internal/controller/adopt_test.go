package controller_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	scv1beta1 "github.com/svcat-io/svcat/api/v1beta1"
	"github.com/svcat-io/svcat/internal/osb"
	"github.com/svcat-io/svcat/internal/testbroker"
)

// brokerPut sends a PUT straight to the test broker, as another platform
// (here: v0.3, before the migration) would have.
func (f *fixture) brokerPut(path, body string) {
	f.t.Helper()
	req := httptest.NewRequest(http.MethodPut, path, strings.NewReader(body))
	req.SetBasicAuth(testbroker.DefaultUsername, testbroker.DefaultPassword)
	req.Header.Set("X-Broker-API-Version", osb.APIVersion)
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	f.broker.ServeHTTP(rec, req)
	if rec.Code != http.StatusCreated {
		f.t.Fatalf("PUT %s: %d %s", path, rec.Code, rec.Body)
	}
}

// Objects v0.3 created and provisioned (status Provisioned with
// externalProperties, the v0.3 finalizer, externalIDs, an owned Secret) are
// taken over as they are: no new provision or bind, and deleting them
// unbinds and deprovisions what the broker holds.
func TestAdoptV03Objects(t *testing.T) {
	t.Parallel()
	f := startFixture(t, "adopt")
	ctx := context.Background()
	iid, bid := f.id("legacy"), f.id("legacy-b")
	svc, plan := f.prefix+"-svc", f.prefix+"-small"
	f.brokerPut("/v2/service_instances/"+iid+"?accepts_incomplete=true",
		fmt.Sprintf(`{"service_id":%q,"plan_id":%q,"organization_guid":"o","space_guid":"s"}`, svc, plan))
	f.brokerPut("/v2/service_instances/"+iid+"/service_bindings/"+bid,
		fmt.Sprintf(`{"service_id":%q,"plan_id":%q}`, svc, plan))
	creds := f.broker.Credentials(bid)
	now := metav1.Now()

	// The objects are restored before the broker is registered again, as a
	// migration would: until then the controller cannot resolve the class.
	inst := &scv1beta1.ServiceInstance{
		ObjectMeta: metav1.ObjectMeta{Namespace: f.ns, Name: "legacy", Finalizers: []string{scv1beta1.FinalizerServiceCatalog}},
		Spec: scv1beta1.ServiceInstanceSpec{
			PlanReference:          scv1beta1.PlanReference{ClusterServiceClassExternalName: f.prefix + "-kafka", ClusterServicePlanExternalName: "small"},
			ClusterServiceClassRef: &scv1beta1.ClusterObjectReference{Name: svc},
			ClusterServicePlanRef:  &scv1beta1.ClusterObjectReference{Name: plan},
			ExternalID:             iid,
		}}
	if err := f.c.Create(ctx, inst); err != nil {
		t.Fatal(err)
	}
	setStatus(t, f.c, inst, func(i *scv1beta1.ServiceInstance) {
		i.Status = scv1beta1.ServiceInstanceStatus{
			Conditions: []scv1beta1.ServiceInstanceCondition{{Type: scv1beta1.ServiceInstanceConditionReady, Status: "True",
				LastTransitionTime: now, Reason: scv1beta1.ReasonProvisionedSuccessfully, Message: scv1beta1.MessageProvisionedSuccessfully}},
			ProvisionStatus: scv1beta1.ServiceInstanceProvisionStatusProvisioned, DeprovisionStatus: scv1beta1.ServiceInstanceDeprovisionStatusRequired,
			ExternalProperties: &scv1beta1.ServiceInstancePropertiesState{ClusterServicePlanExternalName: "small", ClusterServicePlanExternalID: plan},
			ObservedGeneration: i.Generation, ReconciledGeneration: i.Generation, LastConditionState: "Ready",
			UserSpecifiedClassName: "ClusterServiceClass/" + f.prefix + "-kafka", UserSpecifiedPlanName: "small",
		}
	})
	b := &scv1beta1.ServiceBinding{
		ObjectMeta: metav1.ObjectMeta{Namespace: f.ns, Name: "legacy-b", Finalizers: []string{scv1beta1.FinalizerServiceCatalog}},
		Spec:       scv1beta1.ServiceBindingSpec{InstanceRef: scv1beta1.InstanceReference{Name: "legacy"}, ExternalID: bid, SecretName: "legacy-secret"},
	}
	if err := f.c.Create(ctx, b); err != nil {
		t.Fatal(err)
	}
	setStatus(t, f.c, b, func(b *scv1beta1.ServiceBinding) {
		b.Status = scv1beta1.ServiceBindingStatus{
			Conditions: []scv1beta1.ServiceBindingCondition{{Type: scv1beta1.ServiceBindingConditionReady, Status: "True",
				LastTransitionTime: now, Reason: scv1beta1.ReasonInjectedBindResult, Message: scv1beta1.MessageInjectedBindResult}},
			UnbindStatus:         scv1beta1.ServiceBindingUnbindStatusRequired,
			ExternalProperties:   &scv1beta1.ServiceBindingPropertiesState{},
			ReconciledGeneration: b.Generation, LastConditionState: "Ready",
		}
	})
	sec := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: f.ns, Name: "legacy-secret",
		OwnerReferences: []metav1.OwnerReference{{APIVersion: scv1beta1.GroupVersion.String(), Kind: "ServiceBinding", Name: b.Name, UID: b.UID,
			Controller: ptr(true), BlockOwnerDeletion: ptr(true)}}},
		Data: map[string][]byte{"username": []byte(fmt.Sprint(creds["username"])), "password": []byte(fmt.Sprint(creds["password"]))}}
	if err := f.c.Create(ctx, sec); err != nil {
		t.Fatal(err)
	}

	f.register(f.proxy.URL)
	// The lookup labels show the controller has resolved the instance.
	waitInstance(t, f.c, f.ns, "legacy", func(i *scv1beta1.ServiceInstance) error {
		if i.Labels[scv1beta1.LabelClusterServicePlanRefName] == "" {
			return fmt.Errorf("not reconciled since the class appeared")
		}
		return instanceCondition(scv1beta1.ServiceInstanceConditionReady, "True", scv1beta1.ReasonProvisionedSuccessfully)(i)
	})
	f.bindingReady("legacy-b")
	if got := f.opsFor(iid); got != "provision" {
		t.Errorf("broker saw %s; want only v0.3's provision", got)
	}
	if got := f.bindOps(bid); got != "bind" {
		t.Errorf("broker saw %s; want only v0.3's bind", got)
	}
	if got := f.secret("legacy-secret"); got == nil || got.UID != sec.UID || !bindsecretEqual(got.Data, sec.Data) {
		t.Errorf("the v0.3 Secret was replaced or changed")
	}

	// A later update (svcat touch instance) reaches the broker as an update
	// of the instance v0.3 made, and it stays Ready.
	if err := retryUpdate(ctx, f.c, inst, func(i *scv1beta1.ServiceInstance) { i.Spec.UpdateRequests++ }); err != nil {
		t.Fatal(err)
	}
	waitInstance(t, f.c, f.ns, "legacy", func(i *scv1beta1.ServiceInstance) error {
		if i.Status.ObservedGeneration != i.Generation {
			return fmt.Errorf("update not done")
		}
		return instanceCondition(scv1beta1.ServiceInstanceConditionReady, "True", scv1beta1.ReasonInstanceUpdatedSuccessfully)(i)
	})
	if got := f.opsFor(iid); got != "provision,update" {
		t.Errorf("broker saw %s; want v0.3's provision and our update", got)
	}

	// Deleting them reaches the broker with the IDs v0.3 used.
	if err := f.c.Delete(ctx, b); err != nil {
		t.Fatal(err)
	}
	waitGone(t, f.c, b)
	if err := f.c.Delete(ctx, inst); err != nil {
		t.Fatal(err)
	}
	waitGone(t, f.c, inst)
	if got := f.bindOps(bid); got != "bind,unbind" {
		t.Errorf("broker saw %s", got)
	}
	if got := f.opsFor(iid); got != "provision,update,deprovision" {
		t.Errorf("broker saw %s", got)
	}
	if r := f.requestsFor(osb.OpDeprovision, iid); len(r) == 1 && r[0].Query.Get("plan_id") != plan {
		t.Errorf("deprovision %s?%s", r[0].Path, r[0].RawQuery)
	}
	if f.brokerInstances(iid) != 0 || f.brokerBindings(bid) != 0 || f.secret("legacy-secret") != nil {
		t.Error("left behind after deletion")
	}
}

// retryUpdate applies edit to the latest version of inst until the update
// does not conflict.
func retryUpdate(ctx context.Context, c client.Client, inst *scv1beta1.ServiceInstance, edit func(*scv1beta1.ServiceInstance)) error {
	for i := 0; ; i++ {
		if err := c.Get(ctx, client.ObjectKeyFromObject(inst), inst); err != nil {
			return err
		}
		edit(inst)
		err := c.Update(ctx, inst)
		if !apierrors.IsConflict(err) || i > 10 {
			return err
		}
	}
}
