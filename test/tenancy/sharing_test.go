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
	"sigs.k8s.io/controller-runtime/pkg/client"

	scv1beta1 "github.com/svcat-io/svcat/api/v1beta1"
	"github.com/svcat-io/svcat/internal/osb"
	"github.com/svcat-io/svcat/internal/testbroker"
)

// sharedBinding is a binding in ns of the instance owner/instance.
func sharedBinding(ns, name, owner, instance string) *scv1beta1.ServiceBinding {
	b := kafkaBinding(ns, name, instance)
	b.Spec.InstanceRef.Namespace = owner
	return b
}

// bindingCondition waits until the binding's Ready condition has reason
// and returns it.
func bindingReason(t *testing.T, c client.Client, ns, name, reason string) *scv1beta1.ServiceBindingCondition {
	t.Helper()
	var got *scv1beta1.ServiceBindingCondition
	waitFor(t, time.Minute, fmt.Sprintf("binding %s/%s Ready reason %s", ns, name, reason), func() error {
		b := &scv1beta1.ServiceBinding{}
		if err := c.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, b); err != nil {
			return err
		}
		cond := b.Status.GetCondition(scv1beta1.ServiceBindingConditionReady)
		if cond == nil || cond.Reason != reason {
			return fmt.Errorf("Ready condition %+v", cond)
		}
		got = cond
		return nil
	})
	return got
}

// setShare sets the instance's spec.sharedWith as tn.
func setShare(t *testing.T, tn *tenant, name string, namespaces ...string) error {
	t.Helper()
	ctx := context.Background()
	i := &scv1beta1.ServiceInstance{}
	if err := tn.c.Get(ctx, client.ObjectKey{Namespace: tn.ns, Name: name}, i); err != nil {
		return err
	}
	i.Spec.SharedWith = nil
	for _, ns := range namespaces {
		i.Spec.SharedWith = append(i.Spec.SharedWith, scv1beta1.SharedNamespace{Namespace: ns})
	}
	return tn.c.Update(ctx, i)
}

func secretAbsent(c client.Client, ns, name string) func() error {
	return func() error {
		err := c.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, &corev1.Secret{})
		if apierrors.IsNotFound(err) {
			return nil
		}
		if err == nil {
			return fmt.Errorf("the Secret %s/%s exists", ns, name)
		}
		return err
	}
}

// eventsFor lists the reasons of the events about the object kind/name in
// ns, as tn sees them.
func eventsFor(t *testing.T, tn *tenant, kind, name string) []string {
	t.Helper()
	l := &corev1.EventList{}
	must(t, tn.c.List(context.Background(), l, client.InNamespace(tn.ns)))
	var out []string
	for _, e := range l.Items {
		if e.InvolvedObject.Kind == kind && e.InvolvedObject.Name == name {
			out = append(out, e.Reason+": "+e.Message)
		}
	}
	return out
}

