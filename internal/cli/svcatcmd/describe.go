package svcatcmd

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/svcat-io/svcat/api/v1beta1"
	"github.com/svcat-io/svcat/internal/cli/apiview"
	"github.com/svcat-io/svcat/internal/cli/output"
	"github.com/svcat-io/svcat/internal/cli/resolve"
)

func newDescribeCmd(f *Factory) *cobra.Command {
	c := &cobra.Command{
		Use:   "describe",
		Short: "Show the details of a broker, class, plan, instance or binding",
		Args:  cobra.NoArgs,
		RunE:  func(c *cobra.Command, _ []string) error { return c.Help() },
	}
	c.AddCommand(newDescribeBrokerCmd(f), newDescribeClassCmd(f), newDescribePlanCmd(f),
		newDescribeInstanceCmd(f), newDescribeBindingCmd(f))
	return c
}

// named is what every command on one named object completes: the name, the
// namespace and the client.
type named struct {
	name string
	ns   string
	f    *Factory
	c    *apiview.Client
}

func (o *named) complete(f *Factory, args []string, what string) (err error) {
	o.f = f
	if o.name, err = oneName(args, what); err != nil {
		return err
	}
	if o.ns, err = f.Namespace(); err != nil {
		return err
	}
	o.c, err = f.Client()
	return err
}

type describeBroker struct {
	named
	scope scopeFlags
}

func newDescribeBrokerCmd(f *Factory) *cobra.Command {
	o := &describeBroker{}
	c := &cobra.Command{
		Use:     "broker NAME",
		Aliases: []string{"brokers", "brk"},
		Short:   "Show a broker and its status",
		Example: "  svcat describe broker ups-broker",
		Args:    nameArg("broker"),
		RunE:    runE(f, o),
	}
	o.scope.addRead(c)
	return c
}

func (o *describeBroker) Complete(f *Factory, args []string) error {
	return o.complete(f, args, "broker")
}

func (o *describeBroker) Validate() error { return o.scope.validate() }

func (o *describeBroker) Run(ctx context.Context) error {
	b, err := findBroker(ctx, o.c, o.scope.scope, o.ns, o.name)
	if err != nil {
		return err
	}
	return output.BrokerDetails(o.f.Streams.Out, b)
}

// findBroker finds one broker by name in scope; a name used at both scopes
// needs --scope to choose.
func findBroker(ctx context.Context, c *apiview.Client, scope apiview.Scope, ns, name string) (apiview.Broker, error) {
	brokers, err := c.Brokers(ctx, scope, ns)
	if err != nil {
		return apiview.Broker{}, err
	}
	var found []apiview.Broker
	for _, b := range brokers {
		if b.Name == name {
			found = append(found, b)
		}
	}
	switch len(found) {
	case 1:
		return found[0], nil
	case 0:
		names := brokerNames(brokers)
		nf := &resolve.NotFoundError{Kind: "broker", Name: name, Suggestions: resolve.Suggest(name, names), Available: names}
		if scope == apiview.AllScope {
			return apiview.Broker{}, nf
		}
		// The default scope of the commands that change brokers is the
		// namespace, while most brokers are cluster-wide: point there.
		other := apiview.ClusterScope
		if scope == apiview.ClusterScope {
			other = apiview.NamespaceScope
		}
		if elsewhere, err := c.Brokers(ctx, other, ns); err == nil && slices.ContainsFunc(elsewhere, func(b apiview.Broker) bool { return b.Name == name }) {
			return apiview.Broker{}, fmt.Errorf("broker %q not found at %s scope, but there is one at %s scope: add --scope %s", name, scope, other, other)
		}
		return apiview.Broker{}, nf
	}
	return apiview.Broker{}, &resolve.AmbiguousError{Kind: "broker", Name: name,
		Matches: []string{"ClusterServiceBroker " + name, "ServiceBroker " + ns + "/" + name}}
}

type describeClass struct {
	named
	scope    scopeFlags
	kubeName bool
}

