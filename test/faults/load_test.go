package faults

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	scv1beta1 "github.com/svcat-io/svcat/api/v1beta1"
	"github.com/svcat-io/svcat/internal/localcluster"
	"github.com/svcat-io/svcat/internal/osb"
	"github.com/svcat-io/svcat/internal/testbroker"
)

func envInt(t *testing.T, name string, def int) int {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		t.Fatalf("%s=%q: %v", name, v, err)
	}
	return n
}

func buildBinary(t *testing.T, pkg, name string) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), name)
	cmd := exec.Command("go", "build", "-o", bin, pkg)
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building %s: %v\n%s", pkg, err, out)
	}
	return bin
}

// startLoadSetup starts a broker with its own catalog (class "loadsvc"), a
// controller process, and registers the broker.
func startLoadSetup(t *testing.T, env *localcluster.Env, name string) (*testbroker.Broker, *controllerProcess) {
	t.Helper()
	ctx := context.Background()
	broker := testbroker.Start(t, testbroker.Options{DisableRecording: true, Catalog: []osb.Service{{
		ID: name + "-svc", Name: name, Description: "load", Bindable: true,
		Plans: []osb.Plan{{ID: name + "-plan", Name: "small", Description: "small"}}}}})
	ns := env.Namespace(t)
	if err := env.Client.Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "creds"},
		Data: map[string][]byte{"username": []byte(testbroker.DefaultUsername), "password": []byte(testbroker.DefaultPassword)}}); err != nil {
		t.Fatal(err)
	}
	ctl := &controllerProcess{bin: buildController(t), kubeconfig: env.Kubeconfig, args: []string{
		"--metrics-bind-address=0", "--health-probe-bind-address=0", "--refuse-loopback-broker-urls=false", "--cluster-id=load", "--concurrency=10"}}
	if err := ctl.start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ctl.kill)
	b := &scv1beta1.ClusterServiceBroker{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: scv1beta1.ClusterServiceBrokerSpec{
		CommonServiceBrokerSpec: scv1beta1.CommonServiceBrokerSpec{URL: broker.URL(), RelistBehavior: scv1beta1.ServiceBrokerRelistBehaviorDuration},
		AuthInfo:                &scv1beta1.ClusterServiceBrokerAuthInfo{Basic: &scv1beta1.ClusterBasicAuthConfig{SecretRef: &scv1beta1.ObjectReference{Namespace: ns, Name: "creds"}}}}}
	if err := env.Client.Create(ctx, b); err != nil {
		t.Fatal(err)
	}
	waitFor(t, time.Minute, "the broker's plan", func() error {
		p := &scv1beta1.ClusterServicePlan{}
		return env.Client.Get(ctx, client.ObjectKey{Name: name + "-plan"}, p)
	})
	return broker, ctl
}

// N separate svcat processes provision and bind at once against one
// controller: every one succeeds and nothing is created twice.
// SVCAT_LOAD_CLIENTS sets N (make test-faults: 200).
func TestConcurrentSvcatProcesses(t *testing.T) {
	env := localcluster.Get(t)
	n := envInt(t, "SVCAT_LOAD_CLIENTS", 20)
	svcat := buildBinary(t, "./cmd/svcat", "svcat")
	broker, ctl := startLoadSetup(t, env, "loadsvc")
	ns := env.Namespace(t)

	run := func(args ...string) error {
		cmd := exec.Command(svcat, append(args, "-n", ns, "--kubeconfig", env.Kubeconfig)...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			return fmt.Errorf("svcat %v: %v\n%s", args, err, out)
		}
		return nil
	}
	start := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			name := fmt.Sprintf("load-%d", i)
			if err := run("provision", name, "--class", "loadsvc", "--plan", "small", "--wait", "--timeout", "10m", "--interval", "500ms"); err != nil {
				errs <- err
				return
			}
			if err := run("bind", name, "--wait", "--timeout", "10m", "--interval", "500ms"); err != nil {
				errs <- err
			}
		}(i)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	elapsed := time.Since(start)
	_, peak, _ := ctl.memory()
	insts := broker.Instances()
	twice := 0
	for _, i := range insts {
		if broker.ProvisionCount(i.ID) != 1 {
			twice++
		}
	}
	fmt.Printf("load: %d concurrent svcat provision --wait + bind --wait processes finished in %v; broker holds %d instances and %d bindings; %d provisioned more than once; controller peak RSS %d MiB\n",
		n, elapsed.Round(time.Millisecond), len(insts), len(broker.Bindings()), twice, peak>>20)
	if len(insts) != n || len(broker.Bindings()) != n || twice != 0 {
		t.Errorf("want %d instances and bindings, each created once", n)
	}
}

