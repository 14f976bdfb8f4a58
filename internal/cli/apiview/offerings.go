package apiview

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"strings"

	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/svcat-io/svcat/api/v1beta1"
)

// Broker is a ClusterServiceBroker or a ServiceBroker.
type Broker struct {
	// Object is the API object itself, for JSON and YAML output and updates.
	Object    client.Object
	Name      string
	Namespace string
	Spec      *v1beta1.CommonServiceBrokerSpec
	Status    *v1beta1.CommonServiceBrokerStatus
}

// Class is a ClusterServiceClass or a ServiceClass.
type Class struct {
	Object    client.Object
	Name      string
	Namespace string
	Broker    string
	Spec      *v1beta1.CommonServiceClassSpec
	Removed   bool
}

// Plan is a ClusterServicePlan or a ServicePlan.
type Plan struct {
	Object    client.Object
	Name      string
	Namespace string
	Broker    string
	// ClassName is the Kubernetes name of the plan's class.
	ClassName string
	Spec      *v1beta1.CommonServicePlanSpec
	Removed   bool
}

// Resource is the broker's resource name, for error messages.
func (b Broker) Resource() string {
	if b.Namespace == "" {
		return ResClusterServiceBrokers
	}
	return ResServiceBrokers
}

// Scope is where the broker lives.
func (b Broker) Scope() Scope { return scopeOf(b.Namespace) }

// Scope is where the class lives.
func (c Class) Scope() Scope { return scopeOf(c.Namespace) }

// Scope is where the plan lives.
func (p Plan) Scope() Scope { return scopeOf(p.Namespace) }

// BelongsTo says whether the plan is one of class's plans.
func (p Plan) BelongsTo(c Class) bool { return p.Namespace == c.Namespace && p.ClassName == c.Name }

func scopeOf(ns string) Scope {
	if ns == "" {
		return ClusterScope
	}
	return NamespaceScope
}

// byScope orders cluster-scoped objects first, then by namespace, then by
// the given keys, so listings are stable across runs.
func byScope(aNs, bNs string, keys ...int) int {
	// cmp.Compare orders "" first, which puts cluster scope first.
	return cmp.Or(append([]int{cmp.Compare(aNs, bNs)}, keys...)...)
}

// Brokers lists brokers in scope; ns limits namespaced ones and is empty for
// all namespaces.
func (c *Client) Brokers(ctx context.Context, scope Scope, ns string) ([]Broker, error) {
	var out []Broker
	if scope.HasCluster() {
		var l v1beta1.ClusterServiceBrokerList
		if err := c.List(ctx, &l, ResClusterServiceBrokers, ""); err != nil {
			return nil, err
		}
		for i := range l.Items {
			out = append(out, ClusterBroker(&l.Items[i]))
		}
	}
	if scope.HasNamespace() {
		var l v1beta1.ServiceBrokerList
		if err := c.List(ctx, &l, ResServiceBrokers, ns); err != nil {
			return nil, err
		}
		for i := range l.Items {
			out = append(out, NamespacedBroker(&l.Items[i]))
		}
	}
	slices.SortFunc(out, func(a, b Broker) int { return byScope(a.Namespace, b.Namespace, cmp.Compare(a.Name, b.Name)) })
	return out, nil
}

// ClusterBroker wraps a ClusterServiceBroker.
func ClusterBroker(b *v1beta1.ClusterServiceBroker) Broker {
	b.SetGroupVersionKind(v1beta1.GroupVersion.WithKind("ClusterServiceBroker"))
	return Broker{Object: b, Name: b.Name, Spec: &b.Spec.CommonServiceBrokerSpec, Status: &b.Status.CommonServiceBrokerStatus}
}

// NamespacedBroker wraps a ServiceBroker.
func NamespacedBroker(b *v1beta1.ServiceBroker) Broker {
	b.SetGroupVersionKind(v1beta1.GroupVersion.WithKind("ServiceBroker"))
	return Broker{Object: b, Name: b.Name, Namespace: b.Namespace, Spec: &b.Spec.CommonServiceBrokerSpec, Status: &b.Status.CommonServiceBrokerStatus}
}

