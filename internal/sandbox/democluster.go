package sandbox

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/yaml"

	scv1beta1 "github.com/svcat-io/svcat/api/v1beta1"
	"github.com/svcat-io/svcat/internal/controllermanager"
	"github.com/svcat-io/svcat/internal/ociimage"
)

// What a cluster run installs and where. The chart's defaults for a release
// named "svcat" give the names `svcat doctor` looks for by default.
const (
	CatalogNamespace     = "svcat-system"
	CatalogRelease       = "svcat"
	ControllerName       = "svcat-catalog-controller"
	BrokerDeploymentFile = SamplesDir + "/deployment.yml"
	ProducerFile         = SamplesDir + "/producer.yml"
	ConsumerFile         = SamplesDir + "/consumer.yml"
	BrokerDeployment     = "cloudkarafka-service-broker"
	BrokerService        = "cloudkarafka-service-broker-service"
	ProducerService      = "demo-kafka-producer-service"
	ConsumerService      = "demo-kafka-consumer-service"
	controllerLabel      = "app.kubernetes.io/component=catalog-controller"
	brokerPodSelector    = "app=cloudkarafka-service-broker"
)

// Images are the references of the images a cluster run starts, as the
// node's container runtime knows them (make images loads them).
type Images struct {
	Controller, Broker, Producer, Consumer string
}

// sampleImages maps the image repositories written in config/samples/kafka
// to the built image each stands for; the samples' tags are the chart's
// appVersion, which the built images may not have.
func (im Images) sampleImages() map[string]string {
	return map[string]string{
		ociimage.Registry + "/kafka-broker":        im.Broker,
		ociimage.Registry + "/demo-kafka-producer": im.Producer,
		ociimage.Registry + "/demo-kafka-consumer": im.Consumer,
	}
}

// DefaultImages are the images `make images` writes for this checkout:
// ghcr.io/svcat-io/<name> tagged with the chart's appVersion, the names
// the chart and the samples use, so that neither needs an override.
func DefaultImages(root string) (Images, error) {
	b, err := os.ReadFile(filepath.Join(root, ChartDir, "Chart.yaml"))
	if err != nil {
		return Images{}, err
	}
	var chart struct {
		AppVersion string `json:"appVersion"`
	}
	if err := yaml.Unmarshal(b, &chart); err != nil || chart.AppVersion == "" {
		return Images{}, fmt.Errorf("%s/Chart.yaml has no appVersion: %v", ChartDir, err)
	}
	ref := func(name string) string {
		c, _ := ociimage.ComponentByName(name)
		return c.ImageRef(ociimage.Registry, chart.AppVersion)
	}
	return Images{Controller: ref("catalog-controller"), Broker: ref("kafka-broker"),
		Producer: ref("demo-kafka-producer"), Consumer: ref("demo-kafka-consumer")}, nil
}

// ImageArchives are the files `make images` writes into binDir/images for
// the components a cluster run starts, for loading into the node.
func ImageArchives(binDir string) []string {
	var out []string
	for _, n := range []string{"catalog-controller", "kafka-broker", "demo-kafka-producer", "demo-kafka-consumer"} {
		out = append(out, filepath.Join(binDir, "images", n+".tar"))
	}
	return out
}

// ClusterOptions configure a run on a real cluster.
type ClusterOptions struct {
	// Out receives the transcript.
	Out io.Writer
	// Root is the repository checkout; empty finds it above the working
	// directory.
	Root string
	// Kubeconfig reaches the cluster as an admin, the seed's user.
	Kubeconfig string
	// Kubectl is the kubectl to run; empty takes it from PATH. The
	// built-in stand-in of `make demo` does not know rollouts, so a cluster
	// run needs the real one.
	Kubectl string
	// Helm is the helm binary (make helm builds it into bin/).
	Helm string
	// Images are the images to run.
	Images Images
	// Install is "helm" (the default) or "kustomize" (kubectl apply -k
	// config/default with the controller's image set).
	Install string
	// HelmSet are more --set values for helm install, for tests.
	HelmSet []string
	// StepTimeout bounds each wait.
	StepTimeout time.Duration
}

