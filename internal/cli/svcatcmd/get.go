package svcatcmd

import (
	"context"
	"io"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/svcat-io/svcat/api/v1beta1"
	"github.com/svcat-io/svcat/internal/cli/apiview"
	"github.com/svcat-io/svcat/internal/cli/output"
	"github.com/svcat-io/svcat/internal/cli/resolve"
)

func newGetCmd(f *Factory) *cobra.Command {
	c := &cobra.Command{
		Use:   "get",
		Short: "List brokers, classes, plans, instances or bindings",
		Args:  cobra.NoArgs,
		RunE:  func(c *cobra.Command, _ []string) error { return c.Help() },
	}
	c.AddCommand(newGetBrokersCmd(f), newGetClassesCmd(f), newGetPlansCmd(f), newGetInstancesCmd(f), newGetBindingsCmd(f))
	return c
}

// printObjects prints a listing as a table, or its objects in JSON or YAML.
// A listing asked for by name prints the object alone when there is one.
func printObjects(w io.Writer, format output.Format, byName bool, objs []client.Object, table func() error) error {
	switch {
	case format == output.FormatTable:
		return table()
	case byName && len(objs) == 1:
		return output.WriteObject(w, format, objs[0])
	}
	return output.WriteObjects(w, format, objs)
}

func optionalName(args []string) string {
	if len(args) == 1 {
		return args[0]
	}
	return ""
}

// listing is what every listing command completes: -o, the namespace or
// --all-namespaces, the optional NAME and the client.
type listing struct {
	out  outputFlags
	nsf  namespaceFlags
	name string

	f *Factory
	c *apiview.Client
}

func (o *listing) add(c *cobra.Command) {
	o.out.add(c)
	o.nsf.add(c)
}

// Complete fills in the listing from the arguments and the kubeconfig.
func (o *listing) Complete(f *Factory, args []string) (err error) {
	o.f, o.name = f, optionalName(args)
	if err = o.nsf.complete(f); err != nil {
		return err
	}
	o.c, err = f.Client()
	return err
}

// getBrokers lists brokers.
type getBrokers struct {
	listing
	scope scopeFlags
}

func newGetBrokersCmd(f *Factory) *cobra.Command {
	o := &getBrokers{}
	c := &cobra.Command{
		Use:     "brokers [NAME]",
		Aliases: []string{"broker", "brk"},
		Short:   "List brokers, optionally filtered by name",
		Example: "  svcat get brokers\n  svcat get broker ups-broker --scope cluster -o yaml",
		Args:    cobra.MaximumNArgs(1),
		RunE:    runE(f, o),
	}
	o.add(c)
	o.scope.addRead(c)
	return c
}

func (o *getBrokers) Validate() error {
	if err := o.out.validate(); err != nil {
		return err
	}
	return o.scope.validate()
}

func (o *getBrokers) Run(ctx context.Context) error {
	brokers, err := o.c.Brokers(ctx, o.scope.scope, o.nsf.ns)
	if err != nil {
		return err
	}
	if o.name != "" {
		names := brokerNames(brokers)
		brokers = slices.DeleteFunc(brokers, func(b apiview.Broker) bool { return b.Name != o.name })
		if len(brokers) == 0 {
			return &resolve.NotFoundError{Kind: "broker", Name: o.name, Suggestions: resolve.Suggest(o.name, names), Available: names}
		}
	}
	objs := make([]client.Object, len(brokers))
	for i, b := range brokers {
		objs[i] = b.Object
	}
	w := o.f.Streams.Out
	return printObjects(w, o.out.format, o.name != "", objs, func() error { return output.Brokers(w, brokers) })
}

func brokerNames(brokers []apiview.Broker) []string {
	names := make([]string, len(brokers))
	for i, b := range brokers {
		names[i] = b.Name
	}
	return names
}

// getClasses lists classes.
type getClasses struct {
	listing
	scope    scopeFlags
	broker   string
	kubeName bool
}

