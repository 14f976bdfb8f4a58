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

	scv1beta1 "github.com/svcat-io/svcat/api/v1beta1"
	"github.com/svcat-io/svcat/internal/controller/bindsecret"
	"github.com/svcat-io/svcat/internal/controller/brokercalls"
	"github.com/svcat-io/svcat/internal/controller/brokerclient"
	"github.com/svcat-io/svcat/internal/controller/brokerop"
	"github.com/svcat-io/svcat/internal/controller/freshness"
	"github.com/svcat-io/svcat/internal/controller/idclaim"
	"github.com/svcat-io/svcat/internal/controller/originid"
	"github.com/svcat-io/svcat/internal/controller/osbrequest"
	"github.com/svcat-io/svcat/internal/controller/pollschedule"
	"github.com/svcat-io/svcat/internal/controller/stepresult"
	"github.com/svcat-io/svcat/internal/osb"
	"github.com/svcat-io/svcat/internal/planschema"
)

// bindingInstanceField indexes bindings by the instance they bind to.
const bindingInstanceField = "spec.instanceRef.name"

// BindingReconciler binds and unbinds ServiceBindings and keeps their
// Secrets.
type BindingReconciler struct {
	Client    client.Client
	APIReader client.Reader
	Pool      *brokerclient.Pool
	Recorder  events.EventRecorder
	Schemas   *planschema.Cache
	ClusterID string
	Now       func() time.Time
	// Claims gives each binding external ID one owner (see
	// InstanceReconciler.Claims).
	Claims *idclaim.Claims
	// Identity says whether spec.userInfo may be sent as the originating
	// identity.
	Identity *originid.Gate
	// RotationGracePeriod, RotateBeforeExpiry and RotationRetryDelay are
	// the rotation settings (binding_rotation.go); zero: the defaults.
	RotationGracePeriod time.Duration
	RotateBeforeExpiry  float64
	RotationRetryDelay  time.Duration

	polls pollschedule.Schedule
	// calls runs the broker requests off the reconcile workers.
	calls *brokercalls.Site
	// fresh spares uncached reads of objects this reconciler just wrote;
	// Setup wires it to Client's writes.
	fresh *freshness.Tracker
}

// +kubebuilder:rbac:groups=servicecatalog.k8s.io,resources=servicebindings,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=servicecatalog.k8s.io,resources=servicebindings/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=servicecatalog.k8s.io,resources=servicebindings/finalizers,verbs=update
// +kubebuilder:rbac:groups="",resources=secrets,verbs=get;list;watch;create;update;patch;delete

type bindingStep struct {
	b    *scv1beta1.ServiceBinding
	inst *scv1beta1.ServiceInstance
	res  *resolved
	now  metav1.Time
	// discard drops the status changes (see instanceStep).
	discard bool
	// meta is the broker's metadata of the credentials being written.
	meta *osb.BindingMetadata
}

func (r *BindingReconciler) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

