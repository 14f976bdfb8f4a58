package controller_test

import (
	"context"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	scv1beta1 "github.com/svcat-io/svcat/api/v1beta1"
	"github.com/svcat-io/svcat/internal/osb"
	"github.com/svcat-io/svcat/internal/testbroker"
)

// settle gives a duplicate request the time to show: the one this test
// guards against followed the first by about 20 ms.
func settle() { time.Sleep(time.Second) }

// callCounts counts the broker's recorded requests for one instance or
// binding ID by operation.
func (f *fixture) callCounts(instanceID, bindingID string) map[osb.Operation]int {
	out := map[osb.Operation]int{}
	for _, r := range f.broker.Requests() {
		if r.InstanceID == instanceID && r.BindingID == bindingID {
			out[r.Operation]++
		}
	}
	return out
}

func (f *fixture) wantCalls(what, instanceID, bindingID string, want map[osb.Operation]int) {
	f.t.Helper()
	got := f.callCounts(instanceID, bindingID)
	for op, n := range want {
		if got[op] != n {
			f.t.Errorf("%s: broker saw %d %s requests, want %d (all: %v)", what, got[op], op, n, got)
		}
	}
	for op, n := range got {
		if _, ok := want[op]; !ok {
			f.t.Errorf("%s: broker saw %d unexpected %s requests (all: %v)", what, n, op, got)
		}
	}
}

