// Package security checks with real users on the real API server that a
// user who may create ServiceBindings in one namespace cannot get at the
// credentials of another namespace or of a broker, directly or through the
// controller.
package security

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	scv1beta1 "github.com/svcat-io/svcat/api/v1beta1"
	"github.com/svcat-io/svcat/internal/controllermanager/testcontroller"
	"github.com/svcat-io/svcat/internal/localcluster"
	"github.com/svcat-io/svcat/internal/testbroker"
)

func TestMain(m *testing.M) {
	ctrl.SetLogger(logr.Discard())
	localcluster.Main(m)
}

func wait(t *testing.T, what string, check func() error) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		err := check()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %v", what, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func bindingReady(ctx context.Context, c client.Client, ns, name string) func() error {
	return func() error {
		b := &scv1beta1.ServiceBinding{}
		if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, b); err != nil {
			return err
		}
		if cond := b.Status.GetCondition(scv1beta1.ServiceBindingConditionReady); cond == nil || cond.Status != scv1beta1.ConditionTrue {
			return fmt.Errorf("not Ready: %+v", b.Status.Conditions)
		}
		return nil
	}
}

func TestBindingCreatorCannotReachOtherCredentials(t *testing.T) {
	env := localcluster.Get(t)
	ctx := context.Background()
	admin := env.Client

	o := testcontroller.Options()
	o.Controller.ClusterID = "security"
	testcontroller.StartForTest(t, env, o)

	broker := testbroker.Start(t, testbroker.Options{})
	brokerNS, nsA, nsB := env.Namespace(t), env.Namespace(t), env.Namespace(t)
	must(t, admin.Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: brokerNS, Name: "broker-creds"},
		Data: map[string][]byte{"username": []byte(testbroker.DefaultUsername), "password": []byte(testbroker.DefaultPassword)}}))
	must(t, admin.Create(ctx, &scv1beta1.ClusterServiceBroker{ObjectMeta: metav1.ObjectMeta{Name: "cloudkarafka"}, Spec: scv1beta1.ClusterServiceBrokerSpec{
		CommonServiceBrokerSpec: scv1beta1.CommonServiceBrokerSpec{URL: broker.URL(), RelistBehavior: scv1beta1.ServiceBrokerRelistBehaviorDuration},
		AuthInfo:                &scv1beta1.ClusterServiceBrokerAuthInfo{Basic: &scv1beta1.ClusterBasicAuthConfig{SecretRef: &scv1beta1.ObjectReference{Namespace: brokerNS, Name: "broker-creds"}}}}}))
	for _, ns := range []string{nsA, nsB} {
		must(t, admin.Create(ctx, &scv1beta1.ServiceInstance{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "kafka"},
			Spec: scv1beta1.ServiceInstanceSpec{PlanReference: scv1beta1.PlanReference{ClusterServiceClassExternalName: "cloudkarafka", ClusterServicePlanExternalName: "duck"}}}))
	}
	// Namespace B's own binding and its credentials.
	must(t, admin.Create(ctx, &scv1beta1.ServiceBinding{ObjectMeta: metav1.ObjectMeta{Namespace: nsB, Name: "b-creds"},
		Spec: scv1beta1.ServiceBindingSpec{InstanceRef: scv1beta1.InstanceReference{Name: "kafka"}}}))
	wait(t, "namespace B's binding", bindingReady(ctx, admin, nsB, "b-creds"))
	bSecret := &corev1.Secret{}
	must(t, admin.Get(ctx, client.ObjectKey{Namespace: nsB, Name: "b-creds"}, bSecret))
	bPassword := string(bSecret.Data["password"])

	// alice may create bindings and read Secrets in A, nothing else.
	must(t, admin.Create(ctx, &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Namespace: nsA, Name: "binder"}, Rules: []rbacv1.PolicyRule{
		{APIGroups: []string{"servicecatalog.k8s.io"}, Resources: []string{"servicebindings"}, Verbs: []string{"create", "get", "list", "watch"}},
		{APIGroups: []string{""}, Resources: []string{"secrets"}, Verbs: []string{"get", "list"}},
	}}))
	must(t, admin.Create(ctx, &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: nsA, Name: "alice-binder"},
		RoleRef:  rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "Role", Name: "binder"},
		Subjects: []rbacv1.Subject{{Kind: "User", APIGroup: "rbac.authorization.k8s.io", Name: "alice"}}}))
	cfg, err := env.User("alice")
	if err != nil {
		t.Fatal(err)
	}
	alice, err := client.New(cfg, client.Options{Scheme: env.Scheme})
	if err != nil {
		t.Fatal(err)
	}

	forbidden := []struct {
		what string
		do   func() error
	}{
		{"read namespace B's binding Secret", func() error {
			return alice.Get(ctx, client.ObjectKey{Namespace: nsB, Name: "b-creds"}, &corev1.Secret{})
		}},
		{"read the broker's credentials", func() error {
			return alice.Get(ctx, client.ObjectKey{Namespace: brokerNS, Name: "broker-creds"}, &corev1.Secret{})
		}},
		{"create a binding in namespace B", func() error {
			return alice.Create(ctx, &scv1beta1.ServiceBinding{ObjectMeta: metav1.ObjectMeta{Namespace: nsB, Name: "steal"},
				Spec: scv1beta1.ServiceBindingSpec{InstanceRef: scv1beta1.InstanceReference{Name: "kafka"}}})
		}},
		{"read namespace B's binding", func() error {
			return alice.Get(ctx, client.ObjectKey{Namespace: nsB, Name: "b-creds"}, &scv1beta1.ServiceBinding{})
		}},
		{"change the broker", func() error {
			return alice.Delete(ctx, &scv1beta1.ClusterServiceBroker{ObjectMeta: metav1.ObjectMeta{Name: "cloudkarafka"}})
		}},
	}
	for _, f := range forbidden {
		if err := f.do(); !apierrors.IsForbidden(err) {
			t.Errorf("alice could %s (err %v), want Forbidden", f.what, err)
		}
	}

	// Through the controller: a binding in A whose transforms copy Secrets
	// of other namespaces must not deliver them.
	for i, ref := range []scv1beta1.ObjectReference{{Namespace: nsB, Name: "b-creds"}, {Namespace: brokerNS, Name: "broker-creds"}} {
		name := fmt.Sprintf("copy-%d", i)
		must(t, alice.Create(ctx, &scv1beta1.ServiceBinding{ObjectMeta: metav1.ObjectMeta{Namespace: nsA, Name: name},
			Spec: scv1beta1.ServiceBindingSpec{InstanceRef: scv1beta1.InstanceReference{Name: "kafka"},
				SecretTransforms: []scv1beta1.SecretTransform{{AddKeysFrom: &scv1beta1.AddKeysFromTransform{SecretRef: &ref}}}}}))
		wait(t, name+" refused", func() error {
			b := &scv1beta1.ServiceBinding{}
			if err := alice.Get(ctx, client.ObjectKey{Namespace: nsA, Name: name}, b); err != nil {
				return err
			}
			// The refusal is terminal: v0.3's reasons put it on the Failed
			// condition, and Ready reports the orphan mitigation (the unbind)
			// that follows it.
			ready := b.Status.GetCondition(scv1beta1.ServiceBindingConditionReady)
			cond := b.Status.GetCondition(scv1beta1.ServiceBindingConditionFailed)
			if cond == nil {
				cond = ready
			}
			if ready == nil || ready.Status == scv1beta1.ConditionTrue || cond == nil || !strings.Contains(cond.Message, "namespace") {
				return fmt.Errorf("want a condition refusing the other namespace, got %+v", b.Status.Conditions)
			}
			return nil
		})
		s := &corev1.Secret{}
		err := alice.Get(ctx, client.ObjectKey{Namespace: nsA, Name: name}, s)
		if err == nil {
			for k, v := range s.Data {
				if string(v) == bPassword || string(v) == testbroker.DefaultPassword {
					t.Errorf("binding %s's Secret carries key %q copied from another namespace", name, k)
				}
			}
		} else if !apierrors.IsNotFound(err) {
			t.Fatal(err)
		}
	}

	// And what alice may do works: her own binding, her own Secret.
	must(t, alice.Create(ctx, &scv1beta1.ServiceBinding{ObjectMeta: metav1.ObjectMeta{Namespace: nsA, Name: "mine"},
		Spec: scv1beta1.ServiceBindingSpec{InstanceRef: scv1beta1.InstanceReference{Name: "kafka"}}}))
	wait(t, "alice's binding", bindingReady(ctx, alice, nsA, "mine"))
	mine := &corev1.Secret{}
	must(t, alice.Get(ctx, client.ObjectKey{Namespace: nsA, Name: "mine"}, mine))
	if len(mine.Data["password"]) == 0 || string(mine.Data["password"]) == bPassword {
		t.Errorf("alice's Secret should hold her own binding's password")
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
