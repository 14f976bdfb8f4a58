package broker

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/svcat-io/svcat/internal/kafkabroker/catalog"
	"github.com/svcat-io/svcat/internal/kafkabroker/kafkatest"
)

const bear = catalog.DefaultBearID

// Kafka's SCRAM users do not expire, so the sweep removes the users of
// expired bindings: a leaked password stops working at expires_at (within
// one sweep), whether or not the platform rotated in time.
func TestSweepRemovesExpiredUsers(t *testing.T) {
	var offset atomic.Int64 // how far the broker's clock is ahead
	f := newFixture(t, func(c *Config) {
		c.Now = func() time.Time { return time.Now().Add(time.Duration(offset.Load())) }
	})
	qb := "?service_id=" + svc + "&plan_id=" + bear
	params := map[string]any{"topics": []any{map[string]any{"name": "default"}}}
	f.do(t, "PUT", "/v2/service_instances/x", kafkatest.Details(svc, bear, params), 201)
	old := f.do(t, "PUT", "/v2/service_instances/x/service_bindings/old", kafkatest.Details(svc, bear, nil), 201).Credentials()
	f.assertWorks(t, old)
	ctx := context.Background()

	if n, err := f.broker.SweepExpired(ctx); err != nil || n != 0 {
		t.Fatalf("sweep before expiry removed %d users (%v)", n, err)
	}
	f.assertWorks(t, old)

	offset.Store(int64(30*24*time.Hour + time.Minute))
	if n, err := f.broker.SweepExpired(ctx); err != nil || n != 1 {
		t.Fatalf("sweep after expiry removed %d users (%v), want 1", n, err)
	}
	f.assertGoneUser(t, old["username"])
	if n, err := f.broker.SweepExpired(ctx); err != nil || n != 0 {
		t.Fatalf("a second sweep removed %d users (%v), want 0", n, err)
	}

	// The record stays, so the platform sees when it expired and can
	// still rotate or unbind it.
	got := f.do(t, "GET", "/v2/service_instances/x/service_bindings/old", nil, 200)
	if md, _ := got.Body["metadata"].(map[string]any); md["expires_at"] == nil {
		t.Fatalf("GET binding of an expired binding lacks expires_at: %s", got.Raw)
	}
	// A repeated bind must not heal an expired binding back to life.
	r := f.do(t, "PUT", "/v2/service_instances/x/service_bindings/old", kafkatest.Details(svc, bear, nil), 409)
	if !strings.Contains(r.Str("description"), "expired") || strings.Contains(string(r.Raw), old["password"]) {
		t.Fatalf("repeated bind of an expired binding: %s", r.Raw)
	}
	f.assertGoneUser(t, old["username"])

	rotate := kafkatest.Details(svc, bear, nil)
	rotate["predecessor_binding_id"] = "old"
	fresh := f.do(t, "PUT", "/v2/service_instances/x/service_bindings/new", rotate, 201).Credentials()
	f.assertWorks(t, fresh)
	f.do(t, "DELETE", "/v2/service_instances/x/service_bindings/old"+qb, nil, 200)
	f.do(t, "GET", "/v2/service_instances/x/service_bindings/old", nil, 404)
	f.assertWorks(t, fresh)
}

// The broker sweeps by itself when given an interval (the server sets one
// minute by default).
func TestPeriodicSweep(t *testing.T) {
	var offset atomic.Int64
	f := newFixture(t, func(c *Config) {
		c.Now = func() time.Time { return time.Now().Add(time.Duration(offset.Load())) }
		c.ExpirySweepInterval = 50 * time.Millisecond
	})
	params := map[string]any{"topics": []any{map[string]any{"name": "default"}}}
	f.do(t, "PUT", "/v2/service_instances/p", kafkatest.Details(svc, bear, params), 201)
	creds := f.do(t, "PUT", "/v2/service_instances/p/service_bindings/b", kafkatest.Details(svc, bear, nil), 201).Credentials()
	f.assertWorks(t, creds)
	offset.Store(int64(31 * 24 * time.Hour))
	deadline := time.Now().Add(20 * time.Second)
	for {
		users, err := f.adm.DescribeUserSCRAMs(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := users[creds["username"]]; !ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the periodic sweep did not remove the expired user")
		}
		time.Sleep(50 * time.Millisecond)
	}
}
