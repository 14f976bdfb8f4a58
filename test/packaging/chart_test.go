package packaging

import (
	"flag"
	"reflect"
	"strings"
	"testing"
	"time"

	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/lint/support"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/svcat-io/svcat/internal/controller/originid"
	"github.com/svcat-io/svcat/internal/controllermanager"
	"github.com/svcat-io/svcat/internal/osb"
)

func TestChartLint(t *testing.T) {
	kv, err := chartutil.ParseKubeVersion(kubeVersion)
	if err != nil {
		t.Fatal(err)
	}
	for name, vals := range map[string]map[string]any{
		"defaults":   nil,
		"all values": allValues(t, "leases"),
		"embedded":   embeddedValues(t),
	} {
		t.Run(name, func(t *testing.T) {
			l := action.NewLint()
			l.Strict = true
			l.Namespace = "svcat-system"
			l.KubeVersion = kv
			res := l.Run([]string{chartDir(t)}, vals)
			for _, err := range res.Errors {
				t.Errorf("lint error: %v", err)
			}
			for _, m := range res.Messages {
				// INFO is advice such as "icon is recommended"; anything
				// above it is a finding.
				if m.Severity > support.InfoSev {
					t.Errorf("lint: %s", m)
				}
			}
		})
	}
}

func deployment(t testing.TB, objs []*unstructured.Unstructured, name string) *appsv1.Deployment {
	t.Helper()
	return deploymentOf(t, find(t, objs, "Deployment", name))
}

func deploymentOf(t testing.TB, u *unstructured.Unstructured) *appsv1.Deployment {
	t.Helper()
	var d appsv1.Deployment
	toTyped(t, u, &d)
	return &d
}

