package apiview

import (
	"context"
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/svcat-io/svcat/api/v1beta1"
)

// Sharing an instance across namespaces, as svcat share/unshare and the
// UI's Share and Unshare do it: both edit spec.sharedWith and nothing
// else, with the user's rights; the controller decides what is shared.

// MaxSharedNamespaces is spec.sharedWith's limit in the CRD.
const MaxSharedNamespaces = 64

// ResConfigMaps is the resource of share markers, for error messages.
const ResConfigMaps = "configmaps"

// ShareNamespaceProblem says what is wrong with ns as a namespace to share
// instance of own with (adding) or to stop sharing with, or "" when
// nothing is. It reads as the rest of a sentence that starts with the
// namespace. Pure.
func ShareNamespaceProblem(own, ns string, adding bool) string {
	if errs := validation.IsDNS1123Label(ns); len(errs) > 0 {
		return "is not a namespace name: " + strings.Join(errs, "; ")
	}
	if adding && ns == own {
		return "is the instance's own namespace, whose bindings need no share"
	}
	return ""
}

// SharedAfter is the share list after adding or removing namespaces. Pure.
func SharedAfter(list []v1beta1.SharedNamespace, namespaces []string, remove bool) []v1beta1.SharedNamespace {
	out := slices.Clone(list)
	for _, ns := range namespaces {
		i := slices.IndexFunc(out, func(s v1beta1.SharedNamespace) bool { return s.Namespace == ns })
		switch {
		case remove && i >= 0:
			out = slices.Delete(out, i, i+1)
		case !remove && i < 0:
			out = append(out, v1beta1.SharedNamespace{Namespace: ns})
		}
	}
	return out
}

// Share adds namespaces to the instance's spec.sharedWith, or (remove)
// takes them out, and returns the namespaces it lists afterwards. Nothing
// is written when nothing changes.
func (c *Client) Share(ctx context.Context, ns, name string, namespaces []string, remove bool) ([]string, error) {
	var after []v1beta1.SharedNamespace
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		in, err := c.Instance(ctx, ns, name)
		if err != nil {
			return err
		}
		if in.Spec.UserProvided != nil && !remove {
			// The schema refuses it too, in words about fields.
			return &RequestError{fmt.Sprintf("instance %q is user-provided: its credentials stay in namespace %q and it is not shared with other namespaces", name, ns)}
		}
		after = SharedAfter(in.Spec.SharedWith, namespaces, remove)
		if len(after) > MaxSharedNamespaces {
			return &RequestError{fmt.Sprintf("instance %q would be shared with %d namespaces; at most %d are allowed", name, len(after), MaxSharedNamespaces)}
		}
		if slices.Equal(after, in.Spec.SharedWith) {
			return nil
		}
		in.Spec.SharedWith = after
		return c.Update(ctx, in, ResServiceInstances)
	})
	if err != nil {
		return nil, err
	}
	names := make([]string, len(after))
	for i, s := range after {
		names[i] = s.Namespace
	}
	return names, nil
}

// Share is one namespace of spec.sharedWith with the state the controller
// reports for it.
type Share struct {
	Namespace string
	// State is Shared, Refused, or "pending" until the controller has
	// looked at the namespace.
	State           string
	Reason, Message string
}

// SharePending is the state of a share the controller has not reported on.
const SharePending = "pending"

// Shares pairs spec.sharedWith with status.sharedWith, in the spec's
// order. Pure.
func Shares(in *v1beta1.ServiceInstance) []Share {
	states := map[string]v1beta1.SharedNamespaceStatus{}
	for _, s := range in.Status.SharedWith {
		states[s.Namespace] = s
	}
	out := make([]Share, 0, len(in.Spec.SharedWith))
	for _, s := range in.Spec.SharedWith {
		sh := Share{Namespace: s.Namespace, State: SharePending}
		if st, ok := states[s.Namespace]; ok {
			sh.State, sh.Reason, sh.Message = string(st.State), st.Reason, st.Message
		}
		out = append(out, sh)
	}
	return out
}

// SharedInstance is an instance another namespace shares with the one
// listed, as its marker tells it: no status, which the owner's namespace
// keeps.
type SharedInstance struct {
	Namespace, Name, Class, Plan string
}

