package controller

import (
	"context"
	"errors"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	"fmt"
	scv1beta1 "github.com/svcat-io/svcat/api/v1beta1"
	"github.com/svcat-io/svcat/internal/controller/brokercalls"
	"github.com/svcat-io/svcat/internal/controller/brokerclient"
	"github.com/svcat-io/svcat/internal/controller/freshness"
	"github.com/svcat-io/svcat/internal/controller/idclaim"
	"github.com/svcat-io/svcat/internal/controller/originid"
	"github.com/svcat-io/svcat/internal/controller/osbparams"
	"github.com/svcat-io/svcat/internal/controller/osbrequest"
	"github.com/svcat-io/svcat/internal/controller/paramwatch"
	"github.com/svcat-io/svcat/internal/controller/pollschedule"
	"github.com/svcat-io/svcat/internal/controller/statuspatch"
	"github.com/svcat-io/svcat/internal/controller/stepresult"
	"github.com/svcat-io/svcat/internal/osb"
	"github.com/svcat-io/svcat/internal/planschema"
)

// InstanceReconciler provisions, updates and deprovisions ServiceInstances.
type InstanceReconciler struct {
	Client    client.Client
	APIReader client.Reader
	Pool      *brokerclient.Pool
	Recorder  events.EventRecorder
	Schemas   *planschema.Cache
	ClusterID string
	Now       func() time.Time
	// Claims gives each external ID one owner; no broker call is made for
	// an instance that does not hold its ID's claim.
	Claims *idclaim.Claims
	// Identity says whether spec.userInfo may be sent as the originating
	// identity: only when the API server wrote it.
	Identity *originid.Gate
	// Params watches the Secrets named in parametersFrom, so that their
	// changes reach the broker as updates; nil watches none.
	Params *paramwatch.Watcher

	polls pollschedule.Schedule
	// calls runs the broker requests off the reconcile workers.
	calls *brokercalls.Site
	// fresh spares uncached reads of objects this reconciler just wrote;
	// Setup wires it to Client's writes.
	fresh *freshness.Tracker
	// markers remembers failed syncs of the share markers.
	markers markerRetries
}

// +kubebuilder:rbac:groups=servicecatalog.k8s.io,resources=serviceinstances,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=servicecatalog.k8s.io,resources=serviceinstances/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=servicecatalog.k8s.io,resources=serviceinstances/finalizers,verbs=update
// +kubebuilder:rbac:groups=servicecatalog.k8s.io,resources=servicebindings,verbs=get;list;watch
// +kubebuilder:rbac:groups="",resources=namespaces,verbs=get;list;watch
//
// parametersFrom Secrets are read (get) when the parameters are built, and
// each one named is watched (list and watch, narrowed to its name by a field
// selector; see package paramwatch). The binding reconciler needs the same
// verbs and more for its own Secrets, so the role does not grow.
// +kubebuilder:rbac:groups="",resources=secrets,verbs=get;list;watch

func (r *InstanceReconciler) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

// instanceStep is one reconcile of one instance: the object, its original
// for the status patch, and what was resolved.
type instanceStep struct {
	inst *scv1beta1.ServiceInstance
	res  *resolved
	now  metav1.Time
	// discard drops the status changes: they were made from a cached
	// object older than the API server's, or the broker has not answered.
	discard bool
	// gen is the generation the operation ending now was sent for.
	gen int64
	// ended: an operation ended in this step, sent with parameters read
	// from Secrets that may have changed while it ran.
	ended bool
}

