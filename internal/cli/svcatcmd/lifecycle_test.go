package svcatcmd_test

import (
	"context"
	"encoding/json"
	"reflect"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/svcat-io/svcat/api/v1beta1"
	"github.com/svcat-io/svcat/internal/localcluster"
)

// fakeController stands in for the catalog controller, which is written
// elsewhere: it marks new instances provisioned and new bindings ready with
// a secret, the way the controller reports success, until the test ends.
func fakeController(t *testing.T, env *localcluster.Env, ns string) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	t.Cleanup(func() { cancel(); <-done })
	go func() {
		defer close(done)
		for ctx.Err() == nil {
			reconcileOnce(ctx, env.Client, ns)
			select {
			case <-ctx.Done():
			case <-time.After(50 * time.Millisecond):
			}
		}
	}()
}

func reconcileOnce(ctx context.Context, c client.Client, ns string) {
	var instances v1beta1.ServiceInstanceList
	if c.List(ctx, &instances, client.InNamespace(ns)) == nil {
		for i := range instances.Items {
			in := &instances.Items[i]
			if in.Status.ObservedGeneration < in.Generation && in.DeletionTimestamp == nil {
				markProvisioned(in)
				_ = c.Status().Update(ctx, in)
			}
		}
	}
	var bindings v1beta1.ServiceBindingList
	if c.List(ctx, &bindings, client.InNamespace(ns)) == nil {
		for i := range bindings.Items {
			b := &bindings.Items[i]
			if len(b.Status.Conditions) > 0 || b.DeletionTimestamp != nil {
				continue
			}
			secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: b.Spec.SecretName},
				Data: map[string][]byte{"brokers": []byte("localhost:9092"), "topicPrefix": []byte("t1-")}}
			if secret.Name == "" {
				secret.Name = b.Name
			}
			_ = c.Create(ctx, secret)
			b.Status.Conditions = []v1beta1.ServiceBindingCondition{{Type: v1beta1.ServiceBindingConditionReady, Status: v1beta1.ConditionTrue,
				LastTransitionTime: bindTime, Reason: "InjectedBindResult", Message: "Injected bind result"}}
			b.Status.LastConditionState = "Ready"
			_ = c.Status().Update(ctx, b)
		}
	}
}

