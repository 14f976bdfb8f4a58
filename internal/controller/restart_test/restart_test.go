// Package restart_test kills the catalog-controller while an asynchronous
// provision is in flight and starts it again. It is a package of its own so
// that its controller is the only one of its API server.
package restart_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	scv1beta1 "github.com/svcat-io/svcat/api/v1beta1"
	"github.com/svcat-io/svcat/internal/localcluster"
	"github.com/svcat-io/svcat/internal/osb"
	"github.com/svcat-io/svcat/internal/testbroker"
)

func TestMain(m *testing.M) { localcluster.Main(m) }

// buildController builds the catalog-controller command once per test.
func buildController(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "catalog-controller")
	cmd := exec.Command("go", "build", "-o", bin, "github.com/svcat-io/svcat/cmd/catalog-controller")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building the catalog-controller: %v\n%s", err, out)
	}
	return bin
}

// controllerProcess is a running catalog-controller.
type controllerProcess struct {
	cmd  *exec.Cmd
	done chan struct{}
	log  *os.File
}

// start runs the controller against env's API server, with the timings the
// controller package's tests use.
func start(t *testing.T, bin string, env *localcluster.Env) *controllerProcess {
	t.Helper()
	log, err := os.CreateTemp(t.TempDir(), "controller-*.log")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "--leader-elect=false", "--metrics-bind-address=0", "--health-probe-bind-address=0", "--refuse-loopback-broker-urls=false",
		"--cluster-id=test-cluster", "--osb-timeout=5s", "--retry-base-delay=50ms", "--retry-max-delay=1s")
	cmd.Env = append(os.Environ(), "KUBECONFIG="+env.Kubeconfig)
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &controllerProcess{cmd: cmd, done: make(chan struct{}), log: log}
	go func() { _ = cmd.Wait(); close(p.done) }()
	t.Cleanup(p.kill)
	return p
}

// kill ends the controller with SIGKILL: no graceful shutdown, nothing
// flushed, as when a node dies.
func (p *controllerProcess) kill() {
	select {
	case <-p.done:
		return
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
}

// eventually is localcluster.Eventually.
var eventually = localcluster.Eventually

func getInstance(t *testing.T, c client.Client, ns, name string) *scv1beta1.ServiceInstance {
	t.Helper()
	inst := &scv1beta1.ServiceInstance{}
	if err := c.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, inst); err != nil {
		t.Fatal(err)
	}
	return inst
}

func ready(inst *scv1beta1.ServiceInstance) error {
	c := inst.Status.GetCondition(scv1beta1.ServiceInstanceConditionReady)
	if c == nil || c.Status != scv1beta1.ConditionTrue {
		return fmt.Errorf("not Ready: %+v", inst.Status.Conditions)
	}
	return nil
}

func requestsFor(b *testbroker.Broker, op osb.Operation, id string) int {
	n := 0
	for _, r := range b.RequestsFor(op) {
		if r.InstanceID == id {
			n++
		}
	}
	return n
}