// Reconcile drives one binding one step towards its spec.
func (r *BindingReconciler) Reconcile(ctx context.Context, req ctrl.Request) (result ctrl.Result, retErr error) {
	b := &scv1beta1.ServiceBinding{}
	if err := r.Client.Get(ctx, req.NamespacedName, b); err != nil {
		if apierrors.IsNotFound(err) {
			observeRotation(req.String(), nil, nil, false, true)
		}
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if !b.DeletionTimestamp.IsZero() && !controllerutil.ContainsFinalizer(b, scv1beta1.FinalizerServiceCatalog) {
		observeRotation(req.String(), nil, nil, false, true)
		return ctrl.Result{}, nil
	}
	if b.DeletionTimestamp.IsZero() {
		changed := controllerutil.AddFinalizer(b, scv1beta1.FinalizerServiceCatalog)
		if b.Spec.ExternalID == "" {
			// Its own UID, as for instances (idclaim.OwnID).
			b.Spec.ExternalID, changed = string(b.UID), true
		}
		if b.Spec.SecretName == "" {
			b.Spec.SecretName, changed = b.Name, true
		}
		// Persisted before any broker call: a crash cannot lose the ID. The
		// reconcile goes on: a finalizer alone does not change the
		// generation, so the write would not trigger another.
		if changed {
			if err := r.Client.Update(ctx, b); err != nil {
				return ctrl.Result{}, err
			}
		}
	}
	orig := b.DeepCopy()
	s := &bindingStep{b: b, now: metav1.NewTime(r.now())}
	defer func() {
		written := patchBindingStatus(ctx, r.Client, b, orig, s.discard, &retErr)
		observeRotation(req.String(), &orig.Status, &b.Status, written, false)
	}()
	return stepresult.Apply(r.reconcile(ctx, s), bindingStatus{s}, r.Recorder, b, &s.discard)
}

func (r *BindingReconciler) reconcile(ctx context.Context, s *bindingStep) stepresult.Result {
	b := s.b
	if !b.DeletionTimestamp.IsZero() {
		return r.reconcileDelete(ctx, s)
	}
	st := &b.Status
	if b.SharedInstance() {
		if out, done := r.reconcileUnshared(ctx, s); done {
			return out
		}
	}
	if waiting, ok := r.loadInstance(ctx, s); !ok {
		return waiting
	}
	if s.inst.Spec.UserProvided != nil {
		return r.bindUserProvided(ctx, s) // no broker (userprovided.go)
	}
	if refused, held := r.holdClaim(ctx, s); !held {
		return refused
	}
	switch {
	case st.AsyncOpInProgress:
		return r.poll(ctx, s)
	case st.OrphanMitigationInProgress:
		return r.unbind(ctx, s)
	case st.UnbindStatus == scv1beta1.ServiceBindingUnbindStatusRequired && st.ExternalProperties != nil:
		res, busy, after := r.rotate(ctx, s)
		if busy {
			return res
		}
		if res = r.keepSecret(ctx, s); res.After == 0 && !res.Requeue && res.Err == nil {
			res.After = after
		}
		return res
	}
	return r.bind(ctx, s)
}

// bindingStatus is a binding's status as stepresult.Apply writes it.
type bindingStatus struct{ s *bindingStep }

func (c bindingStatus) SetReady(status scv1beta1.ConditionStatus, reason, message string) bool {
	return c.s.b.Status.SetCondition(scv1beta1.ServiceBindingConditionReady, status, reason, message, c.s.now)
}

func (c bindingStatus) SetFailed(reason, message string) {
	c.s.b.Status.SetCondition(scv1beta1.ServiceBindingConditionFailed, scv1beta1.ConditionTrue, reason, message, c.s.now)
}

// StartMitigation: bindings have no OrphanMitigation condition (v0.3's
// had none); Ready carries the failure.
func (c bindingStatus) StartMitigation(_, message string) (string, string, bool) {
	st := &c.s.b.Status
	st.OrphanMitigationInProgress = true
	bindingOpStatus(st).Supersede()
	st.UnbindStatus = scv1beta1.ServiceBindingUnbindStatusRequired
	return scv1beta1.ReasonServiceBindingNeedsOrphanMitigation, message + scv1beta1.MessageServiceBindingNeedsOrphanMitigationSuffix, false
}

// note writes a result the step passes through on its way to another.
func (r *BindingReconciler) note(s *bindingStep, res stepresult.Result) {
	stepresult.Record(res, bindingStatus{s}, r.Recorder, s.b)
}

// holdClaim is InstanceReconciler.holdClaim for bindings.
func (r *BindingReconciler) holdClaim(ctx context.Context, s *bindingStep) (stepresult.Result, bool) {
	b := s.b
	owned, err := r.Claims.Owns(ctx, r.Client, idclaim.Binding, b, b.Spec.ExternalID)
	if err != nil {
		return stepresult.Error(err), false
	}
	if !owned {
		return stepresult.Stall(scv1beta1.ReasonExternalIDInUse, externalIDInUse("ServiceBinding", b.Spec.ExternalID)), false
	}
	return stepresult.Nothing(), true
}

// loadInstance finds the instance and its class and plan; false, with
// the result to return, when the binding has to wait for them.
func (r *BindingReconciler) loadInstance(ctx context.Context, s *bindingStep) (stepresult.Result, bool) {
	// A deletion unbinds what a share made, shared or not any more.
	inst, refused := r.findInstance(ctx, s.b, !s.b.DeletionTimestamp.IsZero())
	if inst == nil {
		return refused, false
	}
	if inst.Spec.UserProvided != nil {
		s.inst = inst // no class or plan to resolve
		return stepresult.Nothing(), true
	}
	res, err := resolve(ctx, r.Client, inst)
	if err != nil {
		var re *resolveError
		if errors.As(err, &re) {
			return stepresult.Wait(scv1beta1.ReasonErrorInstanceNotReady, scv1beta1.MessageInstanceClassOrPlanNotFound+re.message, 0), false
		}
		return stepresult.Error(err), false
	}
	s.inst, s.res = inst, res
	return stepresult.Nothing(), true
}

func instanceReady(inst *scv1beta1.ServiceInstance) bool {
	c := inst.Status.GetCondition(scv1beta1.ServiceInstanceConditionReady)
	return inst.Status.ProvisionStatus == scv1beta1.ServiceInstanceProvisionStatusProvisioned && c != nil && c.Status == scv1beta1.ConditionTrue
}

// bindingSent is what a bind or unbind request carried that the status
// records with its answer (see instanceSent).
type bindingSent struct {
	props   *scv1beta1.ServiceBindingPropertiesState
	started metav1.Time
}

func (r *BindingReconciler) sent(s *bindingStep, op osb.Operation, props *scv1beta1.ServiceBindingPropertiesState) bindingSent {
	st := &s.b.Status
	return bindingSent{props: props, started: brokerop.Started(op, st.OperationStartTime, st.OrphanMitigationInProgress, s.now)}
}

// bindingTexts are the binding's words for its operations, v0.3's.
var bindingTexts = map[osb.Operation]brokerop.Texts{
	osb.OpBind: {InProgress: scv1beta1.ReasonBinding, InProgressMessage: scv1beta1.MessageBinding,
		CallFailed: scv1beta1.ReasonBindCallFailed, ErrorPrefix: scv1beta1.MessageErrorBinding,
		BrokerFailed: scv1beta1.MessageBrokerFailedToBind, Timeout: scv1beta1.ReasonAsyncOperationTimeout},
	osb.OpUnbind: {InProgress: scv1beta1.ReasonUnbinding, InProgressMessage: scv1beta1.MessageUnbinding,
		CallFailed: scv1beta1.ReasonUnbindCallFailed, ErrorPrefix: scv1beta1.MessageErrorUnbinding,
		BrokerFailed: scv1beta1.MessageBrokerFailedToUnbind},
}

func bindingOpStatus(st *scv1beta1.ServiceBindingStatus) brokerop.Status {
	return brokerop.Status{Async: &st.AsyncOpInProgress, LastOperation: &st.LastOperation, Started: &st.OperationStartTime}
}

// record writes what was sent into the status, as the operation in
// flight (InstanceReconciler.record for bindings).
func (r *BindingReconciler) record(s *bindingStep, op scv1beta1.ServiceBindingOperation, sent bindingSent) {
	st := &s.b.Status
	st.CurrentOperation = op
	if op == scv1beta1.ServiceBindingOperationBind {
		st.InProgressProperties = sent.props
	}
	bindingOpStatus(st).Begin(sent.started)
}

// accepted records an asynchronous answer to op and schedules its poll.
func (r *BindingReconciler) accepted(s *bindingStep, op osb.Operation, operation string, retryAfter time.Duration) stepresult.Result {
	return bindingTexts[op].Accepted(bindingOpStatus(&s.b.Status), &r.polls, s.b.UID, s.now.Time, r.now(), operation, retryAfter)
}

// failed is the result of op's failed request.
func (r *BindingReconciler) failed(s *bindingStep, op osb.Operation, f brokerop.Failure, err error) stepresult.Result {
	return bindingTexts[op].RequestFailed(f, brokerop.Describe(s.res.broker.Spec.URL, err), err)
}

func (r *BindingReconciler) bind(ctx context.Context, s *bindingStep) stepresult.Result {
	b, inst, res := s.b, s.inst, s.res
	st := &b.Status
	// A request already sent is answered first (see the instance's
	// provision).
	switch out, state := brokercalls.Take[*osb.BindResponse](r.calls.Runner, r.calls.Key(b, callBind)); state {
	case brokercalls.Pending:
		return stepresult.AwaitAnswer()
	case brokercalls.Done:
		return r.bindAnswered(ctx, s, out)
	}
	if st.GetCondition(scv1beta1.ServiceBindingConditionFailed) != nil {
		return stepresult.Nothing() // v0.3 bindings are immutable: a new binding is the retry
	}
	if !inst.DeletionTimestamp.IsZero() {
		return stepresult.Wait(scv1beta1.ReasonErrorInstanceNotReady, fmt.Sprintf(scv1beta1.MessageInstanceBeingDeletedFormat, inst.Name), 0)
	}
	if !instanceReady(inst) {
		// The instance's change triggers the next try.
		return stepresult.Wait(scv1beta1.ReasonErrorInstanceNotReady, fmt.Sprintf(scv1beta1.MessageWaitingForInstanceFormat, inst.Name), 0)
	}
	if !res.bindable() {
		return stepresult.Fail(scv1beta1.ReasonErrorNonbindableServiceClass, fmt.Sprintf(scv1beta1.MessageNonbindableFormat, res.plan.ExternalName, res.class.ExternalName))
	}
	if taken := r.checkSecretFree(ctx, s); taken.Class != stepresult.Unchanged {
		// Retried with backoff: the controller does not watch Secrets it
		// does not own, so it would not notice the Secret go.
		return taken
	}
	p, stop, ok := buildParams(r.Schemas, b.Spec.Parameters, b.Spec.ParametersFrom, secretValueReader(ctx, r.APIReader, b.Namespace),
		res.plan.ServiceBindingCreateParameterSchema, "binding schema")
	if !ok {
		return stop
	}
	ns := &corev1.Namespace{}
	if err := r.Client.Get(ctx, client.ObjectKey{Name: b.Namespace}, ns); err != nil {
		return stepresult.Error(err)
	}
	c, err := r.Pool.Client(ctx, res.broker)
	if err != nil {
		return r.failed(s, osb.OpBind, brokerop.Retry, err)
	}
	props, err := osbrequest.BindingProperties(b, p)
	if err != nil {
		return stepresult.Error(err)
	}
	if res, stale := cacheBehind(ctx, r.fresh, r.APIReader, b); stale {
		return res
	}
	async := res.class.BindingRetrievable
	req := osbrequest.Bind(b, inst, res.class, res.plan, p, osbrequest.Env{ClusterID: r.ClusterID, NamespaceUID: string(ns.UID)}, async)
	req.User = r.Identity.User(req.User, b.CreationTimestamp)
	out, ok := brokercalls.Do(r.calls.Runner, r.calls.Call(b, callBind, res.broker.Key, r.sent(s, osb.OpBind, props)),
		func(ctx context.Context) (*osb.BindResponse, error) { return c.Bind(ctx, req) })
	if !ok {
		return stepresult.AwaitAnswer()
	}
	return r.bindAnswered(ctx, s, out)
}

// bindAnswered applies the broker's answer to a bind request.
func (r *BindingReconciler) bindAnswered(ctx context.Context, s *bindingStep, out brokercalls.Result[*osb.BindResponse]) stepresult.Result {
	st := &s.b.Status
	// From here the broker may hold the binding. This is recorded with the
	// outcome, not written before the request: a deletion finding no
	// unbindStatus recorded unbinds anyway once the instance was
	// provisioned (a broker answers 410 for a binding it never made), so a
	// crash between the request and the status write loses nothing.
	st.UnbindStatus = scv1beta1.ServiceBindingUnbindStatusRequired
	r.record(s, scv1beta1.ServiceBindingOperationBind, out.Sent.(bindingSent))
	resp, err := out.Value, out.Err
	if err != nil {
		f := brokerop.Classify(osb.OpBind, err)
		if f == brokerop.Refused {
			// A 4xx leaves the broker unchanged. A 409 says it holds a
			// different binding under this ID, which is not this object's
			// to unbind (see provisionFailed).
			st.UnbindStatus = scv1beta1.ServiceBindingUnbindStatusNotRequired
			st.CurrentOperation, st.InProgressProperties, st.OperationStartTime = "", nil, nil
		}
		return r.failed(s, osb.OpBind, f, err)
	}
	if resp.Async() {
		return r.accepted(s, osb.OpBind, resp.Operation, resp.RetryAfter)
	}
	s.meta = resp.Metadata
	return r.inject(ctx, s, resp.Credentials)
}

// checkSecretFree refuses to bind when a Secret of that name belongs to
// someone else: overwriting it would destroy their data, and binding first
// would leave credentials with nowhere to go.
func (r *BindingReconciler) checkSecretFree(ctx context.Context, s *bindingStep) stepresult.Result {
	_, res := r.ownSecret(ctx, s.b)
	return res
}

// ownSecret is checkSecretFree that also returns the binding's Secret
// (nil when there is none), for a caller that compares it next.
func (r *BindingReconciler) ownSecret(ctx context.Context, b *scv1beta1.ServiceBinding) (*corev1.Secret, stepresult.Result) {
	sec := &corev1.Secret{}
	err := r.APIReader.Get(ctx, client.ObjectKey{Namespace: b.Namespace, Name: b.Spec.SecretName}, sec)
	if apierrors.IsNotFound(err) {
		return nil, stepresult.Nothing()
	}
	if err != nil {
		return nil, stepresult.Error(err)
	}
	if metav1.IsControlledBy(sec, b) {
		return sec, stepresult.Nothing()
	}
	err = fmt.Errorf(scv1beta1.MessageSecretOwnedByAnotherFormat, b.Spec.SecretName)
	return nil, stepresult.Retry(scv1beta1.ReasonErrorSecretOwnedByAnother, err.Error(), err)
}

// inject writes the credentials to the binding's Secret and marks the
// binding Ready. A credential that cannot be stored means the broker's
// binding is of no use: it is unbound (orphan mitigation) rather than left
// behind.
func (r *BindingReconciler) inject(ctx context.Context, s *bindingStep, creds map[string]any) stepresult.Result {
	b, res := s.b, s.res
	st := &b.Status
	data, err := bindsecret.Render(bindsecret.WithServiceBindingKeys(creds, bindsecret.Service{
		ClassTags: res.class.Tags, ClassExternalName: res.class.ExternalName, BrokerName: res.brokerName,
	}), b.Spec.SecretTransforms, r.readSecret(ctx), b.Namespace)
	if err != nil {
		msg := scv1beta1.MessageErrorInjectingBindResult + err.Error()
		var be *bindsecret.Error
		if errors.As(err, &be) && be.Retryable() {
			return stepresult.Retry(scv1beta1.ReasonErrorInjectingBindResult, msg, err)
		}
		return stepresult.Fail(scv1beta1.ReasonErrorInjectingBindResult, msg).MitigateOrphan()
	}
	if err := r.writeSecret(ctx, b, data); err != nil {
		return stepresult.Retry(scv1beta1.ReasonErrorInjectingBindResult, scv1beta1.MessageErrorWritingSecret+err.Error(), err)
	}
	st.ExternalProperties = st.InProgressProperties
	st.AsyncOpInProgress, st.LastOperation, st.CurrentOperation, st.InProgressProperties, st.OperationStartTime = false, nil, "", nil, nil
	st.UnbindStatus = scv1beta1.ServiceBindingUnbindStatusRequired
	st.ReconciledGeneration = b.Generation
	st.Binding = &scv1beta1.LocalObjectReference{Name: b.Spec.SecretName}
	noteExpiry(st, s.meta, s.now)
	ready := stepresult.Ready(scv1beta1.ReasonInjectedBindResult, scv1beta1.MessageInjectedBindResult)
	ready.After = r.rotationFollowUp(s)
	return ready
}

func (r *BindingReconciler) readSecret(ctx context.Context) func(ns, name string) (map[string][]byte, error) {
	return func(ns, name string) (map[string][]byte, error) {
		sec := &corev1.Secret{}
		if err := r.APIReader.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, sec); err != nil {
			if apierrors.IsNotFound(err) {
				return nil, bindsecret.ErrSecretNotFound
			}
			return nil, err
		}
		return sec.Data, nil
	}
}

