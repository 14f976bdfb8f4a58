package controller

// User-provided instances (spec.userProvided): credentials a person keeps
// in a Secret of the instance's namespace, bindable like a brokered
// instance but with no broker. The instance is Ready while its Secret
// exists and fits; each binding's Secret is the source Secret's data with
// the servicebinding.io keys and the binding's secretTransforms, rendered
// by bindsecret exactly as for a broker's credentials.
//
// A change of the source Secret travels as: the Secret's metadata watch
// (paramwatch, one watch per named Secret, none of the cluster's others
// cached) → the instance's reconcile reads it uncached and records its
// checksum in status.userProvidedChecksum → that status change queues the
// instance's bindings (the binding controller watches instances) → each
// reads the Secret and rewrites its own when the rendered data differs.

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	scv1beta1 "github.com/svcat-io/svcat/api/v1beta1"
	"github.com/svcat-io/svcat/internal/controller/bindsecret"
	"github.com/svcat-io/svcat/internal/controller/stepresult"
)

// MaxUserProvidedBytes is scv1beta1.MaxUserProvidedSecretBytes.
const MaxUserProvidedBytes = scv1beta1.MaxUserProvidedSecretBytes

// userProvidedSecret is what the instance's Secret says about its
// readiness: found or not, and its data.
type userProvidedSecret struct {
	name  string
	ns    string
	found bool
	data  map[string][]byte
	err   error // a failed read other than NotFound
}

// userProvidedSize is the bytes of keys and values of a Secret's data.
func userProvidedSize(data map[string][]byte) int {
	n := 0
	for k, v := range data {
		n += len(k) + len(v)
	}
	return n
}

// decideUserProvided is an instance's state from its Secret: Ready with
// the data's checksum, or the condition that says what is wrong, naming
// the Secret and never a value.
func decideUserProvided(sec userProvidedSecret) (out stepresult.Result, checksum string) {
	switch {
	case sec.err != nil:
		msg := fmt.Sprintf(scv1beta1.MessageUserProvidedSecretUnreadableFormat, sec.name) + sec.err.Error()
		return stepresult.Retry(scv1beta1.ReasonUserProvidedSecretUnreadable, msg, sec.err), ""
	case !sec.found:
		// The Secret's watch brings the instance back when it appears.
		return stepresult.Stall(scv1beta1.ReasonUserProvidedSecretNotFound,
			fmt.Sprintf(scv1beta1.MessageUserProvidedSecretNotFoundFormat, sec.name, sec.ns)), ""
	}
	if n := userProvidedSize(sec.data); n > MaxUserProvidedBytes {
		return stepresult.Stall(scv1beta1.ReasonUserProvidedSecretTooLarge,
			fmt.Sprintf(scv1beta1.MessageUserProvidedSecretTooLargeFormat, sec.name, n, MaxUserProvidedBytes)), ""
	}
	return stepresult.Ready(scv1beta1.ReasonUserProvidedSecretFound, fmt.Sprintf(scv1beta1.MessageUserProvidedSecretFoundFormat, sec.name)),
		userProvidedChecksum(sec.data)
}

