package doctorcmd

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/client-go/discovery"
	"sigs.k8s.io/yaml"

	"github.com/svcat-io/svcat/internal/doctor"
	"github.com/svcat-io/svcat/internal/doctor/internal/aggtest"
)

// TestAggregationAllowedNamesMismatch reproduces the seed's PKS failure on
// a real kube-apiserver: its front-proxy client certificate's CN is the
// cluster's host name, the allowed names only "aggregator", so the
// aggregated API server answers 401; doctor must say so and print the
// fixes, and after the kube-apiserver restarts with the host name allowed,
// the APIService must become Available and doctor healthy.
func TestAggregationAllowedNamesMismatch(t *testing.T) {
	if os.Getenv("SVCAT_SKIP_ENVTEST") != "" {
		t.Skip("SVCAT_SKIP_ENVTEST is set: skipping a test that needs kube-apiserver")
	}
	ctx := context.Background()
	cp, err := aggtest.StartControlPlane(ctx, t.TempDir(), []string{"aggregator"})
	if err != nil {
		t.Fatalf("starting the control plane: %v", err)
	}
	t.Cleanup(cp.Stop)
	agg, err := aggtest.StartAggServer(cp.Config, aggtest.ServiceHost)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(agg.Stop)
	if err := aggtest.Register(ctx, cp.Config, agg); err != nil {
		t.Fatal(err)
	}

	msg := waitAvailable(t, cp, aggtest.APIService, "False", ": 401")
	t.Logf("APIService Available=False: %s", msg)
	gv := aggtest.Group + "/" + aggtest.Version
	disc := discovery.NewDiscoveryClientForConfigOrDie(cp.Config)
	if _, err := disc.ServerResourcesForGroupVersion(gv); !apierrors.IsServiceUnavailable(err) {
		t.Errorf("discovery of %s: got %v, want 503 Service Unavailable while the backend rejects the proxy", gv, err)
	}
	if !slices.ContainsFunc(agg.Requests(), func(r aggtest.Request) bool {
		return r.Status == 401 && r.CN == aggtest.FrontProxyCN && strings.Contains(r.Reason, "not in the allowed list")
	}) {
		t.Errorf("the aggregated server never rejected CN %s for not being allowed; it answered %+v", aggtest.FrontProxyCN, agg.Requests())
	}

	t.Run("doctor reports the mismatch and the fixes", func(t *testing.T) {
		out, err := runDoctor(t, cp.Kubeconfig, "-o", "json", "--proxy-client-cert", cp.ProxyClientCert, "--deployment", "service-instance_demo")
		var ef *ErrorsFound
		if !errors.As(err, &ef) {
			t.Fatalf("doctor: got error %v, want ErrorsFound\n%s", err, out)
		}
		var r doctor.Report
		if err := json.Unmarshal([]byte(out), &r); err != nil {
			t.Fatalf("doctor -o json: %v\n%s", err, out)
		}
		apisvc := findFinding(r, doctor.CheckAggregation, "apiservice/"+aggtest.APIService)
		if apisvc == nil || apisvc.Severity != doctor.Error || apisvc.Cause != doctor.CauseAllowedNamesMismatch ||
			!strings.Contains(apisvc.Summary, `CN "demo.pks.ik.am" is not in requestheader-allowed-names [aggregator]`) {
			t.Errorf("APIService finding: %+v", apisvc)
		}
		cert := findFinding(r, doctor.CheckAggregation, "front-proxy client certificate "+cp.ProxyClientCert)
		if cert == nil || cert.Cause != doctor.CauseAllowedNamesMismatch {
			t.Errorf("front-proxy certificate finding: %+v", cert)
		}
		// This cluster has no svcat CRDs: doctor must say how to install
		// them.
		crds := findFinding(r, doctor.CheckCRDs, "")
		if crds == nil || crds.Cause != "CRDsMissing" || !strings.Contains(strings.Join(crds.Fix, "\n"), "kubectl apply -f config/crd/bases") {
			t.Errorf("CRD finding: %+v", crds)
		}
		checkFixes(t, r.Fixes, "aggregator,demo.pks.ik.am", "service-instance_demo")

		// The text report ends in the same fixes as a YAML stream.
		text, _ := runDoctor(t, cp.Kubeconfig, "--proxy-client-cert", cp.ProxyClientCert, "--deployment", "service-instance_demo")
		_, stream, ok := strings.Cut(text, doctor.FixesHeader+"\n")
		if !ok {
			t.Fatalf("text report has no fixes:\n%s", text)
		}
		docs := yamlDocuments(t, stream)
		if len(docs) != 3 {
			t.Errorf("text report: %d YAML documents after the fixes header, want 3:\n%s", len(docs), stream)
		}
		for _, want := range []string{"[error]   aggregation  APIService " + aggtest.APIService + " is unavailable", "[error]   crds         svcat's CRDs are not installed"} {
			if !strings.Contains(text, want) {
				t.Errorf("text report lacks %q:\n%s", want, text)
			}
		}
	})

	t.Run("without the certificate doctor names the likely cause", func(t *testing.T) {
		out, _ := runDoctor(t, cp.Kubeconfig, "aggregation", "-o", "json")
		var r doctor.Report
		if err := json.Unmarshal([]byte(out), &r); err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		f := findFinding(r, doctor.CheckAggregation, "apiservice/"+aggtest.APIService)
		if f == nil || f.Cause != doctor.CauseUnauthorized || !strings.Contains(strings.Join(f.Fix, "\n"), "--proxy-client-cert") {
			t.Errorf("APIService finding: %+v", f)
		}
		if len(r.Fixes) != 0 {
			t.Errorf("fixes rendered without knowing the name to add: %+v", r.Fixes)
		}
	})

	t.Run("aggregation --fix reads the current names from the cluster", func(t *testing.T) {
		out, err := runDoctor(t, cp.Kubeconfig, "aggregation", "--fix", "ops-file", "--allowed-name", aggtest.FrontProxyCN)
		if err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		var ops []map[string]any
		if err := yaml.Unmarshal([]byte(out), &ops); err != nil || len(ops) != 1 || ops[0]["value"] != "aggregator,demo.pks.ik.am" {
			t.Errorf("ops-file: %v %v\n%s", ops, err, out)
		}
	})

	t.Run("other causes, as the kube-apiserver reports them", func(t *testing.T) { otherCauses(t, cp, agg) })

	// The seed's fix: restart the kube-apiserver with the host name allowed.
	if err := cp.StopAPIServer(); err != nil {
		t.Fatal(err)
	}
	if err := cp.StartAPIServer(ctx, []string{"aggregator", aggtest.FrontProxyCN}); err != nil {
		t.Fatalf("restarting the kube-apiserver: %v", err)
	}
	waitAvailable(t, cp, aggtest.APIService, "True", "")
	disc = discovery.NewDiscoveryClientForConfigOrDie(cp.Config)
	list, err := disc.ServerResourcesForGroupVersion(gv)
	if err != nil || len(list.APIResources) != 1 || list.APIResources[0].Name != "pings" {
		t.Errorf("discovery of %s after the fix: %v, %v", gv, list, err)
	}

	out, err := runDoctor(t, cp.Kubeconfig, "aggregation", "-o", "json", "--proxy-client-cert", cp.ProxyClientCert)
	if err != nil {
		t.Fatalf("doctor aggregation after the fix: %v\n%s", err, out)
	}
	var r doctor.Report
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	if !r.Summary.Healthy || r.Summary.Warnings != 0 || len(r.Fixes) != 0 {
		t.Errorf("doctor aggregation after the fix is not healthy:\n%s", out)
	}
	for _, f := range r.Findings {
		if f.Severity != doctor.OK {
			t.Errorf("finding after the fix: %+v", f)
		}
	}
}

