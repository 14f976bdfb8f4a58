package controller_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	scv1beta1 "github.com/svcat-io/svcat/api/v1beta1"
	"github.com/svcat-io/svcat/internal/osb"
	"github.com/svcat-io/svcat/internal/testbroker"
)

// hostileBroker is an OSB broker on 127.0.0.1 that answers /v2/catalog
// with a good catalog until told to send prefix followed by unit, repeated
// up to size bytes: the shapes a tenant uses to exhaust the controller's
// memory.
type hostileBroker struct {
	*httptest.Server
	mu                 sync.Mutex
	good               []byte
	prefix, unit       string
	size               int
	served, abandoned  int
	hostileRequestSeen bool
}

func startHostileBroker(t *testing.T, good []osb.Service) *hostileBroker {
	t.Helper()
	body, err := json.Marshal(map[string]any{"services": good})
	if err != nil {
		t.Fatal(err)
	}
	h := &hostileBroker{good: body}
	h.Server = httptest.NewServer(http.HandlerFunc(h.serve))
	t.Cleanup(h.Close)
	return h
}

func (h *hostileBroker) turnHostile(prefix, unit string, size int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.prefix, h.unit, h.size = prefix, unit, size
}

func (h *hostileBroker) serve(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/v2/catalog" {
		http.NotFound(w, r)
		return
	}
	h.mu.Lock()
	prefix, unit, size, good := h.prefix, h.unit, h.size, h.good
	h.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	if prefix == "" {
		_, _ = w.Write(good)
		return
	}
	// Unknown length, sent as it is made: the broker needs no memory for
	// it, and neither should the controller.
	chunk := []byte(strings.Repeat(unit, max(1, (32<<10)/len(unit))))
	n, err := w.Write([]byte(prefix))
	for err == nil && n < size {
		var m int
		m, err = w.Write(chunk)
		n += m
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.hostileRequestSeen = true
	h.served = n
	if err != nil {
		h.abandoned++
	}
}

// A namespaced broker whose catalog turns hostile (megabytes of nested
// objects, wide arrays) is refused while the catalog is read: Ready=False
// with ErrorFetchingCatalog, a message naming the limit, where it was
// passed and the flag that sets it, one Warning event, and the classes and
// plans of its last good catalog untouched.
func TestHostileCatalogsAreRefusedWhileRead(t *testing.T) {
	env := controlPlane(t)
	const meta = `{"services":[{"id":"s","name":"n","description":"d","plans":[{"id":"p","name":"p","description":"d"}],"metadata":`
	for _, tt := range []struct {
		name, prefix, unit string
		want               []string
	}{
		{"nested objects", meta, `{"a":`, []string{
			"the catalog nests more than 32 levels deep at services[0].metadata.a.a.a",
			"--namespaced-broker-catalog-limits=depth=32"}},
		{"wide array in metadata", meta + `{"a":[`, `{"k":"` + strings.Repeat("v", 30) + `"},`, []string{
			"services[0].metadata is larger than 65536 bytes",
			"--namespaced-broker-catalog-limits=object-bytes=65536"}},
		{"wide array elsewhere", `{"x":[`, `[],`, []string{
			"the catalog has more than 20000 JSON values (at x[",
			"--namespaced-broker-catalog-limits=values=20000"}},
		{"many services", `{"services":[`, `{"id":"s","plans":[]},`, []string{
			"the catalog has more than 100 services",
			"--namespaced-broker-catalog-limits=services=100"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ns := env.Namespace(t)
			ctx := context.Background()
			broker := startHostileBroker(t, uniqueCatalog("hostile"))
			b := &scv1beta1.ServiceBroker{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "tenant"}, Spec: scv1beta1.ServiceBrokerSpec{
				CommonServiceBrokerSpec: scv1beta1.CommonServiceBrokerSpec{URL: broker.URL, RelistBehavior: scv1beta1.ServiceBrokerRelistBehaviorManual}}}
			if err := env.Client.Create(ctx, b); err != nil {
				t.Fatal(err)
			}
			waitNamespacedBroker(t, env.Client, ns, "tenant", scv1beta1.ConditionTrue, scv1beta1.ReasonFetchedCatalog)
			before := namespacedCatalog(t, env.Client, ns)

			// 64 MiB, more than any socket buffers hold: the broker sees
			// the controller hang up.
			broker.turnHostile(tt.prefix, tt.unit, 64<<20)
			relist(t, env.Client, ns, "tenant")
			got := waitNamespacedBroker(t, env.Client, ns, "tenant", scv1beta1.ConditionFalse, scv1beta1.ReasonErrorFetchingCatalog)
			msg := got.Status.GetCondition(scv1beta1.ServiceBrokerConditionReady).Message
			for _, w := range tt.want {
				if !strings.Contains(msg, w) {
					t.Errorf("message %q does not say %q", msg, w)
				}
			}
			if after := namespacedCatalog(t, env.Client, ns); after != before {
				t.Errorf("a refused catalog changed the classes and plans:\n%s\nwas\n%s", after, before)
			}

			// Another relist refuses it again without another event.
			relist(t, env.Client, ns, "tenant")
			eventually(t, 20*time.Second, "second relist", func() error {
				cur := &scv1beta1.ServiceBroker{}
				if err := env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: "tenant"}, cur); err != nil {
					return err
				}
				if cur.Status.ReconciledGeneration != cur.Generation {
					return fmt.Errorf("reconciled generation %d of %d", cur.Status.ReconciledGeneration, cur.Generation)
				}
				return nil
			})
			eventually(t, 10*time.Second, "one Warning event", func() error {
				if n := warnings(t, env.Client, ns, scv1beta1.ReasonErrorFetchingCatalog); n != 1 {
					return fmt.Errorf("%d Warning events %s", n, scv1beta1.ReasonErrorFetchingCatalog)
				}
				return nil
			})
			broker.mu.Lock()
			defer broker.mu.Unlock()
			if !broker.hostileRequestSeen || broker.abandoned == 0 {
				t.Errorf("the controller read the whole hostile catalog (%d bytes served)", broker.served)
			}
		})
	}
}

