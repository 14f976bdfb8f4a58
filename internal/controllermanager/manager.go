// Package controllermanager wires the catalog-controller: flags, the
// controller-runtime manager with leader election, metrics and health
// endpoints, and the reconcilers.
package controllermanager

import (
	"context"
	"flag"
	"fmt"
	"sort"
	"strings"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	scv1beta1 "github.com/svcat-io/svcat/api/v1beta1"
	"github.com/svcat-io/svcat/internal/controller"
)

// Options are the catalog-controller's settings.
type Options struct {
	Controller              controller.Options
	MetricsAddr             string
	ProbeAddr               string
	PprofAddr               string
	LeaderElect             bool
	LeaderElectionNamespace string
	LeaderElectionID        string
	Resync                  time.Duration
	// MemoryLimitRatio sets the Go soft memory limit to this fraction of the
	// container's memory limit (see MemoryLimit); 0 turns it off.
	MemoryLimitRatio float64
	// AllowSeveralInProcess lets one process run more than one manager (tests
	// that restart the controller, the sandbox); controller-runtime otherwise
	// refuses duplicate controller names, whose metrics would mix.
	AllowSeveralInProcess bool
}

// DefaultOptions are the flag defaults.
func DefaultOptions() Options {
	return Options{
		Controller:       controller.DefaultOptions(),
		MetricsAddr:      ":8080",
		ProbeAddr:        ":8081",
		LeaderElectionID: "svcat-catalog-controller",
		Resync:           10 * time.Hour,
		MemoryLimitRatio: 0.9,
	}
}