// Cluster is the seed's walkthrough on a real cluster: everything runs in
// pods, the tools are the user's (helm, kubectl), and the checks are the
// ones `make demo` makes.
type Cluster struct {
	*Sandbox
	copts ClusterOptions
	// NodeIP is the node's InternalIP, where NodePorts answer.
	NodeIP string
	// rendered maps a sample file to its copy with the built images.
	rendered map[string]string
	// Times are the steps' durations, in order.
	Times []StepTime
}

// StepTime is how long one step of a cluster run took.
type StepTime struct {
	Step string
	Took time.Duration
}

// NewCluster prepares a run against the cluster opts.Kubeconfig reaches.
// It installs nothing yet. Close it when done.
func NewCluster(ctx context.Context, opts ClusterOptions) (_ *Cluster, err error) {
	if opts.Out == nil {
		opts.Out = io.Discard
	}
	if opts.StepTimeout == 0 {
		opts.StepTimeout = 3 * time.Minute
	}
	if opts.Install == "" {
		opts.Install = "helm"
	}
	if opts.Install != "helm" && opts.Install != "kustomize" {
		return nil, fmt.Errorf("install %q: want helm or kustomize", opts.Install)
	}
	if opts.Kubeconfig == "" {
		return nil, errors.New("no kubeconfig for the cluster: set KUBECONFIG (make cluster prints it)")
	}
	s := &Sandbox{opts: Options{Out: opts.Out, Root: opts.Root, StepTimeout: opts.StepTimeout}, Kubeconfig: opts.Kubeconfig}
	c := &Cluster{Sandbox: s, copts: opts}
	defer func() {
		if err != nil {
			c.Close()
		}
	}()
	if s.root = opts.Root; s.root == "" {
		if s.root, err = findRoot(); err != nil {
			return nil, err
		}
	}
	if s.work, err = os.MkdirTemp("", "svcat-demo-cluster-"); err != nil {
		return nil, err
	}
	s.onStop(func() { _ = os.RemoveAll(s.work) })
	if s.logFile, err = os.Create(filepath.Join(s.work, "components.log")); err != nil {
		return nil, err
	}
	s.onStop(func() { _ = s.logFile.Close() })
	// svcat runs in process and builds controller-runtime clients, which
	// log through controller-runtime's logger: to the components log.
	ctrllog.SetLogger(logr.FromSlogHandler(slog.NewTextHandler(s.logFile, &slog.HandlerOptions{Level: slog.LevelInfo})))

	cfg, err := clientcmd.BuildConfigFromFlags("", opts.Kubeconfig)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", opts.Kubeconfig, err)
	}
	scheme, err := controllermanager.NewScheme()
	if err != nil {
		return nil, err
	}
	if s.client, err = client.New(cfg, client.Options{Scheme: scheme}); err != nil {
		return nil, err
	}
	path := opts.Kubectl
	if path == "" {
		if path, err = exec.LookPath("kubectl"); err != nil {
			return nil, errors.New("no kubectl on PATH: a cluster run uses the real kubectl (apt-get install kubectl, or pass its path)")
		}
	}
	s.kubectl = execKubectl{path: path, kubeconfig: opts.Kubeconfig, root: s.root}
	if opts.Install == "helm" {
		if _, err := os.Stat(opts.Helm); err != nil {
			return nil, fmt.Errorf("helm: %w (make helm builds it)", err)
		}
	}
	if c.NodeIP, err = nodeIP(ctx, s.client); err != nil {
		return nil, err
	}
	if c.rendered, err = renderSamples(s.root, s.work, opts.Images); err != nil {
		return nil, err
	}
	s.BrokerPassword = randomHex(16)
	s.hooks = hooks{brokerSecret: c.seedBrokerSecret, deployBroker: c.deployBroker, timeSections: true}
	return c, nil
}

