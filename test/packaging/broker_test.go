package packaging

import (
	"bufio"
	"bytes"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	scv1beta1 "github.com/svcat-io/svcat/api/v1beta1"
	"github.com/svcat-io/svcat/internal/localcluster"
)

func itoa(i int32) string { return strconv.Itoa(int(i)) }

// mkdirTemp makes a directory removed when the package's tests end (the
// built binary is shared by tests, so t.TempDir's lifetime is too short).
func mkdirTemp() (string, error) {
	dir, err := os.MkdirTemp("", "svcat-packaging-")
	if err == nil {
		localcluster.BeforeStop(func() { _ = os.RemoveAll(dir) })
	}
	return dir, err
}

// shippedBinaries are the released binaries with images (IMAGES in the
// Makefile also lists the demo apps, whose images only the demo uses);
// the other cmd/ programs are development and demo tools.
var shippedBinaries = []string{"catalog-controller", "kafka-broker", "svcat"}

var (
	binariesOnce sync.Once
	binariesDir  string
	binariesErr  error
)

// binaries builds every cmd/ binary of this checkout once per test run, the
// way build/*/Dockerfile does (CGO_ENABLED=0, -trimpath), in the main module
// so with its dependency versions, and returns their directory. One
// go build of all of them shares the compiled packages between the binaries;
// on two shared cores that is the difference between one and three builds.
func binaries(t testing.TB) string {
	t.Helper()
	root := repoRoot(t)
	binariesOnce.Do(func() {
		if binariesDir, binariesErr = mkdirTemp(); binariesErr != nil {
			return
		}
		args := []string{"build", "-trimpath", "-ldflags", "-s -w", "-o", binariesDir + "/"}
		for _, b := range shippedBinaries {
			args = append(args, "./cmd/"+b)
		}
		build := exec.Command("go", args...)
		build.Dir = root
		build.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux")
		if out, err := build.CombinedOutput(); err != nil {
			binariesErr = fmt.Errorf("CGO_ENABLED=0 go build: %v\n%s", err, out)
		}
	})
	if binariesErr != nil {
		t.Fatal(binariesErr)
	}
	return binariesDir
}

// kafkaBrokerFlags asks the kafka-broker binary which flags it has. Its
// flags live in package main, so its -h output is the only source that
// cannot drift from the code.
func kafkaBrokerFlags(t testing.TB) map[string]bool {
	t.Helper()
	var out bytes.Buffer
	help := exec.Command(filepath.Join(binaries(t), "kafka-broker"), "-h")
	help.Stdout, help.Stderr = &out, &out
	_ = help.Run() // -h exits non-zero after printing the usage
	flags := map[string]bool{}
	re := regexp.MustCompile(`^\s+-([a-z0-9-]+)`)
	sc := bufio.NewScanner(&out)
	for sc.Scan() {
		if m := re.FindStringSubmatch(sc.Text()); m != nil {
			flags[m[1]] = true
		}
	}
	if len(flags) < 10 {
		t.Fatalf("kafka-broker -h listed only %v:\n%s", flags, out.String())
	}
	return flags
}

// brokerArgs returns the broker container's flags as name -> value.
func brokerArgs(t testing.TB, c corev1.Container) map[string]string {
	t.Helper()
	known := kafkaBrokerFlags(t)
	args := map[string]string{}
	for _, a := range c.Args {
		if !strings.HasPrefix(a, "--") {
			t.Errorf("argument %q is not a flag", a)
			continue
		}
		name, value, _ := strings.Cut(strings.TrimPrefix(a, "--"), "=")
		if !known[name] {
			t.Errorf("kafka-broker has no flag --%s", name)
		}
		if _, dup := args[name]; dup {
			t.Errorf("--%s given twice", name)
		}
		args[name] = value
	}
	return args
}

func secretData(t testing.TB, objs []*unstructured.Unstructured, name string) map[string]string {
	t.Helper()
	var s corev1.Secret
	toTyped(t, find(t, objs, "Secret", name), &s)
	out := map[string]string{}
	for k, v := range s.Data {
		out[k] = string(v)
	}
	for k, v := range s.StringData {
		out[k] = v
	}
	return out
}

// mountedFile resolves a path in the container to the Secret or ConfigMap
// key behind it, so a flag pointing at a file nothing provides fails here.
func mountedFile(t testing.TB, objs []*unstructured.Unstructured, pod corev1.PodSpec, c corev1.Container, path string) string {
	t.Helper()
	for _, m := range c.VolumeMounts {
		rel, err := filepath.Rel(m.MountPath, path)
		if err != nil || strings.HasPrefix(rel, "..") {
			continue
		}
		for _, v := range pod.Volumes {
			if v.Name != m.Name {
				continue
			}
			switch {
			case v.Secret != nil:
				data := secretData(t, objs, v.Secret.SecretName)
				val, ok := data[rel]
				if !ok {
					t.Errorf("%s: Secret %s has no key %q", path, v.Secret.SecretName, rel)
				}
				return val
			case v.ConfigMap != nil:
				var cm corev1.ConfigMap
				toTyped(t, find(t, objs, "ConfigMap", v.ConfigMap.Name), &cm)
				val, ok := cm.Data[rel]
				if !ok {
					t.Errorf("%s: ConfigMap %s has no key %q", path, v.ConfigMap.Name, rel)
				}
				return val
			}
		}
	}
	t.Errorf("%s is not in a Secret or ConfigMap mount of %s", path, c.Name)
	return ""
}

