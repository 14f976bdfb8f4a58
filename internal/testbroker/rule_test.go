package testbroker_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/svcat-io/svcat/internal/osb"
	"github.com/svcat-io/svcat/internal/testbroker"
)

func TestRuleSelectors(t *testing.T) {
	tests := []struct {
		name  string
		rule  testbroker.Rule
		hit   *osb.ProvisionRequest
		avoid *osb.ProvisionRequest
	}{
		{"by plan", testbroker.Rule{PlanID: "goose-id", Status: 500},
			provision("a", "goose-id", nil), provision("b", testbroker.SeedPlanID, nil)},
		{"by service", testbroker.Rule{ServiceID: testbroker.SeedServiceID, Status: 500},
			provision("a", "goose-id", nil), nil},
		{"by instance", testbroker.Rule{InstanceID: "a", Status: 500},
			provision("a", testbroker.SeedPlanID, nil), provision("b", testbroker.SeedPlanID, nil)},
		{"by operation", testbroker.Rule{Operation: osb.OpProvision, Status: 500},
			provision("a", testbroker.SeedPlanID, nil), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := testbroker.Start(t, testbroker.Options{Catalog: twoPlans()})
			c := client(t, b)
			b.On(tt.rule)
			if _, err := c.ProvisionInstance(t.Context(), tt.hit); !osb.IsServerError(err) {
				t.Errorf("matching request: %v, want 500", err)
			}
			if tt.avoid != nil {
				if _, err := c.ProvisionInstance(t.Context(), tt.avoid); err != nil {
					t.Errorf("other request: %v", err)
				}
			}
		})
	}
}

func TestFailTimesThenSucceed(t *testing.T) {
	b := testbroker.Start(t, testbroker.Options{})
	c := client(t, b)
	b.On(testbroker.Rule{Operation: osb.OpProvision, Status: 500, Times: 2})
	for i := range 2 {
		if _, err := c.ProvisionInstance(t.Context(), provision("i1", testbroker.SeedPlanID, nil)); !osb.IsServerError(err) {
			t.Fatalf("attempt %d: %v, want 500", i+1, err)
		}
	}
	if b.ProvisionCount("i1") != 0 {
		t.Error("a failed provision created the instance")
	}
	must[*osb.InstanceResponse](t)(c.ProvisionInstance(t.Context(), provision("i1", testbroker.SeedPlanID, nil)))
}

func TestNewestRuleWinsAndClear(t *testing.T) {
	b := testbroker.Start(t, testbroker.Options{})
	c := client(t, b)
	b.On(testbroker.Rule{Status: 500})
	b.On(testbroker.Rule{Operation: osb.OpGetCatalog, Status: 409})
	if _, err := c.GetCatalog(t.Context()); !osb.IsConflict(err) {
		t.Errorf("newest rule: %v, want 409", err)
	}
	b.ClearRules()
	must[*osb.CatalogResponse](t)(c.GetCatalog(t.Context()))
}

func TestApplyFirstLeavesAnOrphan(t *testing.T) {
	b := testbroker.Start(t, testbroker.Options{})
	c := client(t, b)
	b.On(testbroker.Rule{Operation: osb.OpProvision, Status: 500, ApplyFirst: true})
	_, err := c.ProvisionInstance(t.Context(), provision("i1", testbroker.SeedPlanID, nil))
	if !osb.IsServerError(err) || !osb.OrphanMitigationRequired(osb.OpProvision, osb.OutcomeOf(0, err)) {
		t.Fatalf("provision: %v, want a 500 that requires orphan mitigation", err)
	}
	if i, ok := b.Instance("i1"); !ok || i.State != testbroker.StateReady {
		t.Errorf("instance after ApplyFirst = %+v, %v; want it created", i, ok)
	}
}

func TestOtherSuccessStatus(t *testing.T) {
	b := testbroker.Start(t, testbroker.Options{})
	c := client(t, b)
	b.On(testbroker.Rule{Operation: osb.OpBind, Status: 204, Times: 1})
	must[*osb.InstanceResponse](t)(c.ProvisionInstance(t.Context(), provision("i1", testbroker.SeedPlanID, nil)))
	if _, err := c.Bind(t.Context(), bind("i1", "b1", nil)); !osb.IsUnexpectedSuccess(err) {
		t.Fatalf("bind: %v, want unexpected 204", err)
	}
	if b.Credentials("b1") == nil {
		t.Error("a 2xx status rule did not do the work")
	}
}