func newGetClassesCmd(f *Factory) *cobra.Command {
	o := &getClasses{}
	c := &cobra.Command{
		Use:     "classes [NAME]",
		Aliases: []string{"class", "cl"},
		Short:   "List classes, optionally filtered by name or broker",
		Example: "  svcat get classes\n  svcat get classes --broker ups-broker\n  svcat get class cloudkarafka -o yaml\n" +
			"  svcat get class --kube-name d21df959-6da8-495f-a8b6-ddc51d49eea2",
		Args: cobra.MaximumNArgs(1),
		RunE: runE(f, o),
	}
	o.add(c)
	o.scope.addRead(c)
	c.Flags().StringVarP(&o.broker, "broker", "b", "", "Only classes of this broker")
	c.Flags().BoolVarP(&o.kubeName, "kube-name", "k", false, "NAME is the Kubernetes name of the class, not its external name")
	return c
}

func (o *getClasses) Validate() error {
	if err := o.out.validate(); err != nil {
		return err
	}
	if o.kubeName && o.name == "" {
		return usageErrorf("--kube-name needs a NAME")
	}
	return o.scope.validate()
}

func (o *getClasses) Run(ctx context.Context) error {
	classes, err := o.c.Classes(ctx, o.scope.scope, o.nsf.ns)
	if err != nil {
		return err
	}
	if o.broker != "" {
		classes = slices.DeleteFunc(classes, func(c apiview.Class) bool { return c.Broker != o.broker })
	}
	if o.name != "" {
		all := classes
		classes = slices.DeleteFunc(slices.Clone(classes), func(c apiview.Class) bool {
			return !(o.kubeName && c.Name == o.name || !o.kubeName && c.Spec.ExternalName == o.name)
		})
		if len(classes) == 0 {
			_, err := resolve.Class(all, o.name, o.kubeName)
			return err
		}
	}
	objs := make([]client.Object, len(classes))
	for i, c := range classes {
		objs[i] = c.Object
	}
	w := o.f.Streams.Out
	return printObjects(w, o.out.format, o.name != "", objs, func() error { return output.Classes(w, classes) })
}

// getPlans lists plans.
type getPlans struct {
	listing
	scope    scopeFlags
	class    string
	kubeName bool
}

func newGetPlansCmd(f *Factory) *cobra.Command {
	o := &getPlans{}
	c := &cobra.Command{
		Use:     "plans [NAME | CLASS/NAME]",
		Aliases: []string{"plan", "pl"},
		Short:   "List plans, optionally filtered by name or class",
		Example: "  svcat get plans\n  svcat get plans --class cloudkarafka\n  svcat get plan cloudkarafka/duck -o json",
		Args:    cobra.MaximumNArgs(1),
		RunE:    runE(f, o),
	}
	o.add(c)
	o.scope.addRead(c)
	c.Flags().StringVarP(&o.class, "class", "c", "", "Only plans of this class")
	c.Flags().BoolVarP(&o.kubeName, "kube-name", "k", false, "Names are Kubernetes names, not external names")
	return c
}

func (o *getPlans) Complete(f *Factory, args []string) error {
	if err := o.listing.Complete(f, args); err != nil {
		return err
	}
	if class, plan, ok := strings.Cut(o.name, "/"); ok {
		o.class, o.name = class, plan
	}
	return nil
}

func (o *getPlans) Validate() error {
	if err := o.out.validate(); err != nil {
		return err
	}
	return o.scope.validate()
}

func (o *getPlans) Run(ctx context.Context) error {
	off, err := o.c.Offerings(ctx, o.scope.scope, o.nsf.ns)
	if err != nil {
		return err
	}
	plans := off.Plans
	if o.class != "" {
		class, err := resolve.Class(off.Classes, o.class, o.kubeName)
		if err != nil {
			return err
		}
		plans = off.PlansOf(class)
		if o.name != "" {
			p, err := resolve.Plan(plans, class, o.name, o.kubeName)
			if err != nil {
				return err
			}
			plans = []apiview.Plan{p}
		}
	} else if o.name != "" {
		all := plans
		plans = slices.DeleteFunc(slices.Clone(plans), func(p apiview.Plan) bool {
			return !(o.kubeName && p.Name == o.name || !o.kubeName && p.Spec.ExternalName == o.name)
		})
		if len(plans) == 0 {
			names := make([]string, len(all))
			for i, p := range all {
				names[i] = p.Spec.ExternalName
			}
			return &resolve.NotFoundError{Kind: "plan", Name: o.name, Suggestions: resolve.Suggest(o.name, names), Available: slices.Compact(slices.Sorted(slices.Values(names)))}
		}
	}
	objs := make([]client.Object, len(plans))
	for i, p := range plans {
		objs[i] = p.Object
	}
	w := o.f.Streams.Out
	return printObjects(w, o.out.format, o.name != "", objs, func() error {
		return output.Plans(w, plans, func(p apiview.Plan) string {
			if c, ok := off.ClassOf(p.Namespace, p.ClassName); ok {
				return c.Spec.ExternalName
			}
			return p.ClassName
		})
	})
}

