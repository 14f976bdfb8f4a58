package svcatcmd

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/svcat-io/svcat/api/v1beta1"
	"github.com/svcat-io/svcat/internal/cli/apiview"
	"github.com/svcat-io/svcat/internal/cli/output"
	"github.com/svcat-io/svcat/internal/cli/params"
	"github.com/svcat-io/svcat/internal/cli/resolve"
)

// paramFlags are -p/--param, --params-json and -s/--secret, shared by
// provision and bind.
type paramFlags struct {
	pairs   []string
	json    string
	secrets []string

	raw  *runtime.RawExtension
	from []v1beta1.ParametersFromSource
}

func (p *paramFlags) add(c *cobra.Command) {
	c.Flags().StringArrayVarP(&p.pairs, "param", "p", nil, "A parameter NAME=VALUE; repeat it for more, a repeated NAME makes a list")
	c.Flags().StringVar(&p.json, "params-json", "", "Parameters as a JSON object; cannot be combined with --param")
	c.Flags().StringArrayVarP(&p.secrets, "secret", "s", nil, "Parameters from a secret key, SECRET[KEY], whose value is a JSON object; repeatable")
}

func (p *paramFlags) validate() (err error) {
	if p.raw, err = params.Build(p.pairs, p.json); err != nil {
		return err
	}
	p.from, err = params.ParseSecretRefs(p.secrets)
	return err
}

type provision struct {
	named
	class      string
	plan       string
	kubeName   bool
	externalID string
	scope      scopeFlags
	pf         paramFlags
	wf         waitFlags
}

func newProvisionCmd(f *Factory) *cobra.Command {
	o := &provision{}
	c := &cobra.Command{
		Use:   "provision NAME --class CLASS [--plan PLAN]",
		Short: "Create an instance of a class and plan",
		Long: "Create a ServiceInstance. The class and plan are looked up by their external names\n" +
			"(see svcat marketplace) in the cluster and in the namespace; --plan may be left out\n" +
			"when the class has a single plan.",
		Example: "  svcat provision demo-kafka --class cloudkarafka --plan duck\n" +
			"  svcat provision orders --class mysql --plan small -p location=eu -p tags=a -p tags=b --wait\n" +
			"  svcat provision orders --class mysql --plan small --params-json '{\"size\": 10}' -s creds[params]",
		Args: nameArg("instance"),
		RunE: runE(f, o),
	}
	c.Flags().StringVar(&o.class, "class", "", "External name of the class (required)")
	c.Flags().StringVar(&o.plan, "plan", "", "External name of the plan; optional when the class has one plan")
	c.Flags().BoolVarP(&o.kubeName, "kube-name", "k", false, "--class and --plan are Kubernetes names")
	c.Flags().StringVar(&o.externalID, "external-id", "", "The instance's ID at the broker; a UUID is generated when empty. Setting one needs the verb adopt on serviceinstances cluster-wide (svcat-external-id admission policy)")
	o.scope.addRead(c)
	o.pf.add(c)
	o.wf.add(c)
	return c
}

func (o *provision) Complete(f *Factory, args []string) error {
	return o.complete(f, args, "instance")
}

func (o *provision) Validate() error {
	if o.class == "" {
		return errors.New("--class is required: list the classes with svcat marketplace")
	}
	if err := o.scope.validate(); err != nil {
		return err
	}
	if err := o.pf.validate(); err != nil {
		return err
	}
	return o.wf.validate()
}

func (o *provision) Run(ctx context.Context) error {
	off, err := o.c.Offerings(ctx, o.scope.scope, o.ns)
	if err != nil {
		return err
	}
	class, err := resolve.Class(off.Classes, o.class, o.kubeName)
	if err != nil {
		return err
	}
	var plan apiview.Plan
	if o.plan == "" {
		plan, err = resolve.DefaultPlan(off.Plans, class)
	} else {
		plan, err = resolve.Plan(off.Plans, class, o.plan, o.kubeName)
	}
	if err != nil {
		return err
	}
	if class.Removed || plan.Removed {
		return fmt.Errorf("%s/%s was removed from broker %s's catalog: existing instances keep working, new ones cannot be provisioned",
			class.Spec.ExternalName, plan.Spec.ExternalName, class.Broker)
	}
	in := newInstance(o.ns, o.name, class, plan)
	in.Spec.Parameters = o.pf.raw
	in.Spec.ParametersFrom = o.pf.from
	in.Spec.ExternalID = o.externalID
	if err := o.c.Create(ctx, in, apiview.ResServiceInstances); err != nil {
		return err
	}
	if o.wf.wait {
		what := fmt.Sprintf("instance %q to be provisioned", o.name)
		if err := o.wf.progressTo(o.f).For(ctx, what, waitInstanceSettled(o.c, o.ns, o.name)); err != nil {
			return err
		}
		if in, err = o.c.Instance(ctx, o.ns, o.name); err != nil {
			return err
		}
	}
	return output.InstanceDetails(o.f.Streams.Out, in, class.Spec.ExternalName, plan.Spec.ExternalName, nil)
}

