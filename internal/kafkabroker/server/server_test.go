package server_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/svcat-io/svcat/internal/kafkabroker/catalog"
	"github.com/svcat-io/svcat/internal/kafkabroker/embedded"
	"github.com/svcat-io/svcat/internal/kafkabroker/kafkatest"
	"github.com/svcat-io/svcat/internal/kafkabroker/server"
	"github.com/svcat-io/svcat/internal/kafkabroker/tenant"
)

const (
	svc  = catalog.DefaultServiceID
	duck = catalog.DefaultDuckID
	bear = catalog.DefaultBearID
)

// startBroker serves a broker for an existing cluster on 127.0.0.1, reaching
// the cluster the way it reaches any external one.
func startBroker(t testing.TB, c *embedded.Cluster, mutate ...func(*server.Config)) (*kafkatest.OSB, *server.Server) {
	t.Helper()
	cfg := server.Config{
		Username: "platform", Password: "s3cret",
		Kafka: server.Kafka{
			BootstrapServers: c.Addrs(),
			AdminUser:        c.AdminUser(),
			AdminPassword:    c.AdminPassword(),
			CAPEM:            c.CAPEM(),
		},
		TopicPrefixBase:        "svcat-",
		AsyncDeprovisionTopics: 3,
		OperationTimeout:       30 * time.Second,
	}
	for _, m := range mutate {
		m(&cfg)
	}
	return serve(t, cfg)
}

func serve(t testing.TB, cfg server.Config) (*kafkatest.OSB, *server.Server) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	srv, err := server.New(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(func() {
		hs.Close()
		srv.Close()
	})
	return kafkatest.NewOSB(hs.URL, cfg.Username, cfg.Password), srv
}

func instPath(id string) string { return "/v2/service_instances/" + id }

func bindPath(inst, bind string) string { return instPath(inst) + "/service_bindings/" + bind }

func query(plan string) string { return "?service_id=" + svc + "&plan_id=" + plan }

func expect(t *testing.T, what string, r kafkatest.Response, status int, bodyHas ...string) {
	t.Helper()
	if r.Status != status {
		t.Fatalf("%s: status %d, want %d; body %s", what, r.Status, status, r.Raw)
	}
	for _, s := range bodyHas {
		if !strings.Contains(string(r.Raw), s) {
			t.Fatalf("%s: body %s lacks %q", what, r.Raw, s)
		}
	}
}