// Classes lists classes in scope; ns limits namespaced ones and is empty for
// all namespaces.
func (c *Client) Classes(ctx context.Context, scope Scope, ns string) ([]Class, error) {
	var out []Class
	if scope.HasCluster() {
		var l v1beta1.ClusterServiceClassList
		if err := c.List(ctx, &l, ResClusterServiceClasses, ""); err != nil {
			return nil, err
		}
		for i := range l.Items {
			o := &l.Items[i]
			o.SetGroupVersionKind(v1beta1.GroupVersion.WithKind("ClusterServiceClass"))
			out = append(out, Class{Object: o, Name: o.Name, Broker: o.Spec.ClusterServiceBrokerName,
				Spec: &o.Spec.CommonServiceClassSpec, Removed: o.Status.RemovedFromBrokerCatalog})
		}
	}
	if scope.HasNamespace() {
		var l v1beta1.ServiceClassList
		if err := c.List(ctx, &l, ResServiceClasses, ns); err != nil {
			return nil, err
		}
		for i := range l.Items {
			o := &l.Items[i]
			o.SetGroupVersionKind(v1beta1.GroupVersion.WithKind("ServiceClass"))
			out = append(out, Class{Object: o, Name: o.Name, Namespace: o.Namespace, Broker: o.Spec.ServiceBrokerName,
				Spec: &o.Spec.CommonServiceClassSpec, Removed: o.Status.RemovedFromBrokerCatalog})
		}
	}
	slices.SortFunc(out, func(a, b Class) int {
		return byScope(a.Namespace, b.Namespace, cmp.Compare(a.Spec.ExternalName, b.Spec.ExternalName), cmp.Compare(a.Name, b.Name))
	})
	return out, nil
}

// Plans lists plans in scope; ns limits namespaced ones and is empty for all
// namespaces.
func (c *Client) Plans(ctx context.Context, scope Scope, ns string) ([]Plan, error) {
	var out []Plan
	if scope.HasCluster() {
		var l v1beta1.ClusterServicePlanList
		if err := c.List(ctx, &l, ResClusterServicePlans, ""); err != nil {
			return nil, err
		}
		for i := range l.Items {
			o := &l.Items[i]
			o.SetGroupVersionKind(v1beta1.GroupVersion.WithKind("ClusterServicePlan"))
			out = append(out, Plan{Object: o, Name: o.Name, Broker: o.Spec.ClusterServiceBrokerName,
				ClassName: o.Spec.ClusterServiceClassRef.Name, Spec: &o.Spec.CommonServicePlanSpec,
				Removed: o.Status.RemovedFromBrokerCatalog})
		}
	}
	if scope.HasNamespace() {
		var l v1beta1.ServicePlanList
		if err := c.List(ctx, &l, ResServicePlans, ns); err != nil {
			return nil, err
		}
		for i := range l.Items {
			o := &l.Items[i]
			o.SetGroupVersionKind(v1beta1.GroupVersion.WithKind("ServicePlan"))
			out = append(out, Plan{Object: o, Name: o.Name, Namespace: o.Namespace, Broker: o.Spec.ServiceBrokerName,
				ClassName: o.Spec.ServiceClassRef.Name, Spec: &o.Spec.CommonServicePlanSpec,
				Removed: o.Status.RemovedFromBrokerCatalog})
		}
	}
	slices.SortFunc(out, func(a, b Plan) int {
		return byScope(a.Namespace, b.Namespace, cmp.Compare(a.ClassName, b.ClassName),
			cmp.Compare(a.Spec.ExternalName, b.Spec.ExternalName), cmp.Compare(a.Name, b.Name))
	})
	return out, nil
}

// Offerings is a snapshot of classes and plans, to name an instance's class
// and plan the way people know them.
type Offerings struct {
	Classes []Class
	Plans   []Plan
}

// Offerings lists the classes and plans in scope that an instance in ns (or
// any namespace when ns is empty) can use.
func (c *Client) Offerings(ctx context.Context, scope Scope, ns string) (*Offerings, error) {
	classes, err := c.Classes(ctx, scope, ns)
	if err != nil {
		return nil, err
	}
	plans, err := c.Plans(ctx, scope, ns)
	if err != nil {
		return nil, err
	}
	return &Offerings{Classes: classes, Plans: plans}, nil
}