// TestInstanceLifecycle provisions, binds, touches, unbinds and deprovisions
// through the commands, checking what they write to the API and print.
func TestInstanceLifecycle(t *testing.T) {
	env := localcluster.Get(t)
	seedCatalog(t, env)
	ns := fixedNamespace(t, env, "lifecycle")

	// Without --wait provision prints the instance as created.
	r := svcat(t, env, "", "-n", ns, "provision", "orders", "--class", "cloudkarafka", "--plan", "duck",
		"-p", "topicPrefix=orders", "-p", "acl=read", "-p", "acl=write", "-s", "kafka-params[extra]", "--external-id", "ext-orders")
	mustSucceed(t, r)
	golden(t, "provision-instance", r.stdout)

	var in v1beta1.ServiceInstance
	get(t, env, ns, "orders", &in)
	if in.Spec.ClusterServiceClassName != classID || in.Spec.ClusterServicePlanName != planID || in.Spec.ExternalID != "ext-orders" {
		t.Errorf("instance spec refers to %q/%q (external ID %q), want the Kubernetes names %q/%q", in.Spec.ClusterServiceClassName,
			in.Spec.ClusterServicePlanName, in.Spec.ExternalID, classID, planID)
	}
	var params map[string]any
	if err := json.Unmarshal(in.Spec.Parameters.Raw, &params); err != nil {
		t.Fatal(err)
	}
	if want := map[string]any{"topicPrefix": "orders", "acl": []any{"read", "write"}}; !reflect.DeepEqual(params, want) {
		t.Errorf("parameters %v, want %v", params, want)
	}
	if want := []v1beta1.ParametersFromSource{{SecretKeyRef: &v1beta1.SecretKeyReference{Name: "kafka-params", Key: "extra"}}}; !reflect.DeepEqual(in.Spec.ParametersFrom, want) {
		t.Errorf("parametersFrom %+v, want %+v", in.Spec.ParametersFrom, want)
	}

	fakeController(t, env, ns)

	// With --wait: the class has one plan, so --plan may be left out.
	r = svcat(t, env, "", "-n", ns, "provision", "billing", "--class", "cloudkarafka", "--wait", "--interval", "100ms")
	mustSucceed(t, r)
	golden(t, "provision-instance-and-wait", r.stdout)
	if r.stderr != "Waiting for instance \"billing\" to be provisioned...\n" {
		t.Errorf("progress on a non-terminal:\n%s", r.stderr)
	}

	r = svcat(t, env, "", "-n", ns, "bind", "billing", "--name", "billing-app", "--secret-name", "billing-creds", "--wait", "--interval", "100ms")
	mustSucceed(t, r)
	golden(t, "bind-instance-and-wait", r.stdout)

	r = svcat(t, env, "", "-n", ns, "bind", "orders")
	mustSucceed(t, r)
	golden(t, "bind-instance", r.stdout)

	r = svcat(t, env, "", "-n", ns, "touch", "instance", "billing", "--wait", "--interval", "100ms")
	mustSucceed(t, r)
	get(t, env, ns, "billing", &in)
	if in.Spec.UpdateRequests != 1 {
		t.Errorf("touch: updateRequests %d, want 1", in.Spec.UpdateRequests)
	}

	r = svcat(t, env, "", "-n", ns, "unbind", "billing", "--wait", "--interval", "100ms")
	mustSucceed(t, r)
	golden(t, "unbind-instance", r.stdout)
	gone(t, env, ns, "billing-app", &v1beta1.ServiceBinding{})

	r = svcat(t, env, "", "-n", ns, "unbind", "--name", "orders")
	mustSucceed(t, r)
	gone(t, env, ns, "orders", &v1beta1.ServiceBinding{})

	r = svcat(t, env, "", "-n", ns, "deprovision", "billing", "--wait", "--interval", "100ms")
	mustSucceed(t, r)
	golden(t, "deprovision-instance", r.stdout)
	gone(t, env, ns, "billing", &v1beta1.ServiceInstance{})
}

// TestAbandon: --abandon asks for confirmation and marks the object for the
// controller before deleting it; the finalizer stays for the controller to
// remove.
func TestAbandon(t *testing.T) {
	env := localcluster.Get(t)
	seedCatalog(t, env)
	ns := fixedNamespace(t, env, "abandon")
	ctx := context.Background()
	if _, err := createInstance(ctx, env.Client, ns, "stuck", "", nil); err != nil {
		t.Fatal(err)
	}
	b := &v1beta1.ServiceBinding{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "stuck-binding", Finalizers: []string{v1beta1.FinalizerServiceCatalog}}}
	b.Spec.InstanceRef.Name = "stuck"
	if err := env.Client.Create(ctx, b); err != nil {
		t.Fatal(err)
	}

	r := svcat(t, env, "yes\n", "-n", ns, "unbind", "stuck", "--abandon")
	mustSucceed(t, r)
	if r.stdout != "deleted stuck-binding\n" {
		t.Errorf("unbind printed %q", r.stdout)
	}
	get(t, env, ns, "stuck-binding", b)
	if b.Annotations[v1beta1.AnnotationAbandon] != v1beta1.AnnotationAbandonValue || b.DeletionTimestamp == nil {
		t.Errorf("binding after unbind --abandon: annotations %v, deletion %v", b.Annotations, b.DeletionTimestamp)
	}

	r = svcat(t, env, "", "-n", ns, "deprovision", "stuck", "--abandon", "-y")
	mustSucceed(t, r)
	var in v1beta1.ServiceInstance
	get(t, env, ns, "stuck", &in)
	if in.Annotations[v1beta1.AnnotationAbandon] != v1beta1.AnnotationAbandonValue || in.DeletionTimestamp == nil {
		t.Errorf("instance after deprovision --abandon: annotations %v, deletion %v", in.Annotations, in.DeletionTimestamp)
	}
}

