package sandbox

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"sigs.k8s.io/controller-runtime/pkg/client"

	scv1beta1 "github.com/svcat-io/svcat/api/v1beta1"
	"github.com/svcat-io/svcat/internal/cli/svcatcmd"
)

// Manifests the walkthrough applies. The seed's three are byte-for-byte
// copies of test/testdata/seed (a test checks that).
const (
	SamplesDir      = "config/samples/kafka"
	NamespaceFile   = SamplesDir + "/namespace.yml"
	BrokerFile      = SamplesDir + "/cluster-service-broker.yml"
	InstanceFile    = SamplesDir + "/service-instance.yml"
	BindingFile     = SamplesDir + "/service-binding.yml"
	InstanceName    = "demo-kafka"
	BindingName     = "demo-kafka-binding"
	SecretName      = "demo-kafka-secret"
	SeedNamespace   = "default"
	DefaultTopicKey = "default"
)

// Result is what the walkthrough produced, for tests to look at further.
type Result struct {
	// Secret is the binding Secret's data.
	Secret map[string][]byte
	// BindingRoot is $SERVICE_BINDING_ROOT of the apps.
	BindingRoot string
	// Messages are the events the consumer's stream delivered, in order.
	Messages []string
	// Stream is the stream's text as received.
	Stream string
	// ProducerURL and ConsumerURL are the apps' base URLs; the apps run
	// until Close.
	ProducerURL, ConsumerURL string
}

// StepError is a step whose outcome differed from the seed's.
type StepError struct {
	Step string
	Err  error
}

func (e *StepError) Error() string { return e.Step + ": " + e.Err.Error() }
func (e *StepError) Unwrap() error { return e.Err }

// The seed's outputs, with trailing blanks and empty lines dropped (the
// blog post lost some of both).
var (
	seedClassesColumns = "CLASS          DESCRIPTION\ncloudkarafka   CloudKarafka"
	seedPlansColumns   = "CLASS          PLAN   DESCRIPTION\ncloudkarafka   duck   Developer Duck"
	seedSvcatClasses   = "      NAME       NAMESPACE   DESCRIPTION\n" +
		"+--------------+-----------+--------------+\n" +
		"  cloudkarafka               CloudKarafka"
	seedSvcatPlans = "  NAME   NAMESPACE      CLASS        DESCRIPTION\n" +
		"+------+-----------+--------------+----------------+\n" +
		"  duck               cloudkarafka   Developer Duck"
	seedMarketplace = "     CLASS       PLANS   DESCRIPTION\n" +
		"+--------------+-------+--------------+\n" +
		"  cloudkarafka   duck    CloudKarafka"
	// The keys `kubectl describe secret demo-kafka-secret` lists in the seed.
	seedSecretKeys = []string{"password", "topicPrefix", "username", "brokers", "ca", "name"}
)

