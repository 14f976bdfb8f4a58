package brokermessages_test

import (
	"context"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	scv1beta1 "github.com/svcat-io/svcat/api/v1beta1"
	"github.com/svcat-io/svcat/internal/kafkabroker/catalog"
	"github.com/svcat-io/svcat/internal/kafkabroker/embedded"
	"github.com/svcat-io/svcat/internal/kafkabroker/kafkatest"
	"github.com/svcat-io/svcat/internal/kafkabroker/server"
	"github.com/svcat-io/svcat/internal/localcluster"
)

// maintCatalog is a kafka-broker catalog whose one plan is at version v,
// which sets max.message.bytes to maxBytes on the tenant's topics.
func maintCatalog(t *testing.T, v, maxBytes string) *catalog.Catalog {
	t.Helper()
	return parseCatalog(t, `services:
- id: maint-kafka-svc
  name: maint-kafka
  description: Kafka with maintenance versions
  plans:
  - id: maint-kafka-duck
    name: duck
    description: Duck
    limits: {maxTopics: 5, maxPartitions: 3, maxRetentionHours: 24}
    defaultTopics: [{name: default}]
    maintenanceInfo: {version: `+v+`, description: "Topics accept records up to `+maxBytes+` bytes"}
    topicConfig: {max.message.bytes: "`+maxBytes+`"}
`)
}

// The kafka-broker ships a new maintenance version (a restart with a new
// catalog, as docs/kafka-broker.md says to): the instance is offered the
// upgrade with the broker's description, and once asked the tenant's topic
// gets the new version's config.
func TestKafkaBrokerMaintenanceUpgrade(t *testing.T) {
	env := controlPlane(t)
	c := env.Client
	ctx := context.Background()
	cluster := kafkatest.Cluster(t, t.TempDir())
	ln := listenLoopback(t)
	addr := ln.Addr().String()
	stop := serveKafkaBroker(t, cluster, maintCatalog(t, "1.0.0", "1048576"), ln)
	b, inst, waitFor := kafkaInstance(t, env, "maint-kafka", "duck", addr)
	waitFor("provisioned at 1.0.0", func(i *scv1beta1.ServiceInstance) error {
		if i.Status.ExternalProperties == nil || i.Status.ExternalProperties.MaintenanceInfoVersion != "1.0.0" {
			return fmt.Errorf("conditions %+v", i.Status.Conditions)
		}
		return nil
	})
	if got := topicConfig(t, cluster, "max.message.bytes"); got != "1048576" {
		t.Fatalf("max.message.bytes %q at 1.0.0", got)
	}

	// A new broker version: same Kafka, same address, a new catalog.
	stop()
	ln2, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	serveKafkaBroker(t, cluster, maintCatalog(t, "1.1.0", "2097152"), ln2)
	retryPatch(t, c, b, func(b *scv1beta1.ClusterServiceBroker) { b.Spec.RelistRequests++ })
	waitFor("the upgrade offered", func(i *scv1beta1.ServiceInstance) error {
		cond := i.Status.GetCondition(scv1beta1.ServiceInstanceConditionUpgradeAvailable)
		if cond == nil || cond.Reason != scv1beta1.ReasonMaintenanceUpgradeAvailable || !strings.Contains(cond.Message, "Topics accept records up to 2097152 bytes") {
			return fmt.Errorf("UpgradeAvailable %+v", cond)
		}
		return nil
	})
	if got := topicConfig(t, cluster, "max.message.bytes"); got != "1048576" {
		t.Errorf("max.message.bytes %q before the upgrade was asked for, want 1048576", got)
	}

	localcluster.Eventually(t, 10*time.Second, "ask for the upgrade", func() error {
		if err := c.Get(ctx, client.ObjectKeyFromObject(inst), inst); err != nil {
			return err
		}
		inst.Spec.MaintenanceInfoVersion = "1.1.0"
		return c.Update(ctx, inst)
	})
	waitFor("upgraded to 1.1.0", func(i *scv1beta1.ServiceInstance) error {
		if i.Status.ExternalProperties == nil || i.Status.ExternalProperties.MaintenanceInfoVersion != "1.1.0" {
			return fmt.Errorf("conditions %+v", i.Status.Conditions)
		}
		if cond := i.Status.GetCondition(scv1beta1.ServiceInstanceConditionUpgradeAvailable); cond != nil {
			return fmt.Errorf("UpgradeAvailable still there: %+v", cond)
		}
		return nil
	})
	if got := topicConfig(t, cluster, "max.message.bytes"); got != "2097152" {
		t.Errorf("max.message.bytes %q after the upgrade, want 2097152", got)
	}
}