// BindFlags registers the options as command-line flags.
func (o *Options) BindFlags(fs *flag.FlagSet) {
	c := &o.Controller
	fs.IntVar(&c.Concurrency, "concurrency", c.Concurrency, "Objects of each kind reconciled in parallel.")
	fs.DurationVar(&c.DefaultRelistInterval, "broker-relist-interval", c.DefaultRelistInterval, "Relist period for brokers with relistBehavior Duration and no relistDuration.")
	fs.DurationVar(&c.OSBTimeout, "osb-timeout", c.OSBTimeout, "Timeout of each request to a broker.")
	fs.IntVar(&c.BrokerCalls.PerBroker, "broker-calls-per-broker", c.BrokerCalls.PerBroker, "Requests in flight to one broker at most; more wait in a queue.")
	fs.IntVar(&c.BrokerCalls.PerNamespace, "broker-calls-per-namespace", c.BrokerCalls.PerNamespace, "Broker requests in flight for the objects of one namespace at most (cluster-scoped brokers count as one namespace); queued requests start round robin across namespaces.")
	fs.IntVar(&c.BrokerCalls.Total, "broker-calls-total", c.BrokerCalls.Total, "Broker requests in flight at most, all brokers together.")
	fs.DurationVar(&c.BrokerCalls.Wait, "broker-call-wait", c.BrokerCalls.Wait, "How long a reconcile waits for a broker's answer; a slower answer is applied by a later reconcile, so a slow broker holds no reconcile worker.")
	fs.DurationVar(&c.RetryBaseDelay, "retry-base-delay", c.RetryBaseDelay, "First delay before retrying a failed reconcile; it doubles on each failure.")
	fs.DurationVar(&c.RetryMaxDelay, "retry-max-delay", c.RetryMaxDelay, "Longest delay between retries of a failed reconcile.")
	fs.DurationVar(&c.BrokerCredentialsTTL, "broker-credentials-ttl", c.BrokerCredentialsTTL, "How long a broker's credentials read from its Secret are used before the Secret is read again; a 401 or 403 from the broker makes the next request read it at once.")
	fs.StringVar(&c.ClusterID, "cluster-id", c.ClusterID, "Cluster ID sent to brokers as organization_guid and context.clusterid (default: the kube-system namespace's UID).")
	fs.Var(resolveFlag{&c.Resolve}, "dev-resolve", "Development only: HOST:PORT:ADDRESS sends requests for broker URLs at HOST:PORT to ADDRESS (like curl --resolve), so a manifest naming an in-cluster broker works against a local one. Repeatable.")
	fs.Var(listFlag{&c.AllowBrokerURLHosts}, "allow-broker-url-hosts", "Host names, IP addresses or CIDR prefixes (comma-separated, repeatable) that broker URLs may point at although the broker URL policy refuses them: the API server, link-local addresses (169.254.0.0/16, fe80::/10) and cloud metadata services.")
	fs.StringVar(&c.BrokerProxy, "broker-proxy", c.BrokerProxy, "URL of an HTTP proxy for every request to brokers (http://host:port); empty: direct connections. The broker URL policy is applied to each request's URL, resolved by the controller, before it goes to the proxy, which is trusted to resolve it the same way. HTTP_PROXY and the like are never used for brokers.")
	fs.BoolVar(&c.RefuseLoopbackBrokerURLs, "refuse-loopback-broker-urls", c.RefuseLoopbackBrokerURLs, "Refuse broker URLs on loopback and unspecified addresses (127.0.0.0/8, ::1, 0.0.0.0, ::) in any notation. Set it to false only for development, where brokers run on 127.0.0.1; the API server's ports stay refused on every loopback address either way.")
	fs.Var(&c.OriginatingIdentity, "originating-identity", "When spec.userInfo is sent to brokers as the originating identity: \"auto\" while the API server sets it from the requester (svcat's MutatingAdmissionPolicy, Kubernetes 1.36+; probed with a dry-run create at start-up and every minute), \"admission-policy\" always (you vouch that admission sets it), \"none\" never.")
	fs.Var(catalogLimitsFlag{&c.ClusterCatalogLimits}, controller.FlagClusterCatalogLimits, "Limits of ClusterServiceBroker catalogs as KEY=VALUE pairs, comma-separated and repeatable; keys not given keep their defaults. Keys: bytes (the answer), depth (levels of nesting), services, plans-per-service, plans (in all), object-bytes (each metadata object and parameter schema), values (JSON values in all). Values are Kubernetes quantities (512Ki, 10Mi, 250000). A catalog past a limit is refused as it is read, and nothing of it is applied.")
	fs.Var(catalogLimitsFlag{&c.NamespacedCatalogLimits}, controller.FlagNamespacedCatalogLimits, "Limits of namespaced ServiceBroker catalogs, which users of any namespace can create: the keys of --"+controller.FlagClusterCatalogLimits+", tighter defaults.")
	fs.Var(sizeFlag{&c.CatalogMemoryBudget}, controller.FlagCatalogMemoryBudget, "Memory for all catalog reads together (the body as it arrives, then its decoded form's bound: 2 × bytes + 330 × values of the catalog); a read that does not fit waits, within --osb-timeout, while a hanging broker holds only what it sent. It must hold one catalog within either scope's limits, or the controller does not start. A Kubernetes quantity (128Mi, 1Gi).")
	fs.DurationVar(&c.RotationGracePeriod, controller.FlagRotationGracePeriod, c.RotationGracePeriod, "How long old credentials keep working after a binding's credentials are rotated, before the old binding is unbound at the broker, for bindings whose spec.rotationPolicy.gracePeriod is not set.")
	fs.Float64Var(&c.RotateBeforeExpiry, controller.FlagRotateBeforeExpiry, c.RotateBeforeExpiry, "Fraction of the credentials' lifetime (from the bind to the broker's expires_at) after which a binding's credentials are rotated; the broker's renew_before wins when it is earlier. Greater than 0, less than 1.")
	fs.IntVar(&c.MaxParameterSecretWatches, controller.FlagParameterSecretWatches, c.MaxParameterSecretWatches, "Secrets named in instances' spec.parametersFrom watched at most, all namespaces together (one metadata watch each). Beyond it a namespace gets a watch only by taking one from a namespace holding at least two more; an unwatched Secret's change reaches the broker at the instance's next reconcile, and the instance's ParameterSecretsWatched condition says so.")
	fs.IntVar(&c.MaxParameterSecretWatchesPerNamespace, controller.FlagParameterSecretWatchesPerNamespace, c.MaxParameterSecretWatchesPerNamespace, "Secrets of one namespace named in spec.parametersFrom watched at most, so that no namespace takes the others' watches; the namespace's further Secrets are left unwatched as beyond --"+controller.FlagParameterSecretWatches+".")
	fs.DurationVar(&o.Resync, "resync", o.Resync, "Period after which every object is reconciled again even without changes.")
	fs.Float64Var(&o.MemoryLimitRatio, "memory-limit-ratio", o.MemoryLimitRatio, "Go soft memory limit as a fraction of the container's memory limit (cgroup), so garbage collection tightens before the OOM killer acts; 0 turns it off, and GOMEMLIMIT, when set, wins.")
	fs.StringVar(&o.MetricsAddr, "metrics-bind-address", o.MetricsAddr, "Address of the /metrics endpoint; \"0\" turns it off.")
	fs.StringVar(&o.ProbeAddr, "health-probe-bind-address", o.ProbeAddr, "Address of the /healthz and /readyz endpoints.")
	fs.StringVar(&o.PprofAddr, "pprof-bind-address", o.PprofAddr, "Address of the Go profiling endpoints (/debug/pprof/); empty or \"0\" turns them off. For diagnosis only: bind it to localhost.")
	fs.BoolVar(&o.LeaderElect, "leader-elect", o.LeaderElect, "Elect a leader so that several replicas can run; only the leader reconciles.")
	fs.StringVar(&o.LeaderElectionNamespace, "leader-election-namespace", o.LeaderElectionNamespace, "Namespace of the leader election Lease (default: the pod's namespace).")
	fs.StringVar(&o.LeaderElectionID, "leader-election-id", o.LeaderElectionID, "Name of the leader election Lease.")
}