func TestChartKafkaBrokerWiring(t *testing.T) {
	t.Run("external", func(t *testing.T) {
		objs := renderChart(t, "svcat", "catalog", allValues(t, "leases"))
		d := deployment(t, objs, "svcat-kafka-broker")
		c := d.Spec.Template.Spec.Containers[0]
		args := brokerArgs(t, c)
		if _, ok := args["embedded"]; ok {
			t.Error("external mode runs --embedded")
		}
		want := map[string]string{
			"bootstrap-servers":        "kafka-0.kafka:9093,kafka-1.kafka:9093",
			"advertised-servers":       "kafka.example.com:9093",
			"kafka-admin-mechanism":    "SCRAM-SHA-256",
			"state-topic":              "__svcat_test_state",
			"topic-prefix-base":        "test-",
			"provider":                 "example",
			"dashboard-url":            "https://kafka-ui.example/ui/clusters/main/all-topics?q={topic_prefix}",
			"async-deprovision-topics": "3",
			"operation-timeout":        "1m",
			"log-level":                "debug",
		}
		for k, v := range want {
			if args[k] != v {
				t.Errorf("--%s=%q, want %q", k, args[k], v)
			}
		}
		files := map[string]string{
			"kafka-admin-user-file":     "svcat-admin",
			"kafka-admin-password-file": "not-a-real-admin-password",
			"kafka-ca-file":             testCA,
			"username-file":             "catalog",
			"password-file":             "not-a-real-password",
		}
		for flag, content := range files {
			if got := mountedFile(t, objs, d.Spec.Template.Spec, c, args[flag]); got != content {
				t.Errorf("--%s reads %q, want %q", flag, got, content)
			}
		}
		if !strings.Contains(mountedFile(t, objs, d.Spec.Template.Spec, c, args["catalog"]), "cloudkarafka") {
			t.Error("--catalog does not read the catalog value")
		}
		if *d.Spec.Replicas != 3 {
			t.Errorf("replicas %d, want 3", *d.Spec.Replicas)
		}
		checkRegistration(t, objs, "kafka-test", "svcat-kafka-broker", "catalog", "catalog", "not-a-real-password")
	})
	t.Run("external with existing Secrets", func(t *testing.T) {
		objs := renderChart(t, "svcat", "catalog", values(t, `
kafkaBroker:
  enabled: true
  auth: {existingSecret: my-broker-auth}
  external: {bootstrapServers: "k:9093", existingSecret: my-kafka-admin}
`))
		if n := len(ofKind(objs, "Secret")); n != 0 {
			t.Errorf("%d Secrets rendered although both are given", n)
		}
		d := deployment(t, objs, "svcat-kafka-broker")
		secrets := map[string]bool{}
		for _, v := range d.Spec.Template.Spec.Volumes {
			if v.Secret != nil {
				secrets[v.Secret.SecretName] = true
			}
		}
		if !secrets["my-broker-auth"] || !secrets["my-kafka-admin"] {
			t.Errorf("mounted Secrets %v", secrets)
		}
		args := brokerArgs(t, d.Spec.Template.Spec.Containers[0])
		if args["kafka-ca-file"] != "/etc/kafka-broker/kafka/ca.crt" {
			t.Errorf("--kafka-ca-file=%q: an existing Secret provides ca.crt", args["kafka-ca-file"])
		}
		var csb scv1beta1.ClusterServiceBroker
		toTyped(t, find(t, objs, "ClusterServiceBroker", "svcat-kafka"), &csb)
		if csb.Spec.AuthInfo.Basic.SecretRef.Name != "my-broker-auth" {
			t.Errorf("ClusterServiceBroker uses Secret %q", csb.Spec.AuthInfo.Basic.SecretRef.Name)
		}
	})
	t.Run("external plaintext with system roots", func(t *testing.T) {
		objs := renderChart(t, "svcat", "catalog", values(t, `
kafkaBroker:
  enabled: true
  external: {bootstrapServers: "k:9092", adminUser: a, adminPassword: b, plaintext: true}
`))
		args := brokerArgs(t, deployment(t, objs, "svcat-kafka-broker").Spec.Template.Spec.Containers[0])
		if _, ok := args["kafka-plaintext"]; !ok {
			t.Error("no --kafka-plaintext")
		}
		if _, ok := args["kafka-ca-file"]; ok {
			t.Error("--kafka-ca-file without a CA")
		}
		if _, ok := secretData(t, objs, "svcat-kafka-broker-kafka-admin")["ca.crt"]; ok {
			t.Error("ca.crt rendered without a CA")
		}
	})
	t.Run("embedded", func(t *testing.T) {
		objs := renderChart(t, "svcat", "catalog", embeddedValues(t))
		d := deployment(t, objs, "svcat-kafka-broker")
		c := d.Spec.Template.Spec.Containers[0]
		args := brokerArgs(t, c)
		for _, f := range []string{"bootstrap-servers", "kafka-admin-user-file", "kafka-ca-file"} {
			if _, ok := args[f]; ok {
				t.Errorf("embedded mode passes --%s", f)
			}
		}
		if _, ok := args["embedded"]; !ok {
			t.Fatal("no --embedded")
		}
		if args["embedded-advertise-host"] != "svcat-kafka-broker.catalog.svc" || args["embedded-listen-host"] != "0.0.0.0" {
			t.Errorf("embedded Kafka listens on %q and advertises %q", args["embedded-listen-host"], args["embedded-advertise-host"])
		}
		if *d.Spec.Replicas != 1 || d.Spec.Strategy.Type != "Recreate" {
			t.Errorf("embedded runs %d replicas with strategy %s, want 1 with Recreate", *d.Spec.Replicas, d.Spec.Strategy.Type)
		}
		// The data directory must be on the PersistentVolumeClaim: the root
		// filesystem is read-only and tenants' topics live there.
		var onClaim bool
		for _, m := range c.VolumeMounts {
			if m.MountPath == args["embedded-data-dir"] {
				for _, v := range d.Spec.Template.Spec.Volumes {
					if v.Name == m.Name && v.PersistentVolumeClaim != nil && v.PersistentVolumeClaim.ClaimName == "svcat-kafka-broker-data" {
						onClaim = true
					}
				}
			}
		}
		if !onClaim {
			t.Error("--embedded-data-dir is not the PersistentVolumeClaim's mount")
		}
		find(t, objs, "PersistentVolumeClaim", "svcat-kafka-broker-data")
		var svc corev1.Service
		toTyped(t, find(t, objs, "Service", "svcat-kafka-broker"), &svc)
		var kafkaPort bool
		for _, p := range svc.Spec.Ports {
			kafkaPort = kafkaPort || (p.Name == "kafka" && p.Port == 9092)
		}
		if !kafkaPort {
			t.Errorf("the Service does not expose the embedded Kafka: %+v", svc.Spec.Ports)
		}
		pw := secretData(t, objs, "svcat-kafka-broker-auth")["password"]
		if len(pw) < 32 {
			t.Errorf("generated password %q is short", pw)
		}
		checkRegistration(t, objs, "svcat-kafka", "svcat-kafka-broker", "catalog", "svcat", pw)
	})
	t.Run("broker off", func(t *testing.T) {
		for _, u := range renderChart(t, "svcat", "catalog", nil) {
			if strings.Contains(u.GetName(), "kafka") || u.GetKind() == "ClusterServiceBroker" {
				t.Errorf("%s rendered with kafkaBroker.enabled=false", objKey(u))
			}
		}
	})
}