// writeSecret creates or updates the binding's Secret, owned by the binding
// and labelled so the controller's cache (which holds no other Secrets) sees
// it.
func (r *BindingReconciler) writeSecret(ctx context.Context, b *scv1beta1.ServiceBinding, data map[string][]byte) error {
	// Created without looking first: the usual case, one request. An
	// existing Secret is only taken over when the binding owns it.
	sec := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: b.Namespace, Name: b.Spec.SecretName,
		Labels: map[string]string{scv1beta1.LabelManagedBy: scv1beta1.ManagedByValue},
		OwnerReferences: []metav1.OwnerReference{{APIVersion: scv1beta1.GroupVersion.String(), Kind: "ServiceBinding",
			Name: b.Name, UID: b.UID, Controller: ptr.To(true), BlockOwnerDeletion: ptr.To(true)}}},
		Type: corev1.SecretTypeOpaque, Data: data}
	if err := r.Client.Create(ctx, sec); !apierrors.IsAlreadyExists(err) {
		return err
	}
	sec = &corev1.Secret{}
	if err := r.APIReader.Get(ctx, client.ObjectKey{Namespace: b.Namespace, Name: b.Spec.SecretName}, sec); err != nil {
		return err
	}
	if !metav1.IsControlledBy(sec, b) {
		return fmt.Errorf("the Secret %q does not belong to this binding", b.Spec.SecretName)
	}
	if bindsecret.Equal(sec.Data, data) {
		return nil
	}
	sec.Data = data
	return r.Client.Update(ctx, sec)
}

