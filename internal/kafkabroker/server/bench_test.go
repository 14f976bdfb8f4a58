package server_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/svcat-io/svcat/internal/kafkabroker/catalog"
	"github.com/svcat-io/svcat/internal/kafkabroker/kafkatest"
	"github.com/svcat-io/svcat/internal/kafkabroker/server"
	"github.com/svcat-io/svcat/internal/kafkabroker/store"
	"github.com/svcat-io/svcat/internal/kafkabroker/tenant"
)

// The benchmarks compare the broker, driven over HTTP like a platform
// drives it, with the Kafka admin calls it makes (the floor): one topic
// created, one SCRAM user and its ACLs, and their removal. The subjects
// with Kafka each have their own embedded cluster:
//
//   - broker: PUT instance + PUT binding (DELETE binding + DELETE instance)
//     over HTTP;
//   - floor: the same admin calls through tenant.Admin alone;
//   - state-floor: the floor plus the broker's state-topic traffic;
//   - bare-http: the same HTTP requests answered at once by a handler that
//     does nothing, for the cost of the round trips alone.
//
// The sequential benchmarks interleave the subjects within every iteration,
// rotating which goes first, so that all of them see the same load on a
// shared machine; they report each subject's p50, p99 and throughput, and
// the broker's p50 overhead over the floors. ns/op covers all subjects.
//
//	go test -run '^$' -bench . -benchtime 3s -count 3 ./internal/kafkabroker/server/

var benchTopics = map[string]any{"topics": []any{map[string]any{"name": "events"}}}

// latencies records one duration per operation.
type latencies struct {
	mu sync.Mutex
	d  []time.Duration
}

func (l *latencies) add(d time.Duration) {
	l.mu.Lock()
	l.d = append(l.d, d)
	l.mu.Unlock()
}

func (l *latencies) pct(p float64) float64 {
	s := slices.Clone(l.d)
	slices.Sort(s)
	return float64(s[int(float64(len(s)-1)*p)].Microseconds()) / 1000
}

// busy is the time spent in operations; for sequential runs it gives the
// throughput one caller gets.
func (l *latencies) busy() time.Duration {
	var t time.Duration
	for _, d := range l.d {
		t += d
	}
	return t
}

func newLatencies(n int) []*latencies {
	out := make([]*latencies, n)
	for i := range out {
		out[i] = &latencies{}
	}
	return out
}

func benchID() string {
	buf := make([]byte, 8)
	_, _ = rand.Read(buf)
	return hex.EncodeToString(buf)
}

// subject is one way of making and removing a tenant with one topic and
// one binding.
type subject struct {
	name           string
	create, remove func(b *testing.B, id string)
}

func setupSubjects(b *testing.B) []subject {
	osb, _ := startBroker(b, kafkatest.Cluster(b, ""), productionLogger)
	a := floorAdmin(b)
	f := newStateFloor(b)
	bare := bareHTTP(b)
	return []subject{
		{"broker", func(b *testing.B, id string) { provisionBind(b, osb, id) }, func(b *testing.B, id string) { unbindDeprovision(b, osb, id) }},
		{"floor", func(b *testing.B, id string) { floorCreate(b, a, id) }, func(b *testing.B, id string) { floorRemove(b, a, id) }},
		{"state-floor", f.create, f.remove},
		{"bare-http", func(b *testing.B, id string) { provisionBind(b, bare, id) }, func(b *testing.B, id string) { unbindDeprovision(b, bare, id) }},
	}
}

// bareHTTP answers the broker's requests at once, as a broker doing
// nothing would: the same requests, bodies and answers' status over the
// same net/http client and server, without brokerapi or Kafka. It measures
// what the HTTP round trips alone cost on this machine.
func bareHTTP(b *testing.B) *kafkatest.OSB {
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		if r.Method == http.MethodPut {
			w.WriteHeader(http.StatusCreated)
		}
		_, _ = w.Write([]byte("{}\n"))
	}))
	b.Cleanup(hs.Close)
	return kafkatest.NewOSB(hs.URL, "platform", "s3cret")
}

func reportPaired(b *testing.B, subs []subject, lat []*latencies) {
	b.StopTimer()
	for i, s := range subs {
		b.ReportMetric(lat[i].pct(0.50), s.name+"-p50-ms")
		b.ReportMetric(lat[i].pct(0.99), s.name+"-p99-ms")
		b.ReportMetric(float64(len(lat[i].d))/lat[i].busy().Seconds(), s.name+"-ops/s")
	}
	broker, floor := lat[0].pct(0.50), lat[1].pct(0.50)
	b.ReportMetric(100*(broker/floor-1), "overhead-vs-floor-%")
	b.ReportMetric(100*(broker/lat[2].pct(0.50)-1), "overhead-vs-state-floor-%")
	// What the broker costs beyond the floor and the bare HTTP round trips.
	b.ReportMetric(100*((broker-lat[3].pct(0.50))/floor-1), "overhead-beyond-http-vs-floor-%")
}

