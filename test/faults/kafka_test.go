package faults

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	scv1beta1 "github.com/svcat-io/svcat/api/v1beta1"
	"github.com/svcat-io/svcat/internal/kafkabroker/embedded"
	"github.com/svcat-io/svcat/internal/kafkabroker/server"
	"github.com/svcat-io/svcat/internal/localcluster"
)

// faultyProxy sits between the controller and the kafka-broker and breaks
// some requests: answered 500 without reaching the broker, or forwarded and
// then the connection dropped, so the broker acted but the controller never
// heard (the orphan case).
type faultyProxy struct {
	target   *httputil.ReverseProxy
	mu       sync.Mutex
	rng      *rand.Rand
	rate     float64
	on       atomic.Bool
	injected atomic.Int64
}

func (p *faultyProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	roll := p.rng.Float64()
	p.mu.Unlock()
	if !p.on.Load() || roll >= p.rate || r.URL.Path == "/v2/catalog" {
		p.target.ServeHTTP(w, r)
		return
	}
	p.injected.Add(1)
	if roll < p.rate/2 {
		http.Error(w, `{"description":"injected failure"}`, http.StatusInternalServerError)
		return
	}
	// Let the broker do the work, then hang up without an answer.
	rec := &discard{header: http.Header{}}
	p.target.ServeHTTP(rec, r)
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			_ = conn.Close()
			return
		}
	}
	http.Error(w, "dropped", http.StatusBadGateway)
}

type discard struct{ header http.Header }

func (d *discard) Header() http.Header         { return d.header }
func (d *discard) Write(b []byte) (int, error) { return len(b), nil }
func (d *discard) WriteHeader(int)             {}

