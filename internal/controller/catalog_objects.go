package controller

import (
	"context"
	"reflect"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	scv1beta1 "github.com/svcat-io/svcat/api/v1beta1"
)

// catalogFields points into the fields of a class or plan object that the
// broker reconciler manages, so one piece of code serves all four kinds.
type catalogFields struct {
	broker   *string
	class    *scv1beta1.CommonServiceClassSpec // classes only
	plan     *scv1beta1.CommonServicePlanSpec  // plans only
	classRef *string                           // plans only
	removed  *bool
}

func fieldsOf(o client.Object) catalogFields {
	switch o := o.(type) {
	case *scv1beta1.ClusterServiceClass:
		return catalogFields{broker: &o.Spec.ClusterServiceBrokerName, class: &o.Spec.CommonServiceClassSpec, removed: &o.Status.RemovedFromBrokerCatalog}
	case *scv1beta1.ServiceClass:
		return catalogFields{broker: &o.Spec.ServiceBrokerName, class: &o.Spec.CommonServiceClassSpec, removed: &o.Status.RemovedFromBrokerCatalog}
	case *scv1beta1.ClusterServicePlan:
		return catalogFields{broker: &o.Spec.ClusterServiceBrokerName, plan: &o.Spec.CommonServicePlanSpec, classRef: &o.Spec.ClusterServiceClassRef.Name, removed: &o.Status.RemovedFromBrokerCatalog}
	case *scv1beta1.ServicePlan:
		return catalogFields{broker: &o.Spec.ServiceBrokerName, plan: &o.Spec.CommonServicePlanSpec, classRef: &o.Spec.ServiceClassRef.Name, removed: &o.Status.RemovedFromBrokerCatalog}
	}
	panic("fieldsOf: not a class or plan")
}

func (f catalogFields) externalID() string {
	if f.class != nil {
		return f.class.ExternalID
	}
	return f.plan.ExternalID
}

func (f catalogFields) externalName() string {
	if f.class != nil {
		return f.class.ExternalName
	}
	return f.plan.ExternalName
}

// brokerScope is what differs between cluster-scoped and namespaced
// brokers: which kinds hold their catalog, where, and under which labels.
type brokerScope struct {
	namespace     string // "" for cluster scope
	brokerKind    string
	classKind     string
	planKind      string
	brokerLabel   string
	classRefLabel string
	planRefLabel  string // instance label pointing at a plan
	newClass      func() client.Object
	newPlan       func() client.Object
	classList     func() client.ObjectList
	planList      func() client.ObjectList
}

var clusterScope = brokerScope{
	brokerKind:    "ClusterServiceBroker",
	classKind:     "ClusterServiceClass",
	planKind:      "ClusterServicePlan",
	brokerLabel:   scv1beta1.LabelClusterServiceBrokerName,
	classRefLabel: scv1beta1.LabelClusterServiceClassRefName,
	planRefLabel:  scv1beta1.LabelClusterServicePlanRefName,
	newClass:      func() client.Object { return &scv1beta1.ClusterServiceClass{} },
	newPlan:       func() client.Object { return &scv1beta1.ClusterServicePlan{} },
	classList:     func() client.ObjectList { return &scv1beta1.ClusterServiceClassList{} },
	planList:      func() client.ObjectList { return &scv1beta1.ClusterServicePlanList{} },
}

func namespacedScope(ns string) brokerScope {
	return brokerScope{
		namespace:     ns,
		brokerKind:    "ServiceBroker",
		classKind:     "ServiceClass",
		planKind:      "ServicePlan",
		brokerLabel:   scv1beta1.LabelServiceBrokerName,
		classRefLabel: scv1beta1.LabelServiceClassRefName,
		planRefLabel:  scv1beta1.LabelServicePlanRefName,
		newClass:      func() client.Object { return &scv1beta1.ServiceClass{} },
		newPlan:       func() client.Object { return &scv1beta1.ServicePlan{} },
		classList:     func() client.ObjectList { return &scv1beta1.ServiceClassList{} },
		planList:      func() client.ObjectList { return &scv1beta1.ServicePlanList{} },
	}
}

// list returns the objects of a class or plan list kind in the scope.
func (s brokerScope) list(ctx context.Context, c client.Reader, l client.ObjectList) ([]client.Object, error) {
	var opts []client.ListOption
	if s.namespace != "" {
		opts = append(opts, client.InNamespace(s.namespace))
	}
	if err := c.List(ctx, l, opts...); err != nil {
		return nil, err
	}
	items := reflect.ValueOf(l).Elem().FieldByName("Items")
	out := make([]client.Object, items.Len())
	for i := range out {
		out[i] = items.Index(i).Addr().Interface().(client.Object)
	}
	return out, nil
}

// inUse tells whether any ServiceInstance in the scope refers to the class
// or plan, by the lookup labels the instance controller (and v0.3) set.
func (s brokerScope) inUse(ctx context.Context, c client.Reader, label, name string) (bool, error) {
	l := &metav1.PartialObjectMetadataList{}
	l.SetGroupVersionKind(scv1beta1.GroupVersion.WithKind("ServiceInstanceList"))
	opts := []client.ListOption{client.MatchingLabels{label: scv1beta1.LabelValue(name)}, client.Limit(1)}
	if s.namespace != "" {
		opts = append(opts, client.InNamespace(s.namespace))
	}
	if err := c.List(ctx, l, opts...); err != nil {
		return false, err
	}
	return len(l.Items) > 0, nil
}
