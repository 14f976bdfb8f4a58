package broker

import (
	"context"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"code.cloudfoundry.org/brokerapi/v13"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/svcat-io/svcat/internal/kafkabroker/catalog"
	"github.com/svcat-io/svcat/internal/kafkabroker/embedded"
	"github.com/svcat-io/svcat/internal/kafkabroker/kafkatest"
	"github.com/svcat-io/svcat/internal/kafkabroker/store"
	"github.com/svcat-io/svcat/internal/kafkabroker/tenant"
)

const (
	svc  = catalog.DefaultServiceID
	duck = catalog.DefaultDuckID
)

type fixture struct {
	cluster *embedded.Cluster
	broker  *Broker
	store   *store.Store
	adm     *kadm.Client
	osb     *kafkatest.OSB
}

func newFixture(t *testing.T, mutate ...func(*Config)) *fixture {
	t.Helper()
	c := kafkatest.Cluster(t, "")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := store.Open(ctx, "__state", c.AdminOpts()...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	cl, err := kgo.NewClient(append(c.AdminOpts(), kgo.RequestRetries(0))...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	cfg := Config{
		Catalog:                catalog.Default(),
		Store:                  st,
		Admin:                  tenant.NewAdmin(cl),
		Names:                  tenant.Names{Base: "t-"},
		Kafka:                  Kafka{BootstrapServers: c.Addrs(), CAPEM: string(c.CAPEM()), TLS: true},
		AsyncDeprovisionTopics: 1,
		OperationTimeout:       10 * time.Second,
	}
	for _, m := range mutate {
		m(&cfg)
	}
	b := New(cfg)
	t.Cleanup(b.Close)
	hs := httptest.NewServer(brokerapi.New(b, b.log, brokerapi.BrokerCredentials{Username: "u", Password: "p"}, brokerapi.WithAdditionalMiddleware(b.Extensions)))
	t.Cleanup(hs.Close)
	return &fixture{cluster: c, broker: b, store: st, adm: kadm.NewClient(cl), osb: kafkatest.NewOSB(hs.URL, "u", "p")}
}

func (f *fixture) do(t *testing.T, method, path string, body any, status int) kafkatest.Response {
	t.Helper()
	r := f.osb.Do(t, method, path, body)
	if r.Status != status {
		t.Fatalf("%s %s: status %d, want %d; body %s", method, path, r.Status, status, r.Raw)
	}
	return r
}

const q = "?service_id=" + svc + "&plan_id=" + duck

func TestConcurrencyError(t *testing.T) {
	f := newFixture(t)
	f.do(t, "PUT", "/v2/service_instances/i", kafkatest.Details(svc, duck, nil), 201)
	f.do(t, "PUT", "/v2/service_instances/i/service_bindings/b", kafkatest.Details(svc, duck, nil), 201)

	tests := []struct {
		name      string
		lock      string
		exclusive bool
		method    string
		path      string
		body      any
	}{
		{"provision while the instance is busy", "i", true, "PUT", "/v2/service_instances/i", kafkatest.Details(svc, duck, nil)},
		{"update while the instance is busy", "i", true, "PATCH", "/v2/service_instances/i", map[string]any{"service_id": svc}},
		{"deprovision while the instance is busy", "i", true, "DELETE", "/v2/service_instances/i" + q, nil},
		{"bind while the instance is busy", "i", true, "PUT", "/v2/service_instances/i/service_bindings/c", kafkatest.Details(svc, duck, nil)},
		{"unbind while the instance is busy", "i", true, "DELETE", "/v2/service_instances/i/service_bindings/b" + q, nil},
		{"deprovision while a binding is made", "i", false, "DELETE", "/v2/service_instances/i" + q, nil},
		{"provision while a binding is made", "i", false, "PUT", "/v2/service_instances/i", kafkatest.Details(svc, duck, nil)},
		{"unbind while the same binding is busy", "i/b", true, "DELETE", "/v2/service_instances/i/service_bindings/b" + q, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			release, ok := f.broker.locks.try(tt.lock, tt.exclusive)
			if !ok {
				t.Fatal("lock unexpectedly held")
			}
			defer release()
			r := f.do(t, tt.method, tt.path, tt.body, 422)
			if r.Str("error") != "ConcurrencyError" {
				t.Fatalf("error = %q, want ConcurrencyError", r.Str("error"))
			}
		})
	}
	// A shared lock is what another binding holds: binds still proceed.
	release, _ := f.broker.locks.try("i", false)
	f.do(t, "PUT", "/v2/service_instances/i/service_bindings/c", kafkatest.Details(svc, duck, nil), 201)
	release()
	f.do(t, "DELETE", "/v2/service_instances/i"+q, nil, 200)
}

// failKey makes the cluster answer the next request of the given key with
// an authorization error, as a cluster that refuses a step would.
func failKey(c *embedded.Cluster, key int16) {
	c.Fake().ControlKey(key, func(req kmsg.Request) (kmsg.Response, error, bool) {
		switch r := req.(type) {
		case *kmsg.ProduceRequest:
			resp := r.ResponseKind().(*kmsg.ProduceResponse)
			for _, rt := range r.Topics {
				st := kmsg.NewProduceResponseTopic()
				st.Topic, st.TopicID = rt.Topic, rt.TopicID
				for _, rp := range rt.Partitions {
					sp := kmsg.NewProduceResponseTopicPartition()
					sp.Partition = rp.Partition
					sp.ErrorCode = kerr.TopicAuthorizationFailed.Code
					st.Partitions = append(st.Partitions, sp)
				}
				resp.Topics = append(resp.Topics, st)
			}
			return resp, nil, true
		case *kmsg.DeleteTopicsRequest:
			resp := r.ResponseKind().(*kmsg.DeleteTopicsResponse)
			add := func(name *string, id [16]byte) {
				st := kmsg.NewDeleteTopicsResponseTopic()
				st.Topic, st.TopicID = name, id
				st.ErrorCode = kerr.TopicAuthorizationFailed.Code
				resp.Topics = append(resp.Topics, st)
			}
			for _, n := range r.TopicNames {
				add(kmsg.StringPtr(n), [16]byte{})
			}
			for _, t := range r.Topics {
				add(t.Topic, t.TopicID)
			}
			return resp, nil, true
		case *kmsg.DeleteACLsRequest:
			resp := r.ResponseKind().(*kmsg.DeleteACLsResponse)
			for range r.Filters {
				res := kmsg.NewDeleteACLsResponseResult()
				res.ErrorCode = kerr.ClusterAuthorizationFailed.Code
				resp.Results = append(resp.Results, res)
			}
			return resp, nil, true
		case *kmsg.CreateACLsRequest:
			resp := r.ResponseKind().(*kmsg.CreateACLsResponse)
			for range r.Creations {
				res := kmsg.NewCreateACLsResponseResult()
				res.ErrorCode = kerr.ClusterAuthorizationFailed.Code
				resp.Results = append(resp.Results, res)
			}
			return resp, nil, true
		}
		return nil, nil, false
	})
}

func TestNothingHalfCreated(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.do(t, "PUT", "/v2/service_instances/ok", kafkatest.Details(svc, duck, nil), 201)
	twoTopics := map[string]any{"topics": []any{map[string]any{"name": "x"}, map[string]any{"name": "y"}}}
	oneMore := map[string]any{"service_id": svc, "parameters": map[string]any{"topics": []any{map[string]any{"name": "extra"}}}}

	tests := []struct {
		name         string
		fail         int16 // the request kind the cluster refuses once
		method, path string
		body         any
		retried      int // status of the same request once the cluster behaves
		check        func(t *testing.T)
	}{
		{"provision whose record cannot be written", kmsg.Produce.Int16(), "PUT", "/v2/service_instances/p", kafkatest.Details(svc, duck, twoTopics), 201,
			func(t *testing.T) {
				topics, err := f.broker.cfg.Admin.TopicsWithPrefix(ctx, "t-p.")
				if err != nil || len(topics) != 0 {
					t.Fatalf("topics left behind: %v %v", topics, err)
				}
				f.do(t, "GET", "/v2/service_instances/p", nil, 404)
			}},
		{"update whose record cannot be written", kmsg.Produce.Int16(), "PATCH", "/v2/service_instances/ok", oneMore, 200,
			func(t *testing.T) {
				topics, err := f.broker.cfg.Admin.TopicsWithPrefix(ctx, "t-ok.")
				if err != nil || !slices.Equal(topics, []string{"t-ok.default"}) {
					t.Fatalf("topics after a failed update: %v %v", topics, err)
				}
			}},
		{"bind whose ACLs are refused", kmsg.CreateACLs.Int16(), "PUT", "/v2/service_instances/ok/service_bindings/acl", kafkatest.Details(svc, duck, nil), 201,
			func(t *testing.T) { f.assertNoUser(t, "t-ok.acl") }},
		{"bind whose record cannot be written", kmsg.Produce.Int16(), "PUT", "/v2/service_instances/ok/service_bindings/rec", kafkatest.Details(svc, duck, nil), 201,
			func(t *testing.T) { f.assertNoUser(t, "t-ok.rec") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			failKey(f.cluster, tt.fail)
			f.do(t, tt.method, tt.path, tt.body, 500)
			tt.check(t)
			f.do(t, tt.method, tt.path, tt.body, tt.retried)
		})
	}
}

func (f *fixture) assertNoUser(t *testing.T, user string) {
	t.Helper()
	users, err := f.adm.DescribeUserSCRAMs(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := users[user]; ok {
		t.Fatalf("user %s left behind", user)
	}
	acls, err := f.adm.DescribeACLs(context.Background(), kadm.NewACLs().Allow("User:"+user).AllowHosts().AnyResource().ResourcePatternType(kadm.ACLPatternAny).Operations(kadm.OpAny))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range acls {
		if r.Err != nil || len(r.Described) != 0 {
			t.Fatalf("ACLs of %s left behind: %+v", user, r)
		}
	}
	f.do(t, "GET", "/v2/service_instances/ok/service_bindings/"+user[len("t-ok."):], nil, 404)
}

// A deprovision cut short (the broker stopped) is left as a record in the
// deprovisioning state; the next poll, on any replica, resumes it.
func TestResumeInterruptedDeprovision(t *testing.T) {
	f := newFixture(t)
	params := map[string]any{"topics": []any{map[string]any{"name": "x"}, map[string]any{"name": "y"}}}
	f.do(t, "PUT", "/v2/service_instances/r", kafkatest.Details(svc, duck, params), 201)
	f.do(t, "PUT", "/v2/service_instances/r/service_bindings/b", kafkatest.Details(svc, duck, nil), 201)
	ctx := context.Background()
	rec, err := f.broker.getInstance(ctx, "r")
	if err != nil || rec == nil {
		t.Fatal(rec, err)
	}
	rec.State, rec.Operation = stateDeprovisioning, "deprovision-interrupted"
	if err := f.store.Put(ctx, instanceKey("r"), rec); err != nil {
		t.Fatal(err)
	}
	// A repeated DELETE answers with the operation in progress.
	r := f.do(t, "DELETE", "/v2/service_instances/r"+q+"&accepts_incomplete=true", nil, 202)
	if r.Str("operation") != "deprovision-interrupted" {
		t.Fatalf("operation %q", r.Str("operation"))
	}
	deadline := time.Now().Add(20 * time.Second)
	for f.osb.Do(t, "GET", "/v2/service_instances/r/last_operation", nil).Status != 410 {
		if time.Now().After(deadline) {
			t.Fatal("deprovision was not resumed")
		}
		time.Sleep(20 * time.Millisecond)
	}
	topics, err := f.broker.cfg.Admin.TopicsWithPrefix(ctx, "t-r.")
	if err != nil || len(topics) != 0 {
		t.Fatalf("topics left: %v %v", topics, err)
	}
	f.assertGoneUser(t, "t-r.b")
}

func (f *fixture) assertGoneUser(t *testing.T, user string) {
	t.Helper()
	users, err := f.adm.DescribeUserSCRAMs(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	names := make([]string, 0, len(users))
	for u := range users {
		names = append(names, u)
	}
	if slices.Contains(names, user) {
		t.Fatalf("user %s still exists", user)
	}
}

func TestLocks(t *testing.T) {
	var l locks
	tests := []struct {
		name              string
		first, second     bool // exclusive?
		wantSecondAllowed bool
	}{
		{"shared then shared", false, false, true},
		{"shared then exclusive", false, true, false},
		{"exclusive then shared", true, false, false},
		{"exclusive then exclusive", true, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r1, ok := l.try("k", tt.first)
			if !ok {
				t.Fatal("first lock refused")
			}
			r2, ok := l.try("k", tt.second)
			if ok != tt.wantSecondAllowed {
				t.Fatalf("second lock allowed = %v", ok)
			}
			if ok {
				r2()
			}
			r1()
			r1() // releasing twice is harmless
			if len(l.entries) != 0 {
				t.Fatalf("entries left: %v", l.entries)
			}
		})
	}
}

func TestSameJSON(t *testing.T) {
	tests := []struct {
		a, b string
		want bool
	}{
		{``, `{}`, true},
		{`null`, ``, true},
		{`{"a":1,"b":[1,2]}`, `{ "b":[1,2], "a":1.0 }`, true},
		{`{"a":1}`, `{"a":2}`, false},
		{`{"a":[1,2]}`, `{"a":[2,1]}`, false},
		{`{}`, `{"a":null}`, false},
	}
	for _, tt := range tests {
		if got := sameJSON([]byte(tt.a), []byte(tt.b)); got != tt.want {
			t.Errorf("sameJSON(%s, %s) = %v", tt.a, tt.b, got)
		}
	}
}

// A background deprovision that fails is reported as failed, and a new
// DELETE finishes it.
func TestFailedAsyncDeprovision(t *testing.T) {
	f := newFixture(t)
	params := map[string]any{"topics": []any{map[string]any{"name": "x"}, map[string]any{"name": "y"}}}
	f.do(t, "PUT", "/v2/service_instances/d", kafkatest.Details(svc, duck, params), 201)
	failKey(f.cluster, kmsg.DeleteTopics.Int16())
	r := f.do(t, "DELETE", "/v2/service_instances/d"+q+"&accepts_incomplete=true", nil, 202)
	op := r.Str("operation")
	var last kafkatest.Response
	deadline := time.Now().Add(20 * time.Second)
	for {
		last = f.do(t, "GET", "/v2/service_instances/d/last_operation"+q+"&operation="+op, nil, 200)
		if last.Str("state") != "in progress" || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	// The kind of failure, not the names in it: platforms show this text to
	// whoever can read the instance.
	if last.Str("state") != "failed" || !strings.Contains(last.Str("description"), "TOPIC_AUTHORIZATION_FAILED") || strings.Contains(last.Str("description"), "t-d.") {
		t.Fatalf("last_operation after a failed delete: %s", last.Raw)
	}
	f.do(t, "GET", "/v2/service_instances/d", nil, 422)
	f.do(t, "DELETE", "/v2/service_instances/d"+q, nil, 200)
	f.do(t, "GET", "/v2/service_instances/d/last_operation", nil, 410)
}

// Records are written alongside the Kafka calls, so a crash can leave
// either without the other; the platform's retry finishes the job.
func TestRetriesHealWhatACrashLeft(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	admin := f.broker.cfg.Admin
	mustSalt := func(password string) tenant.Credential {
		cred, err := tenant.Salt(password)
		if err != nil {
			t.Fatal(err)
		}
		return cred
	}

	t.Run("deprovision without a record removes what the prefix holds", func(t *testing.T) {
		if err := admin.CreateTopics(ctx, tenant.TopicsFor("t-gone.", []catalog.TopicSpec{{Name: "x"}}, catalog.Limits{MaxRetentionHours: 1}, nil)); err != nil {
			t.Fatal(err)
		}
		if err := admin.CreateUser(ctx, "t-gone.b", mustSalt("pw"), "t-gone."); err != nil {
			t.Fatal(err)
		}
		f.do(t, "DELETE", "/v2/service_instances/gone"+q, nil, 410)
		if topics, err := admin.TopicsWithPrefix(ctx, "t-gone."); err != nil || len(topics) != 0 {
			t.Fatalf("topics left: %v %v", topics, err)
		}
		f.assertNoUser(t, "t-gone.b")
	})

	t.Run("a repeated provision makes missing topics", func(t *testing.T) {
		f.do(t, "PUT", "/v2/service_instances/p", kafkatest.Details(svc, duck, nil), 201)
		if err := admin.DeleteTopics(ctx, []string{"t-p.default"}); err != nil {
			t.Fatal(err)
		}
		f.do(t, "PUT", "/v2/service_instances/p", kafkatest.Details(svc, duck, nil), 200)
		if topics, err := admin.TopicsWithPrefix(ctx, "t-p."); err != nil || !slices.Equal(topics, []string{"t-p.default"}) {
			t.Fatalf("topics after the repeated provision: %v %v", topics, err)
		}
	})

	t.Run("a repeated bind makes a missing user and its ACLs", func(t *testing.T) {
		first := f.do(t, "PUT", "/v2/service_instances/p/service_bindings/b", kafkatest.Details(svc, duck, nil), 201).Credentials()
		if err := admin.DeleteUser(ctx, "t-p.b"); err != nil {
			t.Fatal(err)
		}
		again := f.do(t, "PUT", "/v2/service_instances/p/service_bindings/b", kafkatest.Details(svc, duck, nil), 200).Credentials()
		if again["password"] != first["password"] {
			t.Fatal("the repeated bind changed the password")
		}
		f.assertWorks(t, first)
	})

	t.Run("a repeated bind grants missing ACLs", func(t *testing.T) {
		creds := f.do(t, "PUT", "/v2/service_instances/p/service_bindings/c", kafkatest.Details(svc, duck, nil), 201).Credentials()
		if err := admin.DeleteUser(ctx, "t-p.c"); err != nil {
			t.Fatal(err)
		}
		if err := admin.CreateUser(ctx, "t-p.c", mustSalt(creds["password"]), "t-other."); err != nil {
			t.Fatal(err)
		}
		f.do(t, "PUT", "/v2/service_instances/p/service_bindings/c", kafkatest.Details(svc, duck, nil), 200)
		f.assertWorks(t, creds)
	})
}

// assertWorks produces to the instance's default topic with a binding's
// credentials.
func (f *fixture) assertWorks(t *testing.T, creds map[string]string) {
	t.Helper()
	cl, err := kgo.NewClient(append(f.cluster.ClientOpts(creds["username"], creds["password"]), kgo.RequestRetries(0))...)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	r := &kgo.Record{Topic: creds["topicPrefix"] + "default", Value: []byte("x")}
	if err := cl.ProduceSync(ctx, r).FirstErr(); err != nil {
		t.Fatalf("producing with the binding's credentials: %v", err)
	}
}

// A removal that fails is answered with an error, and the platform's retry
// finishes it.
func TestFailedRemovalsAreRetried(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.do(t, "PUT", "/v2/service_instances/r", kafkatest.Details(svc, duck, nil), 201)
	f.do(t, "PUT", "/v2/service_instances/r/service_bindings/b", kafkatest.Details(svc, duck, nil), 201)
	f.do(t, "PUT", "/v2/service_instances/r/service_bindings/c", kafkatest.Details(svc, duck, nil), 201)

	// The record goes alongside the user; the retry finds no record but
	// deletes the user before it answers 410.
	failKey(f.cluster, kmsg.DeleteACLs.Int16())
	f.do(t, "DELETE", "/v2/service_instances/r/service_bindings/b"+q, nil, 500)
	f.do(t, "DELETE", "/v2/service_instances/r/service_bindings/b"+q, nil, 410)
	f.assertGoneUser(t, "t-r.b")

	// A failed deprovision writes its records back.
	failKey(f.cluster, kmsg.DeleteTopics.Int16())
	f.do(t, "DELETE", "/v2/service_instances/r"+q, nil, 500)
	f.do(t, "GET", "/v2/service_instances/r", nil, 200)
	f.do(t, "GET", "/v2/service_instances/r/service_bindings/c", nil, 200)
	f.do(t, "DELETE", "/v2/service_instances/r"+q, nil, 200)
	f.do(t, "GET", "/v2/service_instances/r/service_bindings/c", nil, 404)
	if topics, err := f.broker.cfg.Admin.TopicsWithPrefix(ctx, "t-r."); err != nil || len(topics) != 0 {
		t.Fatalf("topics left: %v %v", topics, err)
	}
	f.assertGoneUser(t, "t-r.c")
}