// keepSecret restores a bound binding's Secret when someone deleted it:
// from the broker when it serves bindings again, else a condition says how
// to get new credentials. The credentials are never kept anywhere else.
func (r *BindingReconciler) keepSecret(ctx context.Context, s *bindingStep) stepresult.Result {
	b, res := s.b, s.res
	key := client.ObjectKey{Namespace: b.Namespace, Name: b.Spec.SecretName}
	// The binding's own Secret is in the metadata cache: most reconciles of
	// a bound binding need no request. A Secret missing there is looked up
	// in the API server before anything is restored: the cache may be behind,
	// and a Secret recreated by hand is not labelled, so not cached.
	meta := &metav1.PartialObjectMetadata{}
	meta.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("Secret"))
	err := r.Client.Get(ctx, key, meta)
	if apierrors.IsNotFound(err) {
		err = r.APIReader.Get(ctx, key, &corev1.Secret{})
	}
	if err == nil {
		// Bound, with its Secret: Ready again after a passing condition
		// (the instance's class missing for a while, a Secret recreated).
		if c := b.Status.GetCondition(scv1beta1.ServiceBindingConditionReady); c == nil || c.Status != scv1beta1.ConditionTrue {
			return stepresult.Ready(scv1beta1.ReasonInjectedBindResult, scv1beta1.MessageInjectedBindResult)
		}
		return stepresult.Nothing()
	}
	if !apierrors.IsNotFound(err) {
		return stepresult.Error(err)
	}
	if !res.class.BindingRetrievable {
		return stepresult.Stall(scv1beta1.ReasonErrorSecretDeleted, fmt.Sprintf(
			scv1beta1.MessageSecretDeletedFormat, b.Spec.SecretName))
	}
	out, state := brokercalls.Take[*osb.GetBindingResponse](r.calls.Runner, r.calls.Key(b, callGetBinding))
	if state == brokercalls.Pending {
		return stepresult.AwaitAnswer()
	}
	if state == brokercalls.None {
		c, err := r.Pool.Client(ctx, res.broker)
		if err != nil {
			return stepresult.Error(err)
		}
		req := &osb.GetBindingRequest{InstanceID: s.inst.Spec.ExternalID, BindingID: b.BrokerBindingID(),
			ServiceID: res.class.ExternalID, PlanID: res.plan.ExternalID}
		var ok bool
		if out, ok = brokercalls.Do(r.calls.Runner, r.calls.Call(b, callGetBinding, res.broker.Key, nil),
			func(ctx context.Context) (*osb.GetBindingResponse, error) { return c.GetBinding(ctx, req) }); !ok {
			return stepresult.AwaitAnswer()
		}
	}
	got, err := out.Value, out.Err
	if err != nil {
		return stepresult.Retry(scv1beta1.ReasonErrorSecretDeleted, scv1beta1.MessageSecretDeletedFetchFailed+brokerop.Describe(res.broker.Spec.URL, err), err)
	}
	b.Status.InProgressProperties = b.Status.ExternalProperties
	s.meta = got.Metadata
	r.Recorder.Eventf(b, nil, corev1.EventTypeNormal, scv1beta1.ReasonSecretRestored, "Reconcile", scv1beta1.MessageSecretRestoredFormat, b.Spec.SecretName)
	return r.inject(ctx, s, got.Credentials)
}