// Walkthrough does what the seed does, printing each command and its
// output, and checks each outcome against the seed's. It stops at the first
// step that differs.
func (s *Sandbox) Walkthrough(ctx context.Context) (*Result, error) {
	res := &Result{}
	s.printf("\n# kubectl: %s\n", s.kubectl.describe())

	if err := s.RegisterBroker(ctx); err != nil {
		return res, err
	}
	if err := s.seedCatalog(ctx); err != nil {
		return res, err
	}
	if err := s.seedInstance(ctx); err != nil {
		return res, err
	}
	if err := s.seedBinding(ctx); err != nil {
		return res, err
	}

	s.section("Run the producer and the consumer with the binding's credentials")
	var sec corev1.Secret
	if err := s.client.Get(ctx, client.ObjectKey{Namespace: SeedNamespace, Name: SecretName}, &sec); err != nil {
		return res, &StepError{"read the binding Secret", err}
	}
	res.Secret = sec.Data
	res.BindingRoot = filepath.Join(s.work, "bindings")
	if err := s.project(sec.Data, filepath.Join(res.BindingRoot, BindingName)); err != nil {
		return res, &StepError{"project the Secret", err}
	}
	if err := s.ensureDefaultTopic(ctx, string(sec.Data["topicPrefix"])); err != nil {
		return res, &StepError{"default topic", err}
	}
	var err error
	if res.ConsumerURL, err = s.startApp(ctx, "demo-kafka-consumer", s.opts.Consumer, res.BindingRoot); err != nil {
		return res, &StepError{"start the consumer", err}
	}
	if res.ProducerURL, err = s.startApp(ctx, "demo-kafka-producer", s.opts.Producer, res.BindingRoot); err != nil {
		return res, &StepError{"start the producer", err}
	}

	s.section("Stream from the consumer, send Hello and Hello2 to the producer")
	stream, err := s.openStream(ctx, res.ConsumerURL+"/messages")
	if err != nil {
		return res, &StepError{"open the stream", err}
	}
	defer stream.close()
	for _, msg := range []string{"Hello", "Hello2"} {
		if err := s.post(ctx, res.ProducerURL+"/messages", msg); err != nil {
			return res, &StepError{"send " + msg, err}
		}
	}
	s.printf("\n# what the stream delivered:\n")
	res.Messages, res.Stream, err = stream.collect(ctx, 2, s.opts.StepTimeout)
	s.printf("%s", res.Stream)
	if err != nil {
		return res, s.fail("stream", err)
	}
	if want := []string{"Hello", "Hello2"}; !equal(res.Messages, want) {
		return res, s.fail("stream", fmt.Errorf("delivered %q, the seed shows %q", res.Messages, want))
	}
	s.ok("data:Hello and data:Hello2, in order, as in the seed")
	return res, nil
}

// seedCatalog lists the broker's classes and plans as the seed does.
func (s *Sandbox) seedCatalog(ctx context.Context) error {
	s.section("The broker's classes and plans, as in the seed")
	if err := s.kubectlExpect(ctx, "get clusterserviceclasses", exactly(seedClassesColumns),
		"get", "clusterserviceclasses", "-o", "custom-columns=CLASS:.spec.externalName,DESCRIPTION:.spec.description"); err != nil {
		return err
	}
	if err := s.kubectlExpect(ctx, "get clusterserviceplans", exactly(seedPlansColumns),
		"get", "clusterserviceplans", "-o", "custom-columns=CLASS:.spec.clusterServiceBrokerName,PLAN:.spec.externalName,DESCRIPTION:.spec.description"); err != nil {
		return err
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"get", "classes"}, seedSvcatClasses},
		{[]string{"get", "plans"}, seedSvcatPlans},
		{[]string{"marketplace"}, seedMarketplace},
	} {
		if err := s.svcatExpect(ctx, sameColumns(c.want), c.args...); err != nil {
			return err
		}
	}
	return nil
}

// seedInstance applies the seed's ServiceInstance and checks it as the seed
// shows it.
func (s *Sandbox) seedInstance(ctx context.Context) error {
	s.section("Create the ServiceInstance")
	if err := s.kubectlExpect(ctx, "apply the instance", exactly("serviceinstance.servicecatalog.k8s.io/demo-kafka created"), "apply", "-f", InstanceFile); err != nil {
		return err
	}
	if err := s.waitReady(ctx, "ServiceInstance "+InstanceName, &scv1beta1.ServiceInstance{}, func(o client.Object) (bool, string) {
		c := o.(*scv1beta1.ServiceInstance).Status.GetCondition(scv1beta1.ServiceInstanceConditionReady)
		if c == nil {
			return false, "no Ready condition yet"
		}
		return c.Status == scv1beta1.ConditionTrue, c.Reason + ": " + c.Message
	}, InstanceName); err != nil {
		return err
	}
	if err := s.kubectlExpect(ctx, "get serviceinstances", row("demo-kafka", "ClusterServiceClass/cloudkarafka", "duck", "Ready"),
		"get", "serviceinstances", "-n", SeedNamespace); err != nil {
		return err
	}
	if err := s.svcatExpect(ctx, allOf(
		field("Name:", "demo-kafka"),
		field("Namespace:", "default"),
		field("Status:", "Ready - The instance was provisioned successfully @ "),
		field("Class:", "cloudkarafka"),
		field("Plan:", "duck"),
		contains("Parameters:\n  No parameters defined"),
		contains("Bindings:\nNo bindings defined"),
	), "-n", SeedNamespace, "describe", "instance", InstanceName); err != nil {
		return err
	}
	return nil
}