// The fault suite against the kafka-broker with its embedded Kafka: after a
// faulty, crash-interrupted workload and the deletion of everything, no
// tenant topic, SCRAM user or ACL is left in Kafka. SVCAT_KAFKA_FAULT_OPS
// sets the size.
func TestKafkaBrokerLeavesNothingBehind(t *testing.T) {
	env := localcluster.Get(t)
	ctx := context.Background()
	cfg := configFromEnv(t)
	ops := envInt(t, "SVCAT_KAFKA_FAULT_OPS", 30)
	rng := rand.New(rand.NewPCG(cfg.seed, 7))
	fmt.Printf("kafka fault suite: seed %d, %d operations\n", cfg.seed, ops)

	srv, err := server.New(ctx, server.Config{Username: "broker", Password: "broker-pass-Kafka1", Embedded: &embedded.Config{}, TopicPrefixBase: "svcat-"})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	bl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() { _ = srv.Serve(sctx, bl, nil) }()
	target, _ := url.Parse("http://" + bl.Addr().String())
	proxy := &faultyProxy{target: httputil.NewSingleHostReverseProxy(target), rng: rand.New(rand.NewPCG(cfg.seed, 9)), rate: cfg.faultRate}
	pl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{Handler: proxy}
	go func() { _ = hs.Serve(pl) }()
	defer hs.Close()

	brokerNS, ns := env.Namespace(t), env.Namespace(t)
	must(t, env.Client.Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: brokerNS, Name: "creds"},
		Data: map[string][]byte{"username": []byte("broker"), "password": []byte("broker-pass-Kafka1")}}))
	ctl := &controllerProcess{bin: buildController(t), kubeconfig: env.Kubeconfig, args: []string{
		"--metrics-bind-address=0", "--health-probe-bind-address=0", "--refuse-loopback-broker-urls=false", "--cluster-id=kafka-faults", "--osb-timeout=5s", "--retry-max-delay=2s"}}
	must(t, ctl.start())
	defer ctl.kill()
	must(t, env.Client.Create(ctx, &scv1beta1.ClusterServiceBroker{ObjectMeta: metav1.ObjectMeta{Name: "kafka"}, Spec: scv1beta1.ClusterServiceBrokerSpec{
		CommonServiceBrokerSpec: scv1beta1.CommonServiceBrokerSpec{URL: "http://" + pl.Addr().String(), RelistBehavior: scv1beta1.ServiceBrokerRelistBehaviorDuration},
		AuthInfo:                &scv1beta1.ClusterServiceBrokerAuthInfo{Basic: &scv1beta1.ClusterBasicAuthConfig{SecretRef: &scv1beta1.ObjectReference{Namespace: brokerNS, Name: "creds"}}}}}))
	waitFor(t, time.Minute, "the kafka class", func() error {
		l := &scv1beta1.ClusterServiceClassList{}
		if err := env.Client.List(ctx, l); err != nil {
			return err
		}
		for _, c := range l.Items {
			if c.Spec.ClusterServiceBrokerName == "kafka" {
				return nil
			}
		}
		return fmt.Errorf("not yet")
	})

	proxy.on.Store(true)
	var live []string
	kills := spread(rng, 2, ops)
	for i := 0; i < ops; i++ {
		if kills[i] > 0 {
			must(t, ctl.restartAfter(200*time.Millisecond))
		}
		switch p := rng.IntN(10); {
		case p < 4 || len(live) == 0:
			name := fmt.Sprintf("k-%d", i)
			must(t, env.Client.Create(ctx, &scv1beta1.ServiceInstance{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
				Spec: scv1beta1.ServiceInstanceSpec{PlanReference: scv1beta1.PlanReference{ClusterServiceClassExternalName: "kafka", ClusterServicePlanExternalName: "duck"}}}))
			live = append(live, name)
		case p < 8:
			inst := live[rng.IntN(len(live))]
			must(t, env.Client.Create(ctx, &scv1beta1.ServiceBinding{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: fmt.Sprintf("%s-b%d", inst, i)},
				Spec: scv1beta1.ServiceBindingSpec{InstanceRef: scv1beta1.InstanceReference{Name: inst}}}))
		default:
			l := &scv1beta1.ServiceBindingList{}
			must(t, env.Client.List(ctx, l, client.InNamespace(ns)))
			if len(l.Items) > 0 {
				b := l.Items[rng.IntN(len(l.Items))]
				must(t, client.IgnoreNotFound(env.Client.Delete(ctx, &b)))
			}
		}
		time.Sleep(time.Duration(50+rng.IntN(200)) * time.Millisecond)
	}
	// The random workload may have deleted every binding it made (about
	// 2 % of seeds at 30 operations, e.g. 1796549802377659017: 10 binds,
	// 10 unbinds); the check below needs one to see a tenant user.
	made := &scv1beta1.ServiceBindingList{}
	must(t, env.Client.List(ctx, made, client.InNamespace(ns)))
	if countLive(made.Items) == 0 {
		inst := live[rng.IntN(len(live))]
		name := fmt.Sprintf("%s-b%d", inst, ops)
		fmt.Printf("kafka fault suite: the workload left no binding; binding %s to %s so that Kafka has a tenant user to check\n", name, inst)
		must(t, env.Client.Create(ctx, &scv1beta1.ServiceBinding{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
			Spec: scv1beta1.ServiceBindingSpec{InstanceRef: scv1beta1.InstanceReference{Name: inst}}}))
	}
	// Let some bindings finish under faults, then stop the faults and
	// delete everything.
	time.Sleep(2 * time.Second)
	proxy.on.Store(false)
	kc, err := kgo.NewClient(srv.Cluster().AdminOpts()...)
	if err != nil {
		t.Fatal(err)
	}
	defer kc.Close()
	adm := kadm.NewClient(kc)
	// The check below must be able to see tenants: before the deletion
	// Kafka holds exactly what the cluster's objects call for.
	waitFor(t, 3*time.Minute, "Kafka's tenants match the cluster's instances and bindings", func() error {
		got, err := tenantResources(ctx, adm)
		if err != nil {
			return err
		}
		insts, binds := &scv1beta1.ServiceInstanceList{}, &scv1beta1.ServiceBindingList{}
		if err := env.Client.List(ctx, insts, client.InNamespace(ns)); err != nil {
			return err
		}
		if err := env.Client.List(ctx, binds, client.InNamespace(ns)); err != nil {
			return err
		}
		return tenantsMatch(got, countLive(insts.Items), countLive(binds.Items))
	})
	must(t, env.Client.DeleteAllOf(ctx, &scv1beta1.ServiceBinding{}, client.InNamespace(ns)))
	waitFor(t, 3*time.Minute, "bindings deleted", func() error { return countLeft(ctx, env.Client, &scv1beta1.ServiceBindingList{}, ns) })
	must(t, env.Client.DeleteAllOf(ctx, &scv1beta1.ServiceInstance{}, client.InNamespace(ns)))
	waitFor(t, 3*time.Minute, "instances deleted", func() error { return countLeft(ctx, env.Client, &scv1beta1.ServiceInstanceList{}, ns) })

	// What Kafka still holds for tenants.
	var left tenantCounts
	waitFor(t, time.Minute, "tenant resources removed", func() error {
		var err error
		if left, err = tenantResources(ctx, adm); err != nil {
			return err
		}
		if left.topics+left.users+left.acls > 0 {
			return fmt.Errorf("%d topics, %d users, %d ACLs left", left.topics, left.users, left.acls)
		}
		return nil
	})
	fmt.Printf("kafka fault suite: seed %d, %d operations, %d faults injected, %d controller starts; left in Kafka: %d tenant topics, %d SCRAM users, %d ACLs\n",
		cfg.seed, ops, proxy.injected.Load(), ctl.runs, left.topics, left.users, left.acls)
}