// Namespaced brokers get tighter limits than cluster brokers: a catalog
// whose metadata nests 35 levels is fine from a cluster admin's broker and
// refused from a tenant's.
func TestNamespacedBrokersHaveTighterCatalogLimits(t *testing.T) {
	env := controlPlane(t)
	ns := env.Namespace(t)
	cat := uniqueCatalog("tighter")
	var nested any = "bottom"
	for range 35 {
		nested = map[string]any{"level": nested}
	}
	cat[0].Metadata = map[string]any{"deep": nested}
	broker := testbroker.Start(t, testbroker.Options{Catalog: cat})

	authedClusterBroker(t, env, "tighter", scv1beta1.CommonServiceBrokerSpec{URL: broker.URL()})
	waitBrokerCondition(t, env.Client, "tighter", scv1beta1.ConditionTrue, scv1beta1.ReasonFetchedCatalog)

	basicSecret(t, env.Client, ns, "creds", testbroker.DefaultUsername, testbroker.DefaultPassword)
	b := &scv1beta1.ServiceBroker{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "tenant"}, Spec: scv1beta1.ServiceBrokerSpec{
		CommonServiceBrokerSpec: scv1beta1.CommonServiceBrokerSpec{URL: broker.URL()},
		AuthInfo:                &scv1beta1.ServiceBrokerAuthInfo{Basic: &scv1beta1.BasicAuthConfig{SecretRef: &scv1beta1.LocalObjectReference{Name: "creds"}}}}}
	if err := env.Client.Create(context.Background(), b); err != nil {
		t.Fatal(err)
	}
	got := waitNamespacedBroker(t, env.Client, ns, "tenant", scv1beta1.ConditionFalse, scv1beta1.ReasonErrorFetchingCatalog)
	if msg := got.Status.GetCondition(scv1beta1.ServiceBrokerConditionReady).Message; !strings.Contains(msg, "more than 32 levels deep at services[0].metadata.deep.level.level") {
		t.Errorf("message %q", msg)
	}
	if c := namespacedCatalog(t, env.Client, ns); c != "" {
		t.Errorf("the refused catalog was applied: %s", c)
	}
}

func waitNamespacedBroker(t *testing.T, c client.Client, ns, name string, status scv1beta1.ConditionStatus, reason string) *scv1beta1.ServiceBroker {
	t.Helper()
	b := &scv1beta1.ServiceBroker{}
	eventually(t, 30*time.Second, fmt.Sprintf("broker %s/%s Ready=%s/%s", ns, name, status, reason), func() error {
		if err := c.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, b); err != nil {
			return err
		}
		cond := b.Status.GetCondition(scv1beta1.ServiceBrokerConditionReady)
		if cond == nil || cond.Status != status || cond.Reason != reason || b.Status.ReconciledGeneration != b.Generation {
			return fmt.Errorf("generation %d, reconciled %d, conditions %+v", b.Generation, b.Status.ReconciledGeneration, b.Status.Conditions)
		}
		return nil
	})
	return b
}

func relist(t *testing.T, c client.Client, ns, name string) {
	t.Helper()
	b := &scv1beta1.ServiceBroker{}
	if err := c.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, b); err != nil {
		t.Fatal(err)
	}
	orig := b.DeepCopy()
	b.Spec.RelistRequests++
	if err := c.Patch(context.Background(), b, client.MergeFrom(orig)); err != nil {
		t.Fatal(err)
	}
}

// namespacedCatalog describes the classes and plans in ns with what a
// relist could change: spec, removal mark, resource version.
func namespacedCatalog(t *testing.T, c client.Client, ns string) string {
	t.Helper()
	ctx := context.Background()
	classes, plans := &scv1beta1.ServiceClassList{}, &scv1beta1.ServicePlanList{}
	if err := c.List(ctx, classes, client.InNamespace(ns)); err != nil {
		t.Fatal(err)
	}
	if err := c.List(ctx, plans, client.InNamespace(ns)); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, cl := range classes.Items {
		out = append(out, fmt.Sprintf("class %s rv %s removed %v", cl.Name, cl.ResourceVersion, cl.Status.RemovedFromBrokerCatalog))
	}
	for _, p := range plans.Items {
		out = append(out, fmt.Sprintf("plan %s rv %s removed %v", p.Name, p.ResourceVersion, p.Status.RemovedFromBrokerCatalog))
	}
	return strings.Join(out, "\n")
}

// warnings counts the Warning events with the reason in ns, repeats of
// one event included.
func warnings(t *testing.T, c client.Client, ns, reason string) int {
	t.Helper()
	l := &corev1.EventList{}
	if err := c.List(context.Background(), l, client.InNamespace(ns)); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range l.Items {
		if e.Type == corev1.EventTypeWarning && e.Reason == reason {
			n += int(max(e.Count, 1))
		}
	}
	return n
}