// The controller caches only its own Secrets: thousands of unrelated
// Secrets and ConfigMaps leave its memory flat. SVCAT_UNRELATED_OBJECTS sets
// how many of each (make test-faults: 20000).
func TestControllerMemoryWithUnrelatedObjects(t *testing.T) {
	env := localcluster.Get(t)
	n := envInt(t, "SVCAT_UNRELATED_OBJECTS", 4000)
	_, ctl := startLoadSetup(t, env, "memsvc")
	ctx := context.Background()
	ns := env.Namespace(t)
	// An instance whose parametersFrom names a Secret among the unrelated
	// ones: its watch must bring that one Secret, not its namespace's.
	watched := watchedParameters(t, env, ns, "memsvc")
	time.Sleep(2 * time.Second)
	before, _, err := ctl.memory()
	if err != nil {
		t.Fatal(err)
	}
	payload := make([]byte, 8<<10)
	for i := range payload {
		payload[i] = byte('a' + i%26)
	}
	work := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < 16; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				name := fmt.Sprintf("unrelated-%d", i)
				if err := env.Client.Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Data: map[string][]byte{"blob": payload}}); err != nil {
					t.Error(err)
					return
				}
				if err := env.Client.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, BinaryData: map[string][]byte{"blob": payload}}); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	for i := 0; i < n; i++ {
		work <- i
	}
	close(work)
	wg.Wait()
	watched.change(t)
	time.Sleep(5 * time.Second)
	after, peak, err := ctl.memory()
	if err != nil {
		t.Fatal(err)
	}
	data := int64(n) * int64(len(payload))
	fmt.Printf("memory: controller RSS %d MiB before and %d MiB after %d unrelated Secrets and %d ConfigMaps (%d MiB of Secret data); peak %d MiB\n",
		before>>20, after>>20, n, n, data>>20, peak>>20)
	// Caching those Secrets would add at least their data size.
	if growth := after - before; growth > data/2 && growth > 16<<20 {
		t.Errorf("controller RSS grew by %d MiB with %d MiB of unrelated Secrets: it caches what it should not", growth>>20, data>>20)
	}
}

// parameterSecret is an instance provisioned with parameters from a Secret.
type parameterSecret struct {
	env         *localcluster.Env
	ns          string
	secret      *corev1.Secret
	instance    client.ObjectKey
	provisioned string // the parameters' checksum after the provision
}

func watchedParameters(t *testing.T, env *localcluster.Env, ns, class string) *parameterSecret {
	t.Helper()
	ctx := context.Background()
	p := &parameterSecret{env: env, ns: ns, instance: client.ObjectKey{Namespace: ns, Name: "watched"},
		secret: &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "params"}, Data: map[string][]byte{"p": []byte(`{"level":1}`)}}}
	if err := env.Client.Create(ctx, p.secret); err != nil {
		t.Fatal(err)
	}
	inst := &scv1beta1.ServiceInstance{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: p.instance.Name}, Spec: scv1beta1.ServiceInstanceSpec{
		PlanReference:  scv1beta1.PlanReference{ClusterServiceClassExternalName: class, ClusterServicePlanExternalName: "small"},
		ParametersFrom: []scv1beta1.ParametersFromSource{{SecretKeyRef: &scv1beta1.SecretKeyReference{Name: "params", Key: "p"}}}}}
	if err := env.Client.Create(ctx, inst); err != nil {
		t.Fatal(err)
	}
	p.provisioned = p.waitChecksum(t, "")
	return p
}

// change writes new parameters into the Secret and waits for the broker's
// update to be recorded in the instance's status.
func (p *parameterSecret) change(t *testing.T) {
	t.Helper()
	fmt.Println("memory: changing the watched parameter Secret; waiting for the update (seconds)")
	p.secret.Data["p"] = []byte(`{"level":2}`)
	if err := p.env.Client.Update(context.Background(), p.secret); err != nil {
		t.Fatal(err)
	}
	p.waitChecksum(t, p.provisioned)
}

// waitChecksum waits for the instance to be Ready with a parameter
// checksum other than not.
func (p *parameterSecret) waitChecksum(t *testing.T, not string) string {
	t.Helper()
	var sum string
	waitFor(t, time.Minute, "instance "+p.instance.Name+" ready with new parameters", func() error {
		inst := &scv1beta1.ServiceInstance{}
		if err := p.env.Client.Get(context.Background(), p.instance, inst); err != nil {
			return err
		}
		c := inst.Status.GetCondition(scv1beta1.ServiceInstanceConditionReady)
		if c == nil || c.Status != scv1beta1.ConditionTrue || inst.Status.ExternalProperties == nil {
			return fmt.Errorf("not ready: %+v", inst.Status.Conditions)
		}
		if sum = inst.Status.ExternalProperties.ParameterChecksum; sum == not {
			return fmt.Errorf("parameter checksum unchanged")
		}
		return nil
	})
	return sum
}
