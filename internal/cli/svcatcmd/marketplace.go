package svcatcmd

import (
	"context"

	"github.com/spf13/cobra"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/svcat-io/svcat/internal/cli/output"
)

type marketplace struct {
	listing
	scope scopeFlags
}

func newMarketplaceCmd(f *Factory) *cobra.Command {
	o := &marketplace{}
	c := &cobra.Command{
		Use:     "marketplace",
		Aliases: []string{"mp"},
		Short:   "List the classes you can provision, with their plans",
		Example: "  svcat marketplace\n  kubectl svcat marketplace -n prod",
		Args:    cobra.NoArgs,
		RunE:    runE(f, o),
	}
	o.add(c)
	o.scope.addRead(c)
	return c
}

func (o *marketplace) Validate() error {
	if err := o.out.validate(); err != nil {
		return err
	}
	return o.scope.validate()
}

func (o *marketplace) Run(ctx context.Context) error {
	off, err := o.c.Offerings(ctx, o.scope.scope, o.nsf.ns)
	if err != nil {
		return err
	}
	w := o.f.Streams.Out
	if o.out.format == output.FormatTable {
		return output.Marketplace(w, off.Classes, off.PlansOf)
	}
	var objs []client.Object
	for _, c := range off.Classes {
		objs = append(objs, c.Object)
		for _, p := range off.PlansOf(c) {
			objs = append(objs, p.Object)
		}
	}
	return output.WriteObjects(w, o.out.format, objs)
}