// nodeIP is the InternalIP of the cluster's one node: the address the
// cluster tooling gave it, where NodePorts answer.
func nodeIP(ctx context.Context, c client.Client) (string, error) {
	var nodes corev1.NodeList
	if err := c.List(ctx, &nodes); err != nil {
		return "", fmt.Errorf("listing nodes: %w", err)
	}
	for _, n := range nodes.Items {
		for _, a := range n.Status.Addresses {
			if a.Type == corev1.NodeInternalIP && a.Address != "" {
				return a.Address, nil
			}
		}
	}
	return "", fmt.Errorf("none of the cluster's %d nodes has an InternalIP", len(nodes.Items))
}

// renderSamples writes the sample files with image names into dir, the
// sample names replaced with the built images.
func renderSamples(root, dir string, im Images) (map[string]string, error) {
	out := map[string]string{}
	for _, f := range []string{BrokerDeploymentFile, ProducerFile, ConsumerFile} {
		data, err := os.ReadFile(filepath.Join(root, f))
		if err != nil {
			return nil, err
		}
		r, err := renderImages(data, im.sampleImages())
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		p := filepath.Join(dir, filepath.Base(f))
		if err := os.WriteFile(p, r, 0o600); err != nil {
			return nil, err
		}
		out[f] = p
	}
	return out, nil
}

// renderImages replaces each `image: REPO:TAG` line whose REPO is a key
// of images. A manifest naming another image is refused: it would start
// something this build did not make.
func renderImages(data []byte, images map[string]string) ([]byte, error) {
	lines := strings.Split(string(data), "\n")
	n := 0
	for i, l := range lines {
		indent, rest, ok := strings.Cut(l, "image: ")
		if !ok || strings.TrimSpace(indent) != "" && strings.TrimSpace(indent) != "-" {
			continue
		}
		name := strings.TrimSpace(rest)
		repo, _, _ := splitImage(name)
		ref, known := images[repo]
		if !known {
			return nil, fmt.Errorf("image %q is not one this build makes (%s)", name, strings.Join(keys(images), ", "))
		}
		if ref == "" {
			return nil, fmt.Errorf("no image given for %s", name)
		}
		lines[i] = indent + "image: " + ref
		n++
	}
	if n == 0 {
		return nil, errors.New("no image: line")
	}
	return []byte(strings.Join(lines, "\n")), nil
}

func keys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// timed runs one step of a cluster run, saying what it does and how long
// it took.
func (c *Cluster) timed(step string, f func() error) error {
	c.printf("\n#### %s\n", step)
	t0 := time.Now()
	err := f()
	c.endSection()
	took := time.Since(t0)
	c.Times = append(c.Times, StepTime{step, took})
	status := "done"
	if err != nil {
		status = "FAILED"
	}
	c.printf("#### %s: %s in %s\n", step, status, took.Round(100*time.Millisecond))
	return err
}

// Run is `make demo-cluster`'s flow on a cluster that is up: install the
// catalog, the seed's walkthrough in pods, svcat doctor, clean-up. On
// failure it prints what the pods and the controller said.
func (c *Cluster) Run(ctx context.Context) error {
	err := c.timed("install the catalog ("+c.copts.Install+")", func() error { return c.Install(ctx) })
	if err == nil {
		err = c.timed("the seed's walkthrough, in pods", func() error {
			_, err := c.Walkthrough(ctx)
			return err
		})
	}
	if err == nil {
		err = c.timed("svcat doctor", func() error { return c.Doctor(ctx) })
	}
	if err == nil {
		err = c.timed("clean up with kubectl delete and "+c.uninstallTool(), func() error { return c.CleanUp(ctx) })
	}
	if err != nil {
		c.Diagnose(context.WithoutCancel(ctx))
	}
	return err
}

func (c *Cluster) uninstallTool() string {
	if c.copts.Install == "helm" {
		return "helm uninstall"
	}
	return "kubectl delete -k"
}

