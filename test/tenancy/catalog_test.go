package tenancy

import (
	"context"
	"fmt"
	"testing"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	scv1beta1 "github.com/svcat-io/svcat/api/v1beta1"
	"github.com/svcat-io/svcat/internal/testbroker"
)

// Issue 14, item 2 (memory exhaustion by catalog): tenants' ServiceBrokers
// serve catalogs of a few MiB of nested empty objects, wide arrays, wide
// objects and endless bodies. Each is refused (Ready=False reason
// ErrorFetchingCatalog), the controller's peak RSS stays well below the
// memory limit the chart gives its container, and another tenant is
// served meanwhile.
func TestHostileCatalogsAreRefusedWithinTheMemoryLimit(t *testing.T) {
	c := setup(t)
	ctx := context.Background()
	size := envInt(t, "SVCAT_TENANT_CATALOG_MIB", 4) << 20
	n := envInt(t, "SVCAT_TENANT_HOSTILE_BROKERS", 6)
	limit := c.memoryLimit()
	if limit == 0 {
		t.Fatal("config/manager/manager.yaml sets no memory limit for the controller")
	}
	// A safety bound, not a performance figure: the controller must stay
	// clear of the limit, or the OOM killer ends it in a cluster.
	bound := limit * 8 / 10
	// The old code needs gigabytes; stop it well before it hurts the
	// machine the suite runs on.
	ctl := c.startController(t, 2*limit)

	mallory := c.newTenant(t, "mallory")
	bodies := map[catalogShape][]byte{}
	var brokers []*hostileBroker
	var hostile []struct {
		tn    *tenant
		shape catalogShape
	}
	for i := 0; i < n; i++ {
		shape := catalogShapes[i%len(catalogShapes)]
		if bodies[shape] == nil {
			bodies[shape] = hostileCatalog(shape, size)
		}
		// One namespace per broker: a namespace's brokers share class
		// names, and a tenant may have many namespaces.
		tn := mallory
		if i > 0 {
			tn = c.newTenant(t, fmt.Sprintf("mallory%d", i))
		}
		h := startHostile(t, serveCatalog(shape, bodies[shape]))
		tn.createBroker(t, "hostile", h.URL(), "", "")
		brokers = append(brokers, h)
		t.Cleanup(func() {
			if t.Failed() {
				t.Logf("broker %s (%s) received %d requests", tn.ns, shape, h.received.Load())
			}
		})
		hostile = append(hostile, struct {
			tn    *tenant
			shape catalogShape
		}{tn, shape})
	}
	waitFor(t, time.Minute, "every hostile broker asked for its catalog", func() error {
		for i, h := range brokers {
			if h.count("GET /v2/catalog") == 0 {
				return fmt.Errorf("broker %d not yet", i)
			}
		}
		return nil
	})

	// Meanwhile, another tenant's broker and instance.
	carol := c.newTenant(t, "carol")
	good := testbroker.Start(t, testbroker.Options{})
	carol.createBroker(t, "good", good.URL(), testbroker.DefaultUsername, testbroker.DefaultPassword)
	must(t, carol.c.Create(ctx, namespacedInstance(carol.ns, "db", "cloudkarafka", "duck")))
	waitFor(t, time.Minute, "carol's instance Ready while hostile catalogs are served", func() error {
		if why := ctl.killReason(); why != "" {
			t.Fatalf("the controller was killed: %s", why)
		}
		if ctl.exited() {
			t.Fatalf("the controller exited: %s", tail(ctl.logPath, 20))
		}
		return instanceReady(carol.c, carol.ns, "db")()
	})

	for _, h := range hostile {
		cond := waitBrokerReason(t, h.tn.c, h.tn.ns, "hostile", "ErrorFetchingCatalog", time.Minute)
		t.Logf("%s catalog of %d MiB: %s", h.shape, size>>20, describeBrokerCond(cond))
	}
	// The tenants ask for a relist, all at once, as often as they like: a
	// refused catalog must cost as little the second time.
	for _, h := range hostile {
		b := &scv1beta1.ServiceBroker{}
		must(t, h.tn.c.Get(ctx, client.ObjectKey{Namespace: h.tn.ns, Name: "hostile"}, b))
		p := client.MergeFrom(b.DeepCopy())
		b.Spec.RelistRequests++
		must(t, h.tn.c.Patch(ctx, b, p))
	}
	waitFor(t, time.Minute, "every hostile broker asked again", func() error {
		if why := ctl.killReason(); why != "" {
			t.Fatalf("the controller was killed: %s", why)
		}
		for i, h := range brokers {
			if n := h.count("GET /v2/catalog"); n < 2 {
				return fmt.Errorf("broker %d asked %d times", i, n)
			}
		}
		return nil
	})
	for _, h := range hostile {
		waitBrokerReason(t, h.tn.c, h.tn.ns, "hostile", "ErrorFetchingCatalog", time.Minute)
	}
	if why := ctl.killReason(); why != "" {
		t.Fatalf("the controller was killed: %s", why)
	}
	peak := ctl.peakRSS()
	t.Logf("controller peak RSS %d MiB with %d hostile catalogs of %d MiB (container limit %d MiB, bound %d MiB)",
		peak>>20, n, size>>20, limit>>20, bound>>20)
	if peak > bound {
		t.Errorf("controller peak RSS %d MiB is past %d MiB (80%% of the chart's memory limit of %d MiB)", peak>>20, bound>>20, limit>>20)
	}
}