// TestBrokerCommands registers, syncs and deregisters brokers at both
// scopes.
func TestBrokerCommands(t *testing.T) {
	env := localcluster.Get(t)
	ns := fixedNamespace(t, env, "brokers")
	ctx := context.Background()

	r := svcat(t, env, "", "-n", ns, "register", "ups", "--url", "http://ups.brokers.svc:8080", "--basic-secret", "ups-auth",
		"--relist-behavior", "manual", "--class-restrictions", "spec.externalName in (mysql)", "--plan-restrictions", "spec.free == true")
	mustSucceed(t, r)
	golden(t, "register-broker", r.stdout)
	var nb v1beta1.ServiceBroker
	get(t, env, ns, "ups", &nb)
	want := v1beta1.ServiceBrokerSpec{
		CommonServiceBrokerSpec: v1beta1.CommonServiceBrokerSpec{
			URL:            "http://ups.brokers.svc:8080",
			RelistBehavior: v1beta1.ServiceBrokerRelistBehaviorManual,
			CatalogRestrictions: &v1beta1.CatalogRestrictions{
				ServiceClass: []string{"spec.externalName in (mysql)"}, ServicePlan: []string{"spec.free == true"}},
		},
		AuthInfo: &v1beta1.ServiceBrokerAuthInfo{Basic: &v1beta1.BasicAuthConfig{SecretRef: &v1beta1.LocalObjectReference{Name: "ups-auth"}}},
	}
	if !reflect.DeepEqual(nb.Spec, want) {
		t.Errorf("broker spec\n%+v\nwant\n%+v", nb.Spec, want)
	}

	r = svcat(t, env, "", "-n", ns, "sync", "broker", "ups")
	mustSucceed(t, r)
	golden(t, "sync-broker", r.stdout)
	get(t, env, ns, "ups", &nb)
	if nb.Spec.RelistRequests != 1 {
		t.Errorf("relistRequests %d after sync, want 1", nb.Spec.RelistRequests)
	}

	r = svcat(t, env, "", "-n", ns, "register", "shared", "--url", "https://shared.example.com", "--scope", "cluster",
		"--bearer-secret", "shared-token", "--relist-duration", "30m")
	mustSucceed(t, r)
	t.Cleanup(func() {
		_ = env.Client.Delete(ctx, &v1beta1.ClusterServiceBroker{ObjectMeta: metav1.ObjectMeta{Name: "shared"}})
	})
	var cb v1beta1.ClusterServiceBroker
	get(t, env, "", "shared", &cb)
	if cb.Spec.RelistBehavior != v1beta1.ServiceBrokerRelistBehaviorDuration || cb.Spec.RelistDuration.Duration != 30*time.Minute ||
		cb.Spec.AuthInfo.Bearer.SecretRef.Namespace != ns || cb.Spec.AuthInfo.Bearer.SecretRef.Name != "shared-token" {
		t.Errorf("cluster broker spec %+v", cb.Spec)
	}
	r = svcat(t, env, "", "-n", ns, "relist", "broker", "shared", "--scope", "cluster")
	mustSucceed(t, r)

	r = svcat(t, env, "", "-n", ns, "deregister", "ups", "--wait", "--interval", "100ms")
	mustSucceed(t, r)
	golden(t, "deregister-broker", r.stdout)
	gone(t, env, ns, "ups", &v1beta1.ServiceBroker{})
	r = svcat(t, env, "", "-n", ns, "deregister", "shared", "--scope", "cluster")
	mustSucceed(t, r)
	gone(t, env, "", "shared", &v1beta1.ClusterServiceBroker{})

	// Mistakes are caught before anything is sent.
	for _, args := range [][]string{
		{"register", "x"},
		{"register", "x", "--url", "ftp://x"},
		{"register", "x", "--url", "http://x", "--basic-secret", "a", "--bearer-secret", "b"},
		{"register", "x", "--url", "http://x", "--relist-behavior", "sometimes"},
		{"register", "x", "--url", "http://x", "--relist-behavior", "manual", "--relist-duration", "1m"},
		{"register", "x", "--url", "http://x", "--scope", "all"},
	} {
		if r := svcat(t, env, "", append([]string{"-n", ns}, args...)...); r.code != 2 {
			t.Errorf("%v: exit %d, want 2; stderr: %s", args, r.code, r.stderr)
		}
	}
}