func TestOSBEndpoints(t *testing.T) {
	osb, _ := startBroker(t, kafkatest.Cluster(t, ""))
	topics := map[string]any{"topics": []any{map[string]any{"name": "events", "partitions": 2}}}
	noAuth := *osb
	noAuth.User, noAuth.Password = "", ""
	wrongAuth := *osb
	wrongAuth.Password = "nope"
	noVersion := *osb
	noVersion.Version = ""
	oldVersion := *osb
	oldVersion.Version = "1.13"

	// Each step depends on the state the earlier steps left, like a
	// platform's sequence of calls.
	steps := []struct {
		name   string
		osb    *kafkatest.OSB
		method string
		path   string
		body   any
		status int
		has    []string
	}{
		{"catalog", osb, "GET", "/v2/catalog", nil, 200, []string{`"name":"kafka"`, `"name":"duck"`, `"Developer Duck"`}},
		{"no auth", &noAuth, "GET", "/v2/catalog", nil, 401, nil},
		{"wrong password", &wrongAuth, "GET", "/v2/catalog", nil, 401, nil},
		{"no API version", &noVersion, "GET", "/v2/catalog", nil, 412, []string{"X-Broker-API-Version"}},
		{"unsupported API version", &oldVersion, "GET", "/v2/catalog", nil, 412, nil},
		{"provision unknown service", osb, "PUT", instPath("a"), kafkatest.Details("nope", duck, nil), 400, []string{"service-id not in the catalog"}},
		{"provision unknown plan", osb, "PUT", instPath("a"), kafkatest.Details(svc, "nope", nil), 400, []string{"plan-id not in the catalog"}},
		{"provision malformed JSON", osb, "PUT", instPath("a"), []byte(`{"service_id":`), 400, []string{"JSON"}},
		{"provision non-object body", osb, "PUT", instPath("a"), []byte(`[1]`), 400, []string{"JSON object"}},
		{"provision empty body", osb, "PUT", instPath("a"), []byte(``), 400, nil},
		{"provision schema violation", osb, "PUT", instPath("a"), kafkatest.Details(svc, duck, map[string]any{"topics": []any{map[string]any{"name": "x", "partitions": 50}}}), 400, []string{"parameters.topics[0].partitions"}},
		{"provision unknown parameter", osb, "PUT", instPath("a"), kafkatest.Details(svc, duck, map[string]any{"size": 1}), 400, []string{"parameters.size: is not allowed"}},
		{"provision too many topics", osb, "PUT", instPath("a"), kafkatest.Details(svc, duck, map[string]any{"topics": []any{
			map[string]any{"name": "1"}, map[string]any{"name": "2"}, map[string]any{"name": "3"}, map[string]any{"name": "4"}, map[string]any{"name": "5"}, map[string]any{"name": "6"}}}), 400, []string{"parameters.topics"}},
		{"provision bad instance id", osb, "PUT", instPath("a.b"), kafkatest.Details(svc, duck, nil), 400, []string{"instance ID"}},
		{"provision underscore instance id", osb, "PUT", instPath("a_b"), kafkatest.Details(svc, duck, nil), 400, []string{"instance ID"}},
		{"provision", osb, "PUT", instPath("a"), kafkatest.Details(svc, duck, topics), 201, nil},
		{"provision again", osb, "PUT", instPath("a"), kafkatest.Details(svc, duck, topics), 200, nil},
		{"provision conflicting", osb, "PUT", instPath("a"), kafkatest.Details(svc, duck, nil), 409, []string{"already exists with another service, plan or parameters"}},
		{"provision conflicting plan", osb, "PUT", instPath("a"), kafkatest.Details(svc, bear, topics), 409, nil},
		{"get instance", osb, "GET", instPath("a"), nil, 200, []string{`"plan_id":"` + duck, `"name":"events"`}},
		{"get unknown instance", osb, "GET", instPath("zz"), nil, 404, nil},
		{"last_operation", osb, "GET", instPath("a") + "/last_operation", nil, 200, []string{"succeeded"}},
		// OSB 2.17: 404 for an instance that never existed; 410 is for a
		// finished delete only (below).
		{"last_operation unknown", osb, "GET", instPath("zz") + "/last_operation", nil, 404, nil},
		{"update with an outdated maintenance_info", osb, "PATCH", instPath("a"), map[string]any{"service_id": svc, "maintenance_info": map[string]any{"version": "0.9.0"}}, 422, []string{`"error":"MaintenanceInfoConflict"`, "0.9.0", catalog.DefaultMaintenanceVersion}},
		{"update adds topic", osb, "PATCH", instPath("a"), map[string]any{"service_id": svc, "parameters": map[string]any{"topics": []any{map[string]any{"name": "audit"}}}}, 200, nil},
		{"update adds dotted topic", osb, "PATCH", instPath("a"), map[string]any{"service_id": svc, "parameters": map[string]any{"topics": []any{map[string]any{"name": "a.b"}}}}, 200, nil},
		{"update clashing topic", osb, "PATCH", instPath("a"), map[string]any{"service_id": svc, "parameters": map[string]any{"topics": []any{map[string]any{"name": "a_b"}}}}, 400, []string{"clashes"}},
		{"update changes topic", osb, "PATCH", instPath("a"), map[string]any{"service_id": svc, "parameters": map[string]any{"topics": []any{map[string]any{"name": "events", "partitions": 3}}}}, 400, []string{"parameters.topics[0]"}},
		{"update past limit", osb, "PATCH", instPath("a"), map[string]any{"service_id": svc, "parameters": map[string]any{"topics": []any{
			map[string]any{"name": "u1"}, map[string]any{"name": "u2"}, map[string]any{"name": "u3"}}}}, 400, []string{"allows 5"}},
		{"get instance after update", osb, "GET", instPath("a"), nil, 200, []string{`"name":"audit"`, `"name":"events"`}},
		{"update unknown", osb, "PATCH", instPath("zz"), map[string]any{"service_id": svc}, 404, nil},
		{"bind unknown instance", osb, "PUT", bindPath("zz", "b"), kafkatest.Details(svc, duck, nil), 404, nil},
		{"bind wrong plan", osb, "PUT", bindPath("a", "b"), kafkatest.Details(svc, bear, nil), 400, []string{"plan_id"}},
		{"bind schema violation", osb, "PUT", bindPath("a", "b"), kafkatest.Details(svc, duck, map[string]any{"admin": true}), 400, []string{"parameters.admin: is not allowed"}},
		{"bind bad binding id", osb, "PUT", bindPath("a", "b.c"), kafkatest.Details(svc, duck, nil), 400, []string{"binding ID"}},
		{"bind", osb, "PUT", bindPath("a", "b"), withApp(kafkatest.Details(svc, duck, nil), "app-1"), 201, []string{`"username":"svcat-a.b"`, `"topicPrefix":"svcat-a."`, `"type":"kafka"`, `"sasl.mechanism":"SCRAM-SHA-512"`, `"security.protocol":"SASL_SSL"`, `"ca.crt":"-----BEGIN CERTIFICATE-----`}},
		{"bind again", osb, "PUT", bindPath("a", "b"), withApp(kafkatest.Details(svc, duck, nil), "app-1"), 200, []string{`"username":"svcat-a.b"`}},
		{"bind conflicting", osb, "PUT", bindPath("a", "b"), withApp(kafkatest.Details(svc, duck, nil), "app-2"), 409, []string{"already exists for another application"}},
		{"get binding", osb, "GET", bindPath("a", "b"), nil, 200, []string{`"username":"svcat-a.b"`}},
		{"get unknown binding", osb, "GET", bindPath("a", "zz"), nil, 404, nil},
		{"binding last_operation", osb, "GET", bindPath("a", "b") + "/last_operation", nil, 200, []string{"succeeded"}},
		{"unbind", osb, "DELETE", bindPath("a", "b") + query(duck), nil, 200, nil},
		{"unbind again", osb, "DELETE", bindPath("a", "b") + query(duck), nil, 410, nil},
		{"get unbound binding", osb, "GET", bindPath("a", "b"), nil, 404, nil},
		{"deprovision unknown", osb, "DELETE", instPath("zz") + query(duck), nil, 410, nil},
		{"deprovision without ids", osb, "DELETE", instPath("a"), nil, 400, nil},
		{"deprovision wrong plan", osb, "DELETE", instPath("a") + query(bear), nil, 400, nil},
		{"deprovision", osb, "DELETE", instPath("a") + query(duck), nil, 200, nil},
		{"deprovision again", osb, "DELETE", instPath("a") + query(duck), nil, 410, nil},
		{"last_operation deprovisioned", osb, "GET", instPath("a") + "/last_operation", nil, 410, nil},
		{"get deprovisioned", osb, "GET", instPath("a"), nil, 404, nil},
		{"provision after deprovision", osb, "PUT", instPath("a"), kafkatest.Details(svc, duck, nil), 201, nil},
	}
	for _, s := range steps {
		r := s.osb.Do(t, s.method, s.path, s.body)
		expect(t, s.name, r, s.status, s.has...)
	}
	r := osb.Do(t, "GET", instPath("a")+"/last_operation", nil)
	if r.Status != 200 || r.Header.Get("Retry-After") != "1" {
		t.Fatalf("last_operation: %d, Retry-After %q", r.Status, r.Header.Get("Retry-After"))
	}
}

