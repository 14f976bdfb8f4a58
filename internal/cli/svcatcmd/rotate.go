package svcatcmd

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/svcat-io/svcat/internal/cli/apiview"
	"github.com/svcat-io/svcat/internal/cli/wait"
)

// rotate asks for new credentials: it sets the rotation-request
// annotation, and the controller makes a new broker binding, writes its
// credentials into the same Secret and unbinds the old one after the
// grace period.
type rotate struct {
	named
	wf waitFlags
}

func newRotateCmd(f *Factory) *cobra.Command {
	r := &cobra.Command{
		Use:   "rotate",
		Short: "Rotate a binding's credentials",
		Args:  cobra.NoArgs,
		RunE:  func(c *cobra.Command, _ []string) error { return c.Help() },
	}
	o := &rotate{}
	c := &cobra.Command{
		Use:     "binding NAME",
		Aliases: []string{"bindings", "bnd"},
		Short:   "Get new credentials from the broker into the binding's Secret; the old ones keep working for the grace period",
		Example: "  svcat rotate binding demo-kafka-binding --wait",
		Args:    nameArg("binding"),
		RunE:    runE(f, o),
	}
	o.wf.add(c)
	r.AddCommand(c)
	return r
}

func (o *rotate) Complete(f *Factory, args []string) error {
	return o.complete(f, args, "binding")
}

func (o *rotate) Validate() error { return o.wf.validate() }

func (o *rotate) Run(ctx context.Context) error {
	token, err := o.c.RequestRotation(ctx, o.ns, o.name)
	if err != nil {
		return err
	}
	if _, err := fmt.Fprintf(o.f.Streams.Out, "Rotation requested for binding: %s\n", o.name); err != nil {
		return err
	}
	if !o.wf.wait {
		return nil
	}
	what := fmt.Sprintf("binding %q to get new credentials", o.name)
	return o.wf.progressTo(o.f).For(ctx, what, func(ctx context.Context) (wait.State, error) {
		b, err := o.c.Binding(ctx, o.ns, o.name)
		if err != nil {
			return wait.State{}, err
		}
		done, msg, err := apiview.RotationOutcome(b, token)
		if err != nil {
			err = fmt.Errorf("the rotation of binding %q failed: %w", o.name, err)
		}
		return wait.State{Done: done, Err: err, Condition: msg}, nil
	})
}
