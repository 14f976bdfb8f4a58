package server_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/sasl/scram"

	"github.com/svcat-io/svcat/internal/kafkabroker/embedded"
	"github.com/svcat-io/svcat/internal/kafkabroker/kafkatest"
	"github.com/svcat-io/svcat/internal/kafkabroker/server"
)

// clientFor connects with nothing but what a binding handed out: the
// bootstrap servers, the SCRAM user and the CA.
func clientFor(t *testing.T, creds map[string]string, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	if creds["sasl.mechanism"] != "SCRAM-SHA-512" || creds["security.protocol"] != "SASL_SSL" {
		t.Fatalf("unexpected security settings %q %q", creds["sasl.mechanism"], creds["security.protocol"])
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM([]byte(creds["ca"])) {
		t.Fatal("the ca credential holds no certificate")
	}
	cl, err := kgo.NewClient(append([]kgo.Opt{
		kgo.SeedBrokers(strings.Split(creds["bootstrap-servers"], ",")...),
		kgo.DialTLSConfig(&tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}),
		kgo.SASL(scram.Auth{User: creds["username"], Pass: creds["password"]}.AsSha512Mechanism()),
		kgo.RequestRetries(1),
		kgo.RetryTimeout(2 * time.Second),
	}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}

// shortCtx bounds calls that are expected to finish, or to be refused,
// quickly; the bound only matters when something is broken.
func shortCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func produce(t *testing.T, cl *kgo.Client, topic, value string) error {
	t.Helper()
	return cl.ProduceSync(shortCtx(t), &kgo.Record{Topic: topic, Value: []byte(value)}).FirstErr()
}

// consumeAll reads a topic as a member of group until want records came or
// the time is up. Expecting records, give it long; expecting none, it
// waits the whole time.
func consumeAll(t *testing.T, creds map[string]string, topic, group string, want int, wait time.Duration) []string {
	t.Helper()
	cl := clientFor(t, creds, kgo.ConsumeTopics(topic), kgo.ConsumerGroup(group), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	var got []string
	for len(got) < want && ctx.Err() == nil {
		fs := cl.PollFetches(ctx)
		fs.EachRecord(func(r *kgo.Record) { got = append(got, string(r.Value)) })
	}
	return got
}

func provisionAndBind(t *testing.T, osb *kafkatest.OSB, inst string) map[string]string {
	t.Helper()
	params := map[string]any{"topics": []any{map[string]any{"name": "events"}}}
	expect(t, "provision "+inst, osb.Do(t, "PUT", instPath(inst), kafkatest.Details(svc, duck, params)), 201)
	r := osb.Do(t, "PUT", bindPath(inst, "app"), kafkatest.Details(svc, duck, nil))
	expect(t, "bind "+inst, r, 201)
	return r.Credentials()
}

func TestRoundTripAndIsolation(t *testing.T) {
	c := kafkatest.Cluster(t, "")
	osb, _ := startBroker(t, c)
	credsA := provisionAndBind(t, osb, "a")
	credsB := provisionAndBind(t, osb, "b")
	topicA, topicB := credsA["topicPrefix"]+"events", credsB["topicPrefix"]+"events"

	a := clientFor(t, credsA)
	b := clientFor(t, credsB)
	if err := produce(t, a, topicA, "hello-a"); err != nil {
		t.Fatalf("A producing to its own topic: %v", err)
	}
	if err := produce(t, b, topicB, "hello-b"); err != nil {
		t.Fatalf("B producing to its own topic: %v", err)
	}
	if got := consumeAll(t, credsA, topicA, credsA["groupPrefix"]+"group", 1, 20*time.Second); !slices.Equal(got, []string{"hello-a"}) {
		t.Fatalf("A consuming its own topic in its own group: %v", got)
	}
	txn := clientFor(t, credsA, kgo.TransactionalID(credsA["transactionalIdPrefix"]+"tx"))
	if err := txn.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	if err := txn.ProduceSync(shortCtx(t), &kgo.Record{Topic: topicA, Value: []byte("in-txn")}).FirstErr(); err != nil {
		t.Fatalf("A producing transactionally with its own transactional ID: %v", err)
	}
	if err := txn.EndTransaction(shortCtx(t), kgo.TryCommit); err != nil {
		t.Fatalf("committing A's transaction: %v", err)
	}

	admA := kadm.NewClient(a)
	admin := adminClient(t, c)
	denied := []struct {
		name string
		call func() error
	}{
		{"produce to B's topic", func() error { return produce(t, a, topicB, "intrude") }},
		{"transactional ID in B's prefix", func() error {
			cl := clientFor(t, credsA, kgo.TransactionalID(credsB["topicPrefix"]+"tx"))
			if err := cl.BeginTransaction(); err != nil {
				return err
			}
			return cl.ProduceSync(shortCtx(t), &kgo.Record{Topic: topicA, Value: []byte("x")}).FirstErr()
		}},
		{"describe B's topic configs", func() error {
			rc, err := admA.DescribeTopicConfigs(shortCtx(t), topicB)
			if err != nil {
				return err
			}
			return firstErr(rc)
		}},
		{"delete B's topic", func() error { return deleteTopic(t, admA, topicB) }},
		{"delete its own topic (plan limits)", func() error { return deleteTopic(t, admA, topicA) }},
		{"create a topic in its own prefix (plan limits)", func() error {
			r, err := admA.CreateTopic(shortCtx(t), 1, -1, nil, credsA["topicPrefix"]+"extra")
			if err != nil {
				return err
			}
			return r.Err
		}},
		{"fetch offsets of B's group", func() error {
			_, err := admA.FetchOffsets(shortCtx(t), credsB["topicPrefix"]+"group")
			return err
		}},
		{"delete B's group", func() error {
			r, err := admA.DeleteGroup(shortCtx(t), credsB["topicPrefix"]+"group")
			if err != nil {
				return err
			}
			return r.Err
		}},
		{"list SCRAM users", func() error { _, err := admA.DescribeUserSCRAMs(shortCtx(t)); return err }},
		{"create a SCRAM user", func() error {
			r, err := admA.AlterUserSCRAMs(shortCtx(t), nil, []kadm.UpsertSCRAM{{User: "evil", Mechanism: kadm.ScramSha512, Iterations: 4096, Password: "x"}})
			if err != nil {
				return err
			}
			return r.Error()
		}},
		{"grant itself ACLs", func() error {
			b := kadm.NewACLs().Allow("User:" + credsA["username"]).AllowHosts("*").Topics(topicB).Operations(kadm.OpAll)
			r, err := admA.CreateACLs(shortCtx(t), b)
			if err != nil {
				return err
			}
			for _, x := range r {
				if x.Err != nil {
					return x.Err
				}
			}
			return nil
		}},
		{"describe ACLs", func() error {
			req := kmsg.NewPtrDescribeACLsRequest()
			req.ResourceType = kmsg.ACLResourceTypeAny
			req.ResourcePatternType = kmsg.ACLResourcePatternTypeAny
			req.Operation = kmsg.ACLOperationAny
			req.PermissionType = kmsg.ACLPermissionTypeAny
			resp, err := req.RequestWith(shortCtx(t), a)
			if err != nil {
				return err
			}
			return kerr.ErrorForCode(resp.ErrorCode)
		}},
		{"read the broker's state topic", func() error {
			return consumeErr(t, credsA, "__svcat_kafka_broker")
		}},
	}
	for _, d := range denied {
		t.Run(d.name, func(t *testing.T) {
			if err := d.call(); err == nil {
				t.Fatalf("A's credentials may %s", d.name)
			}
		})
	}
	// Consuming B's topic must yield none of B's records, whether the
	// client reports the denial or just sees nothing.
	if err := consumeErr(t, credsA, topicB); err == nil {
		t.Fatal("A's credentials read B's topic")
	}
	if got := consumeAll(t, credsA, topicA, credsB["topicPrefix"]+"group", 1, 3*time.Second); len(got) != 0 {
		t.Fatalf("A joined B's consumer group and read %v", got)
	}
	listed, err := admA.ListTopics(shortCtx(t))
	if err != nil {
		t.Fatal(err)
	}
	if names := listed.Names(); slices.Contains(names, topicB) || !slices.Contains(names, topicA) {
		t.Fatalf("A sees topics %v", names)
	}
	// The denied delete must not have happened behind a reported error.
	if all, err := admin.ListTopics(shortCtx(t)); err != nil || !all.Has(topicA) || !all.Has(topicB) {
		t.Fatalf("topics after denied deletes: %v %v", all.Names(), err)
	}

	expect(t, "unbind A", osb.Do(t, "DELETE", bindPath("a", "app")+query(duck), nil), 200)
	if err := produce(t, a, topicA, "after-unbind"); err == nil {
		t.Fatal("A's old connection still produces after unbind")
	}
	fresh := clientFor(t, credsA)
	if err := fresh.Ping(shortCtx(t)); err == nil {
		t.Fatal("A's old credentials still log in after unbind")
	}
	if err := produce(t, b, topicB, "still-fine"); err != nil {
		t.Fatalf("B lost access when A was unbound: %v", err)
	}
}

func consumeErr(t *testing.T, creds map[string]string, topic string) error {
	cl := clientFor(t, creds, kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: {0: kgo.NewOffset().AtStart()}}))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	var records int
	var fetchErr error
	for ctx.Err() == nil && records == 0 && fetchErr == nil {
		fs := cl.PollFetches(ctx)
		records += fs.NumRecords()
		for _, e := range fs.Errors() {
			if ctx.Err() == nil {
				fetchErr = e.Err
			}
		}
	}
	if records > 0 {
		return nil
	}
	if fetchErr == nil {
		fetchErr = ctx.Err()
	}
	return fetchErr
}

func firstErr(rc kadm.ResourceConfigs) error {
	for _, r := range rc {
		if r.Err != nil {
			return r.Err
		}
	}
	return nil
}

func deleteTopic(t *testing.T, adm *kadm.Client, topic string) error {
	r, err := adm.DeleteTopics(shortCtx(t), topic)
	if err != nil {
		return err
	}
	return r.Error()
}

func adminClient(t *testing.T, c *embedded.Cluster) *kadm.Client {
	cl, err := kgo.NewClient(c.AdminOpts()...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return kadm.NewClient(cl)
}

func freePort(t *testing.T) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func TestRestartWithDataDir(t *testing.T) {
	cfg := server.Config{
		Username: "platform", Password: "s3cret",
		Embedded:         &embedded.Config{DataDir: t.TempDir(), Port: freePort(t)},
		TopicPrefixBase:  "svcat-",
		OperationTimeout: 30 * time.Second,
	}
	start := func() (*kafkatest.OSB, func()) {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		srv, err := server.New(ctx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		hs := newHTTPServer(srv)
		return kafkatest.NewOSB(hs.URL, cfg.Username, cfg.Password), func() { hs.Close(); srv.Close() }
	}
	osb, stop := start()
	creds := provisionAndBind(t, osb, "keep")
	topic := creds["topicPrefix"] + "events"
	if err := produce(t, clientFor(t, creds), topic, "before-restart"); err != nil {
		t.Fatal(err)
	}
	stop()

	osb, stop = start()
	defer stop()
	expect(t, "instance after restart", osb.Do(t, "GET", instPath("keep"), nil), 200)
	again := osb.Do(t, "GET", bindPath("keep", "app"), nil)
	expect(t, "binding after restart", again, 200)
	if again.Credentials()["password"] != creds["password"] || again.Credentials()["ca"] != creds["ca"] || again.Credentials()["brokers"] != creds["brokers"] {
		t.Fatal("credentials changed across the restart")
	}
	if got := consumeAll(t, creds, topic, creds["topicPrefix"]+"g", 1, 20*time.Second); !slices.Equal(got, []string{"before-restart"}) {
		t.Fatalf("old credentials after restart read %v", got)
	}
	expect(t, "provision again after restart", osb.Do(t, "PUT", instPath("keep"), kafkatest.Details(svc, duck, map[string]any{"topics": []any{map[string]any{"name": "events"}}})), 200)
	expect(t, "deprovision after restart", osb.Do(t, "DELETE", instPath("keep")+query(duck), nil), 200)
}
