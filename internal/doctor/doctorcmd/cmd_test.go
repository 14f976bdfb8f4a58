package doctorcmd

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/svcat-io/svcat/internal/doctor"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// noCluster is a kubeconfig path that does not exist: the commands below
// must not need a cluster.
var noCluster = filepath.Join(os.TempDir(), "svcat-doctor-no-such-kubeconfig")

func TestFixOffline(t *testing.T) {
	out, err := runDoctor(t, noCluster, "aggregation", "--fix", "all", "--allowed-name", "demo.pks.ik.am",
		"--current-allowed-names", "aggregator", "--deployment", "service-instance_9f1b6a2c-1111-4222-8333-444455556666")
	if err != nil {
		t.Fatal(err)
	}
	if docs := yamlDocuments(t, out); len(docs) != 3 {
		t.Errorf("%d YAML documents, want 3", len(docs))
	}
	path := filepath.Join("testdata", "fix-all.yaml")
	if *update {
		if err := os.WriteFile(path, []byte(out), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if out != string(want) {
		t.Errorf("output differs from %s (go test -update rewrites it):\n%s", path, out)
	}

	out, err = runDoctor(t, noCluster, "aggregation", "--fix", "flag", "--allowed-name", "master.cfcr.internal", "--current-allowed-names", "aggregator")
	var flagFix struct{ Flag string }
	if err != nil || doctorYAML(t, out, &flagFix) != nil || flagFix.Flag != "--requestheader-allowed-names=aggregator,master.cfcr.internal" {
		t.Errorf("--fix flag: %v %+v\n%s", err, flagFix, out)
	}
	if strings.HasPrefix(out, "---") {
		t.Errorf("a single fix starts with a document marker:\n%s", out)
	}

	for _, format := range []string{"json", "yaml"} {
		out, err = runDoctor(t, noCluster, "aggregation", "--fix", "ops-file", "-o", format, "--allowed-name", "a", "--current-allowed-names", "aggregator")
		var r doctor.Report
		if err != nil || yaml.Unmarshal([]byte(out), &r) != nil || len(r.Fixes) != 1 || r.Fixes[0].Format != doctor.FixOpsFile {
			t.Errorf("--fix -o %s: %v\n%s", format, err, out)
		}
	}
}

func TestUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-o", "wide"}, `invalid argument "wide" for "-o, --output" flag: use one of text, table, json, yaml`},
		{[]string{"aggregation", "--fix", "helm", "--allowed-name", "a"}, `invalid argument "helm" for "--fix" flag: use one of flag, ops-file, runtime-config, all`},
		{[]string{"aggregation", "--fix", "all"}, "--fix needs the name to allow"},
		{[]string{"aggregation", "--fix", "all", "--allowed-name", "front proxy"}, `allowed name "front proxy"`},
		{[]string{"--deployment", "a;b"}, `BOSH deployment "a;b"`},
		{[]string{"unexpected"}, "unknown command"},
		{[]string{}, "cannot reach the Kubernetes API server"},
		{[]string{"aggregation", "--fix", "flag", "--allowed-name", "a"}, "or give the names with --current-allowed-names"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			// A server nobody listens on: the last cases must fail to
			// connect, the others before connecting.
			kc := filepath.Join(t.TempDir(), "kubeconfig")
			if err := os.WriteFile(kc, []byte(unreachableKubeconfig), 0o600); err != nil {
				t.Fatal(err)
			}
			out, err := runDoctor(t, kc, tc.args...)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want an error containing %q\n%s", err, tc.want, out)
			}
		})
	}
}

const unreachableKubeconfig = `apiVersion: v1
kind: Config
clusters:
- name: c
  cluster: {server: "https://127.0.0.1:1"}
contexts:
- name: c
  context: {cluster: c, user: u}
users:
- name: u
  user: {token: t}
current-context: c
`

func doctorYAML(t *testing.T, s string, v any) error {
	t.Helper()
	docs := yamlDocuments(t, s)
	if len(docs) != 1 {
		t.Fatalf("%d documents, want 1", len(docs))
	}
	b, err := json.Marshal(docs[0])
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}