func withApp(d map[string]any, app string) map[string]any {
	d["bind_resource"] = map[string]any{"app_guid": app}
	return d
}

func TestBindIdempotentCredentials(t *testing.T) {
	osb, _ := startBroker(t, kafkatest.Cluster(t, ""))
	expect(t, "provision", osb.Do(t, "PUT", instPath("i"), kafkatest.Details(svc, duck, nil)), 201)
	first := osb.Do(t, "PUT", bindPath("i", "b"), kafkatest.Details(svc, duck, nil))
	expect(t, "bind", first, 201)
	again := osb.Do(t, "PUT", bindPath("i", "b"), kafkatest.Details(svc, duck, nil))
	expect(t, "bind again", again, 200)
	got := osb.Do(t, "GET", bindPath("i", "b"), nil)
	expect(t, "get binding", got, 200)
	c1, c2, c3 := first.Credentials(), again.Credentials(), got.Credentials()
	if len(c1["password"]) < 40 || c1["password"] != c2["password"] || c1["password"] != c3["password"] {
		t.Fatalf("credentials differ between bind, repeated bind and GET")
	}
	for _, k := range []string{"brokers", "username", "password", "topicPrefix", "groupPrefix", "transactionalIdPrefix", "ca", "name", "type", "provider", "bootstrap-servers", "sasl.mechanism", "security.protocol", "ca.crt"} {
		if c1[k] == "" {
			t.Errorf("credential %q is missing", k)
		}
	}
	other := osb.Do(t, "PUT", bindPath("i", "b2"), kafkatest.Details(svc, duck, nil))
	expect(t, "second binding", other, 201)
	if other.Credentials()["password"] == c1["password"] || other.Credentials()["username"] == c1["username"] {
		t.Fatal("two bindings share a user or password")
	}
}