// seedBinding applies the seed's ServiceBinding and checks it and its
// Secret as the seed shows them.
func (s *Sandbox) seedBinding(ctx context.Context) error {
	s.section("Create the ServiceBinding")
	if err := s.kubectlExpect(ctx, "apply the binding", exactly("servicebinding.servicecatalog.k8s.io/demo-kafka-binding created"), "apply", "-f", BindingFile); err != nil {
		return err
	}
	if err := s.waitReady(ctx, "ServiceBinding "+BindingName, &scv1beta1.ServiceBinding{}, func(o client.Object) (bool, string) {
		c := o.(*scv1beta1.ServiceBinding).Status.GetCondition(scv1beta1.ServiceBindingConditionReady)
		if c == nil {
			return false, "no Ready condition yet"
		}
		return c.Status == scv1beta1.ConditionTrue, c.Reason + ": " + c.Message
	}, BindingName); err != nil {
		return err
	}
	if err := s.kubectlExpect(ctx, "get servicebindings", row("demo-kafka-binding", "demo-kafka", "demo-kafka-secret", "Ready"),
		"get", "servicebindings", "-n", SeedNamespace); err != nil {
		return err
	}
	if err := s.kubectlExpect(ctx, "describe secret", allOf(field("Name:", SecretName), secretKeys(seedSecretKeys)),
		"describe", "secret", "-n", SeedNamespace, SecretName); err != nil {
		return err
	}
	return nil
}

// RegisterBroker is the seed's first step: the osb namespace, the broker's
// basic-auth Secret and the ClusterServiceBroker, until it is Ready.
func (s *Sandbox) RegisterBroker(ctx context.Context) error {
	s.section("Register the broker, with its basic-auth Secret")
	if err := s.kubectlExpect(ctx, "apply the namespace", exactly("namespace/osb created"), "apply", "-f", NamespaceFile); err != nil {
		return err
	}
	createSecret := s.createBrokerSecret
	if s.hooks.brokerSecret != nil {
		createSecret = s.hooks.brokerSecret
	}
	if err := createSecret(ctx); err != nil {
		return err
	}
	if s.hooks.deployBroker != nil {
		if err := s.hooks.deployBroker(ctx); err != nil {
			return err
		}
	}
	if err := s.kubectlExpect(ctx, "apply the broker", exactly("clusterservicebroker.servicecatalog.k8s.io/cloudkarafka created"), "apply", "-f", BrokerFile); err != nil {
		return err
	}
	return s.waitReady(ctx, "ClusterServiceBroker cloudkarafka", &scv1beta1.ClusterServiceBroker{}, func(o client.Object) (bool, string) {
		c := o.(*scv1beta1.ClusterServiceBroker).Status.GetCondition(scv1beta1.ServiceBrokerConditionReady)
		if c == nil {
			return false, "no Ready condition yet"
		}
		return c.Status == scv1beta1.ConditionTrue, c.Reason + ": " + c.Message
	}, "cloudkarafka")
}

// createBrokerSecret makes the broker's basic-auth Secret in one command.
// The seed pipes `kubectl create --dry-run -o yaml` into apply; the
// password is this run's random one and is not printed.
func (s *Sandbox) createBrokerSecret(ctx context.Context) error {
	args := []string{"create", "-n", BrokerNamespace, "secret", "generic", BrokerSecret,
		"--from-literal=username=" + BrokerUser, "--from-literal=password=" + s.BrokerPassword}
	shown := strings.Replace(strings.Join(args, " "), s.BrokerPassword, "$BROKER_PASSWORD", 1)
	return s.kubectlShown(ctx, "create the broker Secret", shown, exactly("secret/"+BrokerSecret+" created"), args...)
}

