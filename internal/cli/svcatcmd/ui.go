package svcatcmd

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/svcat-io/svcat/internal/ui"
)

type uiCmd struct {
	address   string
	noBrowser bool
	scope     scopeFlags

	f       *Factory
	ns      string
	context string
}

func newUICmd(f *Factory) *cobra.Command {
	o := &uiCmd{}
	c := &cobra.Command{
		Use:   "ui",
		Short: "Browse the catalog, provision and bind in a web browser",
		Long: "Start a web UI on 127.0.0.1: the marketplace, provision forms generated from the\n" +
			"plans' schemas, instances and bindings with live status. It acts with your\n" +
			"kubeconfig's rights, in the namespace of -n or the context. The printed URL\n" +
			"carries a one-run token; the server stops with Ctrl-C.",
		Example: "  svcat ui\n  svcat -n prod ui --address 127.0.0.1:8080 --no-browser",
		Args:    cobra.NoArgs,
		RunE:    runE(f, o),
	}
	c.Flags().StringVar(&o.address, "address", "127.0.0.1:0", "Loopback address to listen on; port 0 picks a free one")
	c.Flags().BoolVar(&o.noBrowser, "no-browser", false, "Print the URL without opening a browser")
	o.scope.addRead(c)
	return c
}

func (o *uiCmd) Complete(f *Factory, _ []string) error {
	o.f = f
	ns, err := f.Namespace()
	if err != nil {
		return err
	}
	o.ns = ns
	if raw, err := f.Config.ToRawKubeConfigLoader().RawConfig(); err == nil {
		o.context = raw.CurrentContext
		if f.Config.Context != nil && *f.Config.Context != "" {
			o.context = *f.Config.Context
		}
	}
	return nil
}

func (o *uiCmd) Validate() error {
	if err := ui.CheckAddress(o.address); err != nil {
		return err
	}
	return o.scope.validate()
}

func (o *uiCmd) Run(ctx context.Context) error {
	cfg, err := o.f.Config.ToRESTConfig()
	if err != nil {
		return fmt.Errorf("reading the kubeconfig: %w", err)
	}
	return ui.Run(ctx, ui.Options{Config: cfg, Namespace: o.ns, Scope: o.scope.scope, Context: o.context},
		o.address, o.noBrowser, o.f.Streams.Out)
}
