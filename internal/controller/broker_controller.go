package controller

import (
	"context"
	"errors"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/events"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/log"

	scv1beta1 "github.com/svcat-io/svcat/api/v1beta1"
	"github.com/svcat-io/svcat/internal/brokertext"
	"github.com/svcat-io/svcat/internal/controller/brokercalls"
	"github.com/svcat-io/svcat/internal/controller/brokerclient"
	"github.com/svcat-io/svcat/internal/controller/brokerop"
	"github.com/svcat-io/svcat/internal/controller/brokerurl"
	"github.com/svcat-io/svcat/internal/controller/catalogspec"
	"github.com/svcat-io/svcat/internal/controller/statuspatch"
	"github.com/svcat-io/svcat/internal/controller/stepresult"
	"github.com/svcat-io/svcat/internal/osb"
)

// BrokerReconciler keeps the classes and plans of brokers in step with their
// catalogs. ClusterServiceBrokerReconciler and ServiceBrokerReconciler are
// its two entry points.
type BrokerReconciler struct {
	Client   client.Client
	Pool     *brokerclient.Pool
	Recorder events.EventRecorder
	// DefaultRelistInterval applies to brokers with relistBehavior Duration
	// and no relistDuration.
	DefaultRelistInterval time.Duration
	Now                   func() time.Time
	// URLPolicy refuses broker URLs at the API server or metadata
	// addresses before any request (with credentials) is sent; nil
	// allows every URL.
	URLPolicy *brokerurl.Policy
	// ClusterCatalogLimits and NamespacedCatalogLimits bound the catalogs
	// of the two kinds of broker while they are read; zero fields take
	// osb.DefaultCatalogLimits.
	ClusterCatalogLimits, NamespacedCatalogLimits osb.CatalogLimits
}

// brokerAccess is one broker of either kind, seen through the fields the
// reconciler needs.
type brokerAccess struct {
	obj    client.Object
	spec   *scv1beta1.CommonServiceBrokerSpec
	status *scv1beta1.CommonServiceBrokerStatus
	conn   brokerclient.Broker
	scope  brokerScope
	// calls runs the catalog request off the reconcile workers; each kind
	// has its own, since each has its own queue.
	calls *brokercalls.Site
}

// ClusterServiceBrokerReconciler reconciles ClusterServiceBrokers.
type ClusterServiceBrokerReconciler struct {
	*BrokerReconciler
	calls *brokercalls.Site
}

// +kubebuilder:rbac:groups=servicecatalog.k8s.io,resources=clusterservicebrokers;servicebrokers,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=servicecatalog.k8s.io,resources=clusterservicebrokers/status;servicebrokers/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=servicecatalog.k8s.io,resources=clusterservicebrokers/finalizers;servicebrokers/finalizers,verbs=update
// +kubebuilder:rbac:groups=servicecatalog.k8s.io,resources=clusterserviceclasses;serviceclasses;clusterserviceplans;serviceplans,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=servicecatalog.k8s.io,resources=clusterserviceclasses/status;serviceclasses/status;clusterserviceplans/status;serviceplans/status,verbs=get;update;patch
// +kubebuilder:rbac:groups="",resources=secrets,verbs=get

// Reconcile fetches the broker's catalog when it is due and applies it.
func (r ClusterServiceBrokerReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	b := &scv1beta1.ClusterServiceBroker{}
	if err := r.Client.Get(ctx, req.NamespacedName, b); err != nil {
		return ctrl.Result{}, r.gone(err, brokerclient.FromClusterBroker(&scv1beta1.ClusterServiceBroker{ObjectMeta: metav1.ObjectMeta{Name: req.Name}}), r.calls)
	}
	return r.reconcile(ctx, brokerAccess{obj: b, spec: &b.Spec.CommonServiceBrokerSpec, status: &b.Status.CommonServiceBrokerStatus,
		conn: brokerclient.FromClusterBroker(b), scope: clusterScope, calls: r.calls})
}