// bindingPoll is one poll's answers: the operation's state and, when a
// bind succeeded, the binding fetched in the same call.
type bindingPoll struct {
	lo     *osb.LastOperationResponse
	got    *osb.GetBindingResponse
	getErr error
}

func (r *BindingReconciler) poll(ctx context.Context, s *bindingStep) stepresult.Result {
	out, answered := brokercalls.Take[bindingPoll](r.calls.Runner, r.calls.Key(s.b, callPoll))
	return r.polled(ctx, s, out, answered)
}

// polled polls the operation in flight, or applies the answer of a poll
// already sent.
func (r *BindingReconciler) polled(ctx context.Context, s *bindingStep, out brokercalls.Result[bindingPoll], answered brokercalls.Status) stepresult.Result {
	b, res := s.b, s.res
	st := &b.Status
	op := osb.OpBind
	if st.CurrentOperation == scv1beta1.ServiceBindingOperationUnbind {
		op = osb.OpUnbind
	}
	started := s.now.Time
	if st.OperationStartTime != nil {
		started = st.OperationStartTime.Time
	}
	read, out, result, ended := brokerop.Poller[bindingPoll]{
		Op: op, What: "binding", Texts: bindingTexts[op], UID: b.UID, Polls: &r.polls,
		Started: started, StepNow: s.now.Time, Now: r.now, MaxSeconds: res.plan.MaximumPollingDuration,
		Answer: out, Answered: answered,
		Stale: func() (stepresult.Result, bool) { return cacheBehind(ctx, r.fresh, r.APIReader, b) },
		Send: func() (brokercalls.Result[bindingPoll], bool, error) {
			c, err := r.Pool.Client(ctx, res.broker)
			if err != nil {
				return brokercalls.Result[bindingPoll]{}, false, err
			}
			out, ok := r.sendPoll(s, c)
			return out, ok, nil
		},
		Read: func(out brokercalls.Result[bindingPoll]) (*osb.LastOperationResponse, error) {
			return out.Value.lo, out.Err
		},
		Describe: func(err error) string { return brokerop.Describe(res.broker.Spec.URL, err) },
	}.Poll()
	switch {
	case !ended:
		return result
	case read.State == osb.StateFailed:
		bindingOpStatus(st).Supersede()
		return bindingTexts[op].AsyncFailed(op, read)
	case op == osb.OpUnbind:
		return r.unbound(ctx, s)
	case out.Value.getErr != nil:
		err := out.Value.getErr
		return stepresult.Retry(scv1beta1.ReasonFetchingBindingFailed, scv1beta1.MessageFetchingBindingFailed+brokerop.Describe(res.broker.Spec.URL, err), err)
	}
	s.meta = out.Value.got.Metadata
	return r.inject(ctx, s, out.Value.got.Credentials)
}

