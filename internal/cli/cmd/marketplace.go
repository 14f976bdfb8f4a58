package cmd

import (
	"context"

	"github.com/spf13/cobra"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/svcat-io/svcat/internal/cli/catalog"
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
	classes, err := o.c.Classes(ctx, o.scope.scope, o.nsf.ns)
	if err != nil {
		return err
	}
	plans, err := o.c.Plans(ctx, o.scope.scope, o.nsf.ns)
	if err != nil {
		return err
	}
	off := &catalog.Offerings{Classes: classes, Plans: plans}
	w := o.f.Streams.Out
	if o.out.format == output.FormatTable {
		return output.Marketplace(w, classes, off.PlansOf)
	}
	var objs []client.Object
	for _, c := range classes {
		objs = append(objs, c.Object)
		for _, p := range off.PlansOf(c) {
			objs = append(objs, p.Object)
		}
	}
	return output.WriteObjects(w, o.out.format, objs)
}