func TestAsyncDeprovision(t *testing.T) {
	c := kafkatest.Cluster(t, "")
	osb, _ := startBroker(t, c) // more than 3 topics → async
	var ts []any
	for i := range 5 {
		ts = append(ts, map[string]any{"name": fmt.Sprintf("t%d", i)})
	}
	expect(t, "provision", osb.Do(t, "PUT", instPath("big"), kafkatest.Details(svc, bear, map[string]any{"topics": ts})), 201)
	expect(t, "bind", osb.Do(t, "PUT", bindPath("big", "b"), kafkatest.Details(svc, bear, nil)), 201)

	// Without accepts_incomplete the broker still deletes, synchronously.
	expect(t, "provision small", osb.Do(t, "PUT", instPath("big2"), kafkatest.Details(svc, bear, map[string]any{"topics": ts})), 201)
	expect(t, "sync deprovision", osb.Do(t, "DELETE", instPath("big2")+query(bear), nil), 200)

	if topics, users, acls := tenantFootprint(t, c, "svcat-big."); topics != 5 || users != 1 || acls != 9 {
		t.Fatalf("before deprovision: %d topics, %d users, %d ACLs", topics, users, acls)
	}
	r := osb.Do(t, "DELETE", instPath("big")+query(bear)+"&accepts_incomplete=true", nil)
	expect(t, "async deprovision", r, 202, `"operation":"deprovision-`)
	op := r.Str("operation")
	deadline := time.Now().Add(30 * time.Second)
	for {
		lo := osb.Do(t, "GET", instPath("big")+"/last_operation"+query(bear)+"&operation="+op, nil)
		if lo.Status == 410 {
			break // gone: the delete finished
		}
		expect(t, "last_operation while deleting", lo, 200, "in progress")
		if lo.Header.Get("Retry-After") != "1" {
			t.Fatalf("last_operation without Retry-After: %v", lo.Header)
		}
		if time.Now().After(deadline) {
			t.Fatal("deprovision did not finish")
		}
		time.Sleep(20 * time.Millisecond)
	}
	expect(t, "instance gone", osb.Do(t, "GET", instPath("big"), nil), 404)
	expect(t, "binding gone", osb.Do(t, "GET", bindPath("big", "b"), nil), 404)
	assertTenantGone(t, c, "svcat-big.")
	assertTenantGone(t, c, "svcat-big2.")
}

// tenantFootprint counts, on the cluster itself, the topics, users and
// ACLs under a prefix.
func tenantFootprint(t *testing.T, c *embedded.Cluster, prefix string) (topics, users, acls int) {
	t.Helper()
	cl, err := kgo.NewClient(c.AdminOpts()...)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx := context.Background()
	names, err := tenant.NewAdmin(cl).TopicsWithPrefix(ctx, prefix)
	if err != nil {
		t.Fatal(err)
	}
	adm := kadm.NewClient(cl)
	described, err := adm.DescribeUserSCRAMs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for u := range described {
		if strings.HasPrefix(u, prefix) {
			users++
		}
	}
	res, err := adm.DescribeACLs(ctx, kadm.NewACLs().Allow().AllowHosts().Topics(prefix).Groups(prefix).TransactionalIDs(prefix).ResourcePatternType(kadm.ACLPatternPrefixed).Operations(kadm.OpAny))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		if r.Err != nil {
			t.Fatal(r.Err)
		}
		acls += len(r.Described)
	}
	return len(names), users, acls
}

func assertTenantGone(t *testing.T, c *embedded.Cluster, prefix string) {
	t.Helper()
	if topics, users, acls := tenantFootprint(t, c, prefix); topics+users+acls != 0 {
		t.Fatalf("left under %s: %d topics, %d users, %d ACLs", prefix, topics, users, acls)
	}
}