// sendPoll polls the operation in flight and, when a bind succeeded,
// fetches the binding in the same call: one call, so a slow broker costs
// one wait and the answer is applied whole.
func (r *BindingReconciler) sendPoll(s *bindingStep, c *osb.Client) (brokercalls.Result[bindingPoll], bool) {
	b, res := s.b, s.res
	req := &osb.BindingLastOperationRequest{InstanceID: s.inst.Spec.ExternalID, BindingID: b.BrokerBindingID(),
		ServiceID: res.class.ExternalID, PlanID: res.plan.ExternalID, Operation: ptr.Deref(b.Status.LastOperation, "")}
	get := &osb.GetBindingRequest{InstanceID: s.inst.Spec.ExternalID, BindingID: b.BrokerBindingID(),
		ServiceID: res.class.ExternalID, PlanID: res.plan.ExternalID}
	unbinding := b.Status.CurrentOperation == scv1beta1.ServiceBindingOperationUnbind
	return brokercalls.Do(r.calls.Runner, r.calls.Call(b, callPoll, res.broker.Key, nil), func(ctx context.Context) (bindingPoll, error) {
		lo, err := c.PollBindingLastOperation(ctx, req)
		if err != nil {
			return bindingPoll{}, err
		}
		out := bindingPoll{lo: lo}
		if lo.State == osb.StateSucceeded && !unbinding {
			out.got, out.getErr = c.GetBinding(ctx, get)
		}
		return out, nil
	})
}

