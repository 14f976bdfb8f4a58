package apiview

import (
	"context"
	"fmt"

	"k8s.io/client-go/util/retry"

	"github.com/svcat-io/svcat/api/v1beta1"
)

// PlanMaintenanceVersion is the maintenance_info version the instance's
// plan offers now: the one an upgrade asks for. The controller sends no
// other, so svcat and the UI ask for exactly this one.
func (c *Client) PlanMaintenanceVersion(ctx context.Context, in *v1beta1.ServiceInstance) (string, error) {
	ns, name := "", ""
	switch {
	case in.Spec.ClusterServicePlanRef != nil:
		name = in.Spec.ClusterServicePlanRef.Name
	case in.Spec.ServicePlanRef != nil:
		ns, name = in.Namespace, in.Spec.ServicePlanRef.Name
	default:
		return "", fmt.Errorf("instance %q has no plan resolved yet; wait until it is provisioned", in.Name)
	}
	off, err := c.Offerings(ctx, AllScope, in.Namespace)
	if err != nil {
		return "", err
	}
	p, ok := off.PlanOf(ns, name)
	if !ok {
		return "", fmt.Errorf("the plan %q of instance %q cannot be found; run svcat sync broker", name, in.Name)
	}
	if p.Spec.MaintenanceInfo == nil {
		return "", fmt.Errorf("the plan %q of instance %q has no maintenance_info in the broker's catalog: there is nothing to upgrade to", p.Spec.ExternalName, in.Name)
	}
	return p.Spec.MaintenanceInfo.Version, nil
}

// RecordedMaintenanceVersion is the version the instance was provisioned
// or last upgraded with, as the broker accepted it.
func RecordedMaintenanceVersion(in *v1beta1.ServiceInstance) string {
	if in.Status.ExternalProperties == nil {
		return ""
	}
	return in.Status.ExternalProperties.MaintenanceInfoVersion
}

// RequestUpgrade asks the controller to send maintenance version to the
// broker, by writing it into spec.maintenanceInfoVersion.
func (c *Client) RequestUpgrade(ctx context.Context, ns, name, version string) error {
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		in, err := c.Instance(ctx, ns, name)
		if err != nil {
			return err
		}
		in.Spec.MaintenanceInfoVersion = version
		return c.Update(ctx, in, ResServiceInstances)
	})
}