// hooks are the steps a cluster run does its own way; nil keeps the local
// sandbox's.
type hooks struct {
	// brokerSecret makes the broker's Secret.
	brokerSecret func(context.Context) error
	// deployBroker runs the broker, between its Secret and the
	// ClusterServiceBroker.
	deployBroker func(context.Context) error
	// timeSections prints each section's duration when it ends.
	timeSections bool
}

// Teardown undoes the walkthrough through the API, as a user would: the
// binding (unbind), the instance (deprovision), the broker.
func (s *Sandbox) Teardown(ctx context.Context) error {
	s.section("Clean up")
	for _, f := range []string{BindingFile, InstanceFile, BrokerFile} {
		if err := s.kubectlExpect(ctx, "delete "+f, contains("deleted"), "delete", "-f", f); err != nil {
			return err
		}
	}
	return nil
}

func (s *Sandbox) section(title string) {
	if s.hooks.timeSections {
		s.endSection()
		s.sectionTitle, s.sectionT0 = title, time.Now()
	}
	s.printf("\n==> %s\n", title)
}

// endSection says how long the section that is open took, in a cluster
// run, where steps wait for pods and may take a while.
func (s *Sandbox) endSection() {
	if s.sectionTitle != "" {
		s.printf("#   %s: %s\n", s.sectionTitle, time.Since(s.sectionT0).Round(100*time.Millisecond))
		s.sectionTitle = ""
	}
}

func (s *Sandbox) ok(what string) { s.printf("    ok: %s\n", what) }

func (s *Sandbox) fail(step string, err error) error {
	s.printf("    FAILED: %v\n", err)
	return &StepError{step, err}
}

// check compares a command's output with what the seed shows.
type check struct {
	what string
	fn   func(out string) error
}

// kubectlExpect shows the command as the seed has it, with manifest paths
// relative to the checkout, and runs it with them made absolute: an
// in-process kubectl reads -f relative to this process's working directory.
func (s *Sandbox) kubectlExpect(ctx context.Context, step string, c check, args ...string) error {
	shown := strings.Join(args, " ")
	run := slices.Clone(args)
	for i := 1; i < len(run); i++ {
		if run[i-1] == "-f" && !filepath.IsAbs(run[i]) && run[i] != "-" {
			run[i] = filepath.Join(s.root, run[i])
		}
	}
	return s.kubectlShown(ctx, step, shown, c, run...)
}

func (s *Sandbox) kubectlShown(ctx context.Context, step, shown string, c check, args ...string) error {
	s.printf("$ kubectl %s\n", shown)
	ctx, cancel := context.WithTimeout(ctx, s.opts.StepTimeout)
	defer cancel()
	out, err := s.kubectl.run(ctx, args...)
	s.printf("%s", withNewline(out))
	if err != nil {
		return s.fail(step, err)
	}
	return s.expect(step, out, c)
}

// svcatExpect runs svcat in process: the same code as bin/svcat, with the
// sandbox's kubeconfig.
func (s *Sandbox) svcatExpect(ctx context.Context, c check, args ...string) error {
	s.printf("$ svcat %s\n", strings.Join(args, " "))
	var out, errOut bytes.Buffer
	ctx, cancel := context.WithTimeout(ctx, s.opts.StepTimeout)
	defer cancel()
	streams := genericiooptions.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut}
	code := svcatcmd.Run(ctx, streams, "svcat", append([]string{"--kubeconfig", s.Kubeconfig}, args...))
	s.printf("%s%s", withNewline(out.String()), withNewline(errOut.String()))
	step := "svcat " + strings.Join(args, " ")
	if code != 0 {
		return s.fail(step, fmt.Errorf("exit status %d", code))
	}
	return s.expect(step, out.String(), c)
}

func (s *Sandbox) expect(step, out string, c check) error {
	if err := c.fn(out); err != nil {
		return s.fail(step, err)
	}
	s.ok(c.what)
	return nil
}