func (r *BindingReconciler) reconcileDelete(ctx context.Context, s *bindingStep) stepresult.Result {
	b := s.b
	st := &b.Status
	// The credentials go first, whatever happens at the broker (v0.3's
	// order): a deleted binding must not leave usable credentials behind.
	if err := r.deleteSecret(ctx, b); err != nil {
		return stepresult.Retry(scv1beta1.ReasonErrorEjectingServiceBinding, scv1beta1.MessageErrorEjectingServiceBinding+err.Error(), err)
	}
	abandon := b.Annotations[scv1beta1.AnnotationAbandon] == scv1beta1.AnnotationAbandonValue
	unknown := st.UnbindStatus == "" && !st.AsyncOpInProgress
	done := st.UnbindStatus != scv1beta1.ServiceBindingUnbindStatusRequired && !st.AsyncOpInProgress && !unknown
	if abandon || done {
		if abandon {
			r.Recorder.Eventf(b, nil, corev1.EventTypeWarning, scv1beta1.ReasonAbandoned, "Abandon",
				scv1beta1.MessageBindingAbandonedFormat, scv1beta1.AnnotationAbandon, b.Spec.ExternalID)
		}
		return stepresult.Error(r.release(ctx, b))
	}
	missing, loaded := r.loadInstance(ctx, s)
	if !loaded && missing.Class == stepresult.Transient {
		return missing
	}
	if loaded && s.inst.Spec.UserProvided != nil {
		return stepresult.Error(r.release(ctx, b)) // nothing to unbind
	}
	// No outcome recorded: a bind may have gone out just before a crash,
	// but only to a provisioned instance.
	if unknown && (s.inst == nil || s.inst.Status.ProvisionStatus != scv1beta1.ServiceInstanceProvisionStatusProvisioned) {
		return missing.WithErr(r.release(ctx, b))
	}
	if s.inst == nil {
		return missing.WithErr(fmt.Errorf("cannot unbind: the instance or its class is gone"))
	}
	// A reconcile queued while the last one let the binding go sees the
	// finalizer in a stale cache: it must neither unbind again nor take the
	// claim back, which nothing would release.
	if res, stale := cacheBehind(ctx, r.fresh, r.APIReader, b); stale {
		return res
	}
	// Only the owner of the ID unbinds (see InstanceReconciler.reconcileDelete).
	owned, err := r.Claims.Owns(ctx, r.Client, idclaim.Binding, b, b.Spec.ExternalID)
	if err != nil {
		return stepresult.Error(err)
	}
	if !owned {
		r.Recorder.Eventf(b, nil, corev1.EventTypeWarning, scv1beta1.ReasonExternalIDInUse, "Delete",
			scv1beta1.MessageBindingDeletedWithoutUnbindingFormat, b.Spec.ExternalID)
		return stepresult.Error(r.release(ctx, b))
	}
	if st.AsyncOpInProgress && st.CurrentOperation == scv1beta1.ServiceBindingOperationUnbind {
		return r.poll(ctx, s)
	}
	// The broker bindings of rotations go before the Secret's.
	if res, busy := r.retireAll(ctx, s); busy {
		return res
	}
	return r.unbind(ctx, s)
}

// release removes the finalizer, letting a deleted binding go, then gives
// back its external ID's claim.
func (r *BindingReconciler) release(ctx context.Context, b *scv1beta1.ServiceBinding) error {
	controllerutil.RemoveFinalizer(b, scv1beta1.FinalizerServiceCatalog)
	r.calls.Forget(b)
	if err := r.Client.Update(ctx, b); err != nil {
		return err
	}
	var rotated string
	if b.Status.Rotation != nil {
		rotated = b.Status.Rotation.CurrentBindingID
	}
	return errors.Join(r.Claims.Release(ctx, idclaim.Binding, b.Spec.ExternalID, b.UID), r.releaseRotated(ctx, b, rotated))
}

