package controller

import (
	"context"

	kerrors "k8s.io/apimachinery/pkg/util/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	scv1beta1 "github.com/svcat-io/svcat/api/v1beta1"
	"github.com/svcat-io/svcat/internal/controller/metrics"
	"github.com/svcat-io/svcat/internal/controller/statuspatch"
)

// patchBindingStatus is statuspatch.Patch that also says whether the API
// server now holds b's status, which the rotation metrics count from.
func patchBindingStatus(ctx context.Context, c client.Client, b, orig *scv1beta1.ServiceBinding, discard bool, retErr *error) bool {
	var err error
	statuspatch.Patch(ctx, c, b, orig, orig.Status, b.Status, discard, &err)
	if err != nil {
		*retErr = kerrors.NewAggregate([]error{*retErr, err})
	}
	return !discard && err == nil
}

// rotationOutcome says whether the status change from before to after
// ended a rotation, and with which labels (see metrics.BindingRotations).
// A rotation ends when its pending binding leaves the status: as the
// Secret's binding (succeeded) or given up with a Rotation condition
// saying why. A pending binding dropped by a deletion ended nothing the
// user asked to know about.
func rotationOutcome(before, after *scv1beta1.ServiceBindingStatus) (trigger, outcome string, ended bool) {
	if before.Rotation == nil || before.Rotation.Pending == nil {
		return "", "", false
	}
	p := before.Rotation.Pending
	if after.Rotation != nil && after.Rotation.Pending != nil {
		return "", "", false
	}
	switch {
	case after.Rotation != nil && after.Rotation.CurrentBindingID == p.BindingID:
		outcome = metrics.OutcomeSucceeded
	default:
		c := after.GetCondition(scv1beta1.ServiceBindingConditionRotation)
		switch {
		case c == nil:
			return "", "", false
		case c.Reason == scv1beta1.ReasonRotationRefused:
			outcome = metrics.OutcomeRefused
		case c.Reason == scv1beta1.ReasonRotationFailed:
			outcome = metrics.OutcomeFailed
		default:
			return "", "", false
		}
	}
	return triggerLabel(p.Trigger), outcome, true
}

// triggerLabel maps a trigger to its bounded label value.
func triggerLabel(t scv1beta1.RotationTrigger) string {
	switch t {
	case scv1beta1.RotationTriggerRequest:
		return metrics.TriggerRequest
	case scv1beta1.RotationTriggerSchedule:
		return metrics.TriggerSchedule
	case scv1beta1.RotationTriggerExpiry:
		return metrics.TriggerExpiry
	}
	return metrics.TriggerOther
}

// observeRotation records, after a reconcile, the status the API server
// now holds: written says whether after was written (else before is
// still what it holds). gone: the binding is deleted.
func observeRotation(key string, before, after *scv1beta1.ServiceBindingStatus, written, gone bool) {
	if gone {
		metrics.SetRetiring(key, 0)
		return
	}
	if !written {
		after = before
	} else if trigger, outcome, ended := rotationOutcome(before, after); ended {
		metrics.BindingRotations.WithLabelValues(trigger, outcome).Inc()
	}
	n := 0
	if after.Rotation != nil {
		n = len(after.Rotation.Retiring)
	}
	metrics.SetRetiring(key, n)
}