// ServiceBrokerReconciler reconciles namespaced ServiceBrokers.
type ServiceBrokerReconciler struct {
	*BrokerReconciler
	calls *brokercalls.Site
}

// Reconcile fetches the broker's catalog when it is due and applies it.
func (r ServiceBrokerReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	b := &scv1beta1.ServiceBroker{}
	if err := r.Client.Get(ctx, req.NamespacedName, b); err != nil {
		return ctrl.Result{}, r.gone(err, brokerclient.FromBroker(&scv1beta1.ServiceBroker{ObjectMeta: metav1.ObjectMeta{Namespace: req.Namespace, Name: req.Name}}), r.calls)
	}
	return r.reconcile(ctx, brokerAccess{obj: b, spec: &b.Spec.CommonServiceBrokerSpec, status: &b.Status.CommonServiceBrokerStatus,
		conn: brokerclient.FromBroker(b), scope: namespacedScope(b.Namespace), calls: r.calls})
}

// gone forgets the client, metrics and slow mark of a broker that no
// longer exists. finalize does it too, but a broker whose finalizer was
// removed by hand (its owner may) never reaches finalize, and its series
// would stay.
func (r *BrokerReconciler) gone(getErr error, b brokerclient.Broker, calls *brokercalls.Site) error {
	if apierrors.IsNotFound(getErr) {
		r.Pool.Forget(b.Key)
		calls.Runner.ForgetBroker(b.Key)
		return nil
	}
	return getErr
}

func (r *BrokerReconciler) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

func (r *BrokerReconciler) reconcile(ctx context.Context, b brokerAccess) (result ctrl.Result, retErr error) {
	if !b.obj.GetDeletionTimestamp().IsZero() {
		return ctrl.Result{}, r.finalize(ctx, b)
	}
	if controllerutil.AddFinalizer(b.obj, scv1beta1.FinalizerServiceCatalog) {
		if err := r.Client.Update(ctx, b.obj); err != nil {
			return ctrl.Result{}, err
		}
	}
	due, after := relistDue(b.obj.GetGeneration(), b.spec, b.status, r.DefaultRelistInterval, r.now())
	if !due {
		return ctrl.Result{RequeueAfter: after}, nil
	}

	// One status write per reconcile, whatever path it takes; none while
	// the broker has not answered.
	orig := b.obj.DeepCopyObject().(client.Object)
	discard := false
	defer func() {
		statuspatch.Patch(ctx, r.Client, b.obj, orig, statusOf(orig), statusOf(b.obj), discard, &retErr)
	}()

	now := metav1.NewTime(r.now())
	return stepresult.Apply(r.catalogStep(ctx, b, now), brokerStatus{b.status, now}, r.Recorder, b.obj, &discard)
}

// catalogStep fetches the catalog, or takes the answer of a fetch already
// sent, and applies it.
func (r *BrokerReconciler) catalogStep(ctx context.Context, b brokerAccess, now metav1.Time) stepresult.Result {
	out, state := brokercalls.Take[*osb.CatalogResponse](b.calls.Runner, b.calls.Key(b.obj, callCatalog))
	switch state {
	case brokercalls.Pending:
		return stepresult.AwaitAnswer()
	case brokercalls.None:
		b.status.ReconciledGeneration = b.obj.GetGeneration()
		var refused stepresult.Result
		var ok bool
		if out, refused, ok = r.fetchCatalog(ctx, b); !ok {
			return refused
		}
	}
	// The catalog answers the spec it was fetched for; a newer spec
	// fetches again.
	sentGen := out.Sent.(int64)
	b.status.ReconciledGeneration = sentGen
	res := r.applyCatalog(ctx, b, out, now)
	if res.Err == nil && sentGen != b.obj.GetGeneration() {
		res.After, res.Requeue = 0, true
	}
	return res
}