// maxMarkers bounds the markers one listing reads: anyone who may create
// ConfigMaps in the namespace can add more. maxMarkerName bounds the class
// and plan names a marker may give.
const (
	maxMarkers    = 500
	maxMarkerName = 253
)

// SharedWith lists the instances other namespaces share with ns, from the
// markers the controller writes there (see v1beta1.LabelSharedInstance),
// sorted by namespace and name; more is true when there were more than it
// reads. Listing them needs the right to list ConfigMaps in ns.
func (c *Client) SharedWith(ctx context.Context, ns string) (shared []SharedInstance, more bool, err error) {
	l := &corev1.ConfigMapList{}
	err = c.C.List(ctx, l, client.InNamespace(ns), client.MatchingLabels{v1beta1.LabelSharedInstance: "true"}, client.Limit(maxMarkers))
	if err != nil {
		return nil, false, apiError(err, "list", ResConfigMaps, ns)
	}
	for i := range l.Items {
		if s, ok := markerInstance(&l.Items[i], ns); ok {
			shared = append(shared, s)
		}
	}
	slices.SortFunc(shared, func(a, b SharedInstance) int {
		return strings.Compare(a.Namespace+"/"+a.Name, b.Namespace+"/"+b.Name)
	})
	return shared, l.Continue != "", nil
}

// SharedInstanceIn reads the marker of the instance owner/name in ns: what
// ns may know of an instance shared with it.
func (c *Client) SharedInstanceIn(ctx context.Context, ns, owner, name string) (SharedInstance, error) {
	cm := &corev1.ConfigMap{}
	err := c.C.Get(ctx, client.ObjectKey{Namespace: ns, Name: v1beta1.SharedMarkerObjectName(owner, name)}, cm)
	notShared := &NotFoundError{Kind: "instance shared with this namespace", Name: owner + "/" + name, Namespace: ns,
		Hint: "Its owner shares it with: svcat share instance " + name + " -n " + owner + " --with " + ns}
	if apierrors.IsNotFound(err) {
		notShared.Err = err
		return SharedInstance{}, notShared
	}
	if err != nil {
		return SharedInstance{}, apiError(err, "get", ResConfigMaps, ns)
	}
	s, ok := markerInstance(cm, ns)
	if !ok || s.Namespace != owner || s.Name != name {
		return SharedInstance{}, notShared
	}
	return s, nil
}

// markerInstance reads a marker. Users of ns can write markers too, so one
// that names ns itself, names no valid instance, is not named for what it
// names, or gives names longer than Kubernetes names is passed over: it
// could only mislead. Pure.
func markerInstance(cm *corev1.ConfigMap, ns string) (SharedInstance, bool) {
	d := cm.Data
	s := SharedInstance{Namespace: d[v1beta1.SharedMarkerNamespace], Name: d[v1beta1.SharedMarkerName],
		Class: strings.TrimPrefix(strings.TrimPrefix(d[v1beta1.SharedMarkerClass], "ClusterServiceClass/"), "ServiceClass/"),
		Plan:  d[v1beta1.SharedMarkerPlan]}
	switch {
	case len(validation.IsDNS1123Label(s.Namespace)) > 0, len(validation.IsDNS1123Subdomain(s.Name)) > 0,
		s.Namespace == ns, cm.Name != v1beta1.SharedMarkerObjectName(s.Namespace, s.Name),
		len(s.Class) > maxMarkerName, len(s.Plan) > maxMarkerName:
		return SharedInstance{}, false
	}
	return s, true
}

// NewBinding is a binding named name in ns of the instance ref, its
// credentials in the Secret secret (the binding's name when empty).
func NewBinding(ns, name string, ref v1beta1.InstanceReference, secret string) *v1beta1.ServiceBinding {
	if ref.Namespace == ns {
		ref.Namespace = ""
	}
	b := &v1beta1.ServiceBinding{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: v1beta1.ServiceBindingSpec{InstanceRef: ref, SecretName: secret}}
	b.SetGroupVersionKind(v1beta1.GroupVersion.WithKind("ServiceBinding"))
	return b
}