// userSpecified drops the kind from the controller's
// userSpecifiedClassName, "ClusterServiceClass/cloudkarafka".
func userSpecified(name string) string {
	if _, n, ok := strings.Cut(name, "/"); ok {
		return n
	}
	return name
}

// OfferingsIfAllowed is Offerings for display only: someone allowed to
// read instances but not classes still gets a listing, with the names the
// controller recorded in the instances' status.
func (c *Client) OfferingsIfAllowed(ctx context.Context, ns string) (*Offerings, error) {
	off, err := c.Offerings(ctx, AllScope, ns)
	var fe *ForbiddenError
	if errors.As(err, &fe) {
		return nil, nil
	}
	return off, err
}

// ClassOf finds a class by Kubernetes name in namespace ns ("" for cluster
// scope). A nil Offerings (the classes could not be read) finds nothing.
func (o *Offerings) ClassOf(ns, name string) (Class, bool) {
	if o == nil {
		return Class{}, false
	}
	for _, c := range o.Classes {
		if c.Namespace == ns && c.Name == name {
			return c, true
		}
	}
	return Class{}, false
}

// PlansOf lists a class's plans.
func (o *Offerings) PlansOf(c Class) []Plan {
	var out []Plan
	for _, p := range o.Plans {
		if p.BelongsTo(c) {
			out = append(out, p)
		}
	}
	slices.SortFunc(out, func(a, b Plan) int { return cmp.Compare(a.Spec.ExternalName, b.Spec.ExternalName) })
	return out
}

// PlanOf finds a plan by Kubernetes name in namespace ns ("" for cluster
// scope).
func (o *Offerings) PlanOf(ns, name string) (Plan, bool) {
	if o == nil {
		return Plan{}, false
	}
	for _, p := range o.Plans {
		if p.Namespace == ns && p.Name == name {
			return p, true
		}
	}
	return Plan{}, false
}

// InstanceClassPlan names an instance's class and plan by their external
// names, whichever way the instance refers to them: the names people
// provision by, not the broker's IDs that svcat provision writes.
func (o *Offerings) InstanceClassPlan(in *v1beta1.ServiceInstance) (class, plan string) {
	if in.Spec.UserProvided != nil {
		return UserProvidedClass, ""
	}
	s := in.Spec
	if s.ClusterServiceClassExternalName != "" || s.ServiceClassExternalName != "" {
		return s.ClusterServiceClassExternalName + s.ServiceClassExternalName,
			s.ClusterServicePlanExternalName + s.ServicePlanExternalName
	}
	classNs, className, planName := "", "", ""
	switch {
	case s.ClusterServiceClassRef != nil:
		className = s.ClusterServiceClassRef.Name
	case s.ClusterServiceClassName != "":
		className = s.ClusterServiceClassName
	case s.ServiceClassRef != nil:
		classNs, className = in.Namespace, s.ServiceClassRef.Name
	case s.ServiceClassName != "":
		classNs, className = in.Namespace, s.ServiceClassName
	}
	switch {
	case s.ClusterServicePlanRef != nil:
		planName = s.ClusterServicePlanRef.Name
	case s.ClusterServicePlanName != "":
		planName = s.ClusterServicePlanName
	case s.ServicePlanRef != nil:
		planName = s.ServicePlanRef.Name
	case s.ServicePlanName != "":
		planName = s.ServicePlanName
	}
	class, plan = className, planName
	if c, ok := o.ClassOf(classNs, className); ok {
		class = c.Spec.ExternalName
	} else if u := userSpecified(in.Status.UserSpecifiedClassName); u != "" {
		class = u
	}
	if p, ok := o.PlanOf(classNs, planName); ok {
		plan = p.Spec.ExternalName
	} else if in.Status.UserSpecifiedPlanName != "" {
		plan = in.Status.UserSpecifiedPlanName
	}
	if class == "" {
		class = cmp.Or(s.ClusterServiceClassExternalID, s.ServiceClassExternalID)
		plan = cmp.Or(plan, s.ClusterServicePlanExternalID, s.ServicePlanExternalID)
	}
	return class, plan
}
