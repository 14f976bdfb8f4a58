package server_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/svcat-io/svcat/internal/kafkabroker/catalog"
	"github.com/svcat-io/svcat/internal/kafkabroker/kafkatest"
	"github.com/svcat-io/svcat/internal/kafkabroker/store"
	"github.com/svcat-io/svcat/internal/kafkabroker/tenant"
)

// The benchmarks compare the broker, driven over HTTP like a platform
// drives it, with the Kafka admin calls it makes (the floor): one topic
// created, one SCRAM user and its ACLs, and their removal. Each benchmark
// has three subjects:
//
//   - broker: PUT instance + PUT binding (DELETE binding + DELETE instance)
//     over HTTP;
//   - floor: the same admin calls through tenant.Admin alone;
//   - state-floor: the floor plus the broker's state-topic traffic.
//
//	go test -run '^$' -bench . -benchtime 2s -count 5 ./internal/kafkabroker/server/

var benchTopics = map[string]any{"topics": []any{map[string]any{"name": "events"}}}

// latencies records one duration per operation and reports p50, p99 and
// throughput next to Go's ns/op.
type latencies struct {
	mu    sync.Mutex
	d     []time.Duration
	start time.Time
}

func newLatencies(b *testing.B) *latencies {
	b.ResetTimer()
	return &latencies{d: make([]time.Duration, 0, b.N), start: time.Now()}
}

func (l *latencies) add(d time.Duration) {
	l.mu.Lock()
	l.d = append(l.d, d)
	l.mu.Unlock()
}

func (l *latencies) report(b *testing.B) {
	elapsed := time.Since(l.start)
	b.StopTimer()
	slices.Sort(l.d)
	pct := func(p float64) float64 {
		return float64(l.d[int(float64(len(l.d)-1)*p)].Microseconds()) / 1000
	}
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	b.ReportMetric(float64(len(l.d))/elapsed.Seconds(), "ops/s")
}

func benchID() string {
	buf := make([]byte, 8)
	_, _ = rand.Read(buf)
	return hex.EncodeToString(buf)
}

// subject is one way of making and removing a tenant with one topic and
// one binding.
type subject struct {
	name  string
	setup func(b *testing.B) (create, remove func(b *testing.B, id string))
}

var subjects = []subject{
	{"broker", func(b *testing.B) (func(*testing.B, string), func(*testing.B, string)) {
		osb, _ := startBroker(b, kafkatest.Cluster(b, ""))
		return func(b *testing.B, id string) { provisionBind(b, osb, id) },
			func(b *testing.B, id string) { unbindDeprovision(b, osb, id) }
	}},
	{"floor", func(b *testing.B) (func(*testing.B, string), func(*testing.B, string)) {
		a := floorAdmin(b)
		return func(b *testing.B, id string) { floorCreate(b, a, id) },
			func(b *testing.B, id string) { floorRemove(b, a, id) }
	}},
	{"state-floor", func(b *testing.B) (func(*testing.B, string), func(*testing.B, string)) {
		f := newStateFloor(b)
		return f.create, f.remove
	}},
}

func BenchmarkProvisionBind(b *testing.B) { benchCreate(b, false) }

// BenchmarkProvisionBindParallel keeps 8 requests per core in flight, as a
// platform reconciling many objects at once would.
func BenchmarkProvisionBindParallel(b *testing.B) { benchCreate(b, true) }

func benchCreate(b *testing.B, parallel bool) {
	for _, s := range subjects {
		b.Run(s.name, func(b *testing.B) {
			create, _ := s.setup(b)
			l := newLatencies(b)
			op := func() {
				t0 := time.Now()
				create(b, benchID())
				l.add(time.Since(t0))
			}
			if !parallel {
				for b.Loop() {
					op()
				}
			} else {
				b.SetParallelism(8)
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						op()
					}
				})
			}
			l.report(b)
		})
	}
}

func BenchmarkUnbindDeprovision(b *testing.B) {
	for _, s := range subjects {
		b.Run(s.name, func(b *testing.B) {
			create, remove := s.setup(b)
			// Tenants are made ahead, outside the measurement, 64 at a time.
			var ids []string
			l := newLatencies(b)
			var measured time.Duration
			for b.Loop() {
				if len(ids) == 0 {
					b.StopTimer()
					for range 64 {
						id := benchID()
						create(b, id)
						ids = append(ids, id)
					}
					b.StartTimer()
				}
				id := ids[len(ids)-1]
				ids = ids[:len(ids)-1]
				t0 := time.Now()
				remove(b, id)
				d := time.Since(t0)
				measured += d
				l.add(d)
			}
			// Throughput counts only the measured calls, not the set-up.
			l.start = time.Now().Add(-measured)
			l.report(b)
		})
	}
}

func provisionBind(b *testing.B, osb *kafkatest.OSB, id string) {
	if r := osb.Do(b, "PUT", instPath(id), kafkatest.Details(svc, duck, benchTopics)); r.Status != 201 {
		b.Fatalf("provision: %d %s", r.Status, r.Raw)
	}
	if r := osb.Do(b, "PUT", bindPath(id, "b"), kafkatest.Details(svc, duck, nil)); r.Status != 201 {
		b.Fatalf("bind: %d %s", r.Status, r.Raw)
	}
}