// The controller is killed (SIGKILL) twice: while an asynchronous provision
// it has started is being polled, and while provision requests are still
// waiting for the broker's answer. Started again, it polls the operation it
// had started, the broker never provisions an instance twice, and an
// instance deleted while the controller was down is deprovisioned.
func TestKilledDuringAsyncProvision(t *testing.T) {
	env := localcluster.Get(t)
	ctx := context.Background()
	c := env.Client
	ns := env.Namespace(t)
	bin := buildController(t)

	broker := testbroker.Start(t, testbroker.Options{})
	registerBroker(t, c, ns, "restart", broker)

	first := start(t, bin, env)
	const polled, inFlight = "restart-polled-id", "restart-in-flight-id"
	// Long enough that the operations outlive the first controller.
	broker.On(testbroker.Rule{Operation: osb.OpProvision, InstanceID: polled, Async: true, AsyncDelay: 6 * time.Second})
	newInstance := func(name, id string) {
		t.Helper()
		inst := &scv1beta1.ServiceInstance{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Spec: scv1beta1.ServiceInstanceSpec{
			PlanReference: scv1beta1.PlanReference{ClusterServiceClassExternalName: "cloudkarafka", ClusterServicePlanExternalName: "duck"},
			ExternalID:    id}}
		if err := c.Create(ctx, inst); err != nil {
			t.Fatal(err)
		}
	}
	newInstance("polled", polled)
	eventually(t, 60*time.Second, "asynchronous provision recorded and polled", func() error {
		inst := getInstance(t, c, ns, "polled")
		if !inst.Status.AsyncOpInProgress || requestsFor(broker, osb.OpPollLastOperation, polled) == 0 {
			return fmt.Errorf("status %+v", inst.Status)
		}
		return nil
	})
	first.kill()
	pollsBefore := requestsFor(broker, osb.OpPollLastOperation, polled)

	// Killed again, this time while the broker has not answered the PUT.
	second := start(t, bin, env)
	const deleted, changed = "restart-deleted-id", "restart-changed-id"
	for _, id := range []string{inFlight, deleted, changed} {
		broker.On(testbroker.Rule{Operation: osb.OpProvision, InstanceID: id, Hang: 2 * time.Second, Times: 1})
	}
	newInstance("in-flight", inFlight)
	newInstance("deleted", deleted)
	newInstance("changed", changed)
	eventually(t, 30*time.Second, "provision requests sent", func() error {
		for _, id := range []string{inFlight, deleted, changed} {
			if requestsFor(broker, osb.OpProvision, id) == 0 {
				return fmt.Errorf("not yet")
			}
		}
		return nil
	})
	second.kill()
	// Changed while no controller runs: the broker holds the instance as
	// first requested, so the next provision gets a 409. That instance is
	// this object's (its earlier request made it), so deleting the object
	// must deprovision it, although a 409 usually means someone else's.
	inst := getInstance(t, c, ns, "changed")
	inst.Spec.Parameters = &runtime.RawExtension{Raw: []byte(`{"changed":true}`)}
	if err := c.Update(ctx, inst); err != nil {
		t.Fatal(err)
	}
	// Deleted while no controller runs: nothing recorded the request's
	// outcome, and the broker has made the instance by the time the
	// controller is back. The deletion must reach the broker.
	eventually(t, 10*time.Second, "the broker made the instance", func() error {
		if _, ok := broker.Instance(deleted); !ok {
			return fmt.Errorf("not yet")
		}
		return nil
	})
	if err := c.Delete(ctx, getInstance(t, c, ns, "deleted")); err != nil {
		t.Fatal(err)
	}
	third := start(t, bin, env)
	eventually(t, 30*time.Second, "the changed instance refused by the broker", func() error {
		inst := getInstance(t, c, ns, "changed")
		if inst.Status.GetCondition(scv1beta1.ServiceInstanceConditionFailed) == nil {
			return fmt.Errorf("not Failed: %+v", inst.Status.Conditions)
		}
		return nil
	})
	if inst := getInstance(t, c, ns, "changed"); inst.Status.DeprovisionStatus != scv1beta1.ServiceInstanceDeprovisionStatusRequired {
		t.Errorf("changed: deprovisionStatus %q after the 409, want Required: the broker's instance is the one its first request made", inst.Status.DeprovisionStatus)
	}
	if err := c.Delete(ctx, getInstance(t, c, ns, "changed")); err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*time.Second, "changed instance gone", func() error {
		inst := &scv1beta1.ServiceInstance{}
		if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: "changed"}, inst); err == nil {
			return fmt.Errorf("still there: %+v", inst.Status)
		}
		return nil
	})
	if _, ok := broker.Instance(changed); ok {
		t.Errorf("changed: the broker still holds it, an orphan (%d deprovision requests)", requestsFor(broker, osb.OpDeprovision, changed))
	}
	eventually(t, 30*time.Second, "deleted instance gone", func() error {
		inst := &scv1beta1.ServiceInstance{}
		if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: "deleted"}, inst); err == nil {
			return fmt.Errorf("still there: %+v", inst.Status)
		}
		return nil
	})
	if _, ok := broker.Instance(deleted); ok {
		t.Errorf("deleted: the broker still holds it, an orphan (%d deprovision requests)", requestsFor(broker, osb.OpDeprovision, deleted))
	}

	for _, name := range []string{"polled", "in-flight"} {
		eventually(t, 30*time.Second, name+" Ready", func() error { return ready(getInstance(t, c, ns, name)) })
	}
	if n := broker.ProvisionCount(polled); n != 1 {
		t.Errorf("polled: provisioned %d times", n)
	}
	if n := requestsFor(broker, osb.OpProvision, polled); n != 1 {
		t.Errorf("polled: %d provision requests; the restarted controller should have resumed polling", n)
	}
	if n := requestsFor(broker, osb.OpPollLastOperation, polled); n <= pollsBefore {
		t.Errorf("polled: no poll after the restart (%d before, %d in all)", pollsBefore, n)
	}
	if n := broker.ProvisionCount(inFlight); n != 1 {
		t.Errorf("in-flight: provisioned %d times", n)
	}
	if n := requestsFor(broker, osb.OpDeprovision, inFlight) + requestsFor(broker, osb.OpDeprovision, polled); n != 0 {
		t.Errorf("%d deprovision requests", n)
	}
	if len(broker.Instances()) != 2 {
		t.Errorf("the broker holds %d instances", len(broker.Instances()))
	}
	logControllersIfFailed(t, first, second, third)
}

// logControllersIfFailed shows the end of each controller's log when the
// test has failed, where the reason usually is.
func logControllersIfFailed(t *testing.T, procs ...*controllerProcess) {
	t.Helper()
	if !t.Failed() {
		return
	}
	for _, p := range procs {
		if b, err := os.ReadFile(p.log.Name()); err == nil {
			t.Logf("controller log:\n%s", lastLines(string(b), 40))
		}
	}
}

// registerBroker registers broker as the ClusterServiceBroker name, with
// its basic-auth credentials in the Secret "creds" of ns.
func registerBroker(t *testing.T, c client.Client, ns, name string, broker *testbroker.Broker) *scv1beta1.ClusterServiceBroker {
	t.Helper()
	ctx := context.Background()
	creds := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "creds"},
		Data: map[string][]byte{"username": []byte(testbroker.DefaultUsername), "password": []byte(testbroker.DefaultPassword)}}
	if err := c.Create(ctx, creds); err != nil {
		t.Fatal(err)
	}
	cb := &scv1beta1.ClusterServiceBroker{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: scv1beta1.ClusterServiceBrokerSpec{
		CommonServiceBrokerSpec: scv1beta1.CommonServiceBrokerSpec{URL: broker.URL(), RelistBehavior: scv1beta1.ServiceBrokerRelistBehaviorManual},
		AuthInfo:                &scv1beta1.ClusterServiceBrokerAuthInfo{Basic: &scv1beta1.ClusterBasicAuthConfig{SecretRef: &scv1beta1.ObjectReference{Namespace: ns, Name: "creds"}}}}}
	if err := c.Create(ctx, cb); err != nil {
		t.Fatal(err)
	}
	return cb
}

func lastLines(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