func TestTwoBrokersShareInstances(t *testing.T) {
	c := kafkatest.Cluster(t, "")
	a, _ := startBroker(t, c)
	b, _ := startBroker(t, c)
	expect(t, "provision on A", a.Do(t, "PUT", instPath("shared"), kafkatest.Details(svc, duck, nil)), 201)
	expect(t, "get on B", b.Do(t, "GET", instPath("shared"), nil), 200)
	expect(t, "provision again on B", b.Do(t, "PUT", instPath("shared"), kafkatest.Details(svc, duck, nil)), 200)
	expect(t, "conflict on B", b.Do(t, "PUT", instPath("shared"), kafkatest.Details(svc, bear, nil)), 409)
	bound := b.Do(t, "PUT", bindPath("shared", "x"), kafkatest.Details(svc, duck, nil))
	expect(t, "bind on B", bound, 201)
	seen := a.Do(t, "GET", bindPath("shared", "x"), nil)
	expect(t, "get binding on A", seen, 200)
	if seen.Credentials()["password"] != bound.Credentials()["password"] {
		t.Fatal("replicas disagree on the binding's password")
	}
	expect(t, "deprovision on A", a.Do(t, "DELETE", instPath("shared")+query(duck), nil), 200)
	expect(t, "gone on B", b.Do(t, "GET", instPath("shared"), nil), 404)
	expect(t, "binding gone on B", b.Do(t, "GET", bindPath("shared", "x"), nil), 404)
}

func TestConcurrentProvisionAndBind(t *testing.T) {
	osb, _ := startBroker(t, kafkatest.Cluster(t, ""))
	const n = 50
	var wg sync.WaitGroup
	type result struct {
		prov, bind int
		creds      map[string]string
	}
	results := make([]result, n)
	for i := range n {
		wg.Go(func() {
			id := fmt.Sprintf("c%d", i)
			params := map[string]any{"topics": []any{map[string]any{"name": "events"}}}
			p := osb.Do(t, "PUT", instPath(id), kafkatest.Details(svc, duck, params))
			b := osb.Do(t, "PUT", bindPath(id, "b"), kafkatest.Details(svc, duck, nil))
			results[i] = result{p.Status, b.Status, b.Credentials()}
		})
	}
	wg.Wait()
	passwords := map[string]bool{}
	for i, r := range results {
		if r.prov != 201 || r.bind != 201 {
			t.Fatalf("instance %d: provision %d, bind %d", i, r.prov, r.bind)
		}
		if want := fmt.Sprintf("svcat-c%d.", i); r.creds["topicPrefix"] != want || r.creds["username"] != want+"b" {
			t.Fatalf("instance %d: prefix %q user %q", i, r.creds["topicPrefix"], r.creds["username"])
		}
		passwords[r.creds["password"]] = true
	}
	if len(passwords) != n {
		t.Fatalf("%d distinct passwords for %d bindings", len(passwords), n)
	}
	for i := range n {
		expect(t, "get", osb.Do(t, "GET", bindPath(fmt.Sprintf("c%d", i), "b"), nil), 200)
	}
}

func TestRequiresCredentials(t *testing.T) {
	c := kafkatest.Cluster(t, "")
	_, err := server.New(context.Background(), server.Config{Kafka: server.Kafka{BootstrapServers: c.Addrs(), AdminUser: c.AdminUser(), AdminPassword: c.AdminPassword(), CAPEM: c.CAPEM()}})
	if err == nil || !strings.Contains(err.Error(), "credentials are required") {
		t.Fatalf("New without credentials: %v", err)
	}
	osb, _ := startBroker(t, c, func(cfg *server.Config) { cfg.Username, cfg.Password, cfg.Insecure = "", "", true })
	expect(t, "insecure catalog", osb.Do(t, "GET", "/v2/catalog", nil), 200)

	wrongAdmin := server.Config{Username: "u", Password: "p", Kafka: server.Kafka{BootstrapServers: c.Addrs(), AdminUser: c.AdminUser(), AdminPassword: "wrong", CAPEM: c.CAPEM()}}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := server.New(ctx, wrongAdmin); err == nil {
		t.Fatal("New with a wrong Kafka admin password succeeded")
	}
}

func TestHealthz(t *testing.T) {
	osb, _ := startBroker(t, kafkatest.Cluster(t, ""))
	resp, err := http.Get(osb.URL + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("healthz: %d", resp.StatusCode)
	}
}

