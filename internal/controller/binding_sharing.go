package controller

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	scv1beta1 "github.com/svcat-io/svcat/api/v1beta1"
	"github.com/svcat-io/svcat/internal/controller/stepresult"
)

// A binding may name an instance of another namespace
// (spec.instanceRef.namespace). The controller reads every namespace, so it
// is the controller, not RBAC, that keeps a tenant from turning its rights
// into theirs: nothing of such an instance is used, looked up further or
// reported until the instance lists the binding's namespace in
// spec.sharedWith and its service is shareable; until then the binding
// reads InstanceNotShared, word for word the same whether the instance
// exists or not.

// notShared is the one refusal a binding gets for another namespace's
// instance that it may not use.
func notShared(b *scv1beta1.ServiceBinding) stepresult.Result {
	return stepresult.Stall(scv1beta1.ReasonInstanceNotShared,
		fmt.Sprintf(scv1beta1.MessageInstanceNotSharedFormat, b.Spec.InstanceRef.Name, b.InstanceNamespace(), b.Namespace))
}

// findInstance gets the instance b names. For another namespace's instance
// anyShare lets a binding that holds a binding at the broker find its
// instance without a share: made while the share stood, it is unbound
// whatever the share says now.
func (r *BindingReconciler) findInstance(ctx context.Context, b *scv1beta1.ServiceBinding, anyShare bool) (*scv1beta1.ServiceInstance, stepresult.Result) {
	inst := &scv1beta1.ServiceInstance{}
	err := r.Client.Get(ctx, client.ObjectKey{Namespace: b.InstanceNamespace(), Name: b.Spec.InstanceRef.Name}, inst)
	switch {
	case err != nil && !apierrors.IsNotFound(err):
		return nil, stepresult.Error(err)
	case !b.SharedInstance() && err != nil:
		return nil, stepresult.Stall(scv1beta1.ReasonReferencesNonexistentInstance,
			fmt.Sprintf(scv1beta1.MessageReferencesNonexistentInstanceFormat, b.Spec.InstanceRef.Name))
	case !b.SharedInstance():
		return inst, stepresult.Nothing()
	case err != nil:
		return nil, notShared(b)
	case !listsNamespace(inst, b.Namespace) && !(anyShare && holdsBinding(&b.Status)):
		return nil, notShared(b)
	}
	return inst, stepresult.Nothing()
}

// holdsBinding says whether the broker may hold b's binding.
func holdsBinding(st *scv1beta1.ServiceBindingStatus) bool {
	return st.UnbindStatus == scv1beta1.ServiceBindingUnbindStatusRequired || st.AsyncOpInProgress || st.OrphanMitigationInProgress
}

// reconcileUnshared handles a binding of another namespace's instance
// that is not (or no longer) shared with the binding's namespace: what
// the broker holds for it is unbound, its Secret removed, and it waits
// for a share. false when the share stands and the binding goes on as any
// other.
func (r *BindingReconciler) reconcileUnshared(ctx context.Context, s *bindingStep) (stepresult.Result, bool) {
	b := s.b
	st := &b.Status
	inst, _ := r.findInstance(ctx, b, true)
	listed := inst != nil && listsNamespace(inst, b.Namespace)
	var res *resolved
	if listed || inst != nil && holdsBinding(st) {
		// Nothing more is looked up for an instance that does not list
		// this namespace, unless this binding was made while it did.
		res, _ = resolve(ctx, r.Client, inst)
	}
	if listed && (res == nil || sharedWith(inst, res.class, b.Namespace)) {
		// Shared (or its class not found yet, which loadInstance reports:
		// the owner listed this namespace, so it may know).
		return stepresult.Nothing(), false
	}
	if holdsBinding(st) && res != nil {
		s.inst, s.res = inst, res
		// Every credential goes, as for a deletion: those of rotations
		// (still in their grace period, or being made) first.
		if out, busy := r.retireAll(ctx, s); busy {
			return out, true
		}
		var out stepresult.Result
		if st.AsyncOpInProgress {
			out = r.poll(ctx, s)
		} else {
			out = r.unbind(ctx, s)
		}
		if holdsBinding(st) || st.UnbindStatus != scv1beta1.ServiceBindingUnbindStatusSucceeded {
			return out, true
		}
		// Nothing is held at the broker now: shared again, the binding
		// binds anew. Left as it was, a bind refused on the way (a busy
		// instance's 422) would leave it looking bound, and it would ask
		// the broker for credentials the unbind removed.
		st.ExternalProperties, st.InProgressProperties = nil, nil
		st.ExpiresAt, st.RenewBefore = nil, nil
		// "Unknown", as before a first bind: a bind's outcome is written
		// only after its request, and a deletion after a crash in between
		// must unbind (see unbound).
		st.UnbindStatus = ""
		msg := fmt.Sprintf(scv1beta1.MessageUnboundUnsharedFormat, b.Namespace, b.Name, inst.Namespace, inst.Name)
		r.Recorder.Eventf(b, nil, corev1.EventTypeNormal, scv1beta1.ReasonUnboundUnshared, "Unshare", msg)
		r.Recorder.Eventf(inst, nil, corev1.EventTypeNormal, scv1beta1.ReasonUnboundUnshared, "Unshare", msg)
	}
	// The credentials go whether or not the broker could be told: they
	// are for an instance this namespace may no longer use.
	if err := r.deleteSecret(ctx, b); err != nil {
		return stepresult.Error(err), true
	}
	st.Binding = nil
	return notShared(b), true
}

// sharingBindings are the bindings of other namespaces that name inst: a
// change of its share list or state is news for them.
func sharingBindings(ctx context.Context, c client.Reader, inst client.Object) []reconcile.Request {
	l := &scv1beta1.ServiceBindingList{}
	if err := c.List(ctx, l, client.MatchingFields{sharedInstanceField: sharedInstanceKey(inst.GetNamespace(), inst.GetName())}); err != nil {
		return nil
	}
	out := make([]reconcile.Request, 0, len(l.Items))
	for _, b := range l.Items {
		out = append(out, reconcile.Request{NamespacedName: types.NamespacedName{Namespace: b.Namespace, Name: b.Name}})
	}
	return out
}