func mustSucceed(t *testing.T, r result) {
	t.Helper()
	if r.code != 0 {
		t.Fatalf("exit %d; stderr:\n%s", r.code, r.stderr)
	}
}

func get(t *testing.T, env *localcluster.Env, ns, name string, obj client.Object) {
	t.Helper()
	if err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, obj); err != nil {
		t.Fatalf("getting %s/%s: %v", ns, name, err)
	}
}

func gone(t *testing.T, env *localcluster.Env, ns, name string, obj client.Object) {
	t.Helper()
	err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, obj)
	if !apierrors.IsNotFound(err) {
		t.Errorf("%s/%s still exists (err %v)", ns, name, err)
	}
}

// TestAmbiguousClass: a namespaced broker offering a class with the same
// name as a cluster-wide one; provision says so and --scope chooses.
func TestAmbiguousClass(t *testing.T) {
	env := localcluster.Get(t)
	seedCatalog(t, env)
	ns := fixedNamespace(t, env, "ambiguous")
	ctx := context.Background()
	class := &v1beta1.ServiceClass{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "local-kafka-id"}}
	class.Spec.ExternalName, class.Spec.ExternalID, class.Spec.Description = "cloudkarafka", "local-kafka-id", "Kafka in this namespace"
	class.Spec.ServiceBrokerName = "local"
	plan := &v1beta1.ServicePlan{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "local-small-id"}}
	plan.Spec.ExternalName, plan.Spec.ExternalID, plan.Spec.Description = "small", "local-small-id", "Small"
	plan.Spec.ServiceBrokerName, plan.Spec.ServiceClassRef.Name = "local", "local-kafka-id"
	for _, o := range []client.Object{class, plan} {
		if err := env.Client.Create(ctx, o); err != nil {
			t.Fatal(err)
		}
	}

	r := svcat(t, env, "", "-n", ns, "provision", "x", "--class", "cloudkarafka")
	if r.code != 1 {
		t.Errorf("exit %d, want 1", r.code)
	}
	golden(t, "error-ambiguous-class", r.stderr)

	r = svcat(t, env, "", "-n", ns, "marketplace")
	mustSucceed(t, r)
	golden(t, "marketplace-both-scopes", r.stdout)

	r = svcat(t, env, "", "-n", ns, "provision", "local", "--class", "cloudkarafka", "--scope", "namespace")
	mustSucceed(t, r)
	var in v1beta1.ServiceInstance
	get(t, env, ns, "local", &in)
	if in.Spec.ServiceClassName != "local-kafka-id" || in.Spec.ServicePlanName != "local-small-id" || in.Spec.ClusterServiceClassName != "" {
		t.Errorf("instance refers to %+v", in.Spec.PlanReference)
	}
	r = svcat(t, env, "", "-n", ns, "provision", "shared", "--class", "cloudkarafka", "--scope", "cluster")
	mustSucceed(t, r)
	get(t, env, ns, "shared", &in)
	if in.Spec.ClusterServiceClassName != classID || in.Spec.ClusterServicePlanName != planID {
		t.Errorf("instance refers to %+v", in.Spec.PlanReference)
	}
}
