package svcatcmd

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"
	"k8s.io/client-go/util/retry"

	"github.com/svcat-io/svcat/api/v1beta1"
	"github.com/svcat-io/svcat/internal/cli/apiview"
	"github.com/svcat-io/svcat/internal/cli/wait"
	"github.com/svcat-io/svcat/internal/osb"
)

// upgrade asks for a maintenance upgrade: it writes the version into
// spec.maintenanceInfoVersion, and the controller sends the update.
type upgrade struct {
	named
	version string
	wf      waitFlags
}

func newUpgradeCmd(f *Factory) *cobra.Command {
	u := &cobra.Command{
		Use:   "upgrade",
		Short: "Upgrade an instance to its plan's new maintenance version",
		Args:  cobra.NoArgs,
		RunE:  func(c *cobra.Command, _ []string) error { return c.Help() },
	}
	o := &upgrade{}
	c := &cobra.Command{
		Use:     "instance NAME",
		Aliases: []string{"instances", "inst"},
		Short:   "Send the plan's current maintenance_info version to the broker (see UpgradeAvailable in svcat describe instance)",
		Example: "  svcat upgrade instance demo-kafka --wait\n  svcat upgrade instance demo-kafka --version 1.1.0",
		Args:    nameArg("instance"),
		RunE:    runE(f, o),
	}
	c.Flags().StringVar(&o.version, "version", "", "The maintenance version to upgrade to, checked against the plan's current one (default: the plan's current one)")
	o.wf.add(c)
	u.AddCommand(c)
	return u
}

func (o *upgrade) Complete(f *Factory, args []string) error {
	return o.complete(f, args, "instance")
}

func (o *upgrade) Validate() error {
	if o.version != "" && (len(o.version) > osb.MaxMaintenanceVersion || !osb.IsSemver(o.version)) {
		return fmt.Errorf("--version %q is not a Semantic Version (such as 1.2.0) of at most %d bytes", o.version, osb.MaxMaintenanceVersion)
	}
	return o.wf.validate()
}

func (o *upgrade) Run(ctx context.Context) error {
	in, err := o.c.Instance(ctx, o.ns, o.name)
	if err != nil {
		return err
	}
	version, err := o.planVersion(ctx, in)
	if err != nil {
		return err
	}
	if o.version != "" && o.version != version {
		// The controller sends only the plan's current version: any other
		// would wait for ever, or be refused by the broker.
		return fmt.Errorf("the plan of instance %q offers maintenance version %s, not %s; run svcat sync broker if the broker has a newer one", o.name, version, o.version)
	}
	if recordedVersion(in) == version {
		_, err := fmt.Fprintf(o.f.Streams.Out, "Instance %s already has maintenance version %s\n", o.name, version)
		return err
	}
	err = retry.RetryOnConflict(retry.DefaultRetry, func() error {
		in, err := o.c.Instance(ctx, o.ns, o.name)
		if err != nil {
			return err
		}
		in.Spec.MaintenanceInfoVersion = version
		return o.c.Update(ctx, in, apiview.ResServiceInstances)
	})
	if err != nil {
		return err
	}
	if _, err := fmt.Fprintf(o.f.Streams.Out, "Upgrade to maintenance version %s requested for instance: %s\n", version, o.name); err != nil {
		return err
	}
	if !o.wf.wait {
		return nil
	}
	what := fmt.Sprintf("instance %q to be upgraded to %s", o.name, version)
	return o.wf.progressTo(o.f).For(ctx, what, func(ctx context.Context) (wait.State, error) {
		in, err := o.c.Instance(ctx, o.ns, o.name)
		if err != nil {
			return wait.State{}, err
		}
		return upgradeState(in, version), nil
	})
}

// planVersion is the maintenance version the instance's plan offers now.
func (o *upgrade) planVersion(ctx context.Context, in *v1beta1.ServiceInstance) (string, error) {
	ns, name := "", ""
	switch {
	case in.Spec.ClusterServicePlanRef != nil:
		name = in.Spec.ClusterServicePlanRef.Name
	case in.Spec.ServicePlanRef != nil:
		ns, name = in.Namespace, in.Spec.ServicePlanRef.Name
	default:
		return "", fmt.Errorf("instance %q has no plan resolved yet; wait until it is provisioned", o.name)
	}
	off, err := o.c.Offerings(ctx, apiview.AllScope, o.ns)
	if err != nil {
		return "", err
	}
	p, ok := off.PlanOf(ns, name)
	if !ok {
		return "", fmt.Errorf("the plan %q of instance %q cannot be found; run svcat sync broker", name, o.name)
	}
	if p.Spec.MaintenanceInfo == nil {
		return "", fmt.Errorf("the plan %q of instance %q has no maintenance_info in the broker's catalog: there is nothing to upgrade to", p.Spec.ExternalName, o.name)
	}
	return p.Spec.MaintenanceInfo.Version, nil
}

func recordedVersion(in *v1beta1.ServiceInstance) string {
	if in.Status.ExternalProperties == nil {
		return ""
	}
	return in.Status.ExternalProperties.MaintenanceInfoVersion
}

// upgradeState decides whether an upgrade to version is over: the
// instance has it, the broker refused it (422 MaintenanceInfoConflict), or
// the update failed.
func upgradeState(in *v1beta1.ServiceInstance, version string) wait.State {
	st := instanceSettled(in)
	switch {
	case recordedVersion(in) == version:
		return wait.State{Done: true, Condition: st.Condition}
	case in.Status.MaintenanceInfoConflict == version:
		msg := "the broker refused it"
		if c := in.Status.GetCondition(v1beta1.ServiceInstanceConditionUpgradeAvailable); c != nil {
			msg = c.Message
		}
		return wait.State{Done: true, Condition: st.Condition, Err: errors.New(msg)}
	case st.Done && st.Err != nil:
		return st
	}
	st.Done = false
	return st
}
