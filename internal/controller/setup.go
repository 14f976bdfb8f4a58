package controller

import (
	"context"
	"fmt"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/metadata"

	"k8s.io/client-go/util/workqueue"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	scv1beta1 "github.com/svcat-io/svcat/api/v1beta1"
	"github.com/svcat-io/svcat/internal/controller/brokercalls"
	"github.com/svcat-io/svcat/internal/controller/brokerclient"
	"github.com/svcat-io/svcat/internal/controller/brokerurl"
	"github.com/svcat-io/svcat/internal/controller/eventwriter"
	"github.com/svcat-io/svcat/internal/controller/freshness"
	"github.com/svcat-io/svcat/internal/controller/idclaim"
	"github.com/svcat-io/svcat/internal/controller/metrics"
	"github.com/svcat-io/svcat/internal/controller/originid"
	"github.com/svcat-io/svcat/internal/controller/paramwatch"
	"github.com/svcat-io/svcat/internal/osb"
	"github.com/svcat-io/svcat/internal/planschema"
)

// Options configure the catalog-controller's reconcilers.
type Options struct {
	// Concurrency is the number of objects of each kind reconciled at once.
	Concurrency int
	// DefaultRelistInterval is the relist period of brokers with
	// relistBehavior Duration and no relistDuration.
	DefaultRelistInterval time.Duration
	// OSBTimeout bounds each request to a broker.
	OSBTimeout time.Duration
	// RetryBaseDelay and RetryMaxDelay bound the backoff after a failed
	// reconcile. v0.3 backed off to 20 minutes; a broker that comes back
	// should be noticed much sooner than that.
	RetryBaseDelay, RetryMaxDelay time.Duration
	// ClusterID is sent to brokers as organization_guid and in the context.
	ClusterID string
	// Resolve maps broker "host:port" to a local "address:port" (see
	// brokerclient.Pool.Resolve); development only.
	Resolve map[string]string
	// AllowBrokerURLHosts exempts host names, addresses and CIDR prefixes
	// from the broker URL policy (see brokerurl.Policy).
	AllowBrokerURLHosts []string
	// BrokerCredentialsTTL is how long a broker's credentials read from its
	// Secret are used before the Secret is read again (a 401 or 403 from
	// the broker reads it at once).
	BrokerCredentialsTTL time.Duration
	// BrokerProxy is the URL of an HTTP proxy for every broker request
	// (--broker-proxy); empty means direct connections. Proxy environment
	// variables are never used for brokers.
	BrokerProxy string
	// RefuseLoopbackBrokerURLs refuses broker URLs on loopback and
	// unspecified addresses. On by default: in a cluster no broker lives at
	// the controller's loopback, while its sidecars, its own metrics and
	// pprof listeners, and any API server on the same machine do. The
	// sandbox and the tests, whose brokers run on 127.0.0.1, turn it off.
	RefuseLoopbackBrokerURLs bool
	// BrokerCalls limits the broker requests in flight (per broker, per
	// namespace, in total) and says how long a reconcile waits for an
	// answer before leaving the call to finish off its worker.
	BrokerCalls brokercalls.Limits
	// ClaimNamespace holds the Leases that record which object owns each
	// external ID (package idclaim). It must be a namespace tenants have no
	// rights in; the manager fills it in (see controllermanager).
	ClaimNamespace string
	// OriginatingIdentity says when spec.userInfo is sent to brokers (see
	// package originid).
	OriginatingIdentity originid.Mode
	// OriginatingIdentityPeriod is how often the auto mode probes again.
	OriginatingIdentityPeriod time.Duration
	// ClusterCatalogLimits and NamespacedCatalogLimits bound the catalogs
	// of ClusterServiceBrokers (created by cluster admins) and of
	// ServiceBrokers (created by any namespace's users), which get the
	// tighter ones; see osb.CatalogLimits.
	ClusterCatalogLimits, NamespacedCatalogLimits osb.CatalogLimits
	// CatalogMemoryBudget bounds the memory of all catalog reads together
	// (osb.CatalogBudget): up to BrokerCalls.Total of them run at once. It
	// must hold one catalog at either scope's limits; see
	// CheckCatalogMemoryBudget.
	CatalogMemoryBudget int64
	// MaxParameterSecretWatches bounds the parametersFrom Secrets watched
	// at once (paramwatch.Limits.Total); 0 means paramwatch.DefaultMaxWatches.
	MaxParameterSecretWatches int
	// RotationGracePeriod is how long old credentials stay valid after a
	// rotation when the binding's policy does not say; RotateBeforeExpiry
	// is the fraction of the credentials' lifetime after which they are
	// rotated (see binding_rotation.go).
	RotationGracePeriod time.Duration
	RotateBeforeExpiry  float64
	// MaxParameterSecretWatchesPerNamespace bounds those of one namespace
	// (paramwatch.Limits.PerNamespace), so that no namespace takes the
	// others' watches; 0 means paramwatch.DefaultMaxWatchesPerNamespace.
	MaxParameterSecretWatchesPerNamespace int
}

