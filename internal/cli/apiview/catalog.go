// Package apiview is svcat's view of the API: brokers, classes and plans of
// both scopes behind one shape each, instances and bindings, and API errors
// turned into errors a person can act on.
package apiview

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/svcat-io/svcat/api/v1beta1"
)

// Scope limits a command to cluster-scoped objects, namespaced ones, or both.
type Scope string

const (
	AllScope       Scope = "all"
	ClusterScope   Scope = "cluster"
	NamespaceScope Scope = "namespace"
)

// ParseScope checks a --scope value against the allowed ones.
func ParseScope(s string, allowed ...Scope) (Scope, error) {
	for _, a := range allowed {
		if Scope(s) == a {
			return a, nil
		}
	}
	names := make([]string, len(allowed))
	for i, a := range allowed {
		names[i] = string(a)
	}
	return "", fmt.Errorf("invalid --scope %q: use %s", s, strings.Join(names, ", "))
}

// HasCluster says whether the scope includes cluster-scoped objects.
func (s Scope) HasCluster() bool { return s == AllScope || s == ClusterScope }

// HasNamespace says whether the scope includes namespaced objects.
func (s Scope) HasNamespace() bool { return s == AllScope || s == NamespaceScope }

// Scheme knows the kinds svcat reads and writes.
func Scheme() (*runtime.Scheme, error) {
	s := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(s); err != nil {
		return nil, err
	}
	if err := v1beta1.AddToScheme(s); err != nil {
		return nil, err
	}
	return s, nil
}

// Client reads and writes catalog objects.
type Client struct {
	C client.Client
}

// New wraps a controller-runtime client whose scheme includes Scheme's kinds.
func New(c client.Client) *Client { return &Client{C: c} }

// Resource names as RBAC and kubectl know them, for error messages.
const (
	ResClusterServiceBrokers = "clusterservicebrokers.servicecatalog.k8s.io"
	ResServiceBrokers        = "servicebrokers.servicecatalog.k8s.io"
	ResClusterServiceClasses = "clusterserviceclasses.servicecatalog.k8s.io"
	ResServiceClasses        = "serviceclasses.servicecatalog.k8s.io"
	ResClusterServicePlans   = "clusterserviceplans.servicecatalog.k8s.io"
	ResServicePlans          = "serviceplans.servicecatalog.k8s.io"
	ResServiceInstances      = "serviceinstances.servicecatalog.k8s.io"
	ResServiceBindings       = "servicebindings.servicecatalog.k8s.io"
	ResSecrets               = "secrets"
)

// List lists into list, in namespace ns or everywhere when ns is empty.
func (c *Client) List(ctx context.Context, list client.ObjectList, resource, ns string) error {
	var opts []client.ListOption
	if ns != "" {
		opts = append(opts, client.InNamespace(ns))
	}
	return apiError(c.C.List(ctx, list, opts...), "list", resource, ns)
}

// Get fetches one object, saying which kind is missing when it is.
func (c *Client) Get(ctx context.Context, obj client.Object, kind, resource, ns, name string) error {
	err := c.C.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, obj)
	if apierrors.IsNotFound(err) && !isGroupNotServed(err) {
		return &NotFoundError{Kind: kind, Name: name, Namespace: ns, Err: err}
	}
	return apiError(err, "get", resource, ns)
}

// Create creates obj.
func (c *Client) Create(ctx context.Context, obj client.Object, resource string) error {
	err := c.C.Create(ctx, obj)
	if apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("%s %q already exists in namespace %q: pick another name or delete it first", obj.GetObjectKind().GroupVersionKind().Kind, obj.GetName(), obj.GetNamespace())
	}
	return apiError(err, "create", resource, obj.GetNamespace())
}

// Update writes obj back, for changes based on a fresh Get.
func (c *Client) Update(ctx context.Context, obj client.Object, resource string) error {
	return apiError(c.C.Update(ctx, obj), "update", resource, obj.GetNamespace())
}

// Delete deletes obj; an object that is already gone is not an error.
func (c *Client) Delete(ctx context.Context, obj client.Object, resource string) error {
	return apiError(client.IgnoreNotFound(c.C.Delete(ctx, obj)), "delete", resource, obj.GetNamespace())
}

// Instances lists instances in ns, or everywhere when ns is empty, sorted by
// namespace and name.
func (c *Client) Instances(ctx context.Context, ns string) ([]v1beta1.ServiceInstance, error) {
	var l v1beta1.ServiceInstanceList
	if err := c.List(ctx, &l, ResServiceInstances, ns); err != nil {
		return nil, err
	}
	for i := range l.Items {
		l.Items[i].SetGroupVersionKind(v1beta1.GroupVersion.WithKind("ServiceInstance"))
	}
	slices.SortFunc(l.Items, func(a, b v1beta1.ServiceInstance) int {
		return cmp.Or(cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Name, b.Name))
	})
	return l.Items, nil
}

// Instance gets one instance.
func (c *Client) Instance(ctx context.Context, ns, name string) (*v1beta1.ServiceInstance, error) {
	var in v1beta1.ServiceInstance
	if err := c.Get(ctx, &in, "instance", ResServiceInstances, ns, name); err != nil {
		return nil, err
	}
	in.SetGroupVersionKind(v1beta1.GroupVersion.WithKind("ServiceInstance"))
	return &in, nil
}

// Bindings lists bindings in ns, or everywhere when ns is empty, sorted by
// namespace and name.
func (c *Client) Bindings(ctx context.Context, ns string) ([]v1beta1.ServiceBinding, error) {
	var l v1beta1.ServiceBindingList
	if err := c.List(ctx, &l, ResServiceBindings, ns); err != nil {
		return nil, err
	}
	for i := range l.Items {
		l.Items[i].SetGroupVersionKind(v1beta1.GroupVersion.WithKind("ServiceBinding"))
	}
	slices.SortFunc(l.Items, func(a, b v1beta1.ServiceBinding) int {
		return cmp.Or(cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Name, b.Name))
	})
	return l.Items, nil
}

// Binding gets one binding.
func (c *Client) Binding(ctx context.Context, ns, name string) (*v1beta1.ServiceBinding, error) {
	var b v1beta1.ServiceBinding
	if err := c.Get(ctx, &b, "binding", ResServiceBindings, ns, name); err != nil {
		return nil, err
	}
	b.SetGroupVersionKind(v1beta1.GroupVersion.WithKind("ServiceBinding"))
	return &b, nil
}

// BindingsOf lists the bindings of one instance.
func (c *Client) BindingsOf(ctx context.Context, ns, instance string) ([]v1beta1.ServiceBinding, error) {
	all, err := c.Bindings(ctx, ns)
	if err != nil {
		return nil, err
	}
	// A binding of an instance another namespace shares may carry the same
	// name: it is not this instance's.
	return slices.DeleteFunc(all, func(b v1beta1.ServiceBinding) bool {
		return b.Spec.InstanceRef.Name != instance || b.InstanceNamespace() != ns
	}), nil
}

// Secret gets a Secret.
func (c *Client) Secret(ctx context.Context, ns, name string) (*corev1.Secret, error) {
	var s corev1.Secret
	if err := c.Get(ctx, &s, "secret", ResSecrets, ns, name); err != nil {
		return nil, err
	}
	return &s, nil
}