// brokerStatus is a broker's status as stepresult.Apply writes it.
type brokerStatus struct {
	st  *scv1beta1.CommonServiceBrokerStatus
	now metav1.Time
}

func (c brokerStatus) SetReady(status scv1beta1.ConditionStatus, reason, message string) bool {
	return c.st.SetCondition(scv1beta1.ServiceBrokerConditionReady, status, reason, message, c.now)
}

// SetFailed is never needed: no catalog problem is final, every one is
// looked at again on a spec change or at the next relist.
func (c brokerStatus) SetFailed(string, string) {}

// StartMitigation is never needed: a catalog fetch creates nothing.
func (c brokerStatus) StartMitigation(reason, message string) (string, string, bool) {
	return reason, message, false
}

// refused is a catalog problem that backoff retries would only repeat: it
// is looked at again on a spec change (which triggers a reconcile) or at
// the next relist period.
func (r *BrokerReconciler) refused(b brokerAccess, reason, message string) stepresult.Result {
	res := stepresult.Stall(reason, message)
	res.After = relistInterval(b.spec, r.DefaultRelistInterval)
	return res
}

// fetchCatalog checks the broker's URL and asks for its catalog.
// It returns false, with the result to return, when the request was not
// sent or has not been answered yet.
func (r *BrokerReconciler) fetchCatalog(ctx context.Context, b brokerAccess) (brokercalls.Result[*osb.CatalogResponse], stepresult.Result, bool) {
	var none brokercalls.Result[*osb.CatalogResponse]
	if r.URLPolicy != nil {
		if err := r.URLPolicy.Check(ctx, b.spec.URL); err != nil {
			// A flag change means a restart. A DNS change is noticed at the
			// next relist period.
			return none, r.refused(b, scv1beta1.ReasonErrorBrokerURLNotAllowed, err.Error()), false
		}
	}
	c, err := r.Pool.Client(ctx, b.conn)
	if err != nil {
		var ce *brokerclient.CredentialsError
		if errors.As(err, &ce) {
			// v0.3's reasons: the condition says the catalog could not be
			// fetched, the event why.
			msg := scv1beta1.MessageErrorGettingAuthCredentials + ce.Error()
			r.Recorder.Eventf(b.obj, nil, corev1.EventTypeWarning, scv1beta1.ReasonErrorGettingAuthCredentials, "FetchCatalog", "%s", msg)
			return none, stepresult.Retry(scv1beta1.ReasonErrorFetchingCatalog, msg, err), false
		}
		return none, stepresult.Retry(scv1beta1.ReasonErrorFetchingCatalog, scv1beta1.MessageErrorFetchingCatalog+brokerop.Describe(b.spec.URL, err), err), false
	}
	// The limits apply while the catalog is read, inside the call: a
	// hostile catalog costs its bounded read off the workers, like any
	// other answer.
	limits := r.catalogLimits(b.scope)
	out, ok := brokercalls.Do(b.calls.Runner, b.calls.Call(b.obj, callCatalog, b.conn.Key, b.obj.GetGeneration()),
		func(ctx context.Context) (*osb.CatalogResponse, error) { return c.GetCatalogWithin(ctx, limits) })
	if !ok {
		return out, stepresult.AwaitAnswer(), false
	}
	return out, stepresult.Nothing(), true
}

