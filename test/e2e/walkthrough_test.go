// Package e2e runs the seed's walkthrough end to end, with the same code as
// `make demo` (internal/sandbox): a real control plane, the catalog
// controller, the kafka-broker with its embedded Kafka, and the sample
// producer and consumer as separate processes.
package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/svcat-io/svcat/internal/demo"
	"github.com/svcat-io/svcat/internal/localcluster"
	"github.com/svcat-io/svcat/internal/sandbox"
)

// appEnv makes the test binary act as one of the sample apps when the
// sandbox starts it as a process: the apps run as their own processes,
// as in `make demo`, without a go build in the test.
const appEnv = "SVCAT_E2E_APP"

func TestMain(m *testing.M) {
	switch os.Getenv(appEnv) {
	case "demo-kafka-producer":
		demo.Main("demo-kafka-producer", demo.RunProducer)
		os.Exit(0)
	case "demo-kafka-consumer":
		demo.Main("demo-kafka-consumer", demo.RunConsumer)
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func app(name string) sandbox.App {
	// TestMain dispatches on appEnv before any test flag is parsed; the
	// app gets only its own flags.
	return sandbox.App{Path: os.Args[0], Env: []string{appEnv + "=" + name}}
}

// The walkthrough as `make demo` runs it: with the real kubectl when there
// is one, otherwise with kubectl's command tree in process. One per test process: the
// controller's names are registered process-wide by controller-runtime.
func TestSeedWalkthrough(t *testing.T) { walkthrough(t, "auto") }

func walkthrough(t *testing.T, kubectl string) {
	if os.Getenv("SVCAT_SKIP_ENVTEST") != "" {
		t.Skip("SVCAT_SKIP_ENVTEST is set: no control plane")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	out := &sandbox.Transcript{}
	sb, err := sandbox.Start(ctx, sandbox.Options{
		Out:      out,
		Kubectl:  kubectl,
		Producer: app("demo-kafka-producer"),
		Consumer: app("demo-kafka-consumer"),
		// Generous: the machine running the tests is shared.
		StepTimeout: 90 * time.Second,
	})
	if err != nil {
		t.Fatalf("starting the sandbox: %v\n%s", err, out)
	}
	defer sb.Close()
	defer func() {
		if t.Failed() {
			t.Logf("transcript:\n%s", out)
			if b, err := os.ReadFile(sb.LogPath()); err == nil {
				t.Logf("components log (last 8kB):\n%s", tail(b, 8<<10))
			}
		}
	}()

	res, err := sb.Walkthrough(ctx)
	if err != nil {
		t.Fatalf("walkthrough: %v", err)
	}
	// The walkthrough checked every step; these are the seed's visible
	// outcomes once more, from the outside.
	if want := []string{"Hello", "Hello2"}; fmt.Sprint(res.Messages) != fmt.Sprint(want) {
		t.Errorf("the consumer delivered %q, want %q in this order", res.Messages, want)
	}
	if !strings.Contains(res.Stream, "data:Hello\n\ndata:Hello2\n\n") {
		t.Errorf("stream text %q lacks the seed's data:Hello, data:Hello2 events", res.Stream)
	}
	transcript := out.String()
	for _, want := range []string{
		"$ kubectl apply -f config/samples/kafka/cluster-service-broker.yml\n",
		"CLASS          DESCRIPTION\ncloudkarafka   CloudKarafka\n",
		"CLASS          PLAN   DESCRIPTION\ncloudkarafka   duck   Developer Duck\n",
		"$ svcat get classes\n", "$ svcat get plans\n", "$ svcat marketplace\n",
		"$ svcat -n default describe instance demo-kafka\n",
		"$ kubectl describe secret -n default demo-kafka-secret\n",
		"data:Hello\n\ndata:Hello2\n",
	} {
		if !strings.Contains(transcript, want) {
			t.Errorf("transcript lacks %q", want)
		}
	}
	if strings.Contains(transcript, sb.BrokerPassword) {
		t.Error("the transcript shows the broker's password")
	}
	for _, k := range []string{"brokers", "username", "password", "topicPrefix", "ca", "name"} {
		if len(res.Secret[k]) == 0 {
			t.Errorf("binding Secret lacks %s", k)
		}
	}

	t.Run("in-process kubectl prints what the kubectl program prints", func(t *testing.T) { sameAsKubectl(t, ctx, sb) })
	t.Run("sample manifests are valid", func(t *testing.T) { validSamples(t, ctx, sb) })
	t.Run("second instance cannot read the first's topic", func(t *testing.T) {
		secondInstanceIsolation(t, ctx, sb, res)
	})

	if err := sb.Teardown(ctx); err != nil {
		t.Fatalf("teardown: %v", err)
	}
	// Deprovisioning removed the tenant: the first binding's user is gone.
	creds := credentials(t, res.Secret)
	// The same credentials connected a moment ago (the walkthrough's
	// apps); kfake ends the connection of a failed SCRAM login (EOF)
	// rather than answering SaslAuthenticationFailed, so any error counts.
	if err := ping(ctx, creds); err == nil {
		t.Error("the first binding still connects after unbind and deprovision")
	}
}

// secondInstanceIsolation provisions a second instance of the seed's plan
// and binds it; its credentials must not read, write or join groups in the
// first instance's namespace of topics.
func secondInstanceIsolation(t *testing.T, ctx context.Context, sb *sandbox.Sandbox, first *sandbox.Result) {
	c := sb.Env.Client
	// Applied and deleted with the in-process kubectl, so that its apply
	// and delete are exercised on machines that have a kubectl program too.
	manifest := filepath.Join(t.TempDir(), "other.yml")
	err := os.WriteFile(manifest, []byte(`apiVersion: servicecatalog.k8s.io/v1beta1
kind: ServiceInstance
metadata:
  name: other-kafka
spec:
  clusterServiceClassExternalName: cloudkarafka
  clusterServicePlanExternalName: duck
---
apiVersion: servicecatalog.k8s.io/v1beta1
kind: ServiceBinding
metadata:
  name: other-kafka-binding
spec:
  instanceRef:
    name: other-kafka
  secretName: other-kafka-secret
`), 0o600)
	if err != nil {
		t.Fatal(err)
	}
	out, err := sb.RunKubectl(ctx, "builtin", "apply", "-f", manifest)
	if want := "serviceinstance.servicecatalog.k8s.io/other-kafka created\nservicebinding.servicecatalog.k8s.io/other-kafka-binding created\n"; err != nil || out != want {
		t.Fatalf("in-process kubectl apply: %v\n%s\nwant:\n%s", err, out, want)
	}
	defer func() {
		// Unbind and deprovision before the walkthrough's teardown removes
		// the broker; delete waits for both (kubectl's --wait).
		out, err := sb.RunKubectl(ctx, "builtin", "delete", "-f", manifest)
		// kubectl v1.33 and later name the namespace.
		if want := "serviceinstance.servicecatalog.k8s.io \"other-kafka\" deleted from default namespace\nservicebinding.servicecatalog.k8s.io \"other-kafka-binding\" deleted from default namespace\n"; err != nil || out != want {
			t.Errorf("in-process kubectl delete: %v\n%s\nwant:\n%s", err, out, want)
		}
	}()
	sec := &corev1.Secret{}
	localcluster.EventuallyEvery(t, 90*time.Second, 200*time.Millisecond, "the second binding's Secret", func() error {
		return c.Get(ctx, client.ObjectKey{Namespace: "default", Name: "other-kafka-secret"}, sec)
	})
	firstCreds, second := credentials(t, first.Secret), credentials(t, sec.Data)
	if second.TopicPrefix == firstCreds.TopicPrefix || second.Username == firstCreds.Username {
		t.Fatalf("the two instances share a prefix or user: %q %q", second.TopicPrefix, second.Username)
	}

	// The first instance's topic holds Hello and Hello2. The second
	// binding is refused, whether in its own group or in the first's.
	for _, group := range []string{second.Group(), firstCreds.Group()} {
		err := consumeOne(ctx, second, firstCreds.Topic(), group)
		if err == nil {
			t.Errorf("the second binding read the first instance's topic in group %s", group)
		} else if !isAuthz(err) {
			t.Errorf("reading the first instance's topic in group %s: %v, want an authorization error", group, err)
		}
	}
	opts, err := second.ClientOpts()
	if err != nil {
		t.Fatal(err)
	}
	cl, err := kgo.NewClient(append(opts, kgo.RequestRetries(1))...)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	pctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	if err := cl.ProduceSync(pctx, &kgo.Record{Topic: firstCreds.Topic(), Value: []byte("intruder")}).FirstErr(); err == nil || !isAuthz(err) {
		t.Errorf("the second binding writing the first instance's topic: %v, want an authorization error", err)
	}
	// Control: the first binding still reads its own two messages, so
	// the refusals above are about who asks, not a broken topic.
	if err := consumeOne(ctx, firstCreds, firstCreds.Topic(), firstCreds.TopicPrefix+"check"); err != nil {
		t.Errorf("the first binding reading its own topic: %v", err)
	}
}

// sameAsKubectl runs the walkthrough's read commands with the kubectl
// program on the PATH and with the in-process kubectl, which a machine
// without kubectl gets, and compares what they print.
func sameAsKubectl(t *testing.T, ctx context.Context, sb *sandbox.Sandbox) {
	path, err := exec.LookPath("kubectl")
	if err != nil {
		t.Skip("no kubectl on PATH: the walkthrough itself ran the in-process one")
	}
	for _, args := range [][]string{
		{"get", "clusterserviceclasses", "-o", "custom-columns=CLASS:.spec.externalName,DESCRIPTION:.spec.description"},
		{"get", "clusterserviceplans", "-o", "custom-columns=CLASS:.spec.clusterServiceBrokerName,PLAN:.spec.externalName,MISSING:.spec.nothing"},
		{"get", "serviceinstances", "-n", "default"},
		{"get", "servicebindings", "-n", "default"},
		{"get", "serviceinstances", "-n", "nowhere"},
		{"describe", "secret", "-n", "default", "demo-kafka-secret"},
	} {
		real, err := sb.RunKubectl(ctx, path, args...)
		if err != nil {
			t.Fatalf("kubectl %v: %v\n%s", args, err, real)
		}
		builtin, err := sb.RunKubectl(ctx, "builtin", args...)
		if err != nil {
			t.Fatalf("in-process kubectl %v: %v\n%s", args, err, builtin)
		}
		if a, b := comparable(real, args), comparable(builtin, args); a != b {
			t.Errorf("kubectl %s:\n%s\nin process:\n%s", strings.Join(args, " "), real, builtin)
		}
	}
}

// comparable drops what legitimately differs between two runs: the AGE
// column, and the order of a Secret's keys (kubectl prints them in Go map
// order).
func comparable(out string, args []string) string {
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	if strings.HasPrefix(lines[0], "NAME ") && strings.HasSuffix(strings.TrimSpace(lines[0]), "AGE") {
		for i, l := range lines {
			f := strings.Fields(l)
			lines[i] = strings.Join(f[:len(f)-1], " ")
		}
	}
	if args[0] == "describe" {
		sort.Strings(lines)
	}
	return strings.Join(lines, "\n")
}

// validSamples sends the sample Deployments, Services and the broker
// Secret to the API server as a dry run, which validates them against the
// real schemas without creating anything.
func validSamples(t *testing.T, ctx context.Context, sb *sandbox.Sandbox) {
	// A namespace of their own: the walkthrough already made the broker
	// Secret, and a dry run of an existing name is refused.
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "samples"}}
	if err := sb.Env.Client.Create(ctx, ns); err != nil {
		t.Fatal(err)
	}
	// The in-process `kubectl create secret generic`, which the walkthrough
	// uses for the broker Secret where there is no kubectl program.
	out, err := sb.RunKubectl(ctx, "builtin", "create", "-n", ns.Name, "secret", "generic", "s", "--from-literal=a=b=c")
	sec := &corev1.Secret{}
	if err != nil || out != "secret/s created\n" {
		t.Errorf("in-process create secret: %v %q", err, out)
	} else if err := sb.Env.Client.Get(ctx, client.ObjectKey{Namespace: ns.Name, Name: "s"}, sec); err != nil || string(sec.Data["a"]) != "b=c" {
		t.Errorf("created secret: %v %v", err, sec.Data)
	}
	for _, name := range []string{"producer.yml", "consumer.yml", "broker-secret.yml", "deployment.yml"} {
		data, err := os.ReadFile(filepath.Join(sb.Root(), sandbox.SamplesDir, name))
		if err != nil {
			t.Fatal(err)
		}
		dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
		n := 0
		for {
			u := &unstructured.Unstructured{}
			if err := dec.Decode(&u.Object); errors.Is(err, io.EOF) {
				break
			} else if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			u.SetNamespace(ns.Name)
			if err := sb.Env.Client.Create(ctx, u, client.DryRunAll); err != nil {
				t.Errorf("%s: %s %s: %v", name, u.GetKind(), u.GetName(), err)
			}
			n++
		}
		if n == 0 {
			t.Errorf("%s holds no objects", name)
		}
	}
}

func credentials(t *testing.T, data map[string][]byte) demo.Credentials {
	t.Helper()
	c, err := demo.Source{Getenv: func(k string) string {
		m := map[string]string{
			"KAFKA_BROKERS": "brokers", "KAFKA_USERNAME": "username", "KAFKA_PASSWORD": "password",
			"KAFKA_TOPIC_PREFIX": "topicPrefix", "KAFKA_CA": "ca", "KAFKA_SASL_MECHANISM": "sasl.mechanism",
			"KAFKA_SECURITY_PROTOCOL": "security.protocol",
		}
		return string(data[m[k]])
	}}.Load()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// consumeOne reads one record of topic in group from the start, or fails
// with what Kafka answered.
func consumeOne(ctx context.Context, c demo.Credentials, topic, group string) error {
	opts, err := c.ClientOpts()
	if err != nil {
		return err
	}
	cl, err := kgo.NewClient(append(opts,
		kgo.ConsumeTopics(topic), kgo.ConsumerGroup(group),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.RequestRetries(1), kgo.RetryTimeout(5*time.Second))...)
	if err != nil {
		return err
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for {
		fs := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			return err
		}
		var errs []error
		fs.EachError(func(_ string, _ int32, err error) { errs = append(errs, err) })
		if len(errs) > 0 {
			return errors.Join(errs...)
		}
		if fs.NumRecords() > 0 {
			return nil
		}
	}
}

// ping connects and authenticates once.
func ping(ctx context.Context, c demo.Credentials) error {
	opts, err := c.ClientOpts()
	if err != nil {
		return err
	}
	cl, err := kgo.NewClient(append(opts, kgo.RequestRetries(0))...)
	if err != nil {
		return err
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	return cl.Ping(ctx)
}

func isAuthz(err error) bool {
	for _, e := range []error{kerr.TopicAuthorizationFailed, kerr.GroupAuthorizationFailed, kerr.SaslAuthenticationFailed, kerr.ClusterAuthorizationFailed} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}