// userProvidedChecksum is the SHA-256 of the data, keys in order, each key
// and value length-prefixed so that no two different data sets collide by
// concatenation.
func userProvidedChecksum(data map[string][]byte) string {
	keys := make([]string, 0, len(data))
	for k := range data {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	h := sha256.New()
	for _, k := range keys {
		fmt.Fprintf(h, "%d:%s%d:", len(k), k, len(data[k]))
		h.Write(data[k])
	}
	return hex.EncodeToString(h.Sum(nil))
}

// userProvidedCredentials are the Secret's data as credentials: each key a
// string, so bindsecret writes its bytes back unchanged.
func userProvidedCredentials(data map[string][]byte) map[string]any {
	out := make(map[string]any, len(data))
	for k, v := range data {
		out[k] = string(v)
	}
	return out
}

// readUserProvided reads the instance's Secret uncached: it is the user's,
// not one the controller's cache holds. Only the instance's own namespace
// is ever read: the reference has no namespace, and the controller's
// rights must not reach a Secret the tenant could not name.
func readUserProvided(ctx context.Context, c client.Reader, inst *scv1beta1.ServiceInstance) userProvidedSecret {
	sec := userProvidedSecret{name: inst.Spec.UserProvided.SecretRef.Name, ns: inst.Namespace}
	s := &corev1.Secret{}
	err := c.Get(ctx, client.ObjectKey{Namespace: inst.Namespace, Name: sec.name}, s)
	switch {
	case apierrors.IsNotFound(err):
	case err != nil:
		sec.err = err
	default:
		sec.found, sec.data = true, s.Data
	}
	return sec
}

// reconcileUserProvided is the whole reconcile of a user-provided
// instance: no class, plan, broker or external ID claim.
func (r *InstanceReconciler) reconcileUserProvided(ctx context.Context, s *instanceStep) stepresult.Result {
	inst := s.inst
	key := client.ObjectKeyFromObject(inst)
	if !inst.DeletionTimestamp.IsZero() {
		r.trackSecrets(key, nil)
		// A brokered instance's deletion without its broker call: it waits
		// for the bindings, then finds deprovisionStatus NotRequired (or no
		// status yet, and no class) and lets the instance go.
		return r.reconcileDelete(ctx, s)
	}
	r.trackSecrets(key, []string{inst.Spec.UserProvided.SecretRef.Name})
	if err := r.ensureUserProvidedSpec(ctx, inst); err != nil {
		return stepresult.Error(err)
	}
	st := &inst.Status
	// Nothing to deprovision, ever: a deletion only waits for the bindings.
	st.DeprovisionStatus = scv1beta1.ServiceInstanceDeprovisionStatusNotRequired
	st.ObservedGeneration, st.ReconciledGeneration = inst.Generation, inst.Generation
	if inst.Spec.Parameters != nil {
		// The schema cannot refuse them (parameters are schemaless).
		return stepresult.Stall(scv1beta1.ReasonUserProvidedParameters, scv1beta1.MessageUserProvidedInstanceParameters)
	}
	out, sum := decideUserProvided(readUserProvided(ctx, r.APIReader, inst))
	if out.Class == stepresult.Done {
		st.ProvisionStatus = scv1beta1.ServiceInstanceProvisionStatusProvisioned
		st.UserProvidedChecksum = sum
	}
	return out
}

// ensureUserProvidedSpec persists the finalizer, which keeps the instance
// while bindings exist, and the external ID (its UID, as for brokered
// instances, so the cluster holds no two instances with an empty one).
func (r *InstanceReconciler) ensureUserProvidedSpec(ctx context.Context, inst *scv1beta1.ServiceInstance) error {
	changed := controllerutil.AddFinalizer(inst, scv1beta1.FinalizerServiceCatalog)
	if inst.Spec.ExternalID == "" {
		inst.Spec.ExternalID, changed = string(inst.UID), true
	}
	if !changed {
		return nil
	}
	status := inst.Status
	if err := r.Client.Update(ctx, inst); err != nil {
		return err
	}
	inst.Status = status
	return nil
}

// bindUserProvided keeps a binding's Secret equal to its user-provided
// instance's credentials, transformed. It runs on every reconcile of the
// binding: a change of the instance's Secret, a deletion of the binding's
// own Secret, a resync.
func (r *BindingReconciler) bindUserProvided(ctx context.Context, s *bindingStep) stepresult.Result {
	b, inst := s.b, s.inst
	st := &b.Status
	// Nothing is ever held elsewhere: a deletion only removes the Secret.
	st.UnbindStatus = scv1beta1.ServiceBindingUnbindStatusNotRequired
	if inst.Namespace != b.Namespace {
		// A user-provided instance is never shared across namespaces (nor
		// is one in Cloud Foundry): its credentials are a Secret of its
		// namespace, which only that namespace's bindings may copy (the
		// schema refuses sharedWith on one). Told as for any instance not
		// shared, so the answer says nothing of it.
		return notShared(b)
	}
	if st.GetCondition(scv1beta1.ServiceBindingConditionFailed) != nil {
		return stepresult.Nothing() // bindings are immutable: a new binding is the retry
	}
	if b.Spec.Parameters != nil || len(b.Spec.ParametersFrom) > 0 {
		return stepresult.Fail(scv1beta1.ReasonUserProvidedParameters, scv1beta1.MessageUserProvidedBindingParameters)
	}
	if !inst.DeletionTimestamp.IsZero() {
		return stepresult.Wait(scv1beta1.ReasonErrorInstanceNotReady, fmt.Sprintf(scv1beta1.MessageInstanceBeingDeletedFormat, inst.Name), 0)
	}
	if !instanceReady(inst) {
		// The instance's change triggers the next try.
		return stepresult.Wait(scv1beta1.ReasonErrorInstanceNotReady, fmt.Sprintf(scv1beta1.MessageWaitingForInstanceFormat, inst.Name), 0)
	}
	cur, taken := r.ownSecret(ctx, b)
	if taken.Class != stepresult.Unchanged {
		return taken
	}
	src := readUserProvided(ctx, r.APIReader, inst)
	if src.err != nil {
		return stepresult.Error(src.err) // the API server's trouble: backoff
	}
	if out, _ := decideUserProvided(src); out.Class != stepresult.Done {
		// Gone or grown since the instance was Ready: the instance's own
		// reconcile reports it, and its change brings this binding back.
		return stepresult.Wait(scv1beta1.ReasonErrorInstanceNotReady, fmt.Sprintf(scv1beta1.MessageWaitingForInstanceFormat, inst.Name), 0)
	}
	data, fail := r.renderUserProvided(ctx, s, src.data)
	if fail.Class != stepresult.Unchanged {
		return fail
	}
	changed, err := r.syncSecret(ctx, b, cur, data)
	if err != nil {
		return stepresult.Retry(scv1beta1.ReasonErrorInjectingBindResult, scv1beta1.MessageErrorWritingSecret+err.Error(), err)
	}
	st.ReconciledGeneration = b.Generation
	st.Binding = &scv1beta1.LocalObjectReference{Name: b.Spec.SecretName}
	ready := st.GetCondition(scv1beta1.ServiceBindingConditionReady)
	if changed && ready != nil && ready.Status == scv1beta1.ConditionTrue {
		r.Recorder.Eventf(b, nil, corev1.EventTypeNormal, scv1beta1.ReasonUserProvidedCredentialsCopied, "Reconcile",
			scv1beta1.MessageUserProvidedCredentialsCopiedFormat, inst.Name, b.Spec.SecretName)
	}
	return stepresult.Ready(scv1beta1.ReasonInjectedBindResult, scv1beta1.MessageInjectedBindResult)
}

// renderUserProvided is the binding's Secret data, through the same
// bindsecret steps as a broker's credentials (see inject).
func (r *BindingReconciler) renderUserProvided(ctx context.Context, s *bindingStep, data map[string][]byte) (map[string][]byte, stepresult.Result) {
	creds := bindsecret.WithServiceBindingKeys(userProvidedCredentials(data), bindsecret.Service{ClassExternalName: scv1beta1.UserProvidedServiceType})
	out, err := bindsecret.Render(creds, s.b.Spec.SecretTransforms, r.readSecret(ctx), s.b.Namespace)
	if err != nil {
		msg := scv1beta1.MessageErrorInjectingBindResult + err.Error()
		var be *bindsecret.Error
		if errors.As(err, &be) && be.Retryable() {
			return nil, stepresult.Retry(scv1beta1.ReasonErrorInjectingBindResult, msg, err)
		}
		// A transform that cannot apply to these credentials. Unlike a
		// broker's, they can change: the binding is not failed for good
		// but waits for the Secret's next change (which queues it through
		// the instance) and keeps the Secret it last wrote.
		return nil, stepresult.Stall(scv1beta1.ReasonErrorInjectingBindResult, msg)
	}
	return out, stepresult.Nothing()
}

// syncSecret writes the binding's Secret when its data differs from cur,
// the binding's own Secret as ownSecret read it (nil: gone), and reports
// whether it wrote: most reconciles of a bound binding read the Secret
// once and write nothing.
func (r *BindingReconciler) syncSecret(ctx context.Context, b *scv1beta1.ServiceBinding, cur *corev1.Secret, data map[string][]byte) (bool, error) {
	if cur != nil && bindsecret.Equal(cur.Data, data) {
		return false, nil
	}
	return true, r.writeSecret(ctx, b, data)
}