func BenchmarkProvisionBind(b *testing.B) {
	subs := setupSubjects(b)
	lat := newLatencies(len(subs))
	round := 0
	for b.Loop() {
		for k := range subs {
			i := (round + k) % len(subs)
			t0 := time.Now()
			subs[i].create(b, benchID())
			lat[i].add(time.Since(t0))
		}
		round++
	}
	reportPaired(b, subs, lat)
}

func BenchmarkUnbindDeprovision(b *testing.B) {
	subs := setupSubjects(b)
	lat := newLatencies(len(subs))
	// Tenants are made ahead, outside the measurement, 32 at a time.
	ids := make([][]string, len(subs))
	round := 0
	for b.Loop() {
		if len(ids[0]) == 0 {
			b.StopTimer()
			for i, s := range subs {
				for range 32 {
					id := benchID()
					s.create(b, id)
					ids[i] = append(ids[i], id)
				}
			}
			b.StartTimer()
		}
		for k := range subs {
			i := (round + k) % len(subs)
			id := ids[i][len(ids[i])-1]
			ids[i] = ids[i][:len(ids[i])-1]
			t0 := time.Now()
			subs[i].remove(b, id)
			lat[i].add(time.Since(t0))
		}
		round++
	}
	reportPaired(b, subs, lat)
}

// BenchmarkProvisionBindParallel keeps 8 requests per core in flight, as a
// platform reconciling many objects at once would. Subjects run one after
// another here, each saturating the machine.
func BenchmarkProvisionBindParallel(b *testing.B) {
	for _, name := range []string{"broker", "floor", "state-floor"} {
		b.Run(name, func(b *testing.B) {
			var create func(*testing.B, string)
			switch name {
			case "broker":
				osb, _ := startBroker(b, kafkatest.Cluster(b, ""), productionLogger)
				create = func(b *testing.B, id string) { provisionBind(b, osb, id) }
			case "floor":
				a := floorAdmin(b)
				create = func(b *testing.B, id string) { floorCreate(b, a, id) }
			default:
				create = newStateFloor(b).create
			}
			l := &latencies{}
			b.SetParallelism(8)
			b.ResetTimer()
			start := time.Now()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					t0 := time.Now()
					create(b, benchID())
					l.add(time.Since(t0))
				}
			})
			elapsed := time.Since(start)
			b.StopTimer()
			b.ReportMetric(l.pct(0.50), "p50-ms")
			b.ReportMetric(l.pct(0.99), "p99-ms")
			b.ReportMetric(float64(len(l.d))/elapsed.Seconds(), "ops/s")
		})
	}
}

// productionLogger logs as cmd/kafka-broker does by default (JSON, info),
// so that formatting log lines is measured too; only the writing is not.
func productionLogger(cfg *server.Config) {
	cfg.Logger = slog.New(slog.NewJSONHandler(io.Discard, nil))
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
	if err := a.CreateTopics(ctx, tenant.TopicsFor(prefix, []catalog.TopicSpec{{Name: "events"}}, floorLimits, nil)); err != nil {
		b.Fatal(err)
	}
	createUser(b, a, prefix, benchID()+benchID()+benchID()+benchID())
}

// createUser makes the calls of a bind: salting the password, creating the
// user and granting its ACLs.
func createUser(b *testing.B, a *tenant.Admin, prefix, password string) {
	ctx := context.Background()
	cred, err := tenant.Salt(password)
	if err != nil {
		b.Fatal(err)
	}
	if err := a.CreateUser(ctx, prefix+"b", cred, prefix); err != nil {
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
// broker's own records, one call after another: before each request's
// reads one fetch from the state topic (none for unbind, which trusts its
// view), and one record written. The broker overlaps these with the admin
// calls; what it costs beyond them is HTTP, brokerapi, parameter
// validation and locking.
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
	if err := f.admin.CreateTopics(ctx, tenant.TopicsFor(prefix, []catalog.TopicSpec{{Name: "events"}}, floorLimits, nil)); err != nil {
		b.Fatal(err)
	}
	if err := f.store.Put(ctx, "instance/"+id, map[string]string{"prefix": prefix}); err != nil {
		b.Fatal(err)
	}
	if _, err := f.store.Get(ctx, "instance/"+id, &rec); err != nil {
		b.Fatal(err)
	}
	pw := benchID() + benchID() + benchID() + benchID()
	createUser(b, f.admin, prefix, pw)
	if err := f.store.Put(ctx, "binding/"+id+"/b", map[string]string{"password": pw}); err != nil {
		b.Fatal(err)
	}
}

func (f *stateFloor) remove(b *testing.B, id string) {
	ctx := context.Background()
	prefix := "svcat-" + id + "."
	var rec map[string]any
	if _, err := f.store.Cached("binding/"+id+"/b", &rec); err != nil {
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