// Reconcile drives one instance one step towards its spec. Every step can be
// repeated after a crash: the externalID is persisted before any broker
// call, and the broker answers a repeated request idempotently.
func (r *InstanceReconciler) Reconcile(ctx context.Context, req ctrl.Request) (result ctrl.Result, retErr error) {
	inst := &scv1beta1.ServiceInstance{}
	if err := r.Client.Get(ctx, req.NamespacedName, inst); err != nil {
		if apierrors.IsNotFound(err) {
			r.trackSecrets(req.NamespacedName, nil)
		}
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if !inst.DeletionTimestamp.IsZero() && !controllerutil.ContainsFinalizer(inst, scv1beta1.FinalizerServiceCatalog) {
		return ctrl.Result{}, nil
	}

	orig := inst.DeepCopy()
	s := &instanceStep{inst: inst, now: metav1.NewTime(r.now()), gen: inst.Generation}
	defer func() { statuspatch.Patch(ctx, r.Client, inst, orig, orig.Status, inst.Status, s.discard, &retErr) }()

	return stepresult.Apply(r.reconcile(ctx, s), instanceStatus{s}, r.Recorder, inst, &s.discard)
}

func (r *InstanceReconciler) reconcile(ctx context.Context, s *instanceStep) stepresult.Result {
	inst := s.inst
	if inst.Spec.UserProvided != nil {
		return r.reconcileUserProvided(ctx, s) // no broker (userprovided.go)
	}
	if !inst.DeletionTimestamp.IsZero() {
		r.trackSecrets(client.ObjectKeyFromObject(inst), nil)
		return r.reconcileDelete(ctx, s)
	}
	r.noteUnwatchedSecrets(s, r.trackSecrets(client.ObjectKeyFromObject(inst), parameterSecrets(inst.Spec.ParametersFrom)))
	res, err := resolve(ctx, r.Client, inst)
	if err != nil {
		var re *resolveError
		if errors.As(err, &re) {
			return stepresult.Retry(re.reason, re.message, err)
		}
		return stepresult.Error(err)
	}
	s.res = res
	inst.Status.UserSpecifiedClassName, inst.Status.UserSpecifiedPlanName = res.userClass, res.userPlan
	if err := r.ensureSpec(ctx, s); err != nil {
		return stepresult.Error(err)
	}
	if refused, held := r.holdClaim(ctx, s); !held {
		return refused
	}
	s.gen = inst.Generation // ensureSpec may have made a new one
	out := r.step(ctx, s)
	noteMaintenance(s)
	shared := inst.Status.SharedWith
	noteSharing(s)
	if err := r.shareMarkers(ctx, inst, shared); err != nil && out.Err == nil {
		out = out.WithErr(err)
	}
	if out.Err == nil && s.gen != inst.Generation && out.After == 0 && !out.Requeue {
		// A broker's late answer was applied for the generation it was
		// sent for; the newer spec is acted on next.
		out.Requeue = true
	}
	if out.Err == nil && s.ended && len(inst.Spec.ParametersFrom) > 0 && out.After == 0 && !out.Requeue {
		// A Secret's change while the operation ran was seen by a
		// reconcile that could only poll: the next one compares the
		// parameters' checksum again.
		out.Requeue = true
	}
	return out
}

// trackSecrets tells the watcher which Secrets the instance names, and
// returns those left unwatched by a limit.
func (r *InstanceReconciler) trackSecrets(inst client.ObjectKey, names []string) paramwatch.Unwatched {
	if r.Params != nil {
		return r.Params.Track(inst, names)
	}
	return paramwatch.Unwatched{}
}

// parameterSecrets are the names of the Secrets parametersFrom reads.
func parameterSecrets(from []scv1beta1.ParametersFromSource) []string {
	var names []string
	for _, src := range from {
		if src.SecretKeyRef != nil {
			names = append(names, src.SecretKeyRef.Name)
		}
	}
	return names
}

func (r *InstanceReconciler) step(ctx context.Context, s *instanceStep) stepresult.Result {
	st := &s.inst.Status
	switch {
	case st.AsyncOpInProgress:
		return r.poll(ctx, s)
	case st.OrphanMitigationInProgress:
		return r.deprovision(ctx, s)
	case st.ProvisionStatus != scv1beta1.ServiceInstanceProvisionStatusProvisioned:
		return r.provision(ctx, s)
	default:
		return r.update(ctx, s)
	}
}

// ensureSpec persists, in one write, the finalizer and externalID (before
// anything is sent to a broker, so a crash can never leave a broker
// instance the cluster has no ID for), and the resolved class and plan
// references and lookup labels, as v0.3's webhook and controller did.
func (r *InstanceReconciler) ensureSpec(ctx context.Context, s *instanceStep) error {
	inst, res := s.inst, s.res
	before := inst.DeepCopy()
	controllerutil.AddFinalizer(inst, scv1beta1.FinalizerServiceCatalog)
	if inst.Spec.ExternalID == "" {
		// The object's own UID: unique, and unknown to anyone before the
		// object existed, so it needs no claim (idclaim.OwnID).
		inst.Spec.ExternalID = string(inst.UID)
	}
	labels := inst.GetLabels()
	if labels == nil {
		labels = map[string]string{}
	}
	if res.scope.namespace == "" {
		inst.Spec.ClusterServiceClassRef = &scv1beta1.ClusterObjectReference{Name: res.className}
		inst.Spec.ClusterServicePlanRef = &scv1beta1.ClusterObjectReference{Name: res.planName}
	} else {
		inst.Spec.ServiceClassRef = &scv1beta1.LocalObjectReference{Name: res.className}
		inst.Spec.ServicePlanRef = &scv1beta1.LocalObjectReference{Name: res.planName}
	}
	labels[res.scope.classRefLabel] = scv1beta1.LabelValue(res.className)
	labels[res.scope.planRefLabel] = scv1beta1.LabelValue(res.planName)
	inst.SetLabels(labels)
	if statuspatch.SameJSON(before.Spec, inst.Spec) && statuspatch.SameJSON(before.Labels, inst.Labels) && statuspatch.SameJSON(before.Finalizers, inst.Finalizers) {
		return nil
	}
	status := inst.Status
	if err := r.Client.Update(ctx, inst); err != nil {
		return err
	}
	inst.Status = status
	return nil
}

// holdClaim makes sure the instance owns its external ID before anything
// is sent to a broker; an instance whose ID another owns gets
// ExternalIDInUse and waits for the claim to be released (a watch on the
// claims brings it back).
func (r *InstanceReconciler) holdClaim(ctx context.Context, s *instanceStep) (stepresult.Result, bool) {
	inst := s.inst
	owned, err := r.Claims.Owns(ctx, r.Client, idclaim.Instance, inst, inst.Spec.ExternalID)
	if err != nil {
		return stepresult.Error(err), false
	}
	if !owned {
		return stepresult.Stall(scv1beta1.ReasonExternalIDInUse, externalIDInUse("ServiceInstance", inst.Spec.ExternalID)), false
	}
	return stepresult.Nothing(), true
}

// externalIDInUse is the condition message of a refused object. It names
// neither the other object nor its namespace: that would tell a tenant
// where the ID they tried lives.
func externalIDInUse(kind, id string) string {
	return fmt.Sprintf(scv1beta1.MessageExternalIDInUseFormat, id, kind, kind, kind)
}

// letGo removes the finalizer, then gives back the external ID's claim.
// What the broker call runner holds for the instance goes with it.
func (r *InstanceReconciler) letGo(ctx context.Context, inst *scv1beta1.ServiceInstance) error {
	r.dropShareMarkers(ctx, inst)
	controllerutil.RemoveFinalizer(inst, scv1beta1.FinalizerServiceCatalog)
	r.calls.Forget(inst)
	if err := r.Client.Update(ctx, inst); err != nil {
		return err
	}
	return r.Claims.Release(ctx, idclaim.Instance, inst.Spec.ExternalID, inst.UID)
}

// cacheBehind reports whether the cached obj is older than the API
// server's: the step's status changes are then dropped and the object is
// reconciled again shortly.
func cacheBehind(ctx context.Context, f *freshness.Tracker, c client.Reader, obj client.Object) (stepresult.Result, bool) {
	old, err := f.Stale(ctx, c, obj)
	if apierrors.IsNotFound(err) {
		// Gone from the API server: this reconcile saw a cached copy of an
		// object whose finalizer was removed after its last broker call.
		return stepresult.CacheBehind(false), true
	}
	if err != nil || old {
		return stepresult.CacheBehind(old).WithErr(err), true
	}
	return stepresult.Nothing(), false
}

// instanceStatus is an instance's status as stepresult.Apply writes it.
type instanceStatus struct{ s *instanceStep }

func (c instanceStatus) SetReady(status scv1beta1.ConditionStatus, reason, message string) bool {
	return c.s.inst.Status.SetCondition(scv1beta1.ServiceInstanceConditionReady, status, reason, message, c.s.now)
}

func (c instanceStatus) SetFailed(reason, message string) {
	c.s.inst.Status.SetCondition(scv1beta1.ServiceInstanceConditionFailed, scv1beta1.ConditionTrue, reason, message, c.s.now)
}

// StartMitigation reports as v0.3 did: the OrphanMitigation condition
// carries the failure that started it, Ready says that the instance is
// being deleted at the broker.
func (c instanceStatus) StartMitigation(reason, message string) (string, string, bool) {
	st := &c.s.inst.Status
	st.OrphanMitigationInProgress = true
	opStatus(st).Supersede()
	st.DeprovisionStatus = scv1beta1.ServiceInstanceDeprovisionStatusRequired
	changed := st.SetCondition(scv1beta1.ServiceInstanceConditionOrphanMitigation, scv1beta1.ConditionTrue, reason, message, c.s.now)
	return scv1beta1.ReasonStartingInstanceOrphanMitigation, scv1beta1.MessageStartingOrphanMitigation, changed
}

// note writes a result the step passes through on its way to another.
func (r *InstanceReconciler) note(s *instanceStep, res stepresult.Result) {
	stepresult.Record(res, instanceStatus{s}, r.Recorder, s.inst)
}

// clearFailed drops a Failed condition when a new spec gives the instance
// another chance.
func clearFailed(st *scv1beta1.ServiceInstanceStatus) {
	st.RemoveCondition(scv1beta1.ServiceInstanceConditionFailed)
}

func (r *InstanceReconciler) client(ctx context.Context, s *instanceStep) (*osb.Client, error) {
	return r.Pool.Client(ctx, s.res.broker)
}

func (r *InstanceReconciler) env(ctx context.Context, ns string) (osbrequest.Env, error) {
	n := &corev1.Namespace{}
	if err := r.Client.Get(ctx, client.ObjectKey{Name: ns}, n); err != nil {
		return osbrequest.Env{}, err
	}
	return osbrequest.Env{ClusterID: r.ClusterID, NamespaceUID: string(n.UID)}, nil
}

// buildParams merges and validates the parameters. A problem the user must
// fix is reported and not retried (a spec change triggers the next try); a
// missing Secret is retried since it may yet be created.
func (r *InstanceReconciler) buildParams(ctx context.Context, s *instanceStep, schema *runtime.RawExtension) (osbparams.Result, stepresult.Result, bool) {
	inst := s.inst
	return buildParams(r.Schemas, inst.Spec.Parameters, inst.Spec.ParametersFrom, secretValueReader(ctx, r.APIReader, inst.Namespace), schema, "schema")
}

// buildParams merges and validates an instance's or a binding's
// parameters; false with the result to return when they cannot be sent.
func buildParams(schemas *planschema.Cache, raw *runtime.RawExtension, from []scv1beta1.ParametersFromSource,
	read func(name, key string) ([]byte, error), schema *runtime.RawExtension, which string) (osbparams.Result, stepresult.Result, bool) {
	p, err := osbparams.Build(raw, from, read)
	if err != nil {
		msg := scv1beta1.MessageErrorBuildingParameters + err.Error()
		var pe *osbparams.Error
		if errors.As(err, &pe) && !pe.Retryable() {
			return p, stepresult.Stall(scv1beta1.ReasonErrorWithParameters, msg), false
		}
		return p, stepresult.Retry(scv1beta1.ReasonErrorWithParameters, msg, err), false
	}
	if err := schemas.Validate(schema, p.Parameters); err != nil {
		return p, stepresult.Stall(schemaProblem(err, which)), false
	}
	return p, stepresult.Nothing(), true
}

// secretValueReader reads one key of a Secret in ns for parametersFrom,
// uncached: these are the user's Secrets, not ones the controller watches.
func secretValueReader(ctx context.Context, c client.Reader, ns string) func(name, key string) ([]byte, error) {
	return func(name, key string) ([]byte, error) {
		s := &corev1.Secret{}
		if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, s); err != nil {
			return nil, err
		}
		v, ok := s.Data[key]
		if !ok {
			return nil, osbparams.ErrKeyNotFound
		}
		return v, nil
	}
}

// schemaProblem words a failed schema check: the user's parameters, or the
// broker's schema itself (which no change of parameters can fix).
func schemaProblem(err error, which string) (reason, message string) {
	var se *planschema.SchemaError
	if errors.As(err, &se) {
		return scv1beta1.ReasonErrorInvalidPlanSchema, fmt.Sprintf(scv1beta1.MessageErrorInvalidPlanSchemaFormat, which, err)
	}
	return scv1beta1.ReasonInvalidParameters, fmt.Sprintf(scv1beta1.MessageInvalidParametersFormat, which, err)
}