// parseControllerArgs parses a container's arguments with the flags the
// catalog-controller binary itself registers, so an unknown flag or a value
// it cannot parse fails here rather than in a crash-looping pod.
func parseControllerArgs(t testing.TB, args []string) (controllermanager.Options, zap.Options, map[string]bool) {
	t.Helper()
	fs := flag.NewFlagSet("catalog-controller", flag.ContinueOnError)
	opts := controllermanager.DefaultOptions()
	opts.BindFlags(fs)
	zopts := zap.Options{}
	zopts.BindFlags(fs)
	if err := fs.Parse(args); err != nil {
		t.Fatalf("catalog-controller rejects the rendered args %q: %v", args, err)
	}
	if fs.NArg() != 0 {
		t.Fatalf("positional arguments %q", fs.Args())
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	return opts, zopts, set
}

func allControllerFlags() []string {
	fs := flag.NewFlagSet("catalog-controller", flag.ContinueOnError)
	opts := controllermanager.DefaultOptions()
	opts.BindFlags(fs)
	zopts := zap.Options{}
	zopts.BindFlags(fs)
	var names []string
	fs.VisitAll(func(f *flag.Flag) { names = append(names, f.Name) })
	return names
}

func TestChartControllerFlags(t *testing.T) {
	t.Run("defaults are the binary's defaults", func(t *testing.T) {
		d := deployment(t, renderChart(t, "svcat", "svcat-system", nil), "svcat-catalog-controller")
		opts, zopts, _ := parseControllerArgs(t, d.Spec.Template.Spec.Containers[0].Args)
		want := controllermanager.DefaultOptions()
		// The one deliberate difference: the chart runs two replicas, so
		// it elects a leader.
		want.LeaderElect = true
		if !reflect.DeepEqual(opts, want) {
			t.Errorf("chart defaults give\n  %+v\nwant the binary's\n  %+v", opts, want)
		}
		if zopts.Development {
			t.Error("--zap-devel is on by default")
		}
		if *d.Spec.Replicas != 2 {
			t.Errorf("replicas = %d, want 2", *d.Spec.Replicas)
		}
	})
	t.Run("every flag has a value", func(t *testing.T) {
		d := deployment(t, renderChart(t, "prod", "catalog", allValues(t, "leases")), "prod-svcat-catalog-controller")
		opts, zopts, set := parseControllerArgs(t, d.Spec.Template.Spec.Containers[0].Args)
		for _, name := range allControllerFlags() {
			if !set[name] {
				t.Errorf("no chart value reaches --%s", name)
			}
		}
		want := controllermanager.DefaultOptions()
		want.Controller.Concurrency = 7
		want.Controller.DefaultRelistInterval = 20 * time.Minute
		want.Controller.OSBTimeout = 30 * time.Second
		want.Controller.RetryBaseDelay = time.Second
		want.Controller.RetryMaxDelay = 5 * time.Minute
		want.Controller.BrokerCredentialsTTL = 10 * time.Second
		want.MemoryLimitRatio = 0.8
		want.PprofAddr = "127.0.0.1:6060"
		want.Controller.ClusterID = "9f6b6d0e-test-cluster"
		want.Controller.Resolve = map[string]string{
			"broker.osb.svc.cluster.local:80": "127.0.0.1:8090",
			"other.osb.svc.cluster.local:443": "10.0.0.7:8443",
		}
		want.Controller.AllowBrokerURLHosts = []string{"169.254.10.0/24", "metadata.internal.example"}
		want.Controller.BrokerProxy = "http://egress.example:3128"
		want.Controller.RefuseLoopbackBrokerURLs = false
		want.Controller.ClusterCatalogLimits = osb.CatalogLimits{MaxBytes: 20 << 20, MaxDepth: 80, MaxServices: 2000, MaxPlansPerService: 300,
			MaxPlans: 10000, MaxObjectBytes: 1 << 20, MaxValues: 1_000_000}
		want.Controller.NamespacedCatalogLimits = osb.CatalogLimits{MaxBytes: 512 << 10, MaxDepth: 16, MaxServices: 10, MaxPlansPerService: 5,
			MaxPlans: 20, MaxObjectBytes: 16 << 10, MaxValues: 20000}
		want.Controller.CatalogMemoryBudget = 400 << 20
		want.Resync = time.Hour
		want.Controller.OriginatingIdentity = originid.None
		want.MetricsAddr = ":9090"
		want.ProbeAddr = ":9091"
		want.LeaderElect = true
		want.LeaderElectionNamespace = "leases"
		want.LeaderElectionID = "svcat-test-lease"
		if !reflect.DeepEqual(opts, want) {
			t.Errorf("rendered args give\n  %+v\nwant\n  %+v", opts, want)
		}
		if !zopts.Development {
			t.Error("log.development did not reach --zap-devel")
		}
		if *d.Spec.Replicas != 3 {
			t.Errorf("replicas = %d, want 3", *d.Spec.Replicas)
		}
		c := d.Spec.Template.Spec.Containers[0]
		if c.Image != "registry.example.com/svcat/catalog-controller@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef" {
			t.Errorf("image %q does not use the digest", c.Image)
		}
		if got := c.Resources.Limits.Memory().String(); got != "512Mi" {
			t.Errorf("memory limit %s", got)
		}
	})
	t.Run("metrics off", func(t *testing.T) {
		objs := renderChart(t, "svcat", "svcat-system", values(t, "controller: {metrics: {enabled: false}}"))
		opts, _, _ := parseControllerArgs(t, deployment(t, objs, "svcat-catalog-controller").Spec.Template.Spec.Containers[0].Args)
		if opts.MetricsAddr != "0" {
			t.Errorf("--metrics-bind-address=%q, want 0", opts.MetricsAddr)
		}
		if len(ofKind(objs, "Service")) != 0 {
			t.Error("a metrics Service is rendered with metrics off")
		}
	})
}

// The probes must point at the ports the flags open, and the metrics
// Service and ServiceMonitor at the metrics port, whatever the values.
func TestChartProbesAndMetricsWiring(t *testing.T) {
	for name, c := range map[string]struct {
		objs                 []*unstructured.Unstructured
		prefix               string
		metricsPort, svcPort int32
		probePort            int32
		wantMonitor          bool
	}{
		"defaults":   {renderChart(t, "svcat", "svcat-system", nil), "svcat", 8080, 8080, 8081, false},
		"all values": {renderChart(t, "prod", "catalog", allValues(t, "leases")), "prod-svcat", 9090, 9090, 9091, true},
	} {
		t.Run(name, func(t *testing.T) {
			d := deployment(t, c.objs, c.prefix+"-catalog-controller")
			ctr := d.Spec.Template.Spec.Containers[0]
			ports := map[string]int32{}
			for _, p := range ctr.Ports {
				ports[p.Name] = p.ContainerPort
			}
			if ports["metrics"] != c.metricsPort || ports["health"] != c.probePort {
				t.Errorf("container ports %v", ports)
			}
			for probe, p := range map[string]*corev1.Probe{"liveness": ctr.LivenessProbe, "readiness": ctr.ReadinessProbe} {
				if p == nil || p.HTTPGet == nil || p.HTTPGet.Port.String() != "health" {
					t.Errorf("%s probe %+v does not use the health port", probe, p)
				}
			}
			if ctr.LivenessProbe.HTTPGet.Path != "/healthz" || ctr.ReadinessProbe.HTTPGet.Path != "/readyz" {
				t.Error("probes do not use /healthz and /readyz")
			}
			var svc corev1.Service
			toTyped(t, find(t, c.objs, "Service", c.prefix+"-catalog-controller-metrics"), &svc)
			if svc.Spec.Ports[0].Port != c.svcPort || svc.Spec.Ports[0].TargetPort.String() != "metrics" {
				t.Errorf("metrics Service ports %+v", svc.Spec.Ports)
			}
			for k, v := range svc.Spec.Selector {
				if d.Spec.Template.Labels[k] != v {
					t.Errorf("metrics Service selects %s=%s, which the pods do not carry", k, v)
				}
			}
			monitors := ofKind(c.objs, "ServiceMonitor")
			if (len(monitors) == 1) != c.wantMonitor {
				t.Fatalf("%d ServiceMonitors, want one: %v", len(monitors), c.wantMonitor)
			}
			if c.wantMonitor {
				sel, _, _ := unstructured.NestedStringMap(monitors[0].Object, "spec", "selector", "matchLabels")
				for k, v := range sel {
					if svc.Labels[k] != v {
						t.Errorf("ServiceMonitor selects %s=%s, which the metrics Service does not carry", k, v)
					}
				}
				eps, _, _ := unstructured.NestedSlice(monitors[0].Object, "spec", "endpoints")
				if len(eps) != 1 || eps[0].(map[string]any)["port"] != "metrics" {
					t.Errorf("ServiceMonitor endpoints %v", eps)
				}
			}
		})
	}
}

// Values that cannot work fail at render time with a message naming the
// value, instead of producing a broken install.
func TestChartRejectsBadValues(t *testing.T) {
	for name, c := range map[string]struct{ values, want string }{
		"external without servers":     {"kafkaBroker: {enabled: true, external: {adminUser: a, adminPassword: b}}", "bootstrapServers is required"},
		"external without credentials": {"kafkaBroker: {enabled: true, external: {bootstrapServers: 'k:9093'}}", "set existingSecret, or adminUser and adminPassword"},
		"unknown mode":                 {"kafkaBroker: {enabled: true, mode: strimzi}", "must be external or embedded"},
		"replicas without election":    {"controller: {leaderElection: {enabled: false}}", "needs controller.leaderElection.enabled"},
		"no ServiceAccount name":       {"controller: {serviceAccount: {create: false}}", "controller.serviceAccount.name is required"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := tryRenderChart("svcat", "svcat-system", values(t, c.values), chartDir(t))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("render error %v, want one containing %q", err, c.want)
			}
		})
	}
	// One replica without election is a valid, if unusual, setup.
	if _, err := tryRenderChart("svcat", "svcat-system", values(t, "controller: {replicaCount: 1, leaderElection: {enabled: false}}"), chartDir(t)); err != nil {
		t.Errorf("one replica without leader election: %v", err)
	}
}

