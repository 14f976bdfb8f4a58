package tenancy

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	scv1beta1 "github.com/svcat-io/svcat/api/v1beta1"
	"github.com/svcat-io/svcat/internal/osb"
	"github.com/svcat-io/svcat/internal/testbroker"
)

// Issue 14, item 3 (starvation): one tenant's instances on a broker that
// never answers a provision, and namespaced brokers that never answer the
// catalog, with a long OSB timeout. Another tenant's instance on a healthy
// broker still becomes Ready, and a change of the healthy broker's catalog
// is seen after a relist, while every hanging request is still hanging:
// the proof is that the hanging brokers have answered nothing yet, not a
// clock.
func TestHangingBrokersDoNotStarveOtherTenants(t *testing.T) {
	c := setup(t)
	ctx := context.Background()
	nInstances := envInt(t, "SVCAT_TENANT_HANGING_INSTANCES", 20)
	nBrokers := envInt(t, "SVCAT_TENANT_HANGING_BROKERS", 10)
	c.startController(t, 0, "--osb-timeout=5m")

	// Mallory's broker answers its catalog and then never a provision.
	mallory := c.newTenant(t, "mallory")
	hangProvision := startHostile(t, func(h *hostileBroker, w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v2/catalog" {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write(hostileCatalog(wideArray, 0))
			return
		}
		h.hang(r)
	})
	mallory.createBroker(t, "hang", hangProvision.URL(), "", "")
	waitFor(t, time.Minute, "mallory's class", func() error {
		return mallory.c.Get(ctx, client.ObjectKey{Namespace: mallory.ns, Name: "hostile-service"}, &scv1beta1.ServiceClass{})
	})
	for i := 0; i < nInstances; i++ {
		must(t, mallory.c.Create(ctx, namespacedInstance(mallory.ns, fmt.Sprintf("hang-%d", i), "hostile", "default")))
	}
	// And brokers whose catalog never comes, or comes a byte a second, each
	// in a namespace of its own.
	hangCatalog := startHostile(t, func(h *hostileBroker, w http.ResponseWriter, r *http.Request) { h.hang(r) })
	dripCatalog := startHostile(t, drip(hostileCatalog(wideArray, 0)))
	for i := 0; i < nBrokers; i++ {
		tn := c.newTenant(t, fmt.Sprintf("mallory%d", i))
		url := hangCatalog.URL()
		if i%2 == 1 {
			url = dripCatalog.URL()
		}
		tn.createBroker(t, "hang", url, "", "")
	}
	waitFor(t, time.Minute, "the hanging brokers hold requests", func() error {
		if p := hangProvision.countPrefix("PUT /v2/service_instances/"); p == 0 {
			return fmt.Errorf("no provision received yet")
		}
		if n := hangCatalog.count("GET /v2/catalog"); n == 0 {
			return fmt.Errorf("no catalog request received yet")
		}
		return nil
	})
	t.Logf("held: %d provisions, %d catalog requests, %d dripping", hangProvision.inFlight(), hangCatalog.inFlight(), dripCatalog.inFlight())

	// Carol, on a healthy broker of her own.
	carol := c.newTenant(t, "carol")
	good := testbroker.Start(t, testbroker.Options{})
	carol.createBroker(t, "good", good.URL(), testbroker.DefaultUsername, testbroker.DefaultPassword)
	must(t, carol.c.Create(ctx, namespacedInstance(carol.ns, "db", "cloudkarafka", "duck")))
	stillHanging := func() {
		t.Helper()
		if a := hangProvision.gaveUp.Load(); a > 0 {
			t.Fatalf("the controller gave up %d hanging provisions (timed out): the wait was as long as the OSB timeout", a)
		}
		if a := hangCatalog.gaveUp.Load() + dripCatalog.gaveUp.Load(); a > 0 {
			t.Fatalf("the controller gave up %d hanging or dripping catalog requests (timed out): the wait was as long as the OSB timeout", a)
		}
	}
	// The bound only keeps a failing run short: the assertion is that the
	// hanging requests are all still held when carol is served.
	waitFor(t, time.Minute, "carol's instance Ready while the hanging requests are held", func() error {
		stillHanging()
		return instanceReady(carol.c, carol.ns, "db")()
	})
	stillHanging()

	// A new plan at carol's broker shows after a relist she asks for.
	cat := testbroker.SeedCatalog()
	cat[0].Plans = append(cat[0].Plans, osb.Plan{ID: "relisted-plan", Name: "relisted", Description: "added later"})
	must(t, good.SetCatalog(cat))
	b := &scv1beta1.ServiceBroker{}
	must(t, carol.c.Get(ctx, client.ObjectKey{Namespace: carol.ns, Name: "good"}, b))
	p := client.MergeFrom(b.DeepCopy())
	b.Spec.RelistRequests++
	must(t, carol.c.Patch(ctx, b, p))
	waitFor(t, time.Minute, "carol's relisted plan while the hanging requests are held", func() error {
		stillHanging()
		l := &scv1beta1.ServicePlanList{}
		if err := carol.c.List(ctx, l, client.InNamespace(carol.ns)); err != nil {
			return err
		}
		for _, pl := range l.Items {
			if pl.Spec.ExternalName == "relisted" {
				return nil
			}
		}
		return fmt.Errorf("%d plans, none named relisted", len(l.Items))
	})
	stillHanging()
	t.Logf("still held at the end: %d provisions, %d catalog requests, %d dripping", hangProvision.inFlight(), hangCatalog.inFlight(), dripCatalog.inFlight())
}
