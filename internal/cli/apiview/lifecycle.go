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
	ns, name := planRef(in)
	if name == "" {
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

// InstanceClass is the class the controller resolved for in, if it is
// among the offerings.
func (o *Offerings) InstanceClass(in *v1beta1.ServiceInstance) (Class, error) {
	ns, name := "", ""
	switch {
	case in.Spec.ClusterServiceClassRef != nil:
		name = in.Spec.ClusterServiceClassRef.Name
	case in.Spec.ServiceClassRef != nil:
		ns, name = in.Namespace, in.Spec.ServiceClassRef.Name
	default:
		return Class{}, fmt.Errorf("instance %q has no class resolved yet; wait until it is provisioned", in.Name)
	}
	class, ok := o.ClassOf(ns, name)
	if !ok {
		return Class{}, fmt.Errorf("the class %q of instance %q cannot be found; run svcat sync broker", name, in.Name)
	}
	return class, nil
}

// CurrentPlanName is the Kubernetes name of the plan the instance refers
// to now, as the controller resolved it.
func CurrentPlanName(in *v1beta1.ServiceInstance) string {
	_, name := planRef(in)
	return name
}

// planRef is the plan the controller resolved for in: its namespace ("" for
// a cluster plan) and name, both empty before it resolved one.
func planRef(in *v1beta1.ServiceInstance) (ns, name string) {
	switch {
	case in.Spec.ClusterServicePlanRef != nil:
		return "", in.Spec.ClusterServicePlanRef.Name
	case in.Spec.ServicePlanRef != nil:
		return in.Namespace, in.Spec.ServicePlanRef.Name
	}
	return "", ""
}

// PlanChangeAllowed applies the catalog's plan_updateable (the plan's own
// setting overriding its class's) and refuses removed plans, so that svcat
// says so instead of writing a spec the controller would only refuse.
func PlanChangeAllowed(class Class, plan Plan, current string) error {
	if plan.Name == current {
		return nil
	}
	updatable := class.Spec.PlanUpdatable
	if plan.Spec.PlanUpdatable != nil {
		updatable = *plan.Spec.PlanUpdatable
	}
	if !updatable {
		return fmt.Errorf("class %q does not allow plan changes (plan_updateable is false in broker %s's catalog): nothing was changed",
			class.Spec.ExternalName, class.Broker)
	}
	if plan.Removed {
		return fmt.Errorf("plan %q was removed from broker %s's catalog: instances cannot move to it", plan.Spec.ExternalName, class.Broker)
	}
	return nil
}

// PlanChoices are the plans the instance may move to now.
func (o *Offerings) PlanChoices(in *v1beta1.ServiceInstance) []Plan {
	class, err := o.InstanceClass(in)
	if err != nil {
		return nil
	}
	current := CurrentPlanName(in)
	var out []Plan
	for _, p := range o.PlansOf(class) {
		if p.Name != current && PlanChangeAllowed(class, p, current) == nil {
			out = append(out, p)
		}
	}
	return out
}

// SetPlan writes plan into spec in the form the instance names its class
// in (external name, external ID or Kubernetes name), as the controller
// resolves the plan the same way, with the resolved reference.
func SetPlan(s *v1beta1.ServiceInstanceSpec, plan Plan) {
	switch {
	case s.ClusterServiceClassExternalName != "":
		s.ClusterServicePlanExternalName = plan.Spec.ExternalName
	case s.ClusterServiceClassExternalID != "":
		s.ClusterServicePlanExternalID = plan.Spec.ExternalID
	case s.ClusterServiceClassName != "":
		s.ClusterServicePlanName = plan.Name
	case s.ServiceClassExternalName != "":
		s.ServicePlanExternalName = plan.Spec.ExternalName
	case s.ServiceClassExternalID != "":
		s.ServicePlanExternalID = plan.Spec.ExternalID
	default:
		s.ServicePlanName = plan.Name
	}
	// The controller would resolve the same reference; writing it now
	// saves it a second spec write.
	if plan.Namespace == "" {
		s.ClusterServicePlanRef = &v1beta1.ClusterObjectReference{Name: plan.Name}
	} else {
		s.ServicePlanRef = &v1beta1.LocalObjectReference{Name: plan.Name}
	}
}

// RequestPlanChange asks the controller to move the instance to plan.
func (c *Client) RequestPlanChange(ctx context.Context, ns, name string, plan Plan) error {
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		in, err := c.Instance(ctx, ns, name)
		if err != nil {
			return err
		}
		SetPlan(&in.Spec, plan)
		return c.Update(ctx, in, ResServiceInstances)
	})
}
