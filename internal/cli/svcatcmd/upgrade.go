package svcatcmd

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

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
	version, err := o.c.PlanMaintenanceVersion(ctx, in)
	if err != nil {
		return err
	}
	if o.version != "" && o.version != version {
		// The controller sends only the plan's current version: any other
		// would wait for ever, or be refused by the broker.
		return fmt.Errorf("the plan of instance %q offers maintenance version %s, not %s; run svcat sync broker if the broker has a newer one", o.name, version, o.version)
	}
	if apiview.RecordedMaintenanceVersion(in) == version {
		_, err := fmt.Fprintf(o.f.Streams.Out, "Instance %s already has maintenance version %s\n", o.name, version)
		return err
	}
	if err := o.c.RequestUpgrade(ctx, o.ns, o.name, version); err != nil {
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

// upgradeState decides whether an upgrade to version is over: the
// instance has it, the broker refused it (422 MaintenanceInfoConflict), or
// the update failed.
func upgradeState(in *v1beta1.ServiceInstance, version string) wait.State {
	st := instanceSettled(in)
	switch {
	case apiview.RecordedMaintenanceVersion(in) == version:
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