// kafkaInstance registers the kafka-broker at addr as the cluster broker
// name and creates, in a namespace of its own, the instance "kafka" of its
// class name on plan. waitFor polls the instance until ok accepts it.
func kafkaInstance(t *testing.T, env *localcluster.Env, name, plan, addr string) (*scv1beta1.ClusterServiceBroker, *scv1beta1.ServiceInstance, func(string, func(*scv1beta1.ServiceInstance) error)) {
	t.Helper()
	c := env.Client
	ctx := context.Background()
	brokerNS, ns := env.Namespace(t), env.Namespace(t)
	if err := c.Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: brokerNS, Name: "creds"},
		Data: map[string][]byte{"username": []byte("broker"), "password": []byte("broker-pass-M1")}}); err != nil {
		t.Fatal(err)
	}
	b := &scv1beta1.ClusterServiceBroker{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: scv1beta1.ClusterServiceBrokerSpec{
		CommonServiceBrokerSpec: scv1beta1.CommonServiceBrokerSpec{URL: "http://" + addr, RelistBehavior: scv1beta1.ServiceBrokerRelistBehaviorManual},
		AuthInfo:                &scv1beta1.ClusterServiceBrokerAuthInfo{Basic: &scv1beta1.ClusterBasicAuthConfig{SecretRef: &scv1beta1.ObjectReference{Namespace: brokerNS, Name: "creds"}}}}}
	if err := c.Create(ctx, b); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Delete(context.Background(), b) })
	inst := &scv1beta1.ServiceInstance{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "kafka"},
		Spec: scv1beta1.ServiceInstanceSpec{PlanReference: scv1beta1.PlanReference{ClusterServiceClassExternalName: name, ClusterServicePlanExternalName: plan}}}
	localcluster.Eventually(t, 30*time.Second, "create the instance", func() error { return c.Create(ctx, inst) })
	waitFor := func(what string, ok func(*scv1beta1.ServiceInstance) error) {
		t.Helper()
		localcluster.Eventually(t, time.Minute, what, func() error {
			if err := c.Get(ctx, client.ObjectKeyFromObject(inst), inst); err != nil {
				return err
			}
			return ok(inst)
		})
	}
	return b, inst, waitFor
}

// parseCatalog is the kafka-broker catalog of the YAML text.
func parseCatalog(t *testing.T, text string) *catalog.Catalog {
	t.Helper()
	c, err := catalog.Parse([]byte(text))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// listenLoopback is a listener on a free loopback port for a kafka-broker
// to serve on.
func listenLoopback(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

// serveKafkaBroker serves a kafka-broker for cluster on ln until the
// returned stop (or the test's end).
func serveKafkaBroker(t *testing.T, cluster *embedded.Cluster, cat *catalog.Catalog, ln net.Listener) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	srv, err := server.New(ctx, server.Config{Username: "broker", Password: "broker-pass-M1", Catalog: cat, TopicPrefixBase: "svcat-",
		Kafka: server.Kafka{BootstrapServers: cluster.Addrs(), AdminUser: cluster.AdminUser(), AdminPassword: cluster.AdminPassword(), CAPEM: cluster.CAPEM()}})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { defer close(done); _ = srv.Serve(ctx, ln, nil) }()
	stop = func() {
		cancel()
		<-done
		srv.Close()
		ln.Close()
	}
	t.Cleanup(func() {
		select {
		case <-done:
		default:
			stop()
		}
	})
	return stop
}

// topicConfig is the value of one config of the tenant's default topic.
func topicConfig(t *testing.T, cluster *embedded.Cluster, key string) string {
	t.Helper()
	cl, err := kgo.NewClient(cluster.AdminOpts()...)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	topics, err := adm.ListTopics(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var name string
	for _, n := range topics.Names() {
		if strings.HasSuffix(n, ".default") {
			name = n
		}
	}
	if name == "" {
		t.Fatalf("no tenant topic among %v", topics.Names())
	}
	cfgs, err := adm.DescribeTopicConfigs(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	rc, err := cfgs.On(name, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range rc.Configs {
		if c.Key == key && c.Value != nil {
			return *c.Value
		}
	}
	return ""
}

func retryPatch(t *testing.T, c client.Client, b *scv1beta1.ClusterServiceBroker, edit func(*scv1beta1.ClusterServiceBroker)) {
	t.Helper()
	localcluster.Eventually(t, 10*time.Second, "patch the broker", func() error {
		if err := c.Get(context.Background(), client.ObjectKeyFromObject(b), b); err != nil {
			return err
		}
		edit(b)
		return c.Update(context.Background(), b)
	})
}
