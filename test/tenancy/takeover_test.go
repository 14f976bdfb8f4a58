package tenancy

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	scv1beta1 "github.com/svcat-io/svcat/api/v1beta1"
	"github.com/svcat-io/svcat/internal/demo"
	"github.com/svcat-io/svcat/internal/kafkabroker/embedded"
	"github.com/svcat-io/svcat/internal/kafkabroker/server"
)

// victimTopic is a parameter only the victim's instance carries: the
// broker stores it, and it must never show in the attacker's view.
const victimTopic = "victor-ledger-7f3a"

// Issue 14, item 1 (takeover by external ID): the victim's namespace
// provisions and binds the kafka-broker's Kafka; an attacker in another
// namespace creates instances with the victim's spec.externalID, one with
// the same plan and parameters, one with others. Each copy is refused
// before any broker call (Ready=False reason ExternalIDInUse, or the API
// server refuses the create), the attacker never gets credentials that read
// the victim's topic, no condition, event or controller log line shows the
// attacker the victim's parameters, and once the attacker deletes the copies
// the victim's Kafka still works with the victim's binding.
func TestExternalIDTakeover(t *testing.T) {
	c := setup(t)
	ctx := context.Background()
	ctl := c.startController(t, 0)
	kafka, osbURL := startKafkaBroker(t)

	// The operator's broker, for every namespace.
	registerKafkaBroker(t, c, osbURL)

	// The victim's Kafka, bound, with a message in it.
	victor := c.newTenant(t, "victor")
	params := fmt.Sprintf(`{"topics":[{"name":%q}]}`, victimTopic)
	must(t, victor.c.Create(ctx, kafkaInstance(victor.ns, "kafka", "", params)))
	waitFor(t, 2*time.Minute, "the victim's instance Ready", instanceReady(victor.c, victor.ns, "kafka"))
	must(t, victor.c.Create(ctx, kafkaBinding(victor.ns, "creds", "kafka")))
	waitFor(t, time.Minute, "the victim's binding Ready", bindingReady(victor.c, victor.ns, "creds"))
	victorCreds := bindingCredentials(t, victor.c, victor.ns, "creds")
	topic := victorCreds.TopicPrefix + victimTopic
	must(t, produce(ctx, victorCreds, topic, "victor's secret"))
	if err := consumeUntil(ctx, victorCreds, topic, "victor's secret"); err != nil {
		t.Fatalf("the victim cannot read their own topic: %v", err)
	}
	victim := &scv1beta1.ServiceInstance{}
	must(t, victor.c.Get(ctx, client.ObjectKey{Namespace: victor.ns, Name: "kafka"}, victim))
	externalID := victim.Spec.ExternalID
	provisionPath := "PUT /v2/service_instances/" + externalID
	provisions := kafka.count(provisionPath)

	// The attacker knows the external ID (it is in the victim's Kafka user
	// name and topic prefix).
	mallory := c.newTenant(t, "mallory")
	copies := map[string]string{"copy": params, "copy-other": `{"topics":[{"name":"mine"}]}`}
	var created []string
	for name, p := range copies {
		err := mallory.c.Create(ctx, kafkaInstance(mallory.ns, name, externalID, p))
		switch {
		case err == nil:
			created = append(created, name)
		case apierrors.IsForbidden(err) || apierrors.IsInvalid(err):
			t.Logf("instance %s with the victim's external ID refused by the API server: %v", name, err)
			if strings.Contains(err.Error(), victimTopic) {
				t.Errorf("the API server's refusal of %s shows the victim's parameters: %v", name, err)
			}
		default:
			t.Fatalf("creating %s: %v", name, err)
		}
	}
	for _, name := range created {
		cond := waitSettled(t, mallory.c, mallory.ns, name)
		if cond.Status == scv1beta1.ConditionTrue {
			t.Errorf("the attacker's instance %s with the victim's external ID is Ready: it took over the victim's Kafka", name)
		} else if cond.Reason != "ExternalIDInUse" {
			t.Errorf("the attacker's instance %s: Ready %s; want False with reason ExternalIDInUse", name, describeInstanceCond(cond))
		}
	}
	if n := kafka.count(provisionPath) - provisions; n > 0 {
		t.Errorf("the broker received %d provisions of the victim's instance ID after the attacker's copies", n)
	}

	// Whatever the copy's state, a binding of it must not read the victim's
	// topic.
	for _, name := range created {
		steal := "steal-" + name
		must(t, mallory.c.Create(ctx, kafkaBinding(mallory.ns, steal, name)))
		var ready error
		for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
			if ready = bindingReady(mallory.c, mallory.ns, steal)(); ready == nil {
				break
			}
		}
		s := &corev1.Secret{}
		if err := mallory.c.Get(ctx, client.ObjectKey{Namespace: mallory.ns, Name: steal}, s); err != nil {
			if !apierrors.IsNotFound(err) {
				t.Fatal(err)
			}
			continue
		}
		t.Errorf("the attacker's binding %s of %s produced a Secret (Ready: %v)", steal, name, ready)
		creds, err := credentialsFrom(s)
		if err == nil && consumeUntil(ctx, creds, topic, "victor's secret") == nil {
			t.Errorf("the attacker read the victim's messages with the credentials of binding %s", steal)
		}
	}

	// Nothing the attacker can see shows the victim's parameters.
	for _, name := range created {
		i := &scv1beta1.ServiceInstance{}
		must(t, mallory.c.Get(ctx, client.ObjectKey{Namespace: mallory.ns, Name: name}, i))
		for _, cond := range i.Status.Conditions {
			if strings.Contains(cond.Message, victimTopic) {
				t.Errorf("the attacker's instance %s's %s condition shows the victim's parameters: %q", name, cond.Type, cond.Message)
			}
		}
	}
	events := &corev1.EventList{}
	must(t, mallory.c.List(ctx, events, client.InNamespace(mallory.ns)))
	for _, e := range events.Items {
		if strings.Contains(e.Message, victimTopic) {
			t.Errorf("an event in the attacker's namespace shows the victim's parameters: %s %q", e.Reason, e.Message)
		}
	}
	if log := ctl.log(t); strings.Contains(log, victimTopic) {
		for _, line := range strings.Split(log, "\n") {
			if strings.Contains(line, victimTopic) {
				t.Errorf("the controller's log shows the victim's parameters: %s", line)
				break
			}
		}
	}

	// The attacker deletes the copies (their bindings first); the victim's
	// Kafka stays.
	for _, name := range created {
		must(t, client.IgnoreNotFound(mallory.c.Delete(ctx, kafkaBinding(mallory.ns, "steal-"+name, name))))
	}
	for _, name := range created {
		must(t, client.IgnoreNotFound(mallory.c.Delete(ctx, &scv1beta1.ServiceInstance{ObjectMeta: metav1.ObjectMeta{Namespace: mallory.ns, Name: name}})))
	}
	for _, name := range created {
		waitFor(t, time.Minute, "the attacker's "+name+" deleted", func() error {
			err := mallory.c.Get(ctx, client.ObjectKey{Namespace: mallory.ns, Name: name}, &scv1beta1.ServiceInstance{})
			if apierrors.IsNotFound(err) {
				return nil
			}
			if err == nil {
				return errors.New("still there")
			}
			return err
		})
	}
	if n := kafka.count("DELETE /v2/service_instances/" + externalID); n > 0 {
		t.Errorf("the broker received %d deprovisions of the victim's instance ID", n)
	}
	if err := instanceReady(victor.c, victor.ns, "kafka")(); err != nil {
		t.Errorf("the victim's instance: %v", err)
	}

	// The same for bindings: the attacker binds an instance of their own
	// under the victim's binding external ID, then deletes that binding.
	vb := &scv1beta1.ServiceBinding{}
	must(t, victor.c.Get(ctx, client.ObjectKey{Namespace: victor.ns, Name: "creds"}, vb))
	bindingPath := "/service_bindings/" + vb.Spec.ExternalID
	bindsBefore := kafka.countSuffix("PUT", bindingPath)
	must(t, mallory.c.Create(ctx, kafkaInstance(mallory.ns, "mine", "", `{"topics":[{"name":"mine"}]}`)))
	waitFor(t, time.Minute, "the attacker's own instance Ready", instanceReady(mallory.c, mallory.ns, "mine"))
	steal := kafkaBinding(mallory.ns, "steal-binding", "mine")
	steal.Spec.ExternalID = vb.Spec.ExternalID
	switch err := mallory.c.Create(ctx, steal); {
	case err == nil:
		cond := waitBindingSettled(t, mallory.c, mallory.ns, "steal-binding")
		if cond.Status == scv1beta1.ConditionTrue {
			t.Errorf("the attacker's binding with the victim's binding external ID is Ready")
		} else if cond.Reason != "ExternalIDInUse" {
			t.Errorf("the attacker's binding with the victim's binding external ID: Ready %s %q %q; want False with reason ExternalIDInUse", cond.Status, cond.Reason, cond.Message)
		}
		if n := kafka.countSuffix("PUT", bindingPath) - bindsBefore; n > 0 {
			t.Errorf("the broker received %d binds under the victim's binding ID from the attacker", n)
		}
		must(t, mallory.c.Delete(ctx, steal))
		waitFor(t, time.Minute, "the attacker's binding deleted", func() error {
			err := mallory.c.Get(ctx, client.ObjectKey{Namespace: mallory.ns, Name: "steal-binding"}, &scv1beta1.ServiceBinding{})
			if apierrors.IsNotFound(err) {
				return nil
			}
			if err == nil {
				return errors.New("still there")
			}
			return err
		})
		if n := kafka.countSuffix("DELETE", bindingPath); n > 0 {
			t.Errorf("the broker received %d unbinds of the victim's binding ID", n)
		}
	case apierrors.IsForbidden(err) || apierrors.IsInvalid(err):
		t.Logf("binding with the victim's binding external ID refused by the API server: %v", err)
	default:
		t.Fatal(err)
	}

	if err := produce(ctx, victorCreds, topic, "victor after"); err != nil {
		t.Errorf("the victim can no longer produce with their binding after the attacker deleted the copies: %v", err)
	} else if err := consumeUntil(ctx, victorCreds, topic, "victor after"); err != nil {
		t.Errorf("the victim can no longer consume with their binding after the attacker deleted the copies: %v", err)
	}
}

