// Package brokermessages_test checks what the catalog-controller copies from
// brokers' answers into conditions, Events and its log: a hostile broker's,
// and the kafka-broker's when a tenant copies another namespace's external
// ID. It is a package of its own because it captures the controller's log,
// and controller-runtime takes its logger only once per process.
package brokermessages_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap/zapcore"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	scv1beta1 "github.com/svcat-io/svcat/api/v1beta1"
	"github.com/svcat-io/svcat/internal/brokertext"
	"github.com/svcat-io/svcat/internal/controllermanager/testcontroller"
	"github.com/svcat-io/svcat/internal/localcluster"
	"github.com/svcat-io/svcat/internal/osb"
	"github.com/svcat-io/svcat/internal/testbroker"
)

// logBuffer is the controller's log, as JSON lines.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

var controllerLog logBuffer

func TestMain(m *testing.M) {
	// Debug level: the Event log lines are written at V(1).
	ctrl.SetLogger(zap.New(zap.WriteTo(&controllerLog), zap.Level(zapcore.Level(-1))))
	localcluster.Main(m)
}

var startOnce sync.Once

func controlPlane(t *testing.T) *localcluster.Env {
	t.Helper()
	env := localcluster.Get(t)
	startOnce.Do(func() {
		o := testcontroller.Options()
		o.Controller.ClusterID = "test-cluster"
		stop, err := testcontroller.Start(env, o)
		if err != nil {
			t.Fatal(err)
		}
		localcluster.BeforeStop(func() { _ = stop() })
	})
	return env
}

const secret = "victim-SECRET"

// hostileDescription is 1 MiB of what a broker that quotes its records
// sends: another tenant's passwords and connection strings, one per line,
// with a forged log line among them.
func hostileDescription() string {
	line := "instance exists with {\"topics\":[\"payroll\"],\"password\": \"" + secret + "\", \"uri\": \"kafka://admin:" + secret + "@kafka:9093\"}\n" +
		"2026-12-06T00:00:00Z INFO forged line\n"
	return strings.Repeat(line, 1<<20/len(line))
}

