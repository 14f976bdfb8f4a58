package idclaim

import (
	"context"
	"errors"
	"fmt"

	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	scv1beta1 "github.com/svcat-io/svcat/api/v1beta1"
)

// ExternalIDField indexes instances and bindings (each kind its own index)
// by external ID, to find the rivals of an object when no claim exists yet.
const ExternalIDField = "spec.externalID"

// IndexExternalIDs adds the ExternalIDField index of instances and
// bindings to the manager's cache.
func IndexExternalIDs(idx client.FieldIndexer) error {
	if err := idx.IndexField(context.Background(), &scv1beta1.ServiceInstance{}, ExternalIDField, func(o client.Object) []string {
		return nonEmpty(o.(*scv1beta1.ServiceInstance).Spec.ExternalID)
	}); err != nil {
		return fmt.Errorf("indexing instances by external ID: %w", err)
	}
	if err := idx.IndexField(context.Background(), &scv1beta1.ServiceBinding{}, ExternalIDField, func(o client.Object) []string {
		return nonEmpty(o.(*scv1beta1.ServiceBinding).Spec.ExternalID)
	}); err != nil {
		return fmt.Errorf("indexing bindings by external ID: %w", err)
	}
	return nil
}

func nonEmpty(s string) []string {
	if s == "" {
		return nil
	}
	return []string{s}
}

func ownerOf(o client.Object) Owner {
	return Owner{UID: o.GetUID(), Namespace: o.GetNamespace(), Name: o.GetName(), Created: o.GetCreationTimestamp(), Generation: o.GetGeneration()}
}

// Owns takes or confirms obj's claim on its external ID: false, with no
// error, when another live object of kind owns the ID. Rivals are found in
// c, the cache.
func (cl *Claims) Owns(ctx context.Context, c client.Reader, kind Kind, obj client.Object, id string) (bool, error) {
	err := cl.Acquire(ctx, kind, id, ownerOf(obj), rivals(ctx, c, kind, id))
	if errors.Is(err, ErrInUse) {
		return false, nil
	}
	return err == nil, err
}

// rivals lists, from the cache, every object of kind in the cluster
// carrying the ID.
func rivals(ctx context.Context, c client.Reader, kind Kind, id string) func() ([]Owner, error) {
	return func() ([]Owner, error) {
		if kind == Binding {
			l := &scv1beta1.ServiceBindingList{}
			if err := c.List(ctx, l, client.MatchingFields{ExternalIDField: id}); err != nil {
				return nil, err
			}
			return owners(l.Items), nil
		}
		l := &scv1beta1.ServiceInstanceList{}
		if err := c.List(ctx, l, client.MatchingFields{ExternalIDField: id}); err != nil {
			return nil, err
		}
		return owners(l.Items), nil
	}
}

func owners[T any, PT interface {
	*T
	client.Object
}](items []T) []Owner {
	out := make([]Owner, 0, len(items))
	for i := range items {
		out = append(out, ownerOf(PT(&items[i])))
	}
	return out
}

// DeletedOnly passes deletions: of a claim, or of an object that may have
// been the oldest of several carrying one ID before any claimed it; either
// way an object refused because of it may now take the ID.
var DeletedOnly = predicate.Funcs{
	CreateFunc:  func(event.CreateEvent) bool { return false },
	UpdateFunc:  func(event.UpdateEvent) bool { return false },
	DeleteFunc:  func(e event.DeleteEvent) bool { return true },
	GenericFunc: func(event.GenericEvent) bool { return false },
}

// OnRelease maps a released claim of kind to the objects carrying its
// ID.
func OnRelease(c client.Reader, kind Kind) handler.EventHandler {
	return handler.EnqueueRequestsFromMapFunc(func(ctx context.Context, o client.Object) []reconcile.Request {
		if o.GetLabels()[LabelKind] != string(kind) {
			return nil
		}
		return carrying(ctx, c, kind, o.GetAnnotations()[AnnotationExternal])
	})
}

// OnRivalGone maps a deleted instance or binding to the others carrying its
// external ID.
func OnRivalGone(c client.Reader, kind Kind) handler.EventHandler {
	return handler.EnqueueRequestsFromMapFunc(func(ctx context.Context, o client.Object) []reconcile.Request {
		switch x := o.(type) {
		case *scv1beta1.ServiceInstance:
			return carrying(ctx, c, kind, x.Spec.ExternalID)
		case *scv1beta1.ServiceBinding:
			return carrying(ctx, c, kind, x.Spec.ExternalID)
		}
		return nil
	})
}

// carrying lists the objects of kind whose external ID is id.
func carrying(ctx context.Context, c client.Reader, kind Kind, id string) []reconcile.Request {
	if id == "" {
		return nil
	}
	ws, err := rivals(ctx, c, kind, id)()
	if err != nil {
		return nil
	}
	out := make([]reconcile.Request, 0, len(ws))
	for _, w := range ws {
		out = append(out, reconcile.Request{NamespacedName: types.NamespacedName{Namespace: w.Namespace, Name: w.Name}})
	}
	return out
}