func TestSeedCatalog(t *testing.T) {
	cat, err := catalog.Load("../catalog/testdata/cloudkarafka.yaml")
	if err != nil {
		t.Fatal(err)
	}
	c := kafkatest.Cluster(t, "")
	osb, _ := startBroker(t, c, func(c *server.Config) { c.Catalog = cat })
	const (
		class = "d21df959-6da8-495f-a8b6-ddc51d49eea2"
		plan  = "e64a8b50-be7f-48cf-9010-9ccb7fe075b5"
	)
	expect(t, "catalog", osb.Do(t, "GET", "/v2/catalog", nil), 200, `"name":"cloudkarafka"`, class, plan)
	// The seed's ServiceInstance sends no parameters; the demo apps expect
	// the topic <topicPrefix>default to be there.
	expect(t, "provision", osb.Do(t, "PUT", instPath("demo"), kafkatest.Details(class, plan, nil)), 201)
	r := osb.Do(t, "PUT", bindPath("demo", "b"), kafkatest.Details(class, plan, nil))
	expect(t, "bind", r, 201, `"brokers"`)
	creds := r.Credentials()
	topic := creds["topicPrefix"] + "default"
	if err := produce(t, clientFor(t, creds), topic, "hello"); err != nil {
		t.Fatalf("producing to the default topic: %v", err)
	}
	if got := consumeAll(t, creds, topic, creds["username"]+"-consumer", 1, 20*time.Second); !slices.Equal(got, []string{"hello"}) {
		t.Fatalf("the seed's consumer group naming read %v", got)
	}
	expect(t, "default service unknown", osb.Do(t, "PUT", instPath("x"), kafkatest.Details(svc, duck, nil)), 400)
	// An explicit empty list asks for no topics at all.
	expect(t, "provision without topics", osb.Do(t, "PUT", instPath("bare"), kafkatest.Details(class, plan, map[string]any{"topics": []any{}})), 201)
	if topics, _, _ := tenantFootprint(t, c, "svcat-bare."); topics != 0 {
		t.Fatalf("explicitly no topics, yet %d were made", topics)
	}
	if topics, _, _ := tenantFootprint(t, c, "svcat-demo."); topics != 1 {
		t.Fatalf("default topics: %d", topics)
	}
}

func newHTTPServer(srv *server.Server) *httptest.Server { return httptest.NewServer(srv.Handler()) }

// Records keep the names they were made with, so a broker restarted with
// another --topic-prefix-base still removes what its predecessor made.
func TestPrefixBaseChange(t *testing.T) {
	c := kafkatest.Cluster(t, "")
	old, _ := startBroker(t, c, func(cfg *server.Config) { cfg.TopicPrefixBase = "old-" })
	creds := provisionAndBind(t, old, "moved")
	if creds["topicPrefix"] != "old-moved." {
		t.Fatalf("prefix %q", creds["topicPrefix"])
	}
	renamed, _ := startBroker(t, c, func(cfg *server.Config) { cfg.TopicPrefixBase = "new-" })
	again := renamed.Do(t, "GET", bindPath("moved", "app"), nil)
	expect(t, "get binding", again, 200)
	if again.Credentials()["username"] != "old-moved.app" {
		t.Fatalf("username %q", again.Credentials()["username"])
	}
	expect(t, "unbind", renamed.Do(t, "DELETE", bindPath("moved", "app")+query(duck), nil), 200)
	if _, users, acls := tenantFootprint(t, c, "old-moved."); users+acls != 0 {
		t.Fatalf("after unbind: %d users, %d ACLs", users, acls)
	}
	expect(t, "deprovision", renamed.Do(t, "DELETE", instPath("moved")+query(duck), nil), 200)
	assertTenantGone(t, c, "old-moved.")
}

func TestConcurrentRequestsOnOneInstance(t *testing.T) {
	osb, _ := startBroker(t, kafkatest.Cluster(t, ""))
	const n = 10
	statuses := make([]int, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			statuses[i] = osb.Do(t, "PUT", instPath("one"), kafkatest.Details(svc, duck, benchTopics)).Status
		})
	}
	wg.Wait()
	count := map[int]int{}
	for _, s := range statuses {
		count[s]++
	}
	// One request creates; the others either see it (200) or find it busy
	// (422); none may conflict or fail.
	if count[201] != 1 || count[200]+count[422] != n-1 {
		t.Fatalf("statuses of identical concurrent provisions: %v", count)
	}

	users := make([]string, n)
	binds := make([]int, n)
	for i := range n {
		wg.Go(func() {
			r := osb.Do(t, "PUT", bindPath("one", fmt.Sprintf("b%d", i)), kafkatest.Details(svc, duck, nil))
			binds[i], users[i] = r.Status, r.Credentials()["username"]
		})
	}
	wg.Wait()
	seen := map[string]bool{}
	for i := range n {
		if binds[i] != 201 || seen[users[i]] {
			t.Fatalf("binding %d: status %d user %q", i, binds[i], users[i])
		}
		seen[users[i]] = true
	}
}