// otherCauses registers APIServices that fail for other reasons than the
// front proxy, so that doctor's classification is checked against the
// messages this kube-apiserver writes, not against transcriptions.
func otherCauses(t *testing.T, cp *aggtest.ControlPlane, agg *aggtest.AggServer) {
	ctx := context.Background()
	closed, err := aggtest.ClosedPort()
	if err != nil {
		t.Fatal(err)
	}
	otherCA, err := aggtest.NewCA("not-the-backends-ca")
	if err != nil {
		t.Fatal(err)
	}
	if err := aggtest.CreateLocalService(ctx, cp.Config, "closed"); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		group, service string
		port           int32
		ca             []byte
		cause, substr  string
	}{
		{"missing.svcat.io", "no-such-service", 443, agg.CA.PEM, doctor.CauseServiceNotFound, "is not present"},
		{"refused.svcat.io", "closed", closed, agg.CA.PEM, doctor.CauseConnectionRefused, "connection refused"},
		{"tls.svcat.io", aggtest.ServiceName, agg.Port(), otherCA.PEM, doctor.CauseTLS, "certificate"},
	}
	for _, c := range cases {
		if err := aggtest.CreateAPIService(ctx, cp.Config, c.group, c.service, c.port, c.ca); err != nil {
			t.Fatal(err)
		}
		name := aggtest.Version + "." + c.group
		t.Cleanup(func() {
			if err := aggtest.DeleteAPIService(ctx, cp.Config, name); err != nil {
				t.Errorf("deleting APIService %s: %v", name, err)
			}
		})
	}
	for _, c := range cases {
		waitAvailable(t, cp, aggtest.Version+"."+c.group, "False", c.substr)
	}
	out, _ := runDoctor(t, cp.Kubeconfig, "aggregation", "-o", "json")
	var r doctor.Report
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	for _, c := range cases {
		f := findFinding(r, doctor.CheckAggregation, "apiservice/"+aggtest.Version+"."+c.group)
		if f == nil || f.Severity != doctor.Error || f.Cause != c.cause {
			t.Errorf("%s: finding %+v, want cause %s", c.group, f, c.cause)
		}
	}
}

