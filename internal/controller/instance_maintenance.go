package controller

import (
	"context"
	"errors"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	scv1beta1 "github.com/svcat-io/svcat/api/v1beta1"
	"github.com/svcat-io/svcat/internal/osb"
	"k8s.io/apimachinery/pkg/types"
)

// recordedMaintenance is the maintenance_info version the broker last
// accepted for the instance; empty for instances from before svcat
// recorded it, which are then never said to be out of date.
func recordedMaintenance(st *scv1beta1.ServiceInstanceStatus) string {
	if st.ExternalProperties == nil {
		return ""
	}
	return st.ExternalProperties.MaintenanceInfoVersion
}

// maintenanceToSend decides the maintenance_info of an update: the plan's
// on a plan change (OSB asks for the new plan's), on an upgrade asked for
// by spec.maintenanceInfoVersion or the Automatic policy; none otherwise,
// which leaves the broker's version alone. A version the broker refused
// is not sent again until the catalog's differs.
func maintenanceToSend(spec *scv1beta1.ServiceInstanceSpec, st *scv1beta1.ServiceInstanceStatus, plan *scv1beta1.MaintenanceInfo, planChanged bool) *osb.MaintenanceInfo {
	if plan == nil {
		return nil
	}
	want := &osb.MaintenanceInfo{Version: plan.Version}
	switch {
	case st.MaintenanceInfoConflict == plan.Version:
		// Also on a plan change, which then goes out without it: sending
		// it again would only be refused again, in a loop.
		return nil
	case planChanged:
		return want
	case recordedMaintenance(st) == plan.Version:
		return nil
	case spec.MaintenanceUpgradePolicy == scv1beta1.MaintenanceUpgradeAutomatic, spec.MaintenanceInfoVersion == plan.Version:
		return want
	}
	return nil
}

// maintenanceVersionSent is the version an instance has once the request
// carrying mi is accepted.
func maintenanceVersionSent(st *scv1beta1.ServiceInstanceStatus, mi *osb.MaintenanceInfo) string {
	if mi != nil {
		return mi.Version
	}
	return recordedMaintenance(st)
}

// noteMaintenance keeps the UpgradeAvailable condition in step with the
// plan: present while the plan's version differs from the instance's,
// with the broker's description, or with the broker's refusal while the
// catalog still offers the refused version.
func noteMaintenance(s *instanceStep) {
	inst := s.inst
	st := &inst.Status
	if st.ProvisionStatus != scv1beta1.ServiceInstanceProvisionStatusProvisioned || st.AsyncOpInProgress || s.res == nil {
		return
	}
	plan, recorded := s.res.plan.MaintenanceInfo, recordedMaintenance(st)
	if plan == nil || recorded == "" || recorded == plan.Version {
		st.RemoveCondition(scv1beta1.ServiceInstanceConditionUpgradeAvailable)
		st.MaintenanceInfoConflict = ""
		return
	}
	if st.MaintenanceInfoConflict == plan.Version {
		// The refusal's own message, with the broker's words, stays.
		if c := st.GetCondition(scv1beta1.ServiceInstanceConditionUpgradeAvailable); c != nil && c.Reason == scv1beta1.ReasonMaintenanceInfoConflict {
			return
		}
	}
	st.MaintenanceInfoConflict = ""
	desc := plan.Description
	if desc == "" {
		desc = "the broker gives no description"
	}
	st.SetAdvisoryCondition(scv1beta1.ServiceInstanceConditionUpgradeAvailable, scv1beta1.ConditionTrue, scv1beta1.ReasonMaintenanceUpgradeAvailable,
		fmt.Sprintf(scv1beta1.MessageMaintenanceUpgradeAvailableFormat, plan.Version, recorded, desc, inst.Name), s.now)
}

// maintenanceRefused records a 422 MaintenanceInfoConflict to an update
// that carried version: the instance keeps what it has (it is still
// Ready), and the version is not sent again until the catalog changes.
func (r *InstanceReconciler) maintenanceRefused(s *instanceStep, version string, err error) {
	why := "the broker gave no description"
	var h *osb.HTTPError
	if errors.As(err, &h) && h.Description != "" {
		why = h.Description // bounded and cleaned when decoded
	}
	st := &s.inst.Status
	st.MaintenanceInfoConflict = version
	msg := fmt.Sprintf(scv1beta1.MessageMaintenanceInfoConflictFormat, version, why)
	st.SetAdvisoryCondition(scv1beta1.ServiceInstanceConditionUpgradeAvailable, scv1beta1.ConditionTrue, scv1beta1.ReasonMaintenanceInfoConflict, msg, s.now)
	r.Recorder.Eventf(s.inst, nil, corev1.EventTypeWarning, scv1beta1.ReasonMaintenanceInfoConflict, "Update", "%s", msg)
}

// maintenanceChanged passes plan updates whose maintenance_info changed:
// only those concern the instances on the plan.
var maintenanceChanged = predicate.Funcs{
	CreateFunc:  func(event.CreateEvent) bool { return false },
	DeleteFunc:  func(event.DeleteEvent) bool { return false },
	GenericFunc: func(event.GenericEvent) bool { return false },
	UpdateFunc: func(e event.UpdateEvent) bool {
		return planMaintenanceVersion(e.ObjectOld) != planMaintenanceVersion(e.ObjectNew)
	},
}

func planMaintenanceVersion(o client.Object) string {
	var mi *scv1beta1.MaintenanceInfo
	switch p := o.(type) {
	case *scv1beta1.ClusterServicePlan:
		mi = p.Spec.MaintenanceInfo
	case *scv1beta1.ServicePlan:
		mi = p.Spec.MaintenanceInfo
	}
	if mi == nil {
		return ""
	}
	return mi.Version + "\x00" + mi.Description
}

// instancesOnPlan maps a plan to the instances that use it, through the
// lookup label the instance controller sets (cached, no API call).
func instancesOnPlan(c client.Reader) func(context.Context, client.Object) []reconcile.Request {
	return func(ctx context.Context, o client.Object) []reconcile.Request {
		list := &scv1beta1.ServiceInstanceList{}
		opts := []client.ListOption{client.MatchingLabels{scv1beta1.LabelClusterServicePlanRefName: scv1beta1.LabelValue(o.GetName())}}
		if o.GetNamespace() != "" {
			opts = []client.ListOption{client.InNamespace(o.GetNamespace()),
				client.MatchingLabels{scv1beta1.LabelServicePlanRefName: scv1beta1.LabelValue(o.GetName())}}
		}
		if err := c.List(ctx, list, opts...); err != nil {
			return nil
		}
		out := make([]reconcile.Request, 0, len(list.Items))
		for i := range list.Items {
			out = append(out, reconcile.Request{NamespacedName: types.NamespacedName{Namespace: list.Items[i].Namespace, Name: list.Items[i].Name}})
		}
		return out
	}
}