// Flags of the catalog limits, named in the messages of refused catalogs.
const (
	FlagClusterCatalogLimits    = "cluster-broker-catalog-limits"
	FlagNamespacedCatalogLimits = "namespaced-broker-catalog-limits"
	FlagCatalogMemoryBudget     = "catalog-memory-budget"
)

// DefaultCatalogMemoryBudget holds one cluster broker's catalog at the
// default limits (about 99 MiB) with room for namespaced ones beside it,
// and, with the controller's own ~50 MiB, stays within the chart's 256 MiB
// memory limit and the 230 MiB soft limit the garbage collector aims at.
const DefaultCatalogMemoryBudget = 128 << 20

// CheckCatalogMemoryBudget refuses a budget too small for one catalog within
// the limits: such a catalog could never be read, and the controller would
// refuse it for a reason no broker can fix.
func CheckCatalogMemoryBudget(o Options) error {
	for _, s := range []struct {
		flag string
		lim  osb.CatalogLimits
	}{{FlagClusterCatalogLimits, o.ClusterCatalogLimits}, {FlagNamespacedCatalogLimits, o.NamespacedCatalogLimits}} {
		if need := s.lim.DecodedCostBound(); need > o.CatalogMemoryBudget {
			return fmt.Errorf("--%s=%d is smaller than the %d bytes one catalog within --%s may need while it is read and decoded (2 × bytes + 330 × values): raise the budget, or lower bytes and values of the limits",
				FlagCatalogMemoryBudget, o.CatalogMemoryBudget, need, s.flag)
		}
	}
	return nil
}

// DefaultNamespacedCatalogLimits are the catalog limits of ServiceBrokers.
// Any user with rights in one namespace chooses what such a broker answers,
// so these bound what one tenant's catalog can make the controller hold: at
// most about 8.3 MiB while it is read and decoded
// (osb.CatalogLimits.DecodedCostBound), against 99 MiB for a cluster
// broker. A team's own broker offers a handful of services.
func DefaultNamespacedCatalogLimits() osb.CatalogLimits {
	return osb.CatalogLimits{
		MaxBytes:           1 << 20,
		MaxDepth:           32,
		MaxServices:        100,
		MaxPlansPerService: 50,
		MaxPlans:           500,
		MaxObjectBytes:     64 << 10,
		MaxValues:          20_000,
	}
}

// DefaultOptions are the catalog-controller's flag defaults.
func DefaultOptions() Options {
	return Options{
		Concurrency:              5,
		DefaultRelistInterval:    15 * time.Minute,
		OSBTimeout:               60 * time.Second,
		RetryBaseDelay:           500 * time.Millisecond,
		RetryMaxDelay:            2 * time.Minute,
		BrokerCredentialsTTL:     brokerclient.DefaultCredentialsTTL,
		RefuseLoopbackBrokerURLs: true,
		OriginatingIdentity:      originid.Auto,
		// A cluster admin's catalog: the OSB client's defaults, which
		// take large real-world catalogs.
		ClusterCatalogLimits:    osb.DefaultCatalogLimits(),
		NamespacedCatalogLimits: DefaultNamespacedCatalogLimits(),
		CatalogMemoryBudget:     DefaultCatalogMemoryBudget,
		BrokerCalls:             brokercalls.DefaultLimits(),
		RotationGracePeriod:     DefaultRotationGracePeriod,
		RotateBeforeExpiry:      DefaultRotateBeforeExpiry,

		// Set, not 0, so that the flags' help shows the numbers.
		MaxParameterSecretWatches:             paramwatch.DefaultMaxWatches,
		MaxParameterSecretWatchesPerNamespace: paramwatch.DefaultMaxWatchesPerNamespace,
	}
}