// checkRestricted checks the restricted Pod Security Standard's fields on
// every pod template, plus what the issue asks beyond it (read-only root
// filesystem, resource requests and limits, probes). The API server's own
// Pod Security admission judges the same templates in TestChartApply.
func checkRestricted(t *testing.T, objs []*unstructured.Unstructured) {
	t.Helper()
	deps := ofKind(objs, "Deployment")
	if len(deps) == 0 {
		t.Fatal("no Deployments rendered")
	}
	for _, u := range deps {
		var d appsv1.Deployment
		toTyped(t, u, &d)
		ps := d.Spec.Template.Spec.SecurityContext
		if ps == nil || ps.RunAsNonRoot == nil || !*ps.RunAsNonRoot || ps.SeccompProfile == nil || ps.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
			t.Errorf("%s: pod securityContext %+v is not non-root with RuntimeDefault seccomp", d.Name, ps)
		}
		for _, c := range d.Spec.Template.Spec.Containers {
			sc := c.SecurityContext
			switch {
			case sc == nil:
				t.Errorf("%s/%s: no securityContext", d.Name, c.Name)
				continue
			case sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation:
				t.Errorf("%s/%s: privilege escalation allowed", d.Name, c.Name)
			case sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem:
				t.Errorf("%s/%s: writable root filesystem", d.Name, c.Name)
			case sc.Capabilities == nil || !reflect.DeepEqual(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) || len(sc.Capabilities.Add) != 0:
				t.Errorf("%s/%s: capabilities %+v, want drop ALL", d.Name, c.Name, sc.Capabilities)
			}
			if c.Resources.Requests.Cpu().IsZero() || c.Resources.Requests.Memory().IsZero() || c.Resources.Limits.Cpu().IsZero() || c.Resources.Limits.Memory().IsZero() {
				t.Errorf("%s/%s: resources %+v lack requests or limits", d.Name, c.Name, c.Resources)
			}
			if c.LivenessProbe == nil || c.ReadinessProbe == nil {
				t.Errorf("%s/%s: missing probes", d.Name, c.Name)
			}
		}
	}
}

func TestChartPodSecurity(t *testing.T) {
	for name, vals := range map[string]map[string]any{
		"defaults":   nil,
		"all values": allValues(t, "leases"),
		"embedded":   embeddedValues(t),
	} {
		t.Run(name, func(t *testing.T) { checkRestricted(t, renderChart(t, "svcat", "svcat-system", vals)) })
	}
}
