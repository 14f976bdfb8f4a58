package doctor

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

var seedFix = FixParams{Current: []string{"aggregator"}, Add: []string{"demo.pks.ik.am"}, Deployment: "service-instance_9f1b6a2c-1111-4222-8333-444455556666"}

func TestRenderFixGolden(t *testing.T) {
	noDeployment := seedFix
	noDeployment.Deployment = ""
	for _, tc := range []struct {
		name string
		p    FixParams
	}{{"", seedFix}, {"-no-deployment", noDeployment}} {
		for _, format := range FixFormats {
			t.Run(format+tc.name, func(t *testing.T) {
				y, err := RenderFix(format, tc.p)
				if err != nil {
					t.Fatal(err)
				}
				var v any
				if err := yaml.Unmarshal([]byte(y), &v); err != nil || v == nil {
					t.Fatalf("not valid YAML (%v):\n%s", err, y)
				}
				golden(t, "fix-"+format+tc.name+".yaml", []byte(y))
			})
		}
	}
}

// TestRuntimeConfigScript runs the pre-start script the runtime-config
// installs against the seed's bpm.yml: it must add the name once, leave
// the other flags alone, and change nothing when run again, as BOSH runs
// it before every start.
func TestRuntimeConfigScript(t *testing.T) {
	if _, err := exec.LookPath("sed"); err != nil {
		t.Skip("no sed")
	}
	y, err := RenderFix(FixRuntimeConfig, FixParams{Current: []string{"aggregator", "front-proxy.example"}, Add: []string{"demo.pks.ik.am"}})
	if err != nil {
		t.Fatal(err)
	}
	var rc struct {
		Addons []struct {
			Jobs []struct {
				Properties struct{ Script string }
			}
		}
	}
	if err := yaml.Unmarshal([]byte(y), &rc); err != nil {
		t.Fatal(err)
	}
	bpm := filepath.Join(t.TempDir(), "bpm.yml")
	script := strings.ReplaceAll(rc.Addons[0].Jobs[0].Properties.Script, bpmFile, bpm)
	const before = "processes:\n- name: kube-apiserver\n  args:\n" +
		"  - --requestheader-allowed-names=aggregator,front-proxy.example\n" +
		"  - --requestheader-client-ca-file=/var/vcap/jobs/kube-apiserver/config/ca.pem\n" +
		"  - --requestheader-allowed-names=aggregatorXfront-proxyYexample-and-more\n"
	const after = "processes:\n- name: kube-apiserver\n  args:\n" +
		"  - --requestheader-allowed-names=aggregator,front-proxy.example,demo.pks.ik.am\n" +
		"  - --requestheader-client-ca-file=/var/vcap/jobs/kube-apiserver/config/ca.pem\n" +
		"  - --requestheader-allowed-names=aggregatorXfront-proxyYexample-and-more\n"
	if err := os.WriteFile(bpm, []byte(before), 0o600); err != nil {
		t.Fatal(err)
	}
	for run := 1; run <= 2; run++ {
		if out, err := exec.Command("bash", "-c", script).CombinedOutput(); err != nil {
			t.Fatalf("run %d: %v\n%s", run, err, out)
		}
		got, _ := os.ReadFile(bpm)
		if string(got) != after {
			t.Fatalf("after run %d:\n%s\nwant:\n%s", run, got, after)
		}
	}
}

func TestRenderFixErrors(t *testing.T) {
	for _, tc := range []struct {
		name   string
		format string
		p      FixParams
		want   string
	}{
		{"unknown format", "helm", seedFix, "unknown fix format"},
		{"nothing allowed yet", FixFlag, FixParams{Add: []string{"a"}}, "is empty"},
		{"nothing to add", FixFlag, FixParams{Current: []string{"aggregator"}}, "--allowed-name"},
		{"slash", FixFlag, FixParams{Current: []string{"aggregator"}, Add: []string{"a/b"}}, `"a/b"`},
		{"ampersand", FixOpsFile, FixParams{Current: []string{"aggregator"}, Add: []string{"a&b"}}, `"a&b"`},
		{"space in a current name", FixFlag, FixParams{Current: []string{"front proxy"}, Add: []string{"a"}}, `"front proxy"`},
		{"comma", FixFlag, FixParams{Current: []string{"aggregator"}, Add: []string{"a,b"}}, `"a,b"`},
		{"bad deployment", FixRuntimeConfig, FixParams{Current: []string{"aggregator"}, Add: []string{"a"}, Deployment: "x y"}, "BOSH deployment"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := RenderFix(tc.format, tc.p); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

func TestRenderFixKeepsNamesOnce(t *testing.T) {
	y, err := RenderFix(FixOpsFile, FixParams{Current: []string{"aggregator", "b"}, Add: []string{"b", "c", "c"}})
	if err != nil {
		t.Fatal(err)
	}
	var ops []struct{ Value string }
	if err := yaml.Unmarshal([]byte(y), &ops); err != nil || len(ops) != 1 || ops[0].Value != "aggregator,b,c" {
		t.Errorf("ops %+v, %v", ops, err)
	}
}

func TestScalarReadsBack(t *testing.T) {
	for _, s := range []string{
		"plain", "demo.pks.ik.am", "20.0.0", "1e3", "yes", "no", "null", "~", "", "--flag=a,b",
		"-", "---", "a: b", "a #b", "it's", `say "hi"`, `bosh -d x ssh master -c "sudo sed -i 's/a$/b/' f"`,
		"ends:", "https://bosh.io/d/x?v=1", "tab\there", "new\nline", "@at", "*star", "&anchor", "!tag", "%pct", "{}", "[]",
	} {
		out := scalar(s)
		if strings.Contains(out, "\n") {
			t.Errorf("scalar(%q) = %q spans lines", s, out)
			continue
		}
		var m map[string]any
		if err := yaml.Unmarshal([]byte("v: "+out), &m); err != nil || m["v"] != s {
			t.Errorf("scalar(%q) = %q reads back as %#v (%v)", s, out, m["v"], err)
		}
	}
}
