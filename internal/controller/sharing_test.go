package controller_test

import (
	"context"
	"fmt"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	scv1beta1 "github.com/svcat-io/svcat/api/v1beta1"
	"github.com/svcat-io/svcat/internal/osb"
)

// A bind from a namespace the instance is shared with: the request names
// the consuming namespace (context.namespace, app_guid its UID) and the
// owner's (context.instance_namespace), the Secret is written in the
// consuming namespace only, and the instance reports the share.
func TestSharedBindRequest(t *testing.T) {
	t.Parallel()
	f := startFixture(t, "sharedbind")
	cat := fixtureCatalog(f.prefix)
	cat[0].Metadata = map[string]any{"displayName": "Kafka", "shareable": true}
	if err := f.broker.SetCatalog(cat); err != nil {
		t.Fatal(err)
	}
	f.register(f.proxy.URL)
	ctx := context.Background()
	consumer := f.env.Namespace(t)

	f.instance("db", "kafka", "small", func(i *scv1beta1.ServiceInstance) {
		i.Spec.SharedWith = []scv1beta1.SharedNamespace{{Namespace: consumer}}
	})
	f.ready("db")
	b := &scv1beta1.ServiceBinding{}
	b.Namespace, b.Name = consumer, "reader"
	b.Spec.InstanceRef = scv1beta1.InstanceReference{Namespace: f.ns, Name: "db"}
	b.Spec.ExternalID = f.id("reader")
	if err := f.c.Create(ctx, b); err != nil {
		t.Fatal(err)
	}
	waitBinding(t, f.c, consumer, "reader", bindingReason(scv1beta1.ReasonInjectedBindResult))

	binds := f.requestsFor(osb.OpBind, f.id("db"))
	if len(binds) != 1 {
		t.Fatalf("%d binds reached the broker, want 1", len(binds))
	}
	ns := &corev1.Namespace{}
	if err := f.c.Get(ctx, client.ObjectKey{Name: consumer}, ns); err != nil {
		t.Fatal(err)
	}
	got := body(t, binds[0])
	c, _ := got["context"].(map[string]any)
	if c["namespace"] != consumer || c["instance_namespace"] != f.ns || c["instance_name"] != "db" || got["app_guid"] != string(ns.UID) {
		t.Errorf("bind context %v, app_guid %v; want namespace %s, instance_namespace %s, instance_name db, app_guid %s",
			c, got["app_guid"], consumer, f.ns, ns.UID)
	}
	if err := f.c.Get(ctx, client.ObjectKey{Namespace: consumer, Name: "reader"}, &corev1.Secret{}); err != nil {
		t.Errorf("the Secret in the consuming namespace: %v", err)
	}
	if err := f.c.Get(ctx, client.ObjectKey{Namespace: f.ns, Name: "reader"}, &corev1.Secret{}); !apierrors.IsNotFound(err) {
		t.Errorf("a Secret named for the binding in the owner's namespace: %v", err)
	}
	waitInstance(t, f.c, f.ns, "db", func(i *scv1beta1.ServiceInstance) error {
		if len(i.Status.SharedWith) != 1 || i.Status.SharedWith[0] != (scv1beta1.SharedNamespaceStatus{Namespace: consumer, State: scv1beta1.ShareStateShared}) {
			return fmt.Errorf("status.sharedWith %+v", i.Status.SharedWith)
		}
		if i.Status.GetCondition(scv1beta1.ServiceInstanceConditionShareRefused) != nil {
			return fmt.Errorf("a ShareRefused condition on a shared instance")
		}
		return nil
	})
	// Its own namespace's binding is sent as before: no instance_namespace.
	f.binding("own", "db", nil)
	f.bindingReady("own")
	for _, r := range f.broker.RequestsFor(osb.OpBind) {
		if r.BindingID == f.id("own") {
			if c, _ := body(t, r)["context"].(map[string]any); c["namespace"] != f.ns || c["instance_namespace"] != nil {
				t.Errorf("a local bind's context %v", c)
			}
		}
	}
}
