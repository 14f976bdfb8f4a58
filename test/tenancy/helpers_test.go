package tenancy

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	scv1beta1 "github.com/svcat-io/svcat/api/v1beta1"
	"github.com/svcat-io/svcat/internal/localcluster"
)

func waitFor(t testing.TB, timeout time.Duration, what string, check func() error) {
	t.Helper()
	localcluster.EventuallyEvery(t, timeout, 100*time.Millisecond, what, check)
}

// envInt reads a size knob, with a small default for make test.
func envInt(t testing.TB, name string, def int) int {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		t.Fatalf("%s=%q: want a non-negative integer", name, v)
	}
	return n
}

// cleanupNamespace removes every catalog object of a namespace without
// the controller: envtest runs no namespace controller, so objects of a
// deleted namespace would otherwise stay and reach the next test's
// controller.
func cleanupNamespace(t testing.TB, c client.Client, ns string) {
	ctx := context.Background()
	lists := []client.ObjectList{&scv1beta1.ServiceBindingList{}, &scv1beta1.ServiceInstanceList{},
		&scv1beta1.ServicePlanList{}, &scv1beta1.ServiceClassList{}, &scv1beta1.ServiceBrokerList{}}
	for _, l := range lists {
		if err := c.List(ctx, l, client.InNamespace(ns)); err != nil {
			t.Logf("cleanup of %s: %v", ns, err)
			continue
		}
		eachItem(l, func(o client.Object) { forceDelete(ctx, c, o) })
	}
}

// forceDelete drops the finalizers and deletes.
func forceDelete(ctx context.Context, c client.Client, o client.Object) {
	if len(o.GetFinalizers()) > 0 {
		p := client.MergeFrom(o.DeepCopyObject().(client.Object))
		o.SetFinalizers(nil)
		_ = c.Patch(ctx, o, p)
	}
	_ = client.IgnoreNotFound(c.Delete(ctx, o))
}

// eachItem calls f with each item of l, in place.
func eachItem(l client.ObjectList, f func(client.Object)) {
	_ = meta.EachListItem(l, func(o runtime.Object) error {
		f(o.(client.Object))
		return nil
	})
}

// cleanupClusterBroker removes a ClusterServiceBroker with its classes and
// plans when the test ends.
func cleanupClusterBroker(t *testing.T, c client.Client, name string) {
	t.Cleanup(func() {
		ctx := context.Background()
		for _, l := range []client.ObjectList{&scv1beta1.ClusterServicePlanList{}, &scv1beta1.ClusterServiceClassList{}} {
			if err := c.List(ctx, l); err == nil {
				eachItem(l, func(o client.Object) {
					if brokerOf(o) == name {
						forceDelete(ctx, c, o)
					}
				})
			}
		}
		forceDelete(ctx, c, &scv1beta1.ClusterServiceBroker{ObjectMeta: metav1.ObjectMeta{Name: name}})
	})
}

func brokerOf(o client.Object) string {
	switch o := o.(type) {
	case *scv1beta1.ClusterServiceClass:
		return o.Spec.ClusterServiceBrokerName
	case *scv1beta1.ClusterServicePlan:
		return o.Spec.ClusterServiceBrokerName
	}
	return ""
}

// createBroker creates a namespaced ServiceBroker as the tenant, with a
// basic-auth Secret when user is not "".
func (tn *tenant) createBroker(t *testing.T, name, url, user, password string, mutate ...func(*scv1beta1.ServiceBroker)) {
	t.Helper()
	ctx := context.Background()
	b := &scv1beta1.ServiceBroker{ObjectMeta: metav1.ObjectMeta{Namespace: tn.ns, Name: name}, Spec: scv1beta1.ServiceBrokerSpec{
		CommonServiceBrokerSpec: scv1beta1.CommonServiceBrokerSpec{URL: url, RelistBehavior: scv1beta1.ServiceBrokerRelistBehaviorManual}}}
	if user != "" {
		must(t, tn.c.Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: tn.ns, Name: name + "-auth"},
			Data: map[string][]byte{"username": []byte(user), "password": []byte(password)}}))
		b.Spec.AuthInfo = &scv1beta1.ServiceBrokerAuthInfo{Basic: &scv1beta1.BasicAuthConfig{SecretRef: &scv1beta1.LocalObjectReference{Name: name + "-auth"}}}
	}
	for _, m := range mutate {
		m(b)
	}
	must(t, tn.c.Create(ctx, b))
}

// brokerReady returns the broker's Ready condition, nil when it has none.
func brokerReady(ctx context.Context, c client.Client, ns, name string) (*scv1beta1.ServiceBrokerCondition, error) {
	b := &scv1beta1.ServiceBroker{}
	if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, b); err != nil {
		return nil, err
	}
	return b.Status.GetCondition(scv1beta1.ServiceBrokerConditionReady), nil
}

// waitBrokerReason waits for the broker's Ready condition to be False with
// reason, and returns it; it fails at once when the broker becomes Ready.
func waitBrokerReason(t *testing.T, c client.Client, ns, name, reason string, timeout time.Duration) *scv1beta1.ServiceBrokerCondition {
	t.Helper()
	var got *scv1beta1.ServiceBrokerCondition
	waitFor(t, timeout, fmt.Sprintf("ServiceBroker %s/%s Ready=False reason %s", ns, name, reason), func() error {
		cond, err := brokerReady(context.Background(), c, ns, name)
		if err != nil {
			return err
		}
		if cond == nil || cond.Status != scv1beta1.ConditionFalse || cond.Reason != reason {
			return fmt.Errorf("Ready condition %s", describeBrokerCond(cond))
		}
		got = cond
		return nil
	})
	return got
}

func describeBrokerCond(c *scv1beta1.ServiceBrokerCondition) string {
	if c == nil {
		return "absent"
	}
	return fmt.Sprintf("%s reason %q message %q", c.Status, c.Reason, c.Message)
}

func describeInstanceCond(c *scv1beta1.ServiceInstanceCondition) string {
	if c == nil {
		return "absent"
	}
	return fmt.Sprintf("%s reason %q message %q", c.Status, c.Reason, c.Message)
}

// instanceReady is nil once the instance is Ready.
func instanceReady(c client.Client, ns, name string) func() error {
	return func() error {
		i := &scv1beta1.ServiceInstance{}
		if err := c.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, i); err != nil {
			return err
		}
		if cond := i.Status.GetCondition(scv1beta1.ServiceInstanceConditionReady); cond == nil || cond.Status != scv1beta1.ConditionTrue {
			return fmt.Errorf("Ready condition %s", describeInstanceCond(cond))
		}
		return nil
	}
}

// bindingReady is nil once the binding is Ready.
func bindingReady(c client.Client, ns, name string) func() error {
	return func() error {
		b := &scv1beta1.ServiceBinding{}
		if err := c.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, b); err != nil {
			return err
		}
		if cond := b.Status.GetCondition(scv1beta1.ServiceBindingConditionReady); cond == nil || cond.Status != scv1beta1.ConditionTrue {
			return fmt.Errorf("not Ready: %+v", b.Status.Conditions)
		}
		return nil
	}
}

// namespacedInstance is an instance of a class of the namespace's own
// brokers.
func namespacedInstance(ns, name, class, plan string) *scv1beta1.ServiceInstance {
	return &scv1beta1.ServiceInstance{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: scv1beta1.ServiceInstanceSpec{PlanReference: scv1beta1.PlanReference{ServiceClassExternalName: class, ServicePlanExternalName: plan}}}
}