// Issue 19, sharing across namespaces: the owner (olga) shares her Kafka
// instance with one namespace (bea's); bea binds to it, her Secret lands in
// her namespace and reads olga's topic; carl, whom it is not shared with,
// gets the same refusal as for an instance that does not exist, and no
// Secret; bea cannot edit the share list; deleting the instance waits for
// bea's binding; unsharing unbinds it (events in both namespaces) and
// removes its Secret. Tenants have rights in their own namespace only,
// the controller runs as its own process with the shipped RBAC, and the
// broker is the real kafka-broker.
func TestSharingAcrossNamespaces(t *testing.T) {
	c := setup(t)
	ctx := context.Background()
	c.startController(t, 0)
	kafka, osbURL := startKafkaBroker(t)

	registerKafkaBroker(t, c, osbURL)

	olga, bea, carl := c.newTenant(t, "olga"), c.newTenant(t, "bea"), c.newTenant(t, "carl")
	must(t, olga.c.Create(ctx, kafkaInstance(olga.ns, "kafka", "", `{"topics":[{"name":"orders"}]}`)))
	waitFor(t, 2*time.Minute, "olga's instance Ready", instanceReady(olga.c, olga.ns, "kafka"))
	must(t, olga.c.Create(ctx, kafkaBinding(olga.ns, "writer", "kafka")))
	waitFor(t, time.Minute, "olga's binding Ready", bindingReady(olga.c, olga.ns, "writer"))
	olgaCreds := bindingCredentials(t, olga.c, olga.ns, "writer")
	topic := olgaCreds.TopicPrefix + "orders"
	must(t, produce(ctx, olgaCreds, topic, "order 1"))

	// Before the share: bea's binding of olga's instance and carl's of an
	// instance that does not exist read alike, and nothing reaches the
	// broker.
	binds := kafka.countSuffix("PUT", "")
	must(t, bea.c.Create(ctx, sharedBinding(bea.ns, "reader", olga.ns, "kafka")))
	must(t, carl.c.Create(ctx, sharedBinding(carl.ns, "ghost", olga.ns, "no-such")))
	must(t, carl.c.Create(ctx, sharedBinding(carl.ns, "probe", olga.ns, "kafka")))
	early := bindingReason(t, bea.c, bea.ns, "reader", scv1beta1.ReasonInstanceNotShared)
	ghost := bindingReason(t, carl.c, carl.ns, "ghost", scv1beta1.ReasonInstanceNotShared)
	probe := bindingReason(t, carl.c, carl.ns, "probe", scv1beta1.ReasonInstanceNotShared)
	t.Logf("refusal: %s", probe.Message)
	if strings.ReplaceAll(ghost.Message, `"no-such"`, `"kafka"`) != probe.Message || probe.Status != ghost.Status {
		t.Errorf("an unshared instance and a missing one read differently:\n  %s\n  %s", probe.Message, ghost.Message)
	}
	if !strings.Contains(early.Message, "spec.sharedWith") || !strings.Contains(early.Message, olga.ns) || !strings.Contains(early.Message, bea.ns) {
		t.Errorf("the refusal does not name the instance's namespace, the binding's and what to do: %s", early.Message)
	}
	if g, p := eventsFor(t, carl, "ServiceBinding", "ghost"), eventsFor(t, carl, "ServiceBinding", "probe"); len(g) != len(p) {
		t.Errorf("events for a missing and an unshared instance differ: %q, %q", g, p)
	}
	if n := kafka.countSuffix("PUT", "") - binds; n != 0 {
		t.Errorf("the broker received %d requests for bindings of an unshared instance", n)
	}

	// Only the owner shares: bea may not edit olga's instance.
	if err := setShare(t, bea, "kafka", bea.ns); !apierrors.IsForbidden(err) && !apierrors.IsNotFound(err) {
		t.Fatalf("bea edited olga's share list: %v", err)
	}
	beaOnOlga := &tenant{name: bea.name, ns: olga.ns, c: bea.c}
	if err := setShare(t, beaOnOlga, "kafka", bea.ns); !apierrors.IsForbidden(err) {
		t.Fatalf("bea's update of olga's instance: %v; want Forbidden", err)
	}

	// Olga shares with bea.
	must(t, setShare(t, olga, "kafka", bea.ns))
	waitFor(t, time.Minute, "bea's binding Ready", bindingReady(bea.c, bea.ns, "reader"))
	beaCreds := bindingCredentials(t, bea.c, bea.ns, "reader")
	if beaCreds.Username == olgaCreds.Username {
		t.Error("bea got olga's Kafka user")
	}
	if err := consumeUntil(ctx, beaCreds, topic, "order 1"); err != nil {
		t.Fatalf("bea cannot read the shared instance's topic: %v", err)
	}
	i := &scv1beta1.ServiceInstance{}
	must(t, olga.c.Get(ctx, client.ObjectKey{Namespace: olga.ns, Name: "kafka"}, i))
	if len(i.Status.SharedWith) != 1 || i.Status.SharedWith[0].State != scv1beta1.ShareStateShared {
		t.Errorf("status.sharedWith %+v; want bea's namespace Shared", i.Status.SharedWith)
	}
	// Bea's namespace has the marker that lists the instance for her;
	// carl's has none.
	waitFor(t, 30*time.Second, "the share's marker in bea's namespace", markerIn(c, bea.ns, olga.ns, "kafka", true))
	waitFor(t, time.Second, "no marker in carl's namespace", markerIn(c, carl.ns, olga.ns, "kafka", false))
	describeShared(t, c, olga, bea, carl)
	// Carl still gets nothing.
	time.Sleep(2 * time.Second)
	bindingReason(t, carl.c, carl.ns, "probe", scv1beta1.ReasonInstanceNotShared)
	waitFor(t, time.Second, "no Secret for carl", secretAbsent(carl.c, carl.ns, "probe"))

	// Unsharing unbinds bea's binding and removes its Secret.
	unbinds := kafka.countSuffix("DELETE", "")
	must(t, setShare(t, olga, "kafka"))
	cond := bindingReason(t, bea.c, bea.ns, "reader", scv1beta1.ReasonInstanceNotShared)
	if cond.Status == scv1beta1.ConditionTrue {
		t.Errorf("bea's binding is Ready after the unshare")
	}
	waitFor(t, time.Minute, "bea's Secret removed", secretAbsent(bea.c, bea.ns, "reader"))
	if n := kafka.countSuffix("DELETE", "") - unbinds; n != 1 {
		t.Errorf("the broker received %d DELETEs after the unshare; want the one unbind", n)
	}
	waitFor(t, 30*time.Second, "events of the unshare in both namespaces", func() error {
		b, o := eventsFor(t, bea, "ServiceBinding", "reader"), eventsFor(t, olga, "ServiceInstance", "kafka")
		if !hasPrefix(b, scv1beta1.ReasonUnboundUnshared) || !hasPrefix(o, scv1beta1.ReasonUnboundUnshared) {
			return fmt.Errorf("bea's: %q; olga's: %q", b, o)
		}
		return nil
	})
	waitFor(t, 30*time.Second, "the marker gone with the share", markerIn(c, bea.ns, olga.ns, "kafka", false))
	if consumeUntil(ctx, beaCreds, topic, "order 1") == nil {
		t.Error("bea's old credentials still read the topic after the unshare")
	}

	// Shared again: bea's binding binds again. Deleting the instance then
	// waits for it, as for olga's own bindings.
	must(t, setShare(t, olga, "kafka", bea.ns))
	waitFor(t, time.Minute, "bea's binding Ready again", bindingReady(bea.c, bea.ns, "reader"))
	must(t, olga.c.Delete(ctx, kafkaBinding(olga.ns, "writer", "kafka")))
	must(t, olga.c.Delete(ctx, &scv1beta1.ServiceInstance{ObjectMeta: metav1.ObjectMeta{Namespace: olga.ns, Name: "kafka"}}))
	// Until olga's writer is unbound, the message may name it instead.
	waitFor(t, time.Minute, "the deletion blocked by bea's binding", func() error {
		blocked := waitSettled(t, olga.c, olga.ns, "kafka")
		if blocked.Reason != scv1beta1.ReasonDeprovisionBlockedByExistingCredentials || !strings.Contains(blocked.Message, bea.ns+"/reader") {
			return fmt.Errorf("Ready %s: %s", blocked.Reason, blocked.Message)
		}
		return nil
	})
	if n := kafka.countSuffix("DELETE", "/service_instances/"+i.Spec.ExternalID); n != 0 {
		t.Errorf("the instance was deprovisioned with bea's binding still there")
	}
	must(t, bea.c.Delete(ctx, sharedBinding(bea.ns, "reader", olga.ns, "kafka")))
	waitFor(t, time.Minute, "olga's instance gone once bea's binding went", func() error {
		err := olga.c.Get(ctx, client.ObjectKey{Namespace: olga.ns, Name: "kafka"}, &scv1beta1.ServiceInstance{})
		if apierrors.IsNotFound(err) {
			return nil
		}
		return fmt.Errorf("still there: %v", err)
	})
	waitFor(t, 30*time.Second, "the marker gone with the instance", markerIn(c, bea.ns, olga.ns, "kafka", false))
	// Carl's refused bindings go without a word to the broker.
	deletes := kafka.countSuffix("DELETE", "")
	must(t, carl.c.Delete(ctx, sharedBinding(carl.ns, "probe", olga.ns, "kafka")))
	must(t, carl.c.Delete(ctx, sharedBinding(carl.ns, "ghost", olga.ns, "no-such")))
	waitFor(t, time.Minute, "carl's bindings gone", func() error {
		l := &scv1beta1.ServiceBindingList{}
		if err := carl.c.List(ctx, l, client.InNamespace(carl.ns)); err != nil {
			return err
		}
		if len(l.Items) > 0 {
			return fmt.Errorf("%d left", len(l.Items))
		}
		return nil
	})
	if n := kafka.countSuffix("DELETE", "") - deletes; n != 0 {
		t.Errorf("deleting carl's refused bindings sent %d requests to the broker", n)
	}
}