// NewScheme returns a scheme with the core and svcat kinds.
func NewScheme() (*runtime.Scheme, error) {
	s := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(s); err != nil {
		return nil, err
	}
	if err := scv1beta1.AddToScheme(s); err != nil {
		return nil, err
	}
	return s, nil
}

// NewManager builds the manager with every reconciler registered.
func NewManager(cfg *rest.Config, o Options) (ctrl.Manager, error) {
	scheme, err := NewScheme()
	if err != nil {
		return nil, err
	}
	resync := o.Resync
	copts := o.Controller
	if copts.ClaimNamespace == "" {
		copts.ClaimNamespace = claimNamespace(o.LeaderElectionNamespace)
	}
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:                  scheme,
		Metrics:                 metricsserver.Options{BindAddress: o.MetricsAddr},
		HealthProbeBindAddress:  o.ProbeAddr,
		PprofBindAddress:        o.PprofAddr,
		LeaderElection:          o.LeaderElect,
		LeaderElectionID:        o.LeaderElectionID,
		LeaderElectionNamespace: o.LeaderElectionNamespace,
		// Release the lease on shutdown so a rolling update hands over at
		// once instead of waiting for the lease to expire.
		LeaderElectionReleaseOnCancel: true,
		Controller:                    config.Controller{SkipNameValidation: &o.AllowSeveralInProcess},
		Cache: cache.Options{
			SyncPeriod: &resync,
			// managedFields are often the largest part of an object and the
			// controller never reads them: memory at 10,000 objects.
			DefaultTransform: cache.TransformStripManagedFields(),
			// Only Secrets the controller writes are cached; the cache
			// must not grow with the cluster's other Secrets.
			ByObject: map[client.Object]cache.ByObject{
				&corev1.Secret{}: {Label: labels.SelectorFromSet(labels.Set{scv1beta1.LabelManagedBy: scv1beta1.ManagedByValue})},
				// The external ID claims: only in the controller's namespace,
				// the one place its RBAC lets it read Leases.
				&coordinationv1.Lease{}: {
					Namespaces: map[string]cache.Config{copts.ClaimNamespace: {}},
					Label:      labels.SelectorFromSet(labels.Set{scv1beta1.LabelManagedBy: scv1beta1.ManagedByValue}),
				},
			},
		},
	})
	if err != nil {
		return nil, err
	}
	if err := mgr.AddHealthzCheck("healthz", healthz.Ping); err != nil {
		return nil, err
	}
	if err := mgr.AddReadyzCheck("readyz", healthz.Ping); err != nil {
		return nil, err
	}
	if copts.ClusterID == "" {
		if copts.ClusterID, err = clusterID(cfg, scheme); err != nil {
			return nil, err
		}
	}
	if err := controller.Setup(mgr, copts); err != nil {
		return nil, err
	}
	// The version goes where the claims go: the controller's namespace, or
	// kube-system outside a pod (the sandbox, a controller run from a
	// laptop), so that svcat version finds it wherever the controller runs.
	if err := mgr.Add(newInfoPublisher(mgr, copts.ClaimNamespace)); err != nil {
		return nil, err
	}
	return mgr, nil
}