const kafkaBrokerPassword = "broker-pass-Kafka1"

// recordingProxy is the kafka-broker behind a proxy that counts requests
// by "METHOD /path", so the test sees which calls reached the broker.
type recordingProxy struct {
	mu     sync.Mutex
	counts map[string]int
	next   http.Handler
}

func (p *recordingProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	p.counts[r.Method+" "+r.URL.Path]++
	p.mu.Unlock()
	p.next.ServeHTTP(w, r)
}

// countSuffix counts requests of method whose path ends with suffix.
func (p *recordingProxy) countSuffix(method, suffix string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for k, v := range p.counts {
		m, path, _ := strings.Cut(k, " ")
		if m == method && strings.HasSuffix(path, suffix) {
			n += v
		}
	}
	return n
}

func (p *recordingProxy) count(k string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.counts[k]
}

// registerKafkaBroker registers the kafka-broker at osbURL as a
// ClusterServiceBroker for every namespace, its credentials in a namespace
// of their own, and removes it with its classes and plans when the test
// ends.
func registerKafkaBroker(t *testing.T, c *cluster, osbURL string) {
	t.Helper()
	ctx := context.Background()
	brokerNS := c.env.Namespace(t)
	must(t, c.env.Client.Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: brokerNS, Name: "kafka-broker"},
		Data: map[string][]byte{"username": []byte("broker"), "password": []byte(kafkaBrokerPassword)}}))
	brokerName := "kafka-" + brokerNS
	cleanupClusterBroker(t, c.env.Client, brokerName)
	must(t, c.env.Client.Create(ctx, &scv1beta1.ClusterServiceBroker{ObjectMeta: metav1.ObjectMeta{Name: brokerName}, Spec: scv1beta1.ClusterServiceBrokerSpec{
		CommonServiceBrokerSpec: scv1beta1.CommonServiceBrokerSpec{URL: osbURL, RelistBehavior: scv1beta1.ServiceBrokerRelistBehaviorManual},
		AuthInfo: &scv1beta1.ClusterServiceBrokerAuthInfo{Basic: &scv1beta1.ClusterBasicAuthConfig{
			SecretRef: &scv1beta1.ObjectReference{Namespace: brokerNS, Name: "kafka-broker"}}}}}))
}