// waitAvailable waits until the APIService's Available condition has the
// status and its message contains substr, and returns the message.
func waitAvailable(t *testing.T, cp *aggtest.ControlPlane, name, status, substr string) string {
	t.Helper()
	ctx := context.Background()
	deadline := time.Now().Add(2 * time.Minute)
	var got, msg string
	var err error
	for time.Now().Before(deadline) {
		got, msg, err = aggtest.Available(ctx, cp.Config, name)
		if err == nil && got == status && strings.Contains(msg, substr) {
			return msg
		}
		time.Sleep(500 * time.Millisecond)
	}
	t.Fatalf("APIService %s Available=%q %q (err %v), want %s containing %q\n%s", name, got, msg, err, status, substr, cp.APIServerLog())
	return ""
}

func findFinding(r doctor.Report, check, subject string) *doctor.Finding {
	for i, f := range r.Findings {
		if f.Check == check && f.Subject == subject {
			return &r.Findings[i]
		}
	}
	return nil
}

// yamlDocuments splits a YAML stream and parses each document.
func yamlDocuments(t *testing.T, stream string) []any {
	t.Helper()
	var docs []any
	for _, part := range strings.Split("\n"+stream, "\n---") {
		if strings.TrimSpace(stripComments(part)) == "" {
			continue
		}
		var v any
		if err := yaml.Unmarshal([]byte(part), &v); err != nil {
			t.Fatalf("invalid YAML document: %v\n%s", err, part)
		}
		docs = append(docs, v)
	}
	return docs
}

func stripComments(s string) string {
	var b strings.Builder
	for _, l := range strings.Split(s, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(l), "#") {
			b.WriteString(l + "\n")
		}
	}
	return b.String()
}