// claimNamespace is where the external ID claims live when not set: the
// controller's namespace (see controllerNamespace), where only the
// controller and cluster admins have rights. Outside a pod, without
// --leader-election-namespace (development, tests, benchmarks),
// kube-system: it always exists and is no tenant's.
func claimNamespace(leaderElectionNamespace string) string {
	if ns := controllerNamespace(leaderElectionNamespace); ns != "" {
		return ns
	}
	return "kube-system"
}

// clusterID defaults to the kube-system namespace's UID: stable for the
// cluster's life and the same for every replica, with nothing to store.
func clusterID(cfg *rest.Config, scheme *runtime.Scheme) (string, error) {
	c, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		return "", err
	}
	ns := &corev1.Namespace{}
	if err := c.Get(context.Background(), client.ObjectKey{Name: "kube-system"}, ns); err != nil {
		return "", fmt.Errorf("reading the kube-system namespace for the default cluster ID (or set --cluster-id): %w", err)
	}
	return string(ns.UID), nil
}

// resolveFlag parses repeated HOST:PORT:ADDRESS[:PORT] values.
type resolveFlag struct{ m *map[string]string }

func (f resolveFlag) String() string {
	if f.m == nil {
		return ""
	}
	var parts []string
	for k, v := range *f.m {
		parts = append(parts, k+":"+v)
	}
	sort.Strings(parts)
	return strings.Join(parts, ",")
}

func (f resolveFlag) Set(v string) error {
	host, rest, ok := strings.Cut(v, ":")
	port, addr, ok2 := strings.Cut(rest, ":")
	if !ok || !ok2 || host == "" || port == "" || addr == "" {
		return fmt.Errorf("--dev-resolve %q: want HOST:PORT:ADDRESS, for example broker.osb.svc.cluster.local:80:127.0.0.1:8090", v)
	}
	if !strings.Contains(addr, ":") {
		addr += ":" + port
	}
	if *f.m == nil {
		*f.m = map[string]string{}
	}
	(*f.m)[host+":"+port] = addr
	return nil
}

// listFlag parses comma-separated values and appends on every use.
type listFlag struct{ l *[]string }

func (f listFlag) String() string {
	if f.l == nil {
		return ""
	}
	return strings.Join(*f.l, ",")
}

func (f listFlag) Set(v string) error {
	for _, e := range strings.Split(v, ",") {
		if e = strings.TrimSpace(e); e != "" {
			*f.l = append(*f.l, e)
		}
	}
	return nil
}
