package tenancy

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	scv1beta1 "github.com/svcat-io/svcat/api/v1beta1"
)

// User-provided services with the controller as its ServiceAccount and the
// shipped RBAC, tenants with rights in their own namespace only: alice's
// instance from her Secret is bindable and follows the Secret's changes;
// mallory, naming alice's Secret, gets a condition about her own namespace
// and no copy of anything.
func TestUserProvidedServicesStayInTheirNamespace(t *testing.T) {
	c := setup(t)
	c.startController(t, 0)
	ctx := context.Background()
	alice, mallory := c.newTenant(t, "alice"), c.newTenant(t, "mallory")

	src := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: alice.ns, Name: "db-creds"}, StringData: map[string]string{"password": "alices-one"}}
	must(t, alice.c.Create(ctx, src))
	must(t, alice.c.Create(ctx, userProvided(alice.ns, "db", "db-creds")))
	waitFor(t, time.Minute, "alice's user-provided instance Ready", instanceReady(alice.c, alice.ns, "db"))
	must(t, alice.c.Create(ctx, &scv1beta1.ServiceBinding{ObjectMeta: metav1.ObjectMeta{Namespace: alice.ns, Name: "app"},
		Spec: scv1beta1.ServiceBindingSpec{InstanceRef: scv1beta1.InstanceReference{Name: "db"}}}))
	waitFor(t, time.Minute, "alice's binding Ready", bindingReady(alice.c, alice.ns, "app"))
	must(t, alice.c.Get(ctx, client.ObjectKeyFromObject(src), src))
	src.Data["password"] = []byte("alices-two")
	must(t, alice.c.Update(ctx, src))
	waitFor(t, time.Minute, "the new password in alice's binding Secret", func() error {
		s := &corev1.Secret{}
		if err := alice.c.Get(ctx, client.ObjectKey{Namespace: alice.ns, Name: "app"}, s); err != nil {
			return err
		}
		if string(s.Data["password"]) != "alices-two" {
			return fmt.Errorf("password not updated yet")
		}
		return nil
	})

	// A namespace field is dropped by the API server; the controller looks
	// in mallory's namespace only.
	steal := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "servicecatalog.k8s.io/v1beta1", "kind": "ServiceInstance",
		"metadata": map[string]any{"namespace": mallory.ns, "name": "steal"},
		"spec":     map[string]any{"userProvided": map[string]any{"secretRef": map[string]any{"namespace": alice.ns, "name": "db-creds"}}},
	}}
	must(t, mallory.c.Create(ctx, steal))
	must(t, mallory.c.Create(ctx, &scv1beta1.ServiceBinding{ObjectMeta: metav1.ObjectMeta{Namespace: mallory.ns, Name: "loot"},
		Spec: scv1beta1.ServiceBindingSpec{InstanceRef: scv1beta1.InstanceReference{Name: "steal"}}}))
	waitFor(t, time.Minute, "mallory's instance refused", func() error {
		i := &scv1beta1.ServiceInstance{}
		if err := mallory.c.Get(ctx, client.ObjectKey{Namespace: mallory.ns, Name: "steal"}, i); err != nil {
			return err
		}
		cond := i.Status.GetCondition(scv1beta1.ServiceInstanceConditionReady)
		if cond == nil || cond.Reason != scv1beta1.ReasonUserProvidedSecretNotFound {
			return fmt.Errorf("Ready condition %s", describeInstanceCond(cond))
		}
		if strings.Contains(cond.Message, alice.ns) || !strings.Contains(cond.Message, mallory.ns) {
			t.Errorf("message %q: want mallory's namespace named and alice's not", cond.Message)
		}
		return nil
	})
	waitFor(t, time.Minute, "mallory's binding waiting", func() error {
		b := &scv1beta1.ServiceBinding{}
		if err := mallory.c.Get(ctx, client.ObjectKey{Namespace: mallory.ns, Name: "loot"}, b); err != nil {
			return err
		}
		if cond := b.Status.GetCondition(scv1beta1.ServiceBindingConditionReady); cond == nil || cond.Reason != scv1beta1.ReasonErrorInstanceNotReady {
			return fmt.Errorf("binding conditions %+v", b.Status.Conditions)
		}
		return nil
	})
	if err := mallory.c.Get(ctx, client.ObjectKey{Namespace: mallory.ns, Name: "loot"}, &corev1.Secret{}); !apierrors.IsNotFound(err) {
		t.Errorf("mallory's binding Secret: %v, want none", err)
	}
}

func userProvided(ns, name, secret string) *scv1beta1.ServiceInstance {
	return &scv1beta1.ServiceInstance{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: scv1beta1.ServiceInstanceSpec{UserProvided: &scv1beta1.UserProvidedCredentials{
			SecretRef: scv1beta1.UserProvidedSecretReference{Name: secret}}}}
}