// getInstances lists instances.
type getInstances struct {
	listing
	class string
	plan  string
}

func newGetInstancesCmd(f *Factory) *cobra.Command {
	o := &getInstances{}
	c := &cobra.Command{
		Use:     "instances [NAME]",
		Aliases: []string{"instance", "inst"},
		Short:   "List instances, optionally filtered by name, class or plan",
		Example: "  svcat get instances\n  svcat get instances --all-namespaces --class cloudkarafka\n  svcat get instance demo-kafka -o yaml",
		Args:    cobra.MaximumNArgs(1),
		RunE:    runE(f, o),
	}
	o.add(c)
	c.Flags().StringVarP(&o.class, "class", "c", "", "Only instances of this class (external name)")
	c.Flags().StringVarP(&o.plan, "plan", "p", "", "Only instances on this plan (external name)")
	return c
}

func (o *getInstances) Validate() error { return o.out.validate() }

func (o *getInstances) Run(ctx context.Context) error {
	var instances []v1beta1.ServiceInstance
	if o.name != "" {
		ns, err := o.f.Namespace()
		if err != nil {
			return err
		}
		in, err := o.c.Instance(ctx, ns, o.name)
		if err != nil {
			return err
		}
		instances = []v1beta1.ServiceInstance{*in}
	} else {
		var err error
		if instances, err = o.c.Instances(ctx, o.nsf.ns); err != nil {
			return err
		}
	}
	off, err := o.c.OfferingsIfAllowed(ctx, o.nsf.ns)
	if err != nil {
		return err
	}
	if o.class != "" || o.plan != "" {
		instances = slices.DeleteFunc(instances, func(in v1beta1.ServiceInstance) bool {
			class, plan := off.InstanceClassPlan(&in)
			return o.class != "" && class != o.class || o.plan != "" && plan != o.plan
		})
	}
	objs := make([]client.Object, len(instances))
	for i := range instances {
		objs[i] = &instances[i]
	}
	var shared []apiview.SharedInstance
	if o.name == "" && o.nsf.ns != "" {
		shared = slices.DeleteFunc(sharedMarkers(ctx, o.c, o.nsf.ns), func(s apiview.SharedInstance) bool {
			return o.class != "" && s.Class != o.class || o.plan != "" && s.Plan != o.plan
		})
	}
	w := o.f.Streams.Out
	return printObjects(w, o.out.format, o.name != "", objs, func() error {
		return output.InstancesWithShared(w, instances, off.InstanceClassPlan, shared)
	})
}

// getBindings lists bindings.
type getBindings struct {
	listing
}

func newGetBindingsCmd(f *Factory) *cobra.Command {
	o := &getBindings{}
	c := &cobra.Command{
		Use:     "bindings [NAME]",
		Aliases: []string{"binding", "bnd"},
		Short:   "List bindings, optionally filtered by name",
		Example: "  svcat get bindings\n  svcat get bindings --all-namespaces\n  svcat get binding demo-kafka-binding -o yaml",
		Args:    cobra.MaximumNArgs(1),
		RunE:    runE(f, o),
	}
	o.add(c)
	return c
}

func (o *getBindings) Validate() error { return o.out.validate() }

func (o *getBindings) Run(ctx context.Context) error {
	var bindings []v1beta1.ServiceBinding
	if o.name != "" {
		ns, err := o.f.Namespace()
		if err != nil {
			return err
		}
		b, err := o.c.Binding(ctx, ns, o.name)
		if err != nil {
			return err
		}
		bindings = []v1beta1.ServiceBinding{*b}
	} else {
		var err error
		if bindings, err = o.c.Bindings(ctx, o.nsf.ns); err != nil {
			return err
		}
	}
	objs := make([]client.Object, len(bindings))
	for i := range bindings {
		objs[i] = &bindings[i]
	}
	w := o.f.Streams.Out
	return printObjects(w, o.out.format, o.name != "", objs, func() error { return output.Bindings(w, bindings) })
}