// newBrokerURLPolicy builds the policy with the API server's addresses read
// once, so no broker is checked without them: a controller that may not
// read them fails at start with the reason rather than let brokers reach
// the API server.
func newBrokerURLPolicy(mgr ctrl.Manager, o Options) (*brokerurl.Policy, error) {
	addrs := &brokerurl.APIServerAddresses{Reader: mgr.GetAPIReader(), Log: mgr.GetLogger().WithName("apiserver-addresses")}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := addrs.Refresh(ctx); err != nil {
		return nil, err
	}
	if err := mgr.Add(addrs); err != nil {
		return nil, err
	}
	return &brokerurl.Policy{Allow: o.AllowBrokerURLHosts, RefuseLoopback: o.RefuseLoopbackBrokerURLs,
		APIServer: mgr.GetConfig().Host, APIServerEndpoints: addrs.Get}, nil
}

// specOrDeletion passes updates that change the spec or start a deletion:
// status writes by the controller itself must not trigger another
// reconcile, which would defeat the retry backoff.
var specOrDeletion = predicate.Or(predicate.GenerationChangedPredicate{}, predicate.Funcs{
	UpdateFunc: func(e event.UpdateEvent) bool { return !e.ObjectNew.GetDeletionTimestamp().IsZero() },
})

// RBAC the manager itself needs: the leader election Lease, events, the
// kube-system namespace (its UID is the default cluster ID), instances
// (listed to tell whether a removed class or plan is still in use), and the
// ConfigMap where the leader publishes its version for `svcat version`
// (internal/controllermanager/info.go; a ClusterRole rule because markers
// make nothing else).
// +kubebuilder:rbac:groups=coordination.k8s.io,resources=leases,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups="",resources=namespaces,verbs=get
// +kubebuilder:rbac:groups="",resources=configmaps,verbs=get;create;update;patch
// +kubebuilder:rbac:groups=servicecatalog.k8s.io,resources=serviceinstances,verbs=get;list;watch
//
// Setting spec.externalID (the generated one) passes svcat's
// ValidatingAdmissionPolicy only with the verb adopt; the auto originating
// identity mode creates a probe instance as a dry run.
// +kubebuilder:rbac:groups=servicecatalog.k8s.io,resources=serviceinstances;servicebindings,verbs=adopt
// +kubebuilder:rbac:groups=servicecatalog.k8s.io,resources=serviceinstances,verbs=create