func withNewline(s string) string {
	if s == "" || strings.HasSuffix(s, "\n") {
		return s
	}
	return s + "\n"
}

// normalize drops trailing blanks and empty lines, which the blog post's
// copy of the outputs did not keep consistently.
func normalize(s string) string {
	var lines []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimRight(l, " \t\r"); l != "" {
			lines = append(lines, l)
		}
	}
	return strings.Join(lines, "\n")
}

func exactly(want string) check {
	return check{"same as the seed", func(out string) error {
		if normalize(out) != normalize(want) {
			return fmt.Errorf("the seed shows:\n%s", want)
		}
		return nil
	}}
}

// sameColumns compares an svcat table with the seed's column by column.
// The seed ran svcat v0.1.38; v0.3, whose output svcat keeps, added a
// BROKER column to `get classes`. Every column the seed shows must be there
// with the seed's values; columns added since are allowed.
func sameColumns(want string) check {
	return check{"the seed's columns and values", func(out string) error {
		wantRows, err := parseSvcatTable(want)
		if err != nil {
			return err
		}
		gotRows, err := parseSvcatTable(out)
		if err != nil {
			return err
		}
		if len(gotRows) != len(wantRows) {
			return fmt.Errorf("%d rows, the seed shows %d:\n%s", len(gotRows), len(wantRows), want)
		}
		for i, w := range wantRows {
			for col, v := range w {
				if g, ok := gotRows[i][col]; !ok || g != v {
					return fmt.Errorf("column %s is %q, the seed shows %q:\n%s", col, g, v, want)
				}
			}
		}
		return nil
	}}
}

// parseSvcatTable reads svcat's table: a centred header, a +---+ line that
// marks the column boundaries, and rows.
func parseSvcatTable(text string) ([]map[string]string, error) {
	lines := strings.Split(normalize(text), "\n")
	if len(lines) < 2 || !strings.HasPrefix(lines[1], "+") {
		return nil, fmt.Errorf("not an svcat table:\n%s", text)
	}
	var bounds []int
	for i, r := range lines[1] {
		if r == '+' {
			bounds = append(bounds, i)
		}
	}
	cell := func(line string, i int) string {
		from, to := bounds[i], len(line)
		if i+1 < len(bounds) {
			to = bounds[i+1]
		}
		if from >= len(line) {
			return ""
		}
		return strings.TrimSpace(line[from:min(to, len(line))])
	}
	var rows []map[string]string
	for _, l := range lines[2:] {
		r := map[string]string{}
		for i := range bounds {
			r[cell(lines[0], i)] = cell(l, i)
		}
		rows = append(rows, r)
	}
	return rows, nil
}

func contains(want string) check {
	return check{fmt.Sprintf("shows %q", want), func(out string) error {
		if !strings.Contains(out, want) {
			return fmt.Errorf("output lacks %q", want)
		}
		return nil
	}}
}

// field checks a "Key:   value" line of a describe view, whatever the
// column width.
func field(key, valuePrefix string) check {
	return check{fmt.Sprintf("%s %s", key, valuePrefix), func(out string) error {
		for _, line := range strings.Split(out, "\n") {
			v, ok := strings.CutPrefix(strings.TrimSpace(line), key)
			if ok && strings.HasPrefix(strings.TrimSpace(v), valuePrefix) {
				return nil
			}
		}
		return fmt.Errorf("no line %q...", key+" "+valuePrefix)
	}}
}

// row checks a table's first row's leading columns.
func row(cells ...string) check {
	return check{"row " + strings.Join(cells, " "), func(out string) error {
		lines := strings.Split(strings.TrimSpace(out), "\n")
		if len(lines) != 2 {
			return fmt.Errorf("want a header and one row")
		}
		got := strings.Fields(lines[1])
		if len(got) < len(cells) || !equal(got[:len(cells)], cells) {
			return fmt.Errorf("the seed shows a row starting %q", strings.Join(cells, "   "))
		}
		return nil
	}}
}