// applyCatalog turns the broker's answer into classes and plans and the
// broker's status.
func (r *BrokerReconciler) applyCatalog(ctx context.Context, b brokerAccess, out brokercalls.Result[*osb.CatalogResponse], now metav1.Time) stepresult.Result {
	cat, err := out.Value, out.Err
	// The decoded catalog is charged to the catalog memory budget until
	// it is applied.
	defer cat.Release()
	if err != nil {
		var le *osb.CatalogLimitError
		if errors.As(err, &le) {
			// The controller's own limit refused it: backoff retries
			// would fetch the same catalog again. The next relist, or a
			// spec change, tries again. Nothing is synced, so the
			// classes and plans of the last good catalog stay.
			return r.refused(b, scv1beta1.ReasonErrorFetchingCatalog, scv1beta1.MessageErrorFetchingCatalog+catalogLimitMessage(le, b.scope))
		}
		var be *osb.CatalogBudgetError
		if errors.As(err, &be) {
			// Only a flag change helps, and it means a restart.
			return r.refused(b, scv1beta1.ReasonErrorFetchingCatalog, fmt.Sprintf("Error fetching catalog: %s; the rest was not read and the catalog was not applied (the budget is set by the catalog-controller flag --%s)",
				be.Problem(), FlagCatalogMemoryBudget))
		}
		var ice *osb.InvalidCatalogError
		if errors.As(err, &ice) {
			return stepresult.Retry(scv1beta1.ReasonErrorSyncingCatalog, scv1beta1.MessageInvalidCatalog+err.Error(), err)
		}
		var ue *brokerurl.Error
		if errors.As(err, &ue) {
			// The name now resolves somewhere the policy refuses.
			return stepresult.Retry(scv1beta1.ReasonErrorBrokerURLNotAllowed, ue.Error(), err)
		}
		return stepresult.Retry(scv1beta1.ReasonErrorFetchingCatalog, scv1beta1.MessageErrorFetchingCatalog+brokerop.Describe(b.spec.URL, err), err)
	}
	classes, err := catalogspec.Convert(cat.Services)
	if err != nil {
		return stepresult.Retry(scv1beta1.ReasonErrorSyncingCatalog, scv1beta1.MessageInvalidCatalog+err.Error(), err)
	}
	if classes, err = catalogspec.Restrict(classes, b.spec.CatalogRestrictions); err != nil {
		// Only a spec change can fix this, and a spec change triggers a
		// new reconcile: no retry.
		return stepresult.Stall(scv1beta1.ReasonErrorInvalidCatalogRestrictions, err.Error())
	}
	res, err := r.sync(ctx, b, classes)
	if err != nil {
		return stepresult.Retry(scv1beta1.ReasonErrorSyncingCatalog, scv1beta1.MessageErrorSyncingCatalog+err.Error(), err)
	}

	b.status.LastCatalogRetrievalTime = &now
	b.status.CatalogConflicts = res.conflicts
	message := scv1beta1.MessageFetchedCatalog
	if n := len(res.conflicts); n > 0 {
		message += fmt.Sprintf(" %d entries were skipped because another broker already offers the same IDs (see status.catalogConflicts).", n)
		r.Recorder.Eventf(b.obj, nil, corev1.EventTypeWarning, scv1beta1.ReasonCatalogConflict, "FetchCatalog",
			"%d catalog entries skipped: %s %q is already offered by %s", n, res.conflicts[0].Kind, res.conflicts[0].ExternalID, res.conflicts[0].OwnerBroker)
	}
	transition := b.status.SetCondition(scv1beta1.ServiceBrokerConditionReady, scv1beta1.ConditionTrue, scv1beta1.ReasonFetchedCatalog, message, now)
	if transition || res.changed() {
		r.Recorder.Eventf(b.obj, nil, corev1.EventTypeNormal, scv1beta1.ReasonFetchedCatalog, "FetchCatalog",
			"Fetched catalog: %d classes and %d plans; %d created, %d updated, %d marked removed, %d deleted",
			res.classes, res.plans, res.created, res.updated, res.removed, res.deleted)
	}
	log.FromContext(ctx).V(1).Info("catalog applied", "classes", res.classes, "plans", res.plans, "created", res.created,
		"updated", res.updated, "removed", res.removed, "deleted", res.deleted, "conflicts", len(res.conflicts))
	// The success is written here, not by the mapper: its Event counts
	// what changed, and is recorded on a change of the catalog too.
	if b.spec.RelistBehavior == scv1beta1.ServiceBrokerRelistBehaviorManual {
		return stepresult.Nothing()
	}
	return stepresult.Result{After: relistInterval(b.spec, r.DefaultRelistInterval)}
}

