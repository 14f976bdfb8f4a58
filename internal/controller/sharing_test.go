package controller_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"

	scv1beta1 "github.com/svcat-io/svcat/api/v1beta1"
	"github.com/svcat-io/svcat/internal/osb"
	"github.com/svcat-io/svcat/internal/testbroker"
)

// sharedInstanceBoundFromConsumer registers a shareable catalog, makes
// instance "db" shared with a fresh consuming namespace, and waits for that
// namespace's binding "reader" to db to be bound.
func sharedInstanceBoundFromConsumer(t *testing.T, prefix string) (*fixture, string) {
	t.Helper()
	f := startFixture(t, prefix)
	cat := fixtureCatalog(f.prefix)
	cat[0].Metadata = map[string]any{"displayName": "Kafka", "shareable": true}
	if err := f.broker.SetCatalog(cat); err != nil {
		t.Fatal(err)
	}
	f.register(f.proxy.URL)
	consumer := f.env.Namespace(t)
	f.instance("db", "kafka", "small", func(i *scv1beta1.ServiceInstance) {
		i.Spec.SharedWith = []scv1beta1.SharedNamespace{{Namespace: consumer}}
	})
	f.ready("db")
	b := &scv1beta1.ServiceBinding{}
	b.Namespace, b.Name = consumer, "reader"
	b.Spec.InstanceRef = scv1beta1.InstanceReference{Namespace: f.ns, Name: "db"}
	b.Spec.ExternalID = f.id("reader")
	if err := f.c.Create(context.Background(), b); err != nil {
		t.Fatal(err)
	}
	waitBinding(t, f.c, consumer, "reader", bindingReason(scv1beta1.ReasonInjectedBindResult))
	return f, consumer
}

// A bind from a namespace the instance is shared with: the request names
// the consuming namespace (context.namespace, app_guid its UID) and the
// owner's (context.instance_namespace), the Secret is written in the
// consuming namespace only, and the instance reports the share.
func TestSharedBindRequest(t *testing.T) {
	t.Parallel()
	f, consumer := sharedInstanceBoundFromConsumer(t, "sharedbind")
	ctx := context.Background()

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

// Unshared, a consumer's binding is unbound and holds nothing; shared
// again, it binds anew, even when the broker first refuses that bind as
// busy (the owner's share change is an update in progress: 422
// ConcurrencyError). It must not take itself for bound and ask the broker
// for credentials it no longer has (CI saw it wait on a 404 for good).
func TestReshareBindsAgain(t *testing.T) {
	t.Parallel()
	f, consumer := sharedInstanceBoundFromConsumer(t, "reshare")
	ctx := context.Background()
	setShare := func(shared bool) {
		t.Helper()
		if err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
			i := &scv1beta1.ServiceInstance{}
			if err := f.c.Get(ctx, client.ObjectKey{Namespace: f.ns, Name: "db"}, i); err != nil {
				return err
			}
			i.Spec.SharedWith = nil
			if shared {
				i.Spec.SharedWith = []scv1beta1.SharedNamespace{{Namespace: consumer}}
			}
			return f.c.Update(ctx, i)
		}); err != nil {
			t.Fatal(err)
		}
	}
	setShare(false)
	waitBinding(t, f.c, consumer, "reader", bindingReason(scv1beta1.ReasonInstanceNotShared))
	if n := len(f.broker.Bindings()); n != 0 {
		t.Fatalf("%d bindings at the broker after the unshare, want 0", n)
	}
	got := &scv1beta1.ServiceBinding{}
	if err := f.c.Get(ctx, client.ObjectKey{Namespace: consumer, Name: "reader"}, got); err != nil {
		t.Fatal(err)
	}
	if got.Status.ExternalProperties != nil || got.Status.UnbindStatus == scv1beta1.ServiceBindingUnbindStatusRequired {
		t.Errorf("unshared and unbound, the status still says what was bound: externalProperties %+v, unbindStatus %q",
			got.Status.ExternalProperties, got.Status.UnbindStatus)
	}

	f.broker.On(testbroker.Rule{Operation: osb.OpBind, BindingID: f.id("reader"), Times: 1, Status: http.StatusUnprocessableEntity,
		ErrorCode: "ConcurrencyError", Description: "another operation on the instance is in progress"})
	setShare(true)
	waitBinding(t, f.c, consumer, "reader", bindingReason(scv1beta1.ReasonInjectedBindResult))
	if err := f.c.Get(ctx, client.ObjectKey{Namespace: consumer, Name: "reader"}, &corev1.Secret{}); err != nil {
		t.Errorf("the Secret after sharing again: %v", err)
	}
	if n := len(f.broker.RequestsFor(osb.OpGetBinding)); n != 0 {
		t.Errorf("%d GETs of the binding: the controller took itself for bound", n)
	}
}