// checkRegistration follows the ClusterServiceBroker to the Service, the
// pods and the credentials, as the controller will.
func checkRegistration(t *testing.T, objs []*unstructured.Unstructured, csbName, svcName, ns, user, password string) {
	t.Helper()
	var csb scv1beta1.ClusterServiceBroker
	toTyped(t, find(t, objs, "ClusterServiceBroker", csbName), &csb)
	u, err := url.Parse(csb.Spec.URL)
	if err != nil {
		t.Fatal(err)
	}
	var svc corev1.Service
	toTyped(t, find(t, objs, "Service", svcName), &svc)
	if u.Hostname() != svcName+"."+ns+".svc" {
		t.Errorf("broker URL host %s is not the Service %s/%s", u.Hostname(), ns, svcName)
	}
	var port corev1.ServicePort
	for _, p := range svc.Spec.Ports {
		if p.Name == "http" {
			port = p
		}
	}
	if u.Port() != port.TargetPort.String() && u.Port() != itoa(port.Port) {
		t.Errorf("broker URL port %s is not the Service's http port %d", u.Port(), port.Port)
	}
	d := deployment(t, objs, svcName)
	for k, v := range svc.Spec.Selector {
		if d.Spec.Template.Labels[k] != v {
			t.Errorf("the broker Service selects %s=%s, which the broker pods do not carry", k, v)
		}
	}
	ref := csb.Spec.AuthInfo.Basic.SecretRef
	if ref.Namespace != ns {
		t.Errorf("credentials Secret namespace %q, want %q", ref.Namespace, ns)
	}
	data := secretData(t, objs, ref.Name)
	if data[scv1beta1.BasicAuthUsernameKey] != user || data[scv1beta1.BasicAuthPasswordKey] != password {
		t.Errorf("ClusterServiceBroker credentials %q/%q, want %q/%q", data["username"], data["password"], user, password)
	}
	// The broker reads the same Secret, so both sides agree.
	args := brokerArgs(t, d.Spec.Template.Spec.Containers[0])
	if got := mountedFile(t, objs, d.Spec.Template.Spec, d.Spec.Template.Spec.Containers[0], args["password-file"]); got != password {
		t.Errorf("the broker's password file holds %q, want %q", got, password)
	}
}