// markerIn checks whether ns holds the marker of the instance
// owner/name, with what it must say.
func markerIn(c *cluster, ns, owner, name string, want bool) func() error {
	return func() error {
		cm := &corev1.ConfigMap{}
		err := c.env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: scv1beta1.SharedMarkerObjectName(owner, name)}, cm)
		switch {
		case apierrors.IsNotFound(err) && !want:
			return nil
		case err != nil:
			return err
		case !want:
			return fmt.Errorf("marker %s/%s exists: %v", ns, cm.Name, cm.Data)
		case cm.Labels[scv1beta1.LabelSharedInstance] != "true" || cm.Data["namespace"] != owner || cm.Data["name"] != name || cm.Data["class"] == "":
			return fmt.Errorf("marker %s/%s says %v, labels %v", ns, cm.Name, cm.Data, cm.Labels)
		}
		return nil
	}
}

func hasPrefix(l []string, p string) bool {
	for _, s := range l {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

// A service whose catalog metadata does not say "shareable": true is not
// shared: the instance says so (status.sharedWith Refused, a ShareRefused
// condition naming the namespaces and the rule), stays Ready, and a binding
// from the listed namespace gets the same refusal as for an unshared
// instance, with nothing sent to the broker.
func TestSharingNeedsAShareableService(t *testing.T) {
	c := setup(t)
	ctx := context.Background()
	c.startController(t, 0)
	olga, bea := c.newTenant(t, "olga"), c.newTenant(t, "bea")
	b := testbroker.Start(t, testbroker.Options{})
	olga.createBroker(t, "own", b.URL(), testbroker.DefaultUsername, testbroker.DefaultPassword)
	must(t, olga.c.Create(ctx, namespacedInstance(olga.ns, "db", "cloudkarafka", "duck")))
	waitFor(t, time.Minute, "olga's instance Ready", instanceReady(olga.c, olga.ns, "db"))

	// The instance's own namespace is refused at once by the
	// svcat-instance-sharing admission policy.
	err := setShare(t, olga, "db", olga.ns)
	if !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), `spec.sharedWith lists "`+olga.ns+`", the instance's own namespace`) {
		t.Errorf("sharing with the instance's own namespace: %v; want it refused naming the field and the namespace", err)
	}
	must(t, setShare(t, olga, "db", bea.ns))
	var i *scv1beta1.ServiceInstance
	waitFor(t, time.Minute, "the share refused", func() error {
		i = &scv1beta1.ServiceInstance{}
		if err := olga.c.Get(ctx, client.ObjectKey{Namespace: olga.ns, Name: "db"}, i); err != nil {
			return err
		}
		if len(i.Status.SharedWith) != 1 || i.Status.SharedWith[0].State != scv1beta1.ShareStateRefused {
			return fmt.Errorf("status.sharedWith %+v", i.Status.SharedWith)
		}
		return nil
	})
	cond := i.Status.GetCondition(scv1beta1.ServiceInstanceConditionShareRefused)
	if cond == nil || cond.Reason != scv1beta1.ReasonServiceNotShareable || !strings.Contains(cond.Message, bea.ns) || !strings.Contains(cond.Message, `"shareable": true`) {
		t.Errorf("ShareRefused condition %+v; want ServiceNotShareable naming %s and the rule", cond, bea.ns)
	}
	waitFor(t, time.Minute, "olga's instance still Ready", instanceReady(olga.c, olga.ns, "db"))

	must(t, bea.c.Create(ctx, sharedBinding(bea.ns, "reader", olga.ns, "db")))
	bindingReason(t, bea.c, bea.ns, "reader", scv1beta1.ReasonInstanceNotShared)
	if n := len(b.RequestsFor(osb.OpBind)); n != 0 {
		t.Errorf("the broker received %d binds for a share it refused", n)
	}
}