var bytesLine = regexp.MustCompile(`^(\S+):\s+(\d+) bytes$`)

// secretKeys checks that describe lists each key with a non-zero size.
func secretKeys(keys []string) check {
	return check{"keys " + strings.Join(keys, ", "), func(out string) error {
		sizes := map[string]string{}
		for _, l := range strings.Split(out, "\n") {
			if m := bytesLine.FindStringSubmatch(strings.TrimSpace(l)); m != nil {
				sizes[m[1]] = m[2]
			}
		}
		var missing []string
		for _, k := range keys {
			if n, ok := sizes[k]; !ok || n == "0" {
				missing = append(missing, k)
			}
		}
		if len(missing) > 0 {
			return fmt.Errorf("missing or empty: %s", strings.Join(missing, ", "))
		}
		return nil
	}}
}

func allOf(cs ...check) check {
	var whats []string
	for _, c := range cs {
		whats = append(whats, c.what)
	}
	return check{strings.Join(whats, "; "), func(out string) error {
		var errs []error
		for _, c := range cs {
			if err := c.fn(out); err != nil {
				errs = append(errs, err)
			}
		}
		return errors.Join(errs...)
	}}
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// waitReady polls an object until ready says so, printing the wait the way
// the seed's "wait a moment" reads.
func (s *Sandbox) waitReady(ctx context.Context, what string, obj client.Object, ready func(client.Object) (bool, string), name string) error {
	s.printf("# waiting for %s to be Ready...\n", what)
	ns := ""
	if _, ok := obj.(*scv1beta1.ClusterServiceBroker); !ok {
		ns = SeedNamespace
	}
	t0 := time.Now()
	last := "not found yet"
	err := wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, s.opts.StepTimeout, true, func(ctx context.Context) (bool, error) {
		// A failed Get is polled again: the object may not be there yet.
		if err := s.client.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, obj); err != nil {
			return false, nil
		}
		var ok bool
		ok, last = ready(obj)
		return ok, nil
	})
	if err != nil {
		return s.fail("wait for "+what, fmt.Errorf("not Ready after %s: %s", s.opts.StepTimeout, last))
	}
	s.printf("#   Ready after %s (%s)\n", time.Since(t0).Round(100*time.Millisecond), last)
	return nil
}

// project writes a Secret's data as files, one per key, which is what a
// Secret volume mounted at $SERVICE_BINDING_ROOT/<name> gives a pod.
func (s *Sandbox) project(data map[string][]byte, dir string) error {
	s.printf("$ # mount Secret %s at %s: one file per key\n", SecretName, dir)
	keys, err := writeFiles(data, dir)
	if err != nil {
		return err
	}
	s.printf("$ ls %s\n%s\n", dir, strings.Join(keys, "  "))
	return nil
}

func writeFiles(data map[string][]byte, dir string) ([]string, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	keys := make([]string, 0, len(data))
	for k := range data {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if err := os.WriteFile(filepath.Join(dir, k), data[k], 0o600); err != nil {
			return nil, err
		}
	}
	return keys, nil
}

// ensureDefaultTopic checks that the broker made the topic the apps use.
// The seed's CloudKarafka plan came with a `<user>-default` topic; our
// kafka-broker's plan lists `default` in defaultTopics, created at
// provisioning because the seed's instance sends no parameters.
func (s *Sandbox) ensureDefaultTopic(ctx context.Context, prefix string) error {
	if prefix == "" {
		return errors.New("the binding Secret has no topicPrefix")
	}
	topic := prefix + DefaultTopicKey
	cl, err := kgo.NewClient(s.broker.Cluster().AdminOpts()...)
	if err != nil {
		return err
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	ctx, cancel := context.WithTimeout(ctx, s.opts.StepTimeout)
	defer cancel()
	td, err := adm.ListTopics(ctx, topic)
	if err != nil {
		return err
	}
	if !td.Has(topic) {
		return fmt.Errorf("the kafka-broker made no topic %s for the instance; its plan's defaultTopics should have", topic)
	}
	return nil
}