// startKafkaBroker runs the real kafka-broker (default catalog: class
// kafka, plan duck) with an embedded Kafka, behind a recording proxy.
func startKafkaBroker(t *testing.T) (*recordingProxy, string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	srv, err := server.New(ctx, server.Config{Username: "broker", Password: kafkaBrokerPassword,
		Embedded: &embedded.Config{Port: 0, ListenHost: "127.0.0.1"}, TopicPrefixBase: "svcat-"})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	done := make(chan struct{})
	go func() { defer close(done); _ = srv.Serve(ctx, ln, nil) }()
	target, _ := url.Parse("http://" + ln.Addr().String())
	p := &recordingProxy{counts: map[string]int{}, next: httputil.NewSingleHostReverseProxy(target)}
	pl, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	hs := &http.Server{Handler: p}
	go func() { _ = hs.Serve(pl) }()
	t.Cleanup(func() {
		_ = hs.Close()
		cancel()
		<-done
		srv.Close()
	})
	return p, "http://" + pl.Addr().String()
}

func kafkaInstance(ns, name, externalID, params string) *scv1beta1.ServiceInstance {
	return &scv1beta1.ServiceInstance{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: scv1beta1.ServiceInstanceSpec{
			PlanReference: scv1beta1.PlanReference{ClusterServiceClassExternalName: "kafka", ClusterServicePlanExternalName: "duck"},
			ExternalID:    externalID,
			Parameters:    &runtime.RawExtension{Raw: []byte(params)},
		}}
}