func (r *BrokerReconciler) catalogLimits(s brokerScope) osb.CatalogLimits {
	if s.namespace != "" {
		return r.NamespacedCatalogLimits
	}
	return r.ClusterCatalogLimits
}

// catalogLimitMessage says which limit a catalog passed, where, and which
// flag sets it: a tenant cannot change it, but can tell the cluster admin
// exactly what to raise, or fix the broker.
func catalogLimitMessage(e *osb.CatalogLimitError, s brokerScope) string {
	flag, kind := FlagClusterCatalogLimits, "ClusterServiceBrokers"
	if s.namespace != "" {
		flag, kind = FlagNamespacedCatalogLimits, "ServiceBrokers"
	}
	return fmt.Sprintf("%s; the rest was not read and the catalog was not applied (the limit for %s is set by the catalog-controller flag --%s=%s=%d)",
		e.Problem(), kind, flag, e.Limit, e.Max)
}

func statusOf(o client.Object) any {
	switch o := o.(type) {
	case *scv1beta1.ClusterServiceBroker:
		return o.Status
	case *scv1beta1.ServiceBroker:
		return o.Status
	}
	return nil
}

type syncResult struct {
	classes, plans                     int
	created, updated, removed, deleted int
	conflicts                          []scv1beta1.CatalogConflict
}

// catalogConflict records an entry skipped for another broker's. Its ID
// and name are the broker's text, copied into a status and an Event that
// the broker's owner reads: cleaned like every broker text.
func catalogConflict(kind, externalID, externalName, owner string) scv1beta1.CatalogConflict {
	return scv1beta1.CatalogConflict{Kind: kind, ExternalID: brokertext.Clean(externalID, maxConflictText),
		ExternalName: brokertext.Clean(externalName, maxConflictText), OwnerBroker: owner}
}

// maxConflictText bounds an ID or a name in a catalog conflict: OSB IDs are
// GUIDs and names are short.
const maxConflictText = 256

func (s syncResult) changed() bool {
	return s.created+s.updated+s.removed+s.deleted > 0
}