func TestAsyncDelay(t *testing.T) {
	b := testbroker.Start(t, testbroker.Options{})
	c := client(t, b)
	b.On(testbroker.Rule{InstanceID: "slow", AsyncDelay: time.Hour})
	b.On(testbroker.Rule{InstanceID: "quick", AsyncDelay: time.Millisecond, RetryAfter: "1"})
	for _, id := range []string{"slow", "quick"} {
		must[*osb.InstanceResponse](t)(c.ProvisionInstance(t.Context(), provision(id, testbroker.SeedPlanID, nil)))
	}
	poll := func(id string) *osb.LastOperationResponse {
		return must[*osb.LastOperationResponse](t)(c.PollLastOperation(t.Context(), &osb.LastOperationRequest{InstanceID: id}))
	}
	if lo := poll("slow"); lo.State != osb.StateInProgress {
		t.Errorf("slow: %q, want in progress", lo.State)
	}
	if i, _ := b.Instance("slow"); i.State != testbroker.StateCreating {
		t.Errorf("slow instance state %q", i.State)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		lo := poll("quick")
		if lo.RetryAfter != time.Second {
			t.Errorf("quick: Retry-After %v, want 1s", lo.RetryAfter)
		}
		if lo.State == osb.StateSucceeded {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("quick operation never finished")
		}
		time.Sleep(time.Millisecond)
	}
}

func TestHangThenWork(t *testing.T) {
	b := testbroker.Start(t, testbroker.Options{})
	b.On(testbroker.Rule{Operation: osb.OpProvision, Hang: 30 * time.Millisecond})
	c, err := osb.New(osb.Config{URL: b.URL(), Username: testbroker.DefaultUsername, Password: testbroker.DefaultPassword, Timeout: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.ProvisionInstance(t.Context(), provision("i1", testbroker.SeedPlanID, nil)); !osb.IsTimeout(err) {
		t.Fatalf("provision: %v, want timeout", err)
	}
	// Like a slow real broker, it creates the instance after the client
	// gave up: the orphan a timeout leaves.
	deadline := time.Now().Add(10 * time.Second)
	for b.ProvisionCount("i1") == 0 {
		if time.Now().After(deadline) {
			t.Fatal("hung provision never did its work")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestConcurrentUse runs whole lifecycles in parallel; with -race it checks
// the broker's locking.
func TestConcurrentUse(t *testing.T) {
	b := testbroker.Start(t, testbroker.Options{})
	c := client(t, b)
	b.On(testbroker.Rule{Operation: osb.OpBind, Status: 500, Times: 5})
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := range 10 {
				id := fmt.Sprintf("i-%d-%d", w, i)
				lifecycle(t, c, id)
			}
		})
	}
	wg.Wait()
	if len(b.Instances()) != 0 || len(b.Bindings()) != 0 {
		t.Errorf("left behind: %d instances, %d bindings", len(b.Instances()), len(b.Bindings()))
	}
	if n := len(b.RequestsFor(osb.OpProvision)); n != 80 {
		t.Errorf("recorded %d provisions, want 80", n)
	}
}

// lifecycle provisions, binds (retrying 5xx), unbinds and deprovisions id.
func lifecycle(t testing.TB, c *osb.Client, id string) {
	ctx := t.Context()
	if _, err := c.ProvisionInstance(ctx, provision(id, testbroker.SeedPlanID, nil)); err != nil {
		t.Error(err)
		return
	}
	for {
		_, err := c.Bind(ctx, bind(id, id+"-b", nil))
		if err == nil {
			break
		}
		if !osb.IsServerError(err) {
			t.Error(err)
			return
		}
	}
	if _, err := c.Unbind(ctx, unbind(id, id+"-b")); err != nil {
		t.Error(err)
	}
	if _, err := c.DeprovisionInstance(ctx, deprovision(id)); err != nil {
		t.Error(err)
	}
}

// BenchmarkLifecycle measures full provision/bind/unbind/deprovision cycles
// through the real client, to show the broker is no bottleneck for
// controller benchmarks.
func BenchmarkLifecycle(b *testing.B) {
	br := testbroker.Start(b, testbroker.Options{DisableRecording: true})
	c := client(b, br)
	var n sync.Mutex
	next := 0
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			n.Lock()
			next++
			id := fmt.Sprintf("bench-%d", next)
			n.Unlock()
			lifecycle(b, c, id)
		}
	})
	b.ReportMetric(float64(4*b.N)/b.Elapsed().Seconds(), "ops/s")
}