// newInstance refers to the class and plan by Kubernetes name: svcat has
// already chosen among same-named classes of different brokers, so the
// controller must not choose again.
func newInstance(ns, name string, class apiview.Class, plan apiview.Plan) *v1beta1.ServiceInstance {
	in := &v1beta1.ServiceInstance{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
	in.SetGroupVersionKind(v1beta1.GroupVersion.WithKind("ServiceInstance"))
	if class.Namespace == "" {
		in.Spec.ClusterServiceClassName = class.Name
		in.Spec.ClusterServicePlanName = plan.Name
	} else {
		in.Spec.ServiceClassName = class.Name
		in.Spec.ServicePlanName = plan.Name
	}
	return in
}

type deprovision struct {
	named
	abandon bool
	yes     bool
	wf      waitFlags
}

func newDeprovisionCmd(f *Factory) *cobra.Command {
	o := &deprovision{}
	c := &cobra.Command{
		Use:   "deprovision NAME",
		Short: "Delete an instance",
		Long: "Delete a ServiceInstance; the controller asks the broker to deprovision it.\n\n" +
			"With --abandon the controller lets the instance go without calling the broker,\n" +
			"for brokers that are gone or broken. Whatever the broker created is left behind\n" +
			"(and may still cost money); delete its bindings first.",
		Example: "  svcat deprovision demo-kafka --wait\n  svcat deprovision demo-kafka --abandon -y",
		Args:    nameArg("instance"),
		RunE:    runE(f, o),
	}
	c.Flags().BoolVar(&o.abandon, "abandon", false, "Delete without deprovisioning at the broker, leaving its resources behind")
	c.Flags().BoolVarP(&o.yes, "yes", "y", false, "Do not ask for confirmation of --abandon")
	o.wf.add(c)
	return c
}

func (o *deprovision) Complete(f *Factory, args []string) error {
	return o.complete(f, args, "instance")
}

func (o *deprovision) Validate() error { return o.wf.validate() }

const abandonWarning = "--abandon deletes %s without telling the broker: the resources it holds are left\n" +
	"behind and may still be billed. Delete any bindings first."

func (o *deprovision) Run(ctx context.Context) error {
	in, err := o.c.Instance(ctx, o.ns, o.name)
	if err != nil {
		return err
	}
	if o.abandon {
		ok, err := confirmAbandon(o.f, o.yes, fmt.Sprintf("instance %q", o.name))
		if err != nil || !ok {
			return err
		}
		if err := markAbandoned(ctx, o.c, in, apiview.ResServiceInstances); err != nil {
			return err
		}
	}
	if err := o.c.Delete(ctx, in, apiview.ResServiceInstances); err != nil {
		return err
	}
	if o.wf.wait {
		what := fmt.Sprintf("instance %q to be deprovisioned", o.name)
		if err := o.wf.progressTo(o.f).For(ctx, what, waitInstanceGone(o.c, o.ns, o.name)); err != nil {
			return err
		}
	}
	return output.Deleted(o.f.Streams.Out, o.name)
}

// errAborted is a declined confirmation; nothing was changed.
var errAborted = errors.New("aborted: nothing was changed")

func confirmAbandon(f *Factory, yes bool, what string) (bool, error) {
	if yes {
		return true, nil
	}
	fmt.Fprintf(f.Streams.ErrOut, abandonWarning+"\n", what)
	ok, err := confirm(f.Streams.In, f.Streams.ErrOut, "Abandon "+what+"?")
	if err != nil {
		return false, err
	}
	if !ok {
		return false, errAborted
	}
	return true, nil
}

// markAbandoned sets the abandon annotation the controller honours before
// the object is deleted.
func markAbandoned(ctx context.Context, c *apiview.Client, obj client.Object, resource string) error {
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		if err := c.C.Get(ctx, client.ObjectKeyFromObject(obj), obj); err != nil {
			return err
		}
		a := obj.GetAnnotations()
		if a == nil {
			a = map[string]string{}
		}
		a[v1beta1.AnnotationAbandon] = v1beta1.AnnotationAbandonValue
		obj.SetAnnotations(a)
		return c.Update(ctx, obj, resource)
	})
}

type touch struct {
	named
	wf waitFlags
}

func newTouchCmd(f *Factory) *cobra.Command {
	t := &cobra.Command{
		Use:   "touch",
		Short: "Ask the controller to send an update for an instance",
		Args:  cobra.NoArgs,
		RunE:  func(c *cobra.Command, _ []string) error { return c.Help() },
	}
	o := &touch{}
	c := &cobra.Command{
		Use:     "instance NAME",
		Aliases: []string{"instances", "inst"},
		Short:   "Increment the instance's updateRequests so the controller updates it at the broker",
		Example: "  svcat touch instance demo-kafka --wait",
		Args:    nameArg("instance"),
		RunE:    runE(f, o),
	}
	o.wf.add(c)
	t.AddCommand(c)
	return t
}

func (o *touch) Complete(f *Factory, args []string) error {
	return o.complete(f, args, "instance")
}

func (o *touch) Validate() error { return o.wf.validate() }

func (o *touch) Run(ctx context.Context) error {
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		in, err := o.c.Instance(ctx, o.ns, o.name)
		if err != nil {
			return err
		}
		in.Spec.UpdateRequests++
		return o.c.Update(ctx, in, apiview.ResServiceInstances)
	})
	if err != nil {
		return err
	}
	if _, err := fmt.Fprintf(o.f.Streams.Out, "Update requested for instance: %s\n", o.name); err != nil {
		return err
	}
	if !o.wf.wait {
		return nil
	}
	what := fmt.Sprintf("instance %q to be updated", o.name)
	return o.wf.progressTo(o.f).For(ctx, what, waitInstanceSettled(o.c, o.ns, o.name))
}