func newDescribeClassCmd(f *Factory) *cobra.Command {
	o := &describeClass{}
	c := &cobra.Command{
		Use:     "class NAME",
		Aliases: []string{"classes", "cl"},
		Short:   "Show a class and its plans",
		Example: "  svcat describe class cloudkarafka\n  svcat describe class --kube-name d21df959-6da8-495f-a8b6-ddc51d49eea2",
		Args:    nameArg("class"),
		RunE:    runE(f, o),
	}
	o.scope.addRead(c)
	c.Flags().BoolVarP(&o.kubeName, "kube-name", "k", false, "NAME is the Kubernetes name of the class")
	return c
}

func (o *describeClass) Complete(f *Factory, args []string) error {
	return o.complete(f, args, "class")
}

func (o *describeClass) Validate() error { return o.scope.validate() }

func (o *describeClass) Run(ctx context.Context) error {
	classes, err := o.c.Classes(ctx, o.scope.scope, o.ns)
	if err != nil {
		return err
	}
	class, err := resolve.Class(classes, o.name, o.kubeName)
	if err != nil {
		return err
	}
	plans, err := o.c.Plans(ctx, class.Scope(), class.Namespace)
	if err != nil {
		return err
	}
	off := apiview.Offerings{Plans: plans}
	return output.ClassDetails(o.f.Streams.Out, class, off.PlansOf(class))
}

type describePlan struct {
	named
	scope       scopeFlags
	nsf         namespaceFlags
	kubeName    bool
	showSchemas bool
	class       string
}

func newDescribePlanCmd(f *Factory) *cobra.Command {
	o := &describePlan{}
	c := &cobra.Command{
		Use:     "plan NAME | CLASS/NAME",
		Aliases: []string{"plans", "pl"},
		Short:   "Show a plan, the instances using it and, with --show-schemas, its parameter schemas",
		Example: "  svcat describe plan cloudkarafka/duck --show-schemas\n  svcat describe plan --kube-name e64a8b50-be7f-48cf-9010-9ccb7fe075b5",
		Args:    nameArg("plan"),
		RunE:    runE(f, o),
	}
	o.scope.addRead(c)
	o.nsf.add(c)
	c.Flags().BoolVarP(&o.kubeName, "kube-name", "k", false, "Names are Kubernetes names")
	c.Flags().BoolVar(&o.showSchemas, "show-schemas", false, "Show the JSON schemas of the plan's parameters")
	return c
}

func (o *describePlan) Complete(f *Factory, args []string) error {
	if err := o.complete(f, args, "plan"); err != nil {
		return err
	}
	if class, plan, ok := strings.Cut(o.name, "/"); ok {
		o.class, o.name = class, plan
	}
	return o.nsf.complete(f)
}

func (o *describePlan) Validate() error { return o.scope.validate() }

func (o *describePlan) Run(ctx context.Context) error {
	off, err := o.c.Offerings(ctx, o.scope.scope, o.ns)
	if err != nil {
		return err
	}
	plan, err := o.find(off)
	if err != nil {
		return err
	}
	class, _ := off.ClassOf(plan.Namespace, plan.ClassName)
	if class.Spec == nil {
		class.Spec = &v1beta1.CommonServiceClassSpec{ExternalName: plan.ClassName}
	}
	instances, err := o.c.Instances(ctx, o.nsf.ns)
	if err != nil {
		return err
	}
	instances = slices.DeleteFunc(instances, func(in v1beta1.ServiceInstance) bool { return !usesPlan(&in, plan) })
	return output.PlanDetails(o.f.Streams.Out, plan, class, instances, o.showSchemas)
}

func (o *describePlan) find(off *apiview.Offerings) (apiview.Plan, error) {
	if o.class != "" {
		class, err := resolve.Class(off.Classes, o.class, o.kubeName)
		if err != nil {
			return apiview.Plan{}, err
		}
		return resolve.Plan(off.Plans, class, o.name, o.kubeName)
	}
	var found []apiview.Plan
	var names []string
	for _, p := range off.Plans {
		key := p.Spec.ExternalName
		if o.kubeName {
			key = p.Name
		}
		if key == o.name {
			found = append(found, p)
		}
		names = append(names, key)
	}
	switch len(found) {
	case 1:
		return found[0], nil
	case 0:
		return apiview.Plan{}, &resolve.NotFoundError{Kind: "plan", Name: o.name, Suggestions: resolve.Suggest(o.name, names),
			Available: slices.Compact(slices.Sorted(slices.Values(names)))}
	}
	matches := make([]string, len(found))
	for i, p := range found {
		class := p.ClassName
		if c, ok := off.ClassOf(p.Namespace, p.ClassName); ok {
			class = c.Spec.ExternalName
		}
		matches[i] = class + "/" + p.Spec.ExternalName
	}
	return apiview.Plan{}, &resolve.AmbiguousError{Kind: "plan", Name: o.name, Matches: matches}
}