// Each operation of a lifecycle reaches the broker exactly once: a broker
// that counts calls, or a slow one, must see one provision, one update, one
// bind, one unbind and one deprovision, and polls only for asynchronous
// operations.
func TestOneBrokerCallPerOperation(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "calls")
	ctx := context.Background()

	// Registering reads the catalog once; a relist request (svcat sync)
	// once more.
	t.Run("catalog", func(t *testing.T) {
		settle()
		if n := len(f.broker.RequestsFor(osb.OpGetCatalog)); n != 1 {
			t.Fatalf("registering read the catalog %d times, want 1", n)
		}
		b := &scv1beta1.ClusterServiceBroker{ObjectMeta: metav1.ObjectMeta{Name: f.prefix}}
		f.get(b)
		before := b.Status.LastCatalogRetrievalTime
		update(t, f.c, b, func(b *scv1beta1.ClusterServiceBroker) { b.Spec.RelistRequests++ })
		eventually(t, 30*time.Second, "relisted", func() error {
			f.get(b)
			if b.Status.ReconciledGeneration != b.Generation || b.Status.LastCatalogRetrievalTime.Equal(before) {
				return errNotYet
			}
			return nil
		})
		settle()
		if n := len(f.broker.RequestsFor(osb.OpGetCatalog)); n != 2 {
			t.Errorf("a relist request read the catalog %d more times, want 1", n-1)
		}
	})

	t.Run("sync", func(t *testing.T) {
		iid, bid := f.id("sync"), f.id("sync-b")
		inst := f.instance("sync", "kafka", "small", nil)
		// The broker's dashboard URL is kept in the status, as v0.3 kept it.
		if got := f.ready("sync").Status.DashboardURL; got == nil || *got != "https://dashboard.testbroker.invalid/instances/"+iid {
			t.Errorf("status.dashboardURL %v, want the broker's", got)
		}
		settle()
		f.wantCalls("provision", iid, "", map[osb.Operation]int{osb.OpProvision: 1})

		update(t, f.c, inst, func(i *scv1beta1.ServiceInstance) { i.Spec.UpdateRequests++ })
		waitInstance(t, f.c, f.ns, "sync", func(i *scv1beta1.ServiceInstance) error {
			if i.Status.ObservedGeneration != i.Generation {
				return errNotYet
			}
			return instanceCondition(scv1beta1.ServiceInstanceConditionReady, "True", scv1beta1.ReasonInstanceUpdatedSuccessfully)(i)
		})
		settle()
		f.wantCalls("update", iid, "", map[osb.Operation]int{osb.OpProvision: 1, osb.OpUpdate: 1})

		b := f.binding("sync-b", "sync", nil)
		f.bindingReady("sync-b")
		settle()
		f.wantCalls("bind", iid, bid, map[osb.Operation]int{osb.OpBind: 1})

		if err := f.c.Delete(ctx, b); err != nil {
			t.Fatal(err)
		}
		waitGone(t, f.c, b)
		settle()
		f.wantCalls("unbind", iid, bid, map[osb.Operation]int{osb.OpBind: 1, osb.OpUnbind: 1})
		// v0.3's reason for a finished unbind, seen in the event the
		// object leaves behind.
		if note := f.waitEvent(scv1beta1.ReasonUnboundSuccessfully); note != scv1beta1.MessageUnboundSuccessfully {
			t.Errorf("UnboundSuccessfully event %q", note)
		}

		if err := f.c.Delete(ctx, inst); err != nil {
			t.Fatal(err)
		}
		waitGone(t, f.c, inst)
		settle()
		f.wantCalls("deprovision", iid, "", map[osb.Operation]int{osb.OpProvision: 1, osb.OpUpdate: 1, osb.OpDeprovision: 1})
		if note := f.waitEvent(scv1beta1.ReasonDeprovisionedSuccessfully); note != scv1beta1.MessageDeprovisionedSuccessfully {
			t.Errorf("DeprovisionedSuccessfully event %q", note)
		}
	})

	// Asynchronous operations: one request each, then polls until done (one
	// poll here, as the broker finishes at its first).
	t.Run("async", func(t *testing.T) {
		iid, bid := f.id("async"), f.id("async-b")
		for _, op := range []osb.Operation{osb.OpProvision, osb.OpDeprovision} {
			f.broker.On(testbroker.Rule{Operation: op, InstanceID: iid, Async: true})
		}
		for _, op := range []osb.Operation{osb.OpBind, osb.OpUnbind} {
			f.broker.On(testbroker.Rule{Operation: op, BindingID: bid, Async: true})
		}
		inst := f.instance("async", "kafka", "small", nil)
		f.ready("async")
		settle()
		f.wantCalls("provision", iid, "", map[osb.Operation]int{osb.OpProvision: 1, osb.OpPollLastOperation: 1})

		b := f.binding("async-b", "async", nil)
		f.bindingReady("async-b")
		settle()
		f.wantCalls("bind", iid, bid, map[osb.Operation]int{osb.OpBind: 1, osb.OpPollBindingLastOperation: 1, osb.OpGetBinding: 1})

		if err := f.c.Delete(ctx, b); err != nil {
			t.Fatal(err)
		}
		waitGone(t, f.c, b)
		settle()
		f.wantCalls("unbind", iid, bid, map[osb.Operation]int{osb.OpBind: 1, osb.OpPollBindingLastOperation: 2, osb.OpGetBinding: 1, osb.OpUnbind: 1})

		if err := f.c.Delete(ctx, inst); err != nil {
			t.Fatal(err)
		}
		waitGone(t, f.c, inst)
		settle()
		f.wantCalls("deprovision", iid, "", map[osb.Operation]int{osb.OpProvision: 1, osb.OpPollLastOperation: 2, osb.OpDeprovision: 1})
	})
}

// A binding made asynchronously whose GET fails is reported with v0.3's
// FetchingBindingFailed and fetched again: one bind, and one poll and one
// GET per try.
func TestFetchingBindingFailed(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "fetchfail")
	f.instance("db", "kafka", "small", nil)
	iid := f.ready("db").Spec.ExternalID
	bid := f.id("b")
	f.broker.On(testbroker.Rule{Operation: osb.OpBind, BindingID: bid, Async: true})
	f.broker.On(testbroker.Rule{Operation: osb.OpGetBinding, BindingID: bid, Status: 500, Description: "store unavailable", Times: 1})
	f.binding("b", "db", nil)
	f.bindingReady("b")
	if note := f.waitEvent(scv1beta1.ReasonFetchingBindingFailed); !strings.HasPrefix(note, "Could not do a GET on binding resource: ") {
		t.Errorf("FetchingBindingFailed event %q", note)
	}
	settle()
	f.wantCalls("bind", iid, bid, map[osb.Operation]int{osb.OpBind: 1, osb.OpPollBindingLastOperation: 2, osb.OpGetBinding: 2})
}