// sync makes the cluster's classes and plans of this broker match the
// catalog. Objects keep the names they have (v0.3 may have named them
// differently); an object of another broker with the name an entry would
// take is never touched: the entry is reported as a conflict instead (v0.3
// failed the whole relist there, issue 802).
func (r *BrokerReconciler) sync(ctx context.Context, b brokerAccess, classes []catalogspec.Class) (syncResult, error) {
	var res syncResult
	s, me := b.scope, b.obj.GetName()
	existingClasses, err := s.list(ctx, r.Client, s.classList())
	if err != nil {
		return res, err
	}
	existingPlans, err := s.list(ctx, r.Client, s.planList())
	if err != nil {
		return res, err
	}
	classIdx, planIdx := indexCatalog(existingClasses, me), indexCatalog(existingPlans, me)
	keep := map[string]bool{}
	for _, c := range classes {
		name := classIdx.nameFor(c.Name, c.Spec.ExternalID)
		if owner, taken := classIdx.takenBy(name, me); taken {
			res.conflicts = append(res.conflicts, catalogConflict(s.classKind, c.Spec.ExternalID, c.Spec.ExternalName, owner))
			continue
		}
		spec := c.Spec
		labels := map[string]string{
			scv1beta1.LabelExternalID:   scv1beta1.LabelValue(spec.ExternalID),
			scv1beta1.LabelExternalName: scv1beta1.LabelValue(spec.ExternalName),
			s.brokerLabel:               scv1beta1.LabelValue(me),
		}
		if err := r.upsert(ctx, b, &res, classIdx.byName[name], s.newClass, name, labels, func(f catalogFields) { *f.class = spec; *f.broker = me }); err != nil {
			return res, err
		}
		keep["class/"+name] = true
		res.classes++
		className := name
		for _, p := range c.Plans {
			pname := planIdx.nameFor(p.Name, p.Spec.ExternalID)
			if owner, taken := planIdx.takenBy(pname, me); taken {
				res.conflicts = append(res.conflicts, catalogConflict(s.planKind, p.Spec.ExternalID, p.Spec.ExternalName, owner))
				continue
			}
			pspec := p.Spec
			plabels := map[string]string{
				scv1beta1.LabelExternalID:   scv1beta1.LabelValue(pspec.ExternalID),
				scv1beta1.LabelExternalName: scv1beta1.LabelValue(pspec.ExternalName),
				s.brokerLabel:               scv1beta1.LabelValue(me),
				s.classRefLabel:             scv1beta1.LabelValue(className),
			}
			if err := r.upsert(ctx, b, &res, planIdx.byName[pname], s.newPlan, pname, plabels, func(f catalogFields) {
				*f.plan = pspec
				*f.broker = me
				*f.classRef = className
			}); err != nil {
				return res, err
			}
			keep["plan/"+pname] = true
			res.plans++
		}
	}
	// Plans before classes, so a class never goes while its plans remain.
	for _, o := range planIdx.owned {
		if !keep["plan/"+o.GetName()] {
			if err := r.retire(ctx, b, &res, o, s.planRefLabel); err != nil {
				return res, err
			}
		}
	}
	for _, o := range classIdx.owned {
		if !keep["class/"+o.GetName()] {
			if err := r.retire(ctx, b, &res, o, s.classRefLabel); err != nil {
				return res, err
			}
		}
	}
	return res, nil
}

// catalogIndex indexes the existing classes or plans of a scope.
type catalogIndex struct {
	byName       map[string]client.Object
	ownedByExtID map[string]client.Object
	owned        []client.Object
}

func indexCatalog(objs []client.Object, me string) catalogIndex {
	idx := catalogIndex{byName: map[string]client.Object{}, ownedByExtID: map[string]client.Object{}}
	for _, o := range objs {
		idx.byName[o.GetName()] = o
		if f := fieldsOf(o); *f.broker == me {
			idx.ownedByExtID[f.externalID()] = o
			idx.owned = append(idx.owned, o)
		}
	}
	return idx
}

// nameFor keeps the name of an object this broker already has for the ID.
func (idx catalogIndex) nameFor(derived, externalID string) string {
	if o, ok := idx.ownedByExtID[externalID]; ok {
		return o.GetName()
	}
	return derived
}

// takenBy tells whether another broker owns the object with that name.
func (idx catalogIndex) takenBy(name, me string) (string, bool) {
	o, ok := idx.byName[name]
	if !ok {
		return "", false
	}
	owner := *fieldsOf(o).broker
	return owner, owner != me
}

// upsert creates the object or updates it when the catalog changed it; an
// unchanged catalog costs no API writes.
func (r *BrokerReconciler) upsert(ctx context.Context, b brokerAccess, res *syncResult, existing client.Object, newObj func() client.Object, name string, labels map[string]string, set func(catalogFields)) error {
	if existing == nil {
		o := newObj()
		o.SetName(name)
		o.SetNamespace(b.scope.namespace)
		o.SetLabels(labels)
		o.SetOwnerReferences([]metav1.OwnerReference{ownerRef(b)})
		set(fieldsOf(o))
		if err := r.Client.Create(ctx, o); err != nil {
			return fmt.Errorf("creating %s: %w", name, err)
		}
		res.created++
		return nil
	}
	o := existing.DeepCopyObject().(client.Object)
	set(fieldsOf(o))
	l := o.GetLabels()
	if l == nil {
		l = map[string]string{}
	}
	for k, v := range labels {
		l[k] = v
	}
	o.SetLabels(l)
	if !hasOwner(o, b.obj) {
		o.SetOwnerReferences(append(o.GetOwnerReferences(), ownerRef(b)))
	}
	if !statuspatch.SameJSON(existing, o) {
		if err := r.Client.Update(ctx, o); err != nil {
			return fmt.Errorf("updating %s: %w", name, err)
		}
		res.updated++
	}
	if f := fieldsOf(o); *f.removed {
		*f.removed = false
		if err := r.Client.Status().Update(ctx, o); err != nil {
			return fmt.Errorf("marking %s as back in the catalog: %w", name, err)
		}
		res.updated++
	}
	return nil
}