// kubectlOut runs kubectl and returns its standard output alone, for
// commands whose output is a file (create --dry-run -o yaml).
func (c *Cluster) kubectlOut(ctx context.Context, args ...string) (string, string, error) {
	k := c.kubectl.(execKubectl)
	cmd := exec.CommandContext(ctx, k.path, args...)
	cmd.Env = append(os.Environ(), "KUBECONFIG="+k.kubeconfig)
	cmd.Dir = k.root
	var out, errOut strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	return out.String(), errOut.String(), err
}

// run runs a tool (helm) with the cluster's kubeconfig, printing the
// command and its output.
func (c *Cluster) run(ctx context.Context, step, shown string, path string, args ...string) (string, error) {
	c.printf("$ %s\n", shown)
	ctx, cancel := context.WithTimeout(ctx, c.opts.StepTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Env = append(os.Environ(), "KUBECONFIG="+c.Kubeconfig)
	cmd.Dir = c.root
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	c.printf("%s", withNewline(out.String()))
	if err != nil {
		return out.String(), c.fail(step, err)
	}
	return out.String(), nil
}

// seedBrokerSecret is the seed's way of making the broker's Secret: create
// with --dry-run -o yaml into secret.yml, then apply that file. The seed
// also stored a CloudKarafka API key; the kafka-broker has no use for one.
func (c *Cluster) seedBrokerSecret(ctx context.Context) error {
	args := []string{"create", "-n", BrokerNamespace, "secret", "generic", BrokerSecret,
		"--from-literal=username=" + BrokerUser, "--from-literal=password=" + c.BrokerPassword,
		"--dry-run", "-o", "yaml"}
	secretFile := filepath.Join(c.work, "secret.yml")
	shown := strings.Replace(strings.Join(args, " "), c.BrokerPassword, "$BROKER_PASSWORD", 1)
	c.printf("$ kubectl %s > %s\n", shown, secretFile)
	ctx2, cancel := context.WithTimeout(ctx, c.opts.StepTimeout)
	defer cancel()
	out, errOut, err := c.kubectlOut(ctx2, args...)
	// kubectl warns that a bare --dry-run is deprecated; the seed's
	// command still works.
	c.printf("%s", withNewline(errOut))
	if err != nil {
		return c.fail("create the broker Secret", err)
	}
	if err := os.WriteFile(secretFile, []byte(out), 0o600); err != nil {
		return c.fail("create the broker Secret", err)
	}
	return c.kubectlExpect(ctx, "apply the broker Secret", exactly("secret/"+BrokerSecret+" created"), "apply", "-f", secretFile)
}

// deployBroker is the seed's `kubectl apply -f .../k8s/deployment.yml`:
// the kafka-broker as a Deployment behind the Service the
// ClusterServiceBroker's URL names.
func (c *Cluster) deployBroker(ctx context.Context) error {
	f := c.rendered[BrokerDeploymentFile]
	if err := c.kubectlExpect(ctx, "deploy the broker", allOf(
		contains("configmap/cloudkarafka-catalog created"),
		contains("service/"+BrokerService+" created"),
		contains("deployment.apps/"+BrokerDeployment+" created")), "apply", "-f", f); err != nil {
		return err
	}
	if err := c.rollout(ctx, BrokerNamespace, BrokerDeployment); err != nil {
		return err
	}
	// The controller retries an unreachable broker with a growing delay;
	// registering it before its Service has a ready endpoint would only
	// make the first Ready wait longer. The check reads the EndpointSlice:
	// nothing on the host dials a Service address, which leaves the
	// machine by its default route whenever kube-proxy has no rule for it.
	if err := c.waitEndpoint(ctx, BrokerNamespace, BrokerService); err != nil {
		return err
	}
	return nil
}

func (c *Cluster) rollout(ctx context.Context, ns, deployment string) error {
	return c.kubectlExpect(ctx, "roll out "+deployment, contains("successfully rolled out"),
		"rollout", "status", "-n", ns, "deployment/"+deployment, "--timeout="+c.opts.StepTimeout.String())
}

// Walkthrough is the seed in pods: the broker's Secret, Deployment and
// ClusterServiceBroker, the classes and plans, the instance and the
// binding (the seed's manifests, unchanged), then the producer and the
// consumer as Deployments with NodePort Services, and Hello and Hello2
// through Kafka.
func (c *Cluster) Walkthrough(ctx context.Context) (*Result, error) {
	res := &Result{}
	c.printf("\n# kubectl: %s\n", c.kubectl.describe())
	if err := c.RegisterBroker(ctx); err != nil {
		return res, err
	}
	if err := c.seedCatalog(ctx); err != nil {
		return res, err
	}
	if err := c.seedInstance(ctx); err != nil {
		return res, err
	}
	if err := c.seedBinding(ctx); err != nil {
		return res, err
	}
	var sec corev1.Secret
	if err := c.client.Get(ctx, client.ObjectKey{Namespace: SeedNamespace, Name: SecretName}, &sec); err != nil {
		return res, &StepError{"read the binding Secret", err}
	}
	res.Secret = sec.Data

	c.section("Deploy the producer and the consumer, which mount the binding Secret")
	for _, app := range []struct{ file, name, svc string }{
		{ProducerFile, "demo-kafka-producer", ProducerService},
		{ConsumerFile, "demo-kafka-consumer", ConsumerService},
	} {
		if err := c.kubectlExpect(ctx, "deploy "+app.name, allOf(
			contains("service/"+app.svc+" created"),
			contains("deployment.apps/"+app.name+" created")), "apply", "-f", c.rendered[app.file]); err != nil {
			return res, err
		}
	}
	for _, d := range []string{"demo-kafka-producer", "demo-kafka-consumer"} {
		if err := c.rollout(ctx, SeedNamespace, d); err != nil {
			return res, err
		}
	}
	if err := c.kubectlExpect(ctx, "get service,pod", seedServicesAndPods(),
		"get", "service,pod", "-n", SeedNamespace); err != nil {
		return res, err
	}
	producerPort, err := c.nodePort(ctx, ProducerService)
	if err != nil {
		return res, c.fail("NodePort of "+ProducerService, err)
	}
	consumerPort, err := c.nodePort(ctx, ConsumerService)
	if err != nil {
		return res, c.fail("NodePort of "+ConsumerService, err)
	}
	res.ProducerURL = fmt.Sprintf("http://%s:%d", c.NodeIP, producerPort)
	res.ConsumerURL = fmt.Sprintf("http://%s:%d", c.NodeIP, consumerPort)
	for _, u := range []string{res.ConsumerURL, res.ProducerURL} {
		if err := c.waitAnswers(ctx, u+"/healthz"); err != nil {
			return res, c.fail("NodePort "+u, err)
		}
	}

	c.section("Stream from the consumer's NodePort, send Hello and Hello2 to the producer's")
	stream, err := c.openStream(ctx, res.ConsumerURL+"/messages")
	if err != nil {
		return res, c.fail("open the stream", err)
	}
	defer stream.close()
	for _, msg := range []string{"Hello", "Hello2"} {
		if err := c.post(ctx, res.ProducerURL+"/messages", msg); err != nil {
			return res, err
		}
	}
	c.printf("\n# what the stream delivered:\n")
	res.Messages, res.Stream, err = stream.collect(ctx, 2, c.opts.StepTimeout)
	c.printf("%s", res.Stream)
	if err != nil {
		return res, c.fail("stream", err)
	}
	if want := []string{"Hello", "Hello2"}; !equal(res.Messages, want) {
		return res, c.fail("stream", fmt.Errorf("delivered %q, the seed shows %q", res.Messages, want))
	}
	c.ok("data:Hello and data:Hello2, in order, as in the seed")
	return res, nil
}

// waitEndpoint waits until a Service's EndpointSlices list a ready
// endpoint.
func (c *Cluster) waitEndpoint(ctx context.Context, ns, svc string) error {
	c.printf("# waiting for Service %s/%s to have a ready endpoint...\n", ns, svc)
	t0 := time.Now()
	ctx, cancel := context.WithTimeout(ctx, c.opts.StepTimeout)
	defer cancel()
	for {
		var slices discoveryv1.EndpointSliceList
		if err := c.client.List(ctx, &slices, client.InNamespace(ns), client.MatchingLabels{discoveryv1.LabelServiceName: svc}); err == nil {
			for _, sl := range slices.Items {
				for _, e := range sl.Endpoints {
					if e.Conditions.Ready != nil && *e.Conditions.Ready {
						c.printf("#   %s ready after %s\n", strings.Join(e.Addresses, ","), time.Since(t0).Round(100*time.Millisecond))
						return nil
					}
				}
			}
		}
		select {
		case <-ctx.Done():
			return c.fail("Service "+svc, fmt.Errorf("no ready endpoint within %s", c.opts.StepTimeout))
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// waitAnswers waits until url answers 200. A pod is Ready before
// kube-proxy has written its NodePort's rules, and until then the node
// refuses the connection.
func (c *Cluster) waitAnswers(ctx context.Context, url string) error {
	c.printf("# waiting for %s to answer...\n", url)
	t0 := time.Now()
	ctx, cancel := context.WithTimeout(ctx, c.opts.StepTimeout)
	defer cancel()
	last := errors.New("no answer yet")
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		if resp, err := http.DefaultClient.Do(req); err != nil {
			last = err
		} else {
			_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				c.printf("#   answered after %s\n", time.Since(t0).Round(100*time.Millisecond))
				return nil
			}
			last = errors.New(resp.Status)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("no answer within %s: %v", c.opts.StepTimeout, last)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func (c *Cluster) nodePort(ctx context.Context, name string) (int32, error) {
	var svc corev1.Service
	if err := c.client.Get(ctx, client.ObjectKey{Namespace: SeedNamespace, Name: name}, &svc); err != nil {
		return 0, err
	}
	for _, p := range svc.Spec.Ports {
		if p.NodePort != 0 {
			return p.NodePort, nil
		}
	}
	return 0, fmt.Errorf("Service %s has no NodePort", name)
}

// Doctor is `svcat doctor` with its defaults, which name what the chart
// installs: it must find the CRDs, the controller's lease and Deployment,
// and the broker healthy.
func (c *Cluster) Doctor(ctx context.Context) error {
	c.section("svcat doctor")
	return c.svcatExpect(ctx, allOf(contains(": healthy"), contains(ControllerName)), "doctor")
}

// CleanUp undoes the walkthrough with the user's tools: kubectl delete
// of the apps, the binding (unbind), the instance (deprovision), the broker,
// then helm uninstall (or kubectl delete -k). The broker must have no
// instance left, and no binding Secret may be left.
func (c *Cluster) CleanUp(ctx context.Context) error {
	c.section("Clean up")
	var inst scv1beta1.ServiceInstance
	if err := c.client.Get(ctx, client.ObjectKey{Namespace: SeedNamespace, Name: InstanceName}, &inst); err != nil {
		return c.fail("read the instance's external ID", err)
	}
	id := inst.Spec.ExternalID
	if code, err := c.brokerInstanceStatus(ctx, id); err != nil || code != http.StatusOK {
		return c.fail("the broker knows the instance", fmt.Errorf("GET instance %s: %d %v, want 200 before the clean-up", id, code, err))
	}
	for _, f := range []string{c.rendered[ConsumerFile], c.rendered[ProducerFile], BindingFile} {
		if err := c.kubectlExpect(ctx, "delete "+f, contains("deleted"), "delete", "-f", f); err != nil {
			return err
		}
	}
	if err := c.waitGone(ctx, "Secret "+SecretName, &corev1.Secret{}, SeedNamespace, SecretName); err != nil {
		return err
	}
	if err := c.kubectlExpect(ctx, "delete the instance", contains("deleted"), "delete", "-f", InstanceFile); err != nil {
		return err
	}
	code, err := c.brokerInstanceStatus(ctx, id)
	if err != nil {
		return c.fail("ask the broker for the instance", err)
	}
	if code != http.StatusNotFound {
		return c.fail("the broker has no instance left", fmt.Errorf("GET instance %s answered %d, want 404", id, code))
	}
	c.ok("the broker has no instance " + id)
	if err := c.noBindingSecrets(ctx); err != nil {
		return err
	}
	for _, f := range []string{BrokerFile, c.rendered[BrokerDeploymentFile], NamespaceFile} {
		if err := c.kubectlExpect(ctx, "delete "+f, contains("deleted"), "delete", "-f", f); err != nil {
			return err
		}
	}
	return c.Uninstall(ctx)
}

// noBindingSecrets checks that no Secret the controller wrote is left.
func (c *Cluster) noBindingSecrets(ctx context.Context) error {
	var list corev1.SecretList
	if err := c.client.List(ctx, &list, client.MatchingLabels{scv1beta1.LabelManagedBy: scv1beta1.ManagedByValue}); err != nil {
		return c.fail("list binding Secrets", err)
	}
	if len(list.Items) > 0 {
		var names []string
		for _, s := range list.Items {
			names = append(names, s.Namespace+"/"+s.Name)
		}
		return c.fail("no binding Secret left", fmt.Errorf("left: %s", strings.Join(names, ", ")))
	}
	c.ok("no binding Secret left")
	return nil
}

func (c *Cluster) waitGone(ctx context.Context, what string, obj client.Object, ns, name string) error {
	c.printf("# waiting for %s to go...\n", what)
	ctx, cancel := context.WithTimeout(ctx, c.opts.StepTimeout)
	defer cancel()
	for {
		err := c.client.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, obj)
		if client.IgnoreNotFound(err) == nil && err != nil {
			c.ok(what + " is gone")
			return nil
		}
		select {
		case <-ctx.Done():
			return c.fail("wait for "+what+" to go", fmt.Errorf("still there after %s", c.opts.StepTimeout))
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// brokerInstanceStatus asks the kafka-broker for an instance (OSB's GET
// instance) at its pod's address, which the host reaches through the
// cluster's pod network, and returns the status code.
func (c *Cluster) brokerInstanceStatus(ctx context.Context, id string) (int, error) {
	var pods corev1.PodList
	if err := c.client.List(ctx, &pods, client.InNamespace(BrokerNamespace), client.MatchingLabels{"app": BrokerDeployment}); err != nil {
		return 0, err
	}
	ip := ""
	for _, p := range pods.Items {
		if p.Status.Phase == corev1.PodRunning && p.Status.PodIP != "" && p.DeletionTimestamp == nil {
			ip = p.Status.PodIP
		}
	}
	if ip == "" {
		return 0, errors.New("no running broker pod")
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("http://%s:8080/v2/service_instances/%s", ip, id), nil)
	if err != nil {
		return 0, err
	}
	req.SetBasicAuth(BrokerUser, c.BrokerPassword)
	req.Header.Set("X-Broker-API-Version", "2.17")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	resp.Body.Close()
	return resp.StatusCode, nil
}

// Diagnose prints what the cluster's pods and the controller said, after
// a failed step.
func (c *Cluster) Diagnose(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	c.printf("\n# what the cluster shows after the failure:\n")
	for _, args := range [][]string{
		{"get", "pods", "-A", "-o", "wide"},
		{"get", "events", "-A", "--sort-by=.lastTimestamp"},
		{"logs", "-n", CatalogNamespace, "-l", controllerLabel, "--tail=40", "--prefix"},
		{"logs", "-n", BrokerNamespace, "-l", brokerPodSelector, "--tail=40"},
	} {
		out, err := c.kubectl.run(ctx, args...)
		c.printf("$ kubectl %s\n%s", strings.Join(args, " "), withNewline(lastLines(out, 60)))
		if err != nil {
			c.printf("(%v)\n", err)
		}
	}
}

func lastLines(s string, n int) string {
	lines := strings.SplitAfter(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "")
}