// Setup registers every reconciler with the manager.
func Setup(mgr ctrl.Manager, o Options) error {
	if err := CheckRotateBeforeExpiry(o.RotateBeforeExpiry); err != nil {
		return err
	}
	if err := CheckCatalogMemoryBudget(o); err != nil {
		return err
	}
	recorder, err := eventwriter.New(mgr, "catalog-controller")
	if err != nil {
		return err
	}
	pool := &brokerclient.Pool{Reader: mgr.GetAPIReader(), Timeout: o.OSBTimeout, Resolve: o.Resolve, CredentialsTTL: o.BrokerCredentialsTTL,
		// One budget for every broker's catalog reads: the broker call
		// limits let many run at once.
		CatalogBudget: osb.NewCatalogBudget(o.CatalogMemoryBudget)}
	urlPolicy, err := newBrokerURLPolicy(mgr, o)
	if err != nil {
		return err
	}
	pool.CheckConn = urlPolicy.CheckConn
	if o.BrokerProxy != "" {
		if pool.Proxy, err = brokerurl.ParseProxy(o.BrokerProxy); err != nil {
			return err
		}
		pool.CheckURL = urlPolicy.CheckProxied
	}
	br := &BrokerReconciler{
		Client:                  mgr.GetClient(),
		Pool:                    pool,
		Recorder:                recorder,
		DefaultRelistInterval:   o.DefaultRelistInterval,
		URLPolicy:               urlPolicy,
		ClusterCatalogLimits:    o.ClusterCatalogLimits,
		NamespacedCatalogLimits: o.NamespacedCatalogLimits,
	}
	// Broker calls run off the workers every tenant shares: a broker that
	// hangs holds a call slot of its own broker and namespace, not a worker.
	limits := o.BrokerCalls
	limits.Observe = func(inFlight, queued int) {
		metrics.BrokerCallsInFlight.Set(float64(inFlight))
		metrics.BrokerCallsQueued.Set(float64(queued))
	}
	runner := brokercalls.New(limits)
	if err := mgr.Add(runner); err != nil {
		return err
	}
	clusterBrokerCalls, brokerCalls := brokercalls.NewSite(runner), brokercalls.NewSite(runner)
	copts := controller.Options{
		MaxConcurrentReconciles: o.Concurrency,
		RateLimiter:             workqueue.NewTypedItemExponentialFailureRateLimiter[reconcile.Request](o.RetryBaseDelay, o.RetryMaxDelay),
	}
	if err := ctrl.NewControllerManagedBy(mgr).Named("clusterservicebroker").
		For(&scv1beta1.ClusterServiceBroker{}, builder.WithPredicates(specOrDeletion)).
		WatchesRawSource(clusterBrokerCalls.Source()).
		WithOptions(copts).Complete(ClusterServiceBrokerReconciler{br, clusterBrokerCalls}); err != nil {
		return err
	}
	if err := ctrl.NewControllerManagedBy(mgr).Named("servicebroker").
		For(&scv1beta1.ServiceBroker{}, builder.WithPredicates(specOrDeletion)).
		WatchesRawSource(brokerCalls.Source()).
		WithOptions(copts).Complete(ServiceBrokerReconciler{br, brokerCalls}); err != nil {
		return err
	}

	if err := mgr.GetFieldIndexer().IndexField(context.Background(), &scv1beta1.ServiceBinding{}, bindingInstanceField,
		func(o client.Object) []string { return []string{o.(*scv1beta1.ServiceBinding).Spec.InstanceRef.Name} }); err != nil {
		return fmt.Errorf("indexing bindings by instance: %w", err)
	}
	if err := mgr.GetFieldIndexer().IndexField(context.Background(), &scv1beta1.ServiceBinding{}, sharedInstanceField, sharedInstanceIndex); err != nil {
		return fmt.Errorf("indexing bindings by shared instance: %w", err)
	}
	if err := idclaim.IndexExternalIDs(mgr.GetFieldIndexer()); err != nil {
		return err
	}
	if o.ClaimNamespace == "" {
		return fmt.Errorf("no namespace for the external ID claims")
	}
	claims := &idclaim.Claims{Client: mgr.GetClient(), APIReader: mgr.GetAPIReader(), Namespace: o.ClaimNamespace}
	identity := &originid.Gate{Mode: o.OriginatingIdentity, Client: mgr.GetClient(), APIReader: mgr.GetAPIReader(), Namespace: o.ClaimNamespace,
		Period: o.OriginatingIdentityPeriod, Log: mgr.GetLogger().WithName("originating-identity")}
	if err := mgr.Add(identity); err != nil {
		return err
	}
	schemas := planschema.NewCache(1024)
	// parametersFrom Secrets are watched one by one, metadata only: the
	// manager's cache holds only the Secrets the controller writes.
	meta, err := metadata.NewForConfigAndClient(mgr.GetConfig(), mgr.GetHTTPClient())
	if err != nil {
		return err
	}
	params := &paramwatch.Watcher{Client: meta, Log: mgr.GetLogger().WithName("parameter-secrets"),
		Limits: paramwatch.Limits{Total: o.MaxParameterSecretWatches, PerNamespace: o.MaxParameterSecretWatchesPerNamespace},
		Observe: func(n, waiting int) {
			metrics.ParameterSecretsWatched.Set(float64(n))
			metrics.ParameterSecretsUnwatched.Set(float64(waiting))
		}}
	if err := mgr.Add(params); err != nil {
		return err
	}
	instFresh, bindFresh := &freshness.Tracker{}, &freshness.Tracker{}
	ir := &InstanceReconciler{fresh: instFresh, Client: freshness.Recording(mgr.GetClient(), instFresh), APIReader: mgr.GetAPIReader(), Pool: pool,
		Recorder: recorder, Schemas: schemas, ClusterID: o.ClusterID, Claims: claims, Identity: identity, Params: params, calls: brokercalls.NewSite(runner)}
	// An instance blocked by its bindings is retried when one goes.
	bindingGone := predicate.Funcs{
		CreateFunc: func(event.CreateEvent) bool { return false },
		UpdateFunc: func(e event.UpdateEvent) bool { return false },
		DeleteFunc: func(event.DeleteEvent) bool { return true },
	}
	if err := ctrl.NewControllerManagedBy(mgr).Named("serviceinstance").
		For(&scv1beta1.ServiceInstance{}, builder.WithPredicates(specOrDeletionOrAnnotation)).
		Watches(&scv1beta1.ServiceBinding{}, handler.EnqueueRequestsFromMapFunc(func(_ context.Context, o client.Object) []reconcile.Request {
			b := o.(*scv1beta1.ServiceBinding)
			return []reconcile.Request{{NamespacedName: types.NamespacedName{Namespace: b.InstanceNamespace(), Name: b.Spec.InstanceRef.Name}}}
		}), builder.WithPredicates(bindingGone)).
		WatchesRawSource(ir.calls.Source()).
		WatchesRawSource(params.Source()).
		// A plan's new maintenance_info version is news for its instances.
		Watches(&scv1beta1.ClusterServicePlan{}, handler.EnqueueRequestsFromMapFunc(instancesOnPlan(mgr.GetClient())), builder.WithPredicates(maintenanceChanged)).
		Watches(&scv1beta1.ServicePlan{}, handler.EnqueueRequestsFromMapFunc(instancesOnPlan(mgr.GetClient())), builder.WithPredicates(maintenanceChanged)).
		Watches(&coordinationv1.Lease{}, idclaim.OnRelease(mgr.GetClient(), idclaim.Instance), builder.WithPredicates(idclaim.DeletedOnly)).
		Watches(&scv1beta1.ServiceInstance{}, idclaim.OnRivalGone(mgr.GetClient(), idclaim.Instance), builder.WithPredicates(idclaim.DeletedOnly)).
		WithOptions(copts).Complete(ir); err != nil {
		return err
	}

	bir := &BindingReconciler{fresh: bindFresh, Client: freshness.Recording(mgr.GetClient(), bindFresh), APIReader: mgr.GetAPIReader(), Pool: pool,
		Recorder: recorder, Schemas: schemas, ClusterID: o.ClusterID, Claims: claims, Identity: identity, calls: brokercalls.NewSite(runner),
		RotationGracePeriod: o.RotationGracePeriod, RotateBeforeExpiry: o.RotateBeforeExpiry, RotationRetryDelay: o.RetryMaxDelay}
	c := mgr.GetClient()
	return ctrl.NewControllerManagedBy(mgr).Named("servicebinding").
		For(&scv1beta1.ServiceBinding{}, builder.WithPredicates(specOrDeletionOrAnnotation)).
		// A deleted binding Secret is restored. Only its metadata is
		// watched: the credentials are read uncached when needed, and a
		// cache of every binding's Secret would grow the controller by
		// their data.
		Owns(&corev1.Secret{}, builder.OnlyMetadata, builder.WithPredicates(predicate.Funcs{
			CreateFunc: func(event.CreateEvent) bool { return false },
			UpdateFunc: func(event.UpdateEvent) bool { return false },
		})).
		// Bindings wait for their instance to become Ready.
		Watches(&scv1beta1.ServiceInstance{}, handler.EnqueueRequestsFromMapFunc(func(ctx context.Context, o client.Object) []reconcile.Request {
			l := &scv1beta1.ServiceBindingList{}
			if err := c.List(ctx, l, client.InNamespace(o.GetNamespace()), client.MatchingFields{bindingInstanceField: o.GetName()}); err != nil {
				return nil
			}
			out := make([]reconcile.Request, 0, len(l.Items))
			for _, b := range l.Items {
				out = append(out, reconcile.Request{NamespacedName: types.NamespacedName{Namespace: b.Namespace, Name: b.Name}})
			}
			return append(out, sharingBindings(ctx, c, o)...)
		})).
		WatchesRawSource(bir.calls.Source()).
		Watches(&coordinationv1.Lease{}, idclaim.OnRelease(c, idclaim.Binding), builder.WithPredicates(idclaim.DeletedOnly)).
		Watches(&scv1beta1.ServiceBinding{}, idclaim.OnRivalGone(c, idclaim.Binding), builder.WithPredicates(idclaim.DeletedOnly)).
		WithOptions(copts).Complete(bir)
}

// specOrDeletionOrAnnotation also passes annotation changes, which is how
// the abandon request reaches a stuck deletion.
var specOrDeletionOrAnnotation = predicate.Or(specOrDeletion, predicate.AnnotationChangedPredicate{})