// checkFixes parses the three fixes and checks what each changes.
func checkFixes(t *testing.T, fixes []doctor.RenderedFix, names, deployment string) {
	t.Helper()
	if len(fixes) != 3 {
		t.Fatalf("%d fixes, want 3: %+v", len(fixes), fixes)
	}
	byFormat := map[string]string{}
	for _, f := range fixes {
		byFormat[f.Format] = f.YAML
	}
	sed := "s/--requestheader-allowed-names=aggregator$/--requestheader-allowed-names=" + names + "/"

	var flag struct {
		Flag string
		Bosh struct {
			Deployment string
			Commands   []string
		}
	}
	if err := yaml.Unmarshal([]byte(byFormat[doctor.FixFlag]), &flag); err != nil {
		t.Fatalf("flag fix: %v\n%s", err, byFormat[doctor.FixFlag])
	}
	if flag.Flag != "--requestheader-allowed-names="+names || flag.Bosh.Deployment != deployment || len(flag.Bosh.Commands) != 2 ||
		!strings.Contains(flag.Bosh.Commands[0], "bosh -d "+deployment+" ssh master") || !strings.Contains(flag.Bosh.Commands[0], sed) ||
		!strings.Contains(flag.Bosh.Commands[1], "monit restart kube-apiserver") {
		t.Errorf("flag fix: %+v", flag)
	}

	var ops []struct{ Type, Path, Value string }
	if err := yaml.Unmarshal([]byte(byFormat[doctor.FixOpsFile]), &ops); err != nil {
		t.Fatalf("ops-file fix: %v", err)
	}
	if len(ops) != 1 || ops[0].Type != "replace" || ops[0].Value != names ||
		ops[0].Path != "/instance_groups/name=master/jobs/name=kube-apiserver/properties/k8s-args/requestheader-allowed-names" {
		t.Errorf("ops-file fix: %+v", ops)
	}

	var rc struct {
		Releases []struct{ Name, Version, URL, SHA1 string }
		Addons   []struct {
			Name string
			Jobs []struct {
				Name, Release string
				Properties    struct{ Script string }
			}
			Include struct {
				Deployments []string
				Jobs        []struct{ Name, Release string }
			}
		}
	}
	y := byFormat[doctor.FixRuntimeConfig]
	if err := yaml.Unmarshal([]byte(y), &rc); err != nil {
		t.Fatalf("runtime-config fix: %v", err)
	}
	if len(rc.Releases) != 1 || rc.Releases[0].Name != "os-conf" || rc.Releases[0].Version != "20.0.0" || len(rc.Addons) != 1 {
		t.Fatalf("runtime-config fix: %+v", rc)
	}
	a := rc.Addons[0]
	if len(a.Jobs) != 1 || a.Jobs[0].Name != "pre-start-script" || a.Jobs[0].Release != "os-conf" ||
		!strings.HasPrefix(a.Jobs[0].Properties.Script, "#!/bin/bash\n") || !strings.Contains(a.Jobs[0].Properties.Script, sed) ||
		!slices.Equal(a.Include.Deployments, []string{deployment}) || len(a.Include.Jobs) != 1 ||
		a.Include.Jobs[0].Name != "kube-apiserver" || a.Include.Jobs[0].Release != "kubo" {
		t.Errorf("runtime-config addon: %+v", a)
	}
	if !strings.Contains(y, "bosh -n update-runtime-config --name=svcat-requestheader-allowed-names") {
		t.Errorf("runtime-config fix does not say how to apply it:\n%s", y)
	}
}

// runDoctor runs svcat doctor under a root command with the kubeconfig
// flags, as the svcat CLI registers it.
func runDoctor(t *testing.T, kubeconfig string, args ...string) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	root := newTestRoot(&out, &errOut)
	root.SetArgs(append([]string{"doctor", "--kubeconfig", kubeconfig}, args...))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	err := root.ExecuteContext(ctx)
	if errOut.Len() > 0 {
		t.Logf("stderr: %s", errOut.String())
	}
	return out.String(), err
}