// retire handles an entry gone from the catalog: it is marked removed and
// deleted once no instance uses it, so running instances keep their class
// and plan.
func (r *BrokerReconciler) retire(ctx context.Context, b brokerAccess, res *syncResult, o client.Object, instanceLabel string) error {
	f := fieldsOf(o)
	if !*f.removed {
		*f.removed = true
		if err := r.Client.Status().Update(ctx, o); err != nil {
			return fmt.Errorf("marking %s as removed from the catalog: %w", o.GetName(), err)
		}
		res.removed++
	}
	used, err := b.scope.inUse(ctx, r.Client, instanceLabel, o.GetName())
	if err != nil || used {
		return err
	}
	if err := r.Client.Delete(ctx, o); err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("deleting %s: %w", o.GetName(), err)
	}
	res.deleted++
	return nil
}

// finalize deletes the broker's plans and classes, then lets the broker go.
// Owner references alone would leave this to the garbage collector, which
// is slower and absent from some test clusters.
func (r *BrokerReconciler) finalize(ctx context.Context, b brokerAccess) error {
	if !controllerutil.ContainsFinalizer(b.obj, scv1beta1.FinalizerServiceCatalog) {
		return nil
	}
	me := b.obj.GetName()
	for _, list := range []func() client.ObjectList{b.scope.planList, b.scope.classList} {
		objs, err := b.scope.list(ctx, r.Client, list())
		if err != nil {
			return err
		}
		for _, o := range objs {
			if *fieldsOf(o).broker != me {
				continue
			}
			if err := r.Client.Delete(ctx, o); err != nil && !apierrors.IsNotFound(err) {
				return fmt.Errorf("deleting %s: %w", o.GetName(), err)
			}
		}
	}
	r.Pool.Forget(b.conn.Key)
	b.calls.Forget(b.obj)
	b.calls.Runner.ForgetBroker(b.conn.Key)
	controllerutil.RemoveFinalizer(b.obj, scv1beta1.FinalizerServiceCatalog)
	if err := r.Client.Update(ctx, b.obj); err != nil {
		return err
	}
	reason, msg := scv1beta1.ReasonDeletedSuccessfully, fmt.Sprintf("The servicebroker %s was deleted successfully.", me)
	if b.scope.brokerKind == "ClusterServiceBroker" {
		reason, msg = scv1beta1.ReasonDeletedClusterServiceBrokerSuccessfully, fmt.Sprintf("The broker %s was deleted successfully.", me)
	}
	r.Recorder.Eventf(b.obj, nil, corev1.EventTypeNormal, reason, "Delete", "%s", msg)
	return nil
}

func ownerRef(b brokerAccess) metav1.OwnerReference {
	return metav1.OwnerReference{
		APIVersion:         scv1beta1.GroupVersion.String(),
		Kind:               b.scope.brokerKind,
		Name:               b.obj.GetName(),
		UID:                b.obj.GetUID(),
		Controller:         ptr.To(true),
		BlockOwnerDeletion: ptr.To(false),
	}
}

func hasOwner(o, owner client.Object) bool {
	for _, ref := range o.GetOwnerReferences() {
		if ref.UID == owner.GetUID() {
			return true
		}
	}
	return false
}
