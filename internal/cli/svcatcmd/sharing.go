package svcatcmd

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/svcat-io/svcat/api/v1beta1"
	"github.com/svcat-io/svcat/internal/cli/apiview"
	"github.com/svcat-io/svcat/internal/cli/output"
)

// maxShared is spec.sharedWith's limit in the CRD.
const maxShared = 64

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
		if errs := validation.IsDNS1123Label(ns); len(errs) > 0 {
			return usageErrorf("%s %q is not a namespace name: %s", o.flag(), ns, strings.Join(errs, "; "))
		}
		if ns == o.ns && !o.remove {
			return usageErrorf("%s %q is the instance's own namespace, whose bindings need no share", o.flag(), ns)
		}
	}
	return nil
}

// shared is the share list after adding or removing namespaces. Pure.
func sharedAfter(list []v1beta1.SharedNamespace, namespaces []string, remove bool) []v1beta1.SharedNamespace {
	out := slices.Clone(list)
	for _, ns := range namespaces {
		i := slices.IndexFunc(out, func(s v1beta1.SharedNamespace) bool { return s.Namespace == ns })
		switch {
		case remove && i >= 0:
			out = slices.Delete(out, i, i+1)
		case !remove && i < 0:
			out = append(out, v1beta1.SharedNamespace{Namespace: ns})
		}
	}
	return out
}

func (o *share) Run(ctx context.Context) error {
	var after []v1beta1.SharedNamespace
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		in, err := o.c.Instance(ctx, o.ns, o.name)
		if err != nil {
			return err
		}
		after = sharedAfter(in.Spec.SharedWith, o.namespaces, o.remove)
		if len(after) > maxShared {
			return fmt.Errorf("instance %q would be shared with %d namespaces; at most %d are allowed", o.name, len(after), maxShared)
		}
		if slices.Equal(after, in.Spec.SharedWith) {
			return nil
		}
		in.Spec.SharedWith = after
		return o.c.Update(ctx, in, apiview.ResServiceInstances)
	})
	if err != nil {
		return err
	}
	names := make([]string, len(after))
	for i, s := range after {
		names[i] = s.Namespace
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

// sharedMarkers lists the markers of the instances shared with ns (see
// v1beta1.LabelSharedInstance). Listing ConfigMaps needs the right to;
// without it, or on any error, there is nothing to add: the namespace's
// own instances are still listed.
func sharedMarkers(ctx context.Context, c *apiview.Client, ns string) []output.SharedInstance {
	l := &corev1.ConfigMapList{}
	if err := c.C.List(ctx, l, client.InNamespace(ns), client.MatchingLabels{v1beta1.LabelSharedInstance: "true"}); err != nil {
		return nil
	}
	out := make([]output.SharedInstance, 0, len(l.Items))
	for _, cm := range l.Items {
		d := cm.Data
		if d[v1beta1.SharedMarkerName] == "" || d[v1beta1.SharedMarkerNamespace] == "" {
			continue
		}
		out = append(out, output.SharedInstance{Namespace: d[v1beta1.SharedMarkerNamespace], Name: d[v1beta1.SharedMarkerName],
			Class: strings.TrimPrefix(strings.TrimPrefix(d[v1beta1.SharedMarkerClass], "ClusterServiceClass/"), "ServiceClass/"),
			Plan:  d[v1beta1.SharedMarkerPlan]})
	}
	slices.SortFunc(out, func(a, b output.SharedInstance) int {
		return strings.Compare(a.Namespace+"/"+a.Name, b.Namespace+"/"+b.Name)
	})
	return out
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
