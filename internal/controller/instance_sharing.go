package controller

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"sigs.k8s.io/controller-runtime/pkg/client"

	scv1beta1 "github.com/svcat-io/svcat/api/v1beta1"
)

// sharedInstanceField indexes bindings that name another namespace's
// instance by "namespace/name" of that instance: the bindings an instance
// must wait for, and reconcile again when its share list changes.
const sharedInstanceField = "svcat.sharedInstance"

func sharedInstanceKey(ns, name string) string { return ns + "/" + name }

// sharedInstanceIndex is the index function of sharedInstanceField.
func sharedInstanceIndex(o client.Object) []string {
	b := o.(*scv1beta1.ServiceBinding)
	if !b.SharedInstance() {
		return nil
	}
	return []string{sharedInstanceKey(b.InstanceNamespace(), b.Spec.InstanceRef.Name)}
}

// shareable follows Cloud Foundry's service sharing: a service may be
// shared only when its catalog metadata says "shareable": true. Anything
// else (absent, false, a string, metadata that is not an object) means
// not shareable.
func shareable(class *scv1beta1.CommonServiceClassSpec) bool {
	if class == nil || class.ExternalMetadata == nil || len(class.ExternalMetadata.Raw) == 0 {
		return false
	}
	var md struct {
		Shareable json.RawMessage `json:"shareable"`
	}
	if json.Unmarshal(class.ExternalMetadata.Raw, &md) != nil {
		return false
	}
	return string(md.Shareable) == "true"
}

// shareStates decides the state of each namespace an instance of ns lists
// in spec.sharedWith. Pure.
func shareStates(ns string, list []scv1beta1.SharedNamespace, serviceShareable bool, service string) []scv1beta1.SharedNamespaceStatus {
	if len(list) == 0 {
		return nil
	}
	var others []string
	for _, s := range list {
		if s.Namespace != ns {
			others = append(others, fmt.Sprintf("%q", s.Namespace))
		}
	}
	out := make([]scv1beta1.SharedNamespaceStatus, 0, len(list))
	for _, s := range list {
		st := scv1beta1.SharedNamespaceStatus{Namespace: s.Namespace, State: scv1beta1.ShareStateShared}
		switch {
		case s.Namespace == ns:
			st.State, st.Reason = scv1beta1.ShareStateRefused, scv1beta1.ReasonSharedWithOwnNamespace
			st.Message = fmt.Sprintf(scv1beta1.MessageSharedWithOwnNamespaceFormat, s.Namespace)
		case !serviceShareable:
			st.State, st.Reason = scv1beta1.ShareStateRefused, scv1beta1.ReasonServiceNotShareable
			st.Message = fmt.Sprintf(scv1beta1.MessageServiceNotShareableFormat, strings.Join(others, ", "), service)
		}
		out = append(out, st)
	}
	return out
}

// sharedWith decides whether a binding in ns may bind to inst, whose
// class is class: the owner lists ns, ns is another namespace, and the
// service is shareable. Pure; every "no" reads the same to the binding.
func sharedWith(inst *scv1beta1.ServiceInstance, class *scv1beta1.CommonServiceClassSpec, ns string) bool {
	return inst != nil && listsNamespace(inst, ns) && shareable(class)
}

// listsNamespace is sharedWith before the class is known: the first check,
// made before anything else is looked up for the binding.
func listsNamespace(inst *scv1beta1.ServiceInstance, ns string) bool {
	if ns == inst.Namespace {
		return false
	}
	for _, s := range inst.Spec.SharedWith {
		if s.Namespace == ns {
			return true
		}
	}
	return false
}

// noteSharing keeps status.sharedWith and the ShareRefused condition in
// step with spec.sharedWith and the service's metadata.
func noteSharing(s *instanceStep) {
	inst := s.inst
	st := &inst.Status
	if s.res == nil {
		return
	}
	st.SharedWith = shareStates(inst.Namespace, inst.Spec.SharedWith, shareable(s.res.class), s.res.class.ExternalName)
	for _, sh := range st.SharedWith {
		if sh.State == scv1beta1.ShareStateRefused {
			st.SetAdvisoryCondition(scv1beta1.ServiceInstanceConditionShareRefused, scv1beta1.ConditionTrue, sh.Reason, sh.Message, s.now)
			return
		}
	}
	st.RemoveCondition(scv1beta1.ServiceInstanceConditionShareRefused)
}

// blockingBindings counts the bindings that keep inst from being
// deprovisioned: its own namespace's, and those of namespaces it is shared
// with. Bindings of other namespaces that name it without a share do not
// count: anyone could create them to keep the owner from deleting it.
func blockingBindings(ctx context.Context, c client.Reader, inst *scv1beta1.ServiceInstance, local []scv1beta1.ServiceBinding) (int, string, error) {
	n, first := len(local), ""
	if n > 0 {
		first = local[0].Name
	}
	if len(inst.Spec.SharedWith) == 0 {
		return n, first, nil
	}
	l := &scv1beta1.ServiceBindingList{}
	if err := c.List(ctx, l, client.MatchingFields{sharedInstanceField: sharedInstanceKey(inst.Namespace, inst.Name)}); err != nil {
		return 0, "", err
	}
	for _, b := range l.Items {
		if !listsNamespace(inst, b.Namespace) {
			continue
		}
		if n == 0 {
			first = b.Namespace + "/" + b.Name
		}
		n++
	}
	return n, first, nil
}
