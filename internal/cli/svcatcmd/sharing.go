package svcatcmd

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/svcat-io/svcat/internal/cli/apiview"
)

// share adds namespaces to an instance's spec.sharedWith, or (unshare)
// removes them; the controller does the rest.
type share struct {
	named
	namespaces []string
	remove     bool
}

func newShareCmd(f *Factory) *cobra.Command {
	s := &cobra.Command{
		Use:   "share",
		Short: "Share an instance with other namespaces",
		Args:  cobra.NoArgs,
		RunE:  func(c *cobra.Command, _ []string) error { return c.Help() },
	}
	o := &share{}
	c := &cobra.Command{
		Use:     "instance NAME --with NAMESPACE",
		Aliases: []string{"instances", "inst"},
		Short:   "Let bindings in other namespaces use the instance (the service must be shareable)",
		Long: "Adds the namespaces to the instance's spec.sharedWith. Bindings there can then\n" +
			"bind to it with svcat bind NAMESPACE/NAME (their credentials land in their own\n" +
			"namespace). Only services whose catalog says \"shareable\": true are shared;\n" +
			"svcat describe instance shows each share's state.",
		Example: "  svcat share instance demo-kafka --with analytics\n  svcat share instance demo-kafka --with analytics --with billing",
		Args:    nameArg("instance"),
		RunE:    runE(f, o),
	}
	c.Flags().StringArrayVar(&o.namespaces, "with", nil, "Namespace to share the instance with (repeatable)")
	s.AddCommand(c)
	return s
}

func newUnshareCmd(f *Factory) *cobra.Command {
	u := &cobra.Command{
		Use:   "unshare",
		Short: "Stop sharing an instance with other namespaces",
		Args:  cobra.NoArgs,
		RunE:  func(c *cobra.Command, _ []string) error { return c.Help() },
	}
	o := &share{remove: true}
	c := &cobra.Command{
		Use:     "instance NAME --from NAMESPACE",
		Aliases: []string{"instances", "inst"},
		Short:   "Remove namespaces from the instance's shares: their bindings to it are unbound and their Secrets removed",
		Example: "  svcat unshare instance demo-kafka --from analytics",
		Args:    nameArg("instance"),
		RunE:    runE(f, o),
	}
	c.Flags().StringArrayVar(&o.namespaces, "from", nil, "Namespace to stop sharing the instance with (repeatable)")
	u.AddCommand(c)
	return u
}

func (o *share) flag() string {
	if o.remove {
		return "--from"
	}
	return "--with"
}

func (o *share) Complete(f *Factory, args []string) error {
	return o.complete(f, args, "instance")
}

func (o *share) Validate() error {
	if len(o.namespaces) == 0 {
		return usageErrorf("give at least one namespace with %s", o.flag())
	}
	for _, ns := range o.namespaces {
		if p := apiview.ShareNamespaceProblem(o.ns, ns, !o.remove); p != "" {
			return usageErrorf("%s %q %s", o.flag(), ns, p)
		}
	}
	return nil
}

func (o *share) Run(ctx context.Context) error {
	names, err := o.c.Share(ctx, o.ns, o.name, o.namespaces, o.remove)
	if err != nil {
		return err
	}
	list := strings.Join(names, ", ")
	if list == "" {
		list = "no namespace"
	}
	if o.remove {
		_, err = fmt.Fprintf(o.f.Streams.Out, "Instance %s is no longer shared with %s; bindings there are unbound and their Secrets removed.\nShared with: %s\n",
			o.name, strings.Join(o.namespaces, ", "), list)
		return err
	}
	_, err = fmt.Fprintf(o.f.Streams.Out, "Instance %s shared with: %s\nBind from there with: svcat bind %s/%s -n NAMESPACE (svcat describe instance %s shows each share's state)\n",
		o.name, list, o.ns, o.name, o.name)
	return err
}

// sharedMarkers lists the instances shared with ns. Listing their markers
// needs the right to; without it, or on any error, there is nothing to
// add: the namespace's own instances are still listed.
func sharedMarkers(ctx context.Context, c *apiview.Client, ns string) []apiview.SharedInstance {
	shared, _, err := c.SharedWith(ctx, ns)
	if err != nil {
		return nil
	}
	return shared
}

// instanceArg splits bind's NAMESPACE/NAME.
func instanceArg(arg, flagNS string) (ns, name string, err error) {
	ns, name, ok := strings.Cut(arg, "/")
	if !ok {
		return flagNS, arg, nil
	}
	if flagNS != "" && flagNS != ns {
		return "", "", usageErrorf("instance %q names namespace %q, --instance-namespace %q: give one", arg, ns, flagNS)
	}
	if errs := validation.IsDNS1123Label(ns); len(errs) > 0 || name == "" {
		return "", "", usageErrorf("instance %q is not NAME or NAMESPACE/NAME", arg)
	}
	return ns, name, nil
}