func unbindDeprovision(b *testing.B, osb *kafkatest.OSB, id string) {
	if r := osb.Do(b, "DELETE", bindPath(id, "b")+query(duck), nil); r.Status != 200 {
		b.Fatalf("unbind: %d %s", r.Status, r.Raw)
	}
	if r := osb.Do(b, "DELETE", instPath(id)+query(duck), nil); r.Status != 200 {
		b.Fatalf("deprovision: %d %s", r.Status, r.Raw)
	}
}

// floorAdmin is the broker's tenant admin on its own client, without HTTP,
// locks or state records: the Kafka calls the broker cannot avoid.
func floorAdmin(b *testing.B) *tenant.Admin {
	c := kafkatest.Cluster(b, "")
	cl, err := kgo.NewClient(c.AdminOpts()...)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(cl.Close)
	return tenant.NewAdmin(cl)
}

var floorLimits = catalog.Default().Services[0].Plans[0].Limits

func floorCreate(b *testing.B, a *tenant.Admin, id string) {
	ctx := context.Background()
	prefix := "svcat-" + id + "."
	if err := a.CreateTopics(ctx, tenant.TopicsFor(prefix, []catalog.TopicSpec{{Name: "events"}}, floorLimits)); err != nil {
		b.Fatal(err)
	}
	if err := a.CreateUser(ctx, prefix+"b", benchID()+benchID()+benchID()+benchID(), prefix); err != nil {
		b.Fatal(err)
	}
}

// floorRemove makes the calls unbind and deprovision make: the user's ACLs
// and credentials, then the tenant (one topic listing, as deprovision needs
// it to choose between sync and async).
func floorRemove(b *testing.B, a *tenant.Admin, id string) {
	ctx := context.Background()
	prefix := "svcat-" + id + "."
	if err := a.DeleteUser(ctx, prefix+"b"); err != nil {
		b.Fatal(err)
	}
	if err := a.DeleteTenant(ctx, prefix, nil); err != nil {
		b.Fatal(err)
	}
}

// The "state" floor adds to the admin calls the Kafka traffic of the
// broker's own records, exactly as the broker makes it: one sync (a
// ListOffsets) before each request's reads and one record write after its
// Kafka changes. What the broker costs beyond this is HTTP, brokerapi,
// parameter validation and locking.
type stateFloor struct {
	admin *tenant.Admin
	store *store.Store
}

func newStateFloor(b *testing.B) *stateFloor {
	c := kafkatest.Cluster(b, "")
	cl, err := kgo.NewClient(c.AdminOpts()...)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(cl.Close)
	st, err := store.Open(context.Background(), "__state", c.AdminOpts()...)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(st.Close)
	return &stateFloor{admin: tenant.NewAdmin(cl), store: st}
}

func (f *stateFloor) create(b *testing.B, id string) {
	ctx := context.Background()
	prefix := "svcat-" + id + "."
	var rec map[string]any
	if _, err := f.store.Get(ctx, "instance/"+id, &rec); err != nil {
		b.Fatal(err)
	}
	if err := f.admin.CreateTopics(ctx, tenant.TopicsFor(prefix, []catalog.TopicSpec{{Name: "events"}}, floorLimits)); err != nil {
		b.Fatal(err)
	}
	if err := f.store.Put(ctx, "instance/"+id, map[string]string{"prefix": prefix}); err != nil {
		b.Fatal(err)
	}
	if _, err := f.store.Get(ctx, "instance/"+id, &rec); err != nil {
		b.Fatal(err)
	}
	pw := benchID() + benchID() + benchID() + benchID()
	if err := f.admin.CreateUser(ctx, prefix+"b", pw, prefix); err != nil {
		b.Fatal(err)
	}
	if err := f.store.Put(ctx, "binding/"+id+"/b", map[string]string{"password": pw}); err != nil {
		b.Fatal(err)
	}
}

func (f *stateFloor) remove(b *testing.B, id string) {
	ctx := context.Background()
	prefix := "svcat-" + id + "."
	var rec map[string]any
	if _, err := f.store.Get(ctx, "binding/"+id+"/b", &rec); err != nil {
		b.Fatal(err)
	}
	if err := f.admin.DeleteUser(ctx, prefix+"b"); err != nil {
		b.Fatal(err)
	}
	if err := f.store.Delete(ctx, "binding/"+id+"/b"); err != nil {
		b.Fatal(err)
	}
	if _, err := f.store.Get(ctx, "instance/"+id, &rec); err != nil {
		b.Fatal(err)
	}
	topics, err := f.admin.TopicsWithPrefix(ctx, prefix)
	if err != nil {
		b.Fatal(err)
	}
	if err := f.admin.DeleteTenant(ctx, prefix, topics); err != nil {
		b.Fatal(err)
	}
	if err := f.store.Delete(ctx, "instance/"+id); err != nil {
		b.Fatal(err)
	}
}