// usesPlan says whether the controller resolved in to plan, or the user
// named it by Kubernetes name.
func usesPlan(in *v1beta1.ServiceInstance, p apiview.Plan) bool {
	s := in.Spec
	if p.Namespace == "" {
		return s.ClusterServicePlanRef != nil && s.ClusterServicePlanRef.Name == p.Name || s.ClusterServicePlanName == p.Name
	}
	return in.Namespace == p.Namespace &&
		(s.ServicePlanRef != nil && s.ServicePlanRef.Name == p.Name || s.ServicePlanName == p.Name)
}

type describeInstance struct{ named }

func newDescribeInstanceCmd(f *Factory) *cobra.Command {
	o := &describeInstance{}
	return &cobra.Command{
		Use:     "instance [NAMESPACE/]NAME",
		Aliases: []string{"instances", "inst"},
		Short:   "Show an instance, its parameters and its bindings",
		Example: "  svcat describe instance demo-kafka\n  svcat -n prod describe instance orders-db\n  svcat -n analytics describe instance team-a/demo-kafka   # an instance team-a shares with analytics",
		Args:    nameArg("instance"),
		RunE:    runE(f, o),
	}
}

func (o *describeInstance) Complete(f *Factory, args []string) error {
	return o.complete(f, args, "instance")
}

func (o *describeInstance) Validate() error { return nil }

func (o *describeInstance) Run(ctx context.Context) error {
	ns, name, err := instanceArg(o.name, "")
	if err != nil {
		return err
	}
	bare := ns == ""
	if bare {
		ns = o.ns
	}
	in, err := o.c.Instance(ctx, ns, name)
	if err != nil {
		return o.describeShared(ctx, ns, name, bare, err)
	}
	bindings, err := o.c.BindingsOf(ctx, ns, name)
	if err != nil {
		return err
	}
	if bindings == nil {
		bindings = []v1beta1.ServiceBinding{}
	}
	off, err := o.c.OfferingsIfAllowed(ctx, ns)
	if err != nil {
		return err
	}
	class, plan := off.InstanceClassPlan(in)
	return output.InstanceDetails(o.f.Streams.Out, in, class, plan, bindings)
}

type describeBinding struct {
	named
	showSecrets bool
}

func newDescribeBindingCmd(f *Factory) *cobra.Command {
	o := &describeBinding{}
	c := &cobra.Command{
		Use:     "binding NAME",
		Aliases: []string{"bindings", "bnd"},
		Short:   "Show a binding and the keys of its secret",
		Example: "  svcat describe binding demo-kafka-binding\n  svcat describe binding demo-kafka-binding --show-secrets",
		Args:    nameArg("binding"),
		RunE:    runE(f, o),
	}
	c.Flags().BoolVar(&o.showSecrets, "show-secrets", false, "Show the secret's values instead of their sizes")
	return c
}

func (o *describeBinding) Complete(f *Factory, args []string) error {
	return o.complete(f, args, "binding")
}

func (o *describeBinding) Validate() error { return nil }

func (o *describeBinding) Run(ctx context.Context) error {
	b, err := o.c.Binding(ctx, o.ns, o.name)
	if err != nil {
		return err
	}
	secretName := b.Spec.SecretName
	if secretName == "" {
		secretName = b.Name
	}
	secret, secretErr := o.c.Secret(ctx, o.ns, secretName)
	var nf *apiview.NotFoundError
	if errors.As(secretErr, &nf) {
		// The controller writes the secret once the broker answers; until
		// then there is nothing to show.
		secret, secretErr = nil, nil
	}
	return output.BindingDetails(o.f.Streams.Out, b, secret, secretErr, o.showSecrets)
}