// tenantCounts is what Kafka holds for the kafka-broker's tenants.
type tenantCounts struct {
	topics, users, acls int
	// grantees is how many SCRAM users hold at least one ACL.
	grantees int
}

// tenantsMatch says whether Kafka holds what the cluster's live (not
// deleting) objects call for once everything has settled: one topic per
// instance (the duck plan's default topic) and one SCRAM user with ACLs per
// binding. A binding whose user went missing, an unbind that left its user
// behind, or a tenant check that cannot see users all fail it.
func tenantsMatch(got tenantCounts, instances, bindings int) error {
	if bindings == 0 {
		return fmt.Errorf("the cluster has no binding: the check could not tell a missing user from none expected")
	}
	if got.topics != instances || got.users != bindings || got.grantees != bindings {
		return fmt.Errorf("Kafka holds %d tenant topics and %d SCRAM users, %d ACLs held by %d of them; the cluster's %d instances and %d bindings call for %d topics and %d users with ACLs",
			got.topics, got.users, got.acls, got.grantees, instances, bindings, instances, bindings)
	}
	return nil
}

// countLive counts the objects that are not being deleted.
func countLive[T any, P interface {
	*T
	client.Object
}](items []T) int {
	n := 0
	for i := range items {
		if P(&items[i]).GetDeletionTimestamp().IsZero() {
			n++
		}
	}
	return n
}

// tenantResources counts the topics, SCRAM users and ACLs the kafka-broker
// made for tenants (all carry its "svcat-" prefix).
func tenantResources(ctx context.Context, adm *kadm.Client) (c tenantCounts, err error) {
	td, err := adm.ListTopics(ctx)
	if err != nil {
		return c, err
	}
	for name := range td {
		if strings.HasPrefix(name, "svcat-") {
			c.topics++
		}
	}
	ud, err := adm.DescribeUserSCRAMs(ctx)
	if err != nil {
		return c, err
	}
	for name := range ud {
		if strings.HasPrefix(name, "svcat-") {
			c.users++
		}
	}
	ad, err := adm.DescribeACLs(ctx, kadm.NewACLs().AnyResource().ResourcePatternType(kadm.ACLPatternAny).Operations(kadm.OpAny).Allow().Deny().AllowHosts().DenyHosts())
	if err != nil {
		return c, err
	}
	grantees := map[string]bool{}
	for _, r := range ad {
		for _, d := range r.Described {
			if strings.Contains(d.Principal, "svcat-") {
				c.acls++
				grantees[d.Principal] = true
			}
		}
	}
	c.grantees = len(grantees)
	return c, nil
}

// The pre-deletion check of TestKafkaBrokerLeavesNothingBehind fails
// whenever Kafka and the cluster disagree, and when there is nothing to
// compare (it then proves nothing about the final empty check).
func TestTenantsMatch(t *testing.T) {
	for _, tc := range []struct {
		name                string
		got                 tenantCounts
		instances, bindings int
		ok                  bool
	}{
		{"every instance a topic, every binding a user with ACLs", tenantCounts{topics: 6, users: 2, acls: 18, grantees: 2}, 6, 2, true},
		{"no binding in the cluster (seed 1796549802377659017 before the fix)", tenantCounts{topics: 6}, 6, 0, false},
		{"a Ready binding's user lost", tenantCounts{topics: 6, users: 1, acls: 9, grantees: 1}, 6, 2, false},
		{"an unbound binding's user left behind", tenantCounts{topics: 6, users: 3, acls: 27, grantees: 3}, 6, 2, false},
		{"a user without ACLs", tenantCounts{topics: 6, users: 2, acls: 9, grantees: 1}, 6, 2, false},
		{"an instance without its topic", tenantCounts{topics: 5, users: 2, acls: 18, grantees: 2}, 6, 2, false},
		{"a deprovisioned instance's topic left behind", tenantCounts{topics: 7, users: 2, acls: 18, grantees: 2}, 6, 2, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tenantsMatch(tc.got, tc.instances, tc.bindings)
			if (err == nil) != tc.ok {
				t.Fatalf("tenantsMatch(%+v, %d instances, %d bindings) = %v, want ok=%v", tc.got, tc.instances, tc.bindings, err, tc.ok)
			}
			if err != nil {
				t.Log(err)
			}
		})
	}
}