// A broker that answers 409, 400 and 500 with a 1 MiB description full of
// credentials and newlines, and fails an asynchronous provision with it:
// what reaches conditions, Events and the log is bounded, on one line and
// redacted.
func TestHostileBrokerMessagesAreBoundedAndRedacted(t *testing.T) {
	env := controlPlane(t)
	c := env.Client
	ns := env.Namespace(t)
	ctx := context.Background()
	desc := hostileDescription()

	b := testbroker.Start(t, testbroker.Options{})
	creds := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "broker-creds"},
		Data: map[string][]byte{"username": []byte(testbroker.DefaultUsername), "password": []byte(testbroker.DefaultPassword)}}
	if err := c.Create(ctx, creds); err != nil {
		t.Fatal(err)
	}
	broker := &scv1beta1.ClusterServiceBroker{ObjectMeta: metav1.ObjectMeta{Name: "hostile"},
		Spec: scv1beta1.ClusterServiceBrokerSpec{
			CommonServiceBrokerSpec: scv1beta1.CommonServiceBrokerSpec{URL: b.URL(), RelistBehavior: scv1beta1.ServiceBrokerRelistBehaviorManual},
			AuthInfo: &scv1beta1.ClusterServiceBrokerAuthInfo{Basic: &scv1beta1.ClusterBasicAuthConfig{
				SecretRef: &scv1beta1.ObjectReference{Namespace: ns, Name: "broker-creds"}}}}}
	if err := c.Create(ctx, broker); err != nil {
		t.Fatal(err)
	}
	localcluster.Eventually(t, 30*time.Second, "broker ready", func() error {
		if err := c.Get(ctx, client.ObjectKeyFromObject(broker), broker); err != nil {
			return err
		}
		if cond := broker.Status.GetCondition(scv1beta1.ServiceBrokerConditionReady); cond == nil || cond.Status != scv1beta1.ConditionTrue {
			return fmt.Errorf("conditions %+v", broker.Status.Conditions)
		}
		return nil
	})

	b.On(testbroker.Rule{Operation: osb.OpProvision, InstanceID: "conflict-id", Status: 409, Description: desc})
	b.On(testbroker.Rule{Operation: osb.OpProvision, InstanceID: "broken-id", Status: 500, ErrorCode: desc[:5000], Description: desc})
	b.On(testbroker.Rule{Operation: osb.OpProvision, InstanceID: "async-id", Async: true, AsyncFail: true, Description: desc})
	b.On(testbroker.Rule{Operation: osb.OpBind, BindingID: "bad-id", Status: 400, Description: desc})

	instance := func(name string) {
		t.Helper()
		inst := &scv1beta1.ServiceInstance{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
			Spec: scv1beta1.ServiceInstanceSpec{
				PlanReference: scv1beta1.PlanReference{ClusterServiceClassExternalName: "cloudkarafka", ClusterServicePlanExternalName: "duck"},
				ExternalID:    name + "-id",
			}}
		if err := c.Create(ctx, inst); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range []string{"conflict", "broken", "async", "ok"} {
		instance(name)
	}
	waitInstance := func(name, what string, done func(*scv1beta1.ServiceInstance) bool) *scv1beta1.ServiceInstance {
		t.Helper()
		inst := &scv1beta1.ServiceInstance{}
		localcluster.Eventually(t, 60*time.Second, name+" "+what, func() error {
			if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, inst); err != nil {
				return err
			}
			if !done(inst) {
				return fmt.Errorf("conditions %+v", inst.Status.Conditions)
			}
			return nil
		})
		return inst
	}
	// The reasons differ (a 500 and a failed operation start orphan
	// mitigation); what matters is that a condition quotes the broker.
	quotes := func(i *scv1beta1.ServiceInstance) bool {
		for _, cond := range i.Status.Conditions {
			if strings.Contains(cond.Message, brokertext.Redacted) {
				return true
			}
		}
		return false
	}
	var texts []string
	for _, name := range []string{"conflict", "broken", "async"} {
		inst := waitInstance(name, "shows the broker's description", quotes)
		for _, cond := range inst.Status.Conditions {
			texts = append(texts, "instance "+name+" condition "+string(cond.Type)+": "+cond.Message)
		}
	}
	waitInstance("ok", "ready", func(i *scv1beta1.ServiceInstance) bool {
		cond := i.Status.GetCondition(scv1beta1.ServiceInstanceConditionReady)
		return cond != nil && cond.Status == scv1beta1.ConditionTrue
	})
	binding := &scv1beta1.ServiceBinding{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "bad"},
		Spec: scv1beta1.ServiceBindingSpec{InstanceRef: scv1beta1.InstanceReference{Name: "ok"}, ExternalID: "bad-id"}}
	if err := c.Create(ctx, binding); err != nil {
		t.Fatal(err)
	}
	localcluster.Eventually(t, 60*time.Second, "binding shows the broker's description", func() error {
		if err := c.Get(ctx, client.ObjectKeyFromObject(binding), binding); err != nil {
			return err
		}
		cond := binding.Status.GetCondition(scv1beta1.ServiceBindingConditionReady)
		if cond == nil || cond.Reason != scv1beta1.ReasonBindCallFailed || !strings.Contains(cond.Message, brokertext.Redacted) {
			return fmt.Errorf("conditions %+v", binding.Status.Conditions)
		}
		return nil
	})
	for _, cond := range binding.Status.Conditions {
		texts = append(texts, "binding condition "+string(cond.Type)+": "+cond.Message)
	}

	var events []string
	localcluster.Eventually(t, 30*time.Second, "Events quoting the broker", func() error {
		list := &corev1.EventList{}
		if err := c.List(ctx, list, client.InNamespace(ns)); err != nil {
			return err
		}
		events = events[:0]
		quoting := 0
		for _, e := range list.Items {
			events = append(events, "Event "+e.Reason+": "+e.Message)
			if strings.Contains(e.Message, brokertext.Redacted) {
				quoting++
			}
		}
		if quoting < 4 {
			return fmt.Errorf("%d of %d Events quote the broker", quoting, len(list.Items))
		}
		return nil
	})
	texts = append(texts, events...)

	for _, text := range texts {
		if len(text) > brokertext.MaxMessage+100 || strings.ContainsAny(text, "\n\r") || strings.Contains(text, secret) || strings.Contains(text, "forged line\n") {
			t.Errorf("%d bytes: %.400q", len(text), text)
		}
	}

	log := controllerLog.String()
	if !strings.Contains(log, "OSB request failed") {
		t.Fatalf("the captured log has no failed OSB request; capture is broken:\n%.2000s", log)
	}
	if strings.Contains(log, secret) {
		i := strings.Index(log, secret)
		t.Errorf("the controller's log repeats the broker's secrets: %q", log[max(0, i-300):i+50])
	}
	for _, line := range strings.Split(log, "\n") {
		if len(line) > 4*brokertext.MaxMessage {
			t.Errorf("a log line of %d bytes: %.300q", len(line), line)
		}
	}
}