func kafkaBinding(ns, name, instance string) *scv1beta1.ServiceBinding {
	b := &scv1beta1.ServiceBinding{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
	b.Spec.InstanceRef.Name = instance
	return b
}

// waitSettled waits until the instance's Ready condition is True, or False
// for a reason other than work in progress, and returns it.
func waitSettled(t *testing.T, c client.Client, ns, name string) *scv1beta1.ServiceInstanceCondition {
	t.Helper()
	var got *scv1beta1.ServiceInstanceCondition
	waitFor(t, time.Minute, "instance "+name+" settled", func() error {
		i := &scv1beta1.ServiceInstance{}
		if err := c.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, i); err != nil {
			return err
		}
		cond := i.Status.GetCondition(scv1beta1.ServiceInstanceConditionReady)
		if cond == nil || (cond.Status != scv1beta1.ConditionTrue && (cond.Reason == "Provisioning" || cond.Reason == "")) {
			return fmt.Errorf("Ready %s", describeInstanceCond(cond))
		}
		got = cond
		return nil
	})
	return got
}

// waitBindingSettled is waitSettled for a binding.
func waitBindingSettled(t *testing.T, c client.Client, ns, name string) *scv1beta1.ServiceBindingCondition {
	t.Helper()
	var got *scv1beta1.ServiceBindingCondition
	waitFor(t, time.Minute, "binding "+name+" settled", func() error {
		b := &scv1beta1.ServiceBinding{}
		if err := c.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, b); err != nil {
			return err
		}
		cond := b.Status.GetCondition(scv1beta1.ServiceBindingConditionReady)
		if cond == nil || (cond.Status != scv1beta1.ConditionTrue && (cond.Reason == "Binding" || cond.Reason == "")) {
			return fmt.Errorf("Ready condition %+v", cond)
		}
		got = cond
		return nil
	})
	return got
}

func bindingCredentials(t *testing.T, c client.Client, ns, name string) demo.Credentials {
	t.Helper()
	s := &corev1.Secret{}
	must(t, c.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, s))
	creds, err := credentialsFrom(s)
	must(t, err)
	return creds
}

// credentialsFrom reads a binding Secret the way the demo apps read
// their environment.
func credentialsFrom(s *corev1.Secret) (demo.Credentials, error) {
	env := map[string]string{"KAFKA_BROKERS": "brokers", "KAFKA_USERNAME": "username", "KAFKA_PASSWORD": "password",
		"KAFKA_TOPIC_PREFIX": "topicPrefix", "KAFKA_CA": "ca", "KAFKA_SASL_MECHANISM": "sasl.mechanism",
		"KAFKA_SECURITY_PROTOCOL": "security.protocol"}
	return demo.Source{Getenv: func(k string) string { return string(s.Data[env[k]]) }}.Load()
}

func produce(ctx context.Context, creds demo.Credentials, topic, msg string) error {
	opts, err := creds.ClientOpts()
	if err != nil {
		return err
	}
	cl, err := kgo.NewClient(append(opts, kgo.RequestRetries(2))...)
	if err != nil {
		return err
	}
	defer cl.Close()
	pctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	return cl.ProduceSync(pctx, &kgo.Record{Topic: topic, Value: []byte(msg)}).FirstErr()
}

// consumeUntil reads the topic from its start until msg arrives.
func consumeUntil(ctx context.Context, creds demo.Credentials, topic, msg string) error {
	opts, err := creds.ClientOpts()
	if err != nil {
		return err
	}
	cl, err := kgo.NewClient(append(opts, kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))...)
	if err != nil {
		return err
	}
	defer cl.Close()
	cctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	for {
		fs := cl.PollFetches(cctx)
		if cctx.Err() != nil {
			return fmt.Errorf("%q not read from %s within 15s", msg, topic)
		}
		var found bool
		var ferr error
		fs.EachError(func(_ string, _ int32, err error) { ferr = err })
		fs.EachRecord(func(r *kgo.Record) {
			if string(r.Value) == msg {
				found = true
			}
		})
		if found {
			return nil
		}
		if ferr != nil && !errors.Is(ferr, context.DeadlineExceeded) {
			return ferr
		}
	}
}