func (r *BindingReconciler) deleteSecret(ctx context.Context, b *scv1beta1.ServiceBinding) error {
	sec := &corev1.Secret{}
	err := r.APIReader.Get(ctx, client.ObjectKey{Namespace: b.Namespace, Name: b.Spec.SecretName}, sec)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if !metav1.IsControlledBy(sec, b) {
		return nil // never someone else's
	}
	return client.IgnoreNotFound(r.Client.Delete(ctx, sec))
}

func (r *BindingReconciler) unbind(ctx context.Context, s *bindingStep) stepresult.Result {
	b, res := s.b, s.res
	switch out, state := brokercalls.Take[*osb.UnbindResponse](r.calls.Runner, r.calls.Key(b, callUnbind)); state {
	case brokercalls.Pending:
		return stepresult.AwaitAnswer()
	case brokercalls.Done:
		return r.unbindAnswered(ctx, s, out)
	}
	c, err := r.Pool.Client(ctx, res.broker)
	if err != nil {
		return r.failed(s, osb.OpUnbind, brokerop.Retry, err)
	}
	req := osbrequest.Unbind(b, s.inst, res.class, res.plan, res.class.BindingRetrievable)
	req.User = r.Identity.User(req.User, b.CreationTimestamp)
	// The unbind's own Secret deletion queues this binding again while the
	// last reconcile removes the finalizer; that next reconcile may see the
	// finalizer and UnbindStatus Required in the cache and would send a
	// second DELETE (the broker answered it 410).
	if res, stale := cacheBehind(ctx, r.fresh, r.APIReader, b); stale {
		return res
	}
	out, ok := brokercalls.Do(r.calls.Runner, r.calls.Call(b, callUnbind, res.broker.Key, r.sent(s, osb.OpUnbind, nil)),
		func(ctx context.Context) (*osb.UnbindResponse, error) { return c.Unbind(ctx, req) })
	if !ok {
		return stepresult.AwaitAnswer()
	}
	return r.unbindAnswered(ctx, s, out)
}

// unbindAnswered applies the broker's answer to an unbind request.
func (r *BindingReconciler) unbindAnswered(ctx context.Context, s *bindingStep, out brokercalls.Result[*osb.UnbindResponse]) stepresult.Result {
	bindingOpStatus(&s.b.Status).Supersede()
	r.polls.Done(s.b.UID)
	r.record(s, scv1beta1.ServiceBindingOperationUnbind, out.Sent.(bindingSent))
	resp, err := out.Value, out.Err
	if err == nil && resp.Async() {
		return r.accepted(s, osb.OpUnbind, resp.Operation, resp.RetryAfter)
	}
	if f := brokerop.Classify(osb.OpUnbind, err); err != nil && f != brokerop.Gone {
		return r.failed(s, osb.OpUnbind, f, err)
	}
	return r.unbound(ctx, s)
}

func (r *BindingReconciler) unbound(ctx context.Context, s *bindingStep) stepresult.Result {
	b := s.b
	st := &b.Status
	st.AsyncOpInProgress, st.LastOperation, st.CurrentOperation, st.OperationStartTime = false, nil, "", nil
	st.UnbindStatus = scv1beta1.ServiceBindingUnbindStatusSucceeded
	deleting := !b.DeletionTimestamp.IsZero()
	if st.OrphanMitigationInProgress {
		mitigated := stepresult.Wait(scv1beta1.ReasonOrphanMitigationSuccessful, scv1beta1.MessageOrphanMitigationSuccessful, 0)
		st.OrphanMitigationInProgress = false
		st.UnbindStatus = scv1beta1.ServiceBindingUnbindStatusNotRequired
		st.ExternalProperties, st.InProgressProperties = nil, nil
		if deleting {
			r.note(s, mitigated) // and on to the deletion's end
		} else {
			if err := r.deleteSecret(ctx, b); err != nil {
				return mitigated.WithErr(err)
			}
			if st.GetCondition(scv1beta1.ServiceBindingConditionFailed) != nil {
				return mitigated
			}
			// A bind will be tried again, and its outcome is only written
			// after the request: "unknown", not NotRequired, is what a
			// deletion after a crash in between must find, so that it
			// unbinds (the same window the fault suite found for
			// instances).
			st.UnbindStatus = ""
			mitigated.After = time.Second
			return mitigated
		}
	}
	if !deleting {
		return stepresult.Nothing()
	}
	// Seen as an event: the object goes with its finalizer.
	return stepresult.Wait(scv1beta1.ReasonUnboundSuccessfully, scv1beta1.MessageUnboundSuccessfully, 0).WithErr(r.release(ctx, b))
}
