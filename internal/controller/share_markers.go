package controller

import (
	"context"
	"errors"
	"maps"
	"slices"
	"strings"
	"sync"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	scv1beta1 "github.com/svcat-io/svcat/api/v1beta1"
	"github.com/svcat-io/svcat/internal/controller/statuspatch"
)

// The markers (see scv1beta1.LabelSharedInstance) are read uncached: a
// cache would hold every ConfigMap of the cluster.
// +kubebuilder:rbac:groups="",resources=configmaps,verbs=get;create;update;delete

// markerData is what a marker says of an instance.
func markerData(inst *scv1beta1.ServiceInstance) map[string]string {
	return map[string]string{
		scv1beta1.SharedMarkerNamespace: inst.Namespace,
		scv1beta1.SharedMarkerName:      inst.Name,
		scv1beta1.SharedMarkerClass:     inst.Status.UserSpecifiedClassName,
		scv1beta1.SharedMarkerPlan:      inst.Status.UserSpecifiedPlanName,
	}
}

// sharedNamespaces are the namespaces states shares the instance with.
func sharedNamespaces(states []scv1beta1.SharedNamespaceStatus) map[string]bool {
	out := map[string]bool{}
	for _, s := range states {
		if s.State == scv1beta1.ShareStateShared {
			out[s.Namespace] = true
		}
	}
	return out
}

// markerChanges decides which namespaces get a marker written and which
// lose theirs, from the shares before and after a reconcile. Pure.
func markerChanges(before, after []scv1beta1.SharedNamespaceStatus) (write, drop []string) {
	was, is := sharedNamespaces(before), sharedNamespaces(after)
	for ns := range is {
		write = append(write, ns)
	}
	for ns := range was {
		if !is[ns] {
			drop = append(drop, ns)
		}
	}
	return write, drop
}

// syncShareMarkers writes and removes the markers of inst after its
// shares changed from before; also removes those of retry, namespaces
// whose marker a failed sync left. It returns the namespaces whose marker
// is still to be removed.
func (r *InstanceReconciler) syncShareMarkers(ctx context.Context, inst *scv1beta1.ServiceInstance, before []scv1beta1.SharedNamespaceStatus, retry []string) ([]string, error) {
	write, drop := markerChanges(before, inst.Status.SharedWith)
	for _, ns := range retry {
		if !slices.Contains(write, ns) && !slices.Contains(drop, ns) {
			drop = append(drop, ns)
		}
	}
	var errs []error
	var left []string
	for _, ns := range write {
		errs = append(errs, r.writeMarker(ctx, ns, inst))
	}
	for _, ns := range drop {
		if err := r.dropMarker(ctx, ns, inst); err != nil {
			errs, left = append(errs, err), append(left, ns)
		}
	}
	return left, errors.Join(errs...)
}

func (r *InstanceReconciler) writeMarker(ctx context.Context, ns string, inst *scv1beta1.ServiceInstance) error {
	name := scv1beta1.SharedMarkerObjectName(inst.Namespace, inst.Name)
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name,
		Labels: map[string]string{scv1beta1.LabelSharedInstance: "true", scv1beta1.LabelManagedBy: scv1beta1.ManagedByValue}},
		Data: markerData(inst)}
	err := r.Client.Create(ctx, cm)
	switch {
	case apierrors.IsNotFound(err):
		return nil // no such namespace (yet): nothing to show there
	case !apierrors.IsAlreadyExists(err):
		return err
	}
	cur := &corev1.ConfigMap{}
	if err := r.APIReader.Get(ctx, client.ObjectKeyFromObject(cm), cur); err != nil {
		return client.IgnoreNotFound(err)
	}
	if cur.Labels[scv1beta1.LabelSharedInstance] != "true" || maps.Equal(cur.Data, cm.Data) {
		return nil // someone else's ConfigMap of that name is left alone
	}
	cur.Data = cm.Data
	return r.Client.Update(ctx, cur)
}

func (r *InstanceReconciler) dropMarker(ctx context.Context, ns string, inst *scv1beta1.ServiceInstance) error {
	cur := &corev1.ConfigMap{}
	err := r.APIReader.Get(ctx, client.ObjectKey{Namespace: ns, Name: scv1beta1.SharedMarkerObjectName(inst.Namespace, inst.Name)}, cur)
	if err != nil {
		return client.IgnoreNotFound(err)
	}
	if cur.Labels[scv1beta1.LabelSharedInstance] != "true" || cur.Data[scv1beta1.SharedMarkerNamespace] != inst.Namespace || cur.Data[scv1beta1.SharedMarkerName] != inst.Name {
		return nil
	}
	return client.IgnoreNotFound(r.Client.Delete(ctx, cur, client.Preconditions{UID: &cur.UID}))
}

// dropShareMarkers removes every marker of an instance that goes. A
// marker holds nothing but names, so one that cannot be removed does not
// hold up the deletion: a Warning event says which namespaces keep one.
func (r *InstanceReconciler) dropShareMarkers(ctx context.Context, inst *scv1beta1.ServiceInstance) {
	retry, _ := r.markers.m.Load(inst.UID)
	pending, _ := retry.([]string)
	r.markers.m.Delete(inst.UID)
	left, err := r.syncShareMarkers(ctx, &scv1beta1.ServiceInstance{ObjectMeta: inst.ObjectMeta}, inst.Status.SharedWith, pending)
	if err != nil {
		r.Recorder.Eventf(inst, nil, corev1.EventTypeWarning, scv1beta1.ReasonShareMarkerLeft, "Delete",
			scv1beta1.MessageShareMarkerLeftFormat, strings.Join(left, ", "), scv1beta1.LabelSharedInstance)
	}
}

// markerRetries remembers, per instance UID, that its last marker sync
// failed and which markers are still to be removed, so that the next
// reconcile tries again although its shares did not change.
type markerRetries struct{ m sync.Map }

// shareMarkers syncs the markers when the shares changed in this step or
// the last sync failed.
func (r *InstanceReconciler) shareMarkers(ctx context.Context, inst *scv1beta1.ServiceInstance, before []scv1beta1.SharedNamespaceStatus) error {
	retry, failed := r.markers.m.Load(inst.UID)
	if !failed && statuspatch.SameJSON(before, inst.Status.SharedWith) {
		// Also the common case: never shared (two empty lists).
		return nil
	}
	pending, _ := retry.([]string)
	left, err := r.syncShareMarkers(ctx, inst, before, pending)
	if err != nil {
		r.markers.m.Store(inst.UID, left)
		return err
	}
	r.markers.m.Delete(inst.UID)
	return nil
}
