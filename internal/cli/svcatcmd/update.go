package svcatcmd

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"k8s.io/client-go/util/retry"

	"github.com/svcat-io/svcat/api/v1beta1"
	"github.com/svcat-io/svcat/internal/cli/apiview"
	"github.com/svcat-io/svcat/internal/cli/params"
	"github.com/svcat-io/svcat/internal/cli/resolve"
	"github.com/svcat-io/svcat/internal/cli/wait"
)

// updateInstance changes an instance's plan or parameters in its spec; the
// controller sends the update to the broker.
type updateInstance struct {
	named
	plan     string
	kubeName bool
	pf       paramFlags
	wf       waitFlags
}

func newUpdateCmd(f *Factory) *cobra.Command {
	u := &cobra.Command{
		Use:   "update",
		Short: "Change an instance's plan or parameters",
		Args:  cobra.NoArgs,
		RunE:  func(c *cobra.Command, _ []string) error { return c.Help() },
	}
	o := &updateInstance{}
	c := &cobra.Command{
		Use:     "instance NAME [--plan PLAN] [-p NAME=VALUE ...] [--params-json JSON] [-s SECRET[KEY] ...]",
		Aliases: []string{"instances", "inst"},
		Short:   "Change an instance's plan or parameters; the controller sends the update to the broker",
		Long: "Change a ServiceInstance's plan, parameters or parameter Secrets. The controller\n" +
			"sends one update to the broker; a refusal (such as a smaller plan the instance\n" +
			"does not fit) leaves the instance with what it had and is shown by svcat describe\n" +
			"instance.\n\n" +
			"-p sets the parameters it names and keeps the others; --params-json replaces all\n" +
			"of them ('{}' removes them); -s replaces the list of parameter Secrets.",
		Example: "  svcat update instance demo-kafka --plan bear --wait\n" +
			"  svcat update instance demo-kafka -p retention=7d\n" +
			"  svcat update instance demo-kafka --params-json '{\"partitions\": 12}' -s kafka-params[params]",
		Args: nameArg("instance"),
		RunE: runE(f, o),
	}
	c.Flags().StringVar(&o.plan, "plan", "", "External name of the new plan, one of the instance's class")
	c.Flags().BoolVarP(&o.kubeName, "kube-name", "k", false, "--plan is a Kubernetes name")
	o.pf.add(c)
	o.wf.add(c)
	u.AddCommand(c)
	return u
}

func (o *updateInstance) Complete(f *Factory, args []string) error {
	return o.complete(f, args, "instance")
}

func (o *updateInstance) Validate() error {
	if o.plan == "" && len(o.pf.pairs) == 0 && o.pf.json == "" && len(o.pf.secrets) == 0 {
		return usageErrorf("nothing to update: give --plan, --param, --params-json or --secret (svcat touch instance sends the same parameters again)")
	}
	if err := o.pf.validate(); err != nil {
		return err
	}
	return o.wf.validate()
}

func (o *updateInstance) Run(ctx context.Context) error {
	in, err := o.c.Instance(ctx, o.ns, o.name)
	if err != nil {
		return err
	}
	before := in.Status.GetCondition(v1beta1.ServiceInstanceConditionReady)
	var plan *apiview.Plan
	if o.plan != "" {
		if plan, err = o.newPlan(ctx, in); err != nil {
			return err
		}
	}
	err = retry.RetryOnConflict(retry.DefaultRetry, func() error {
		in, err := o.c.Instance(ctx, o.ns, o.name)
		if err != nil {
			return err
		}
		if err := o.apply(&in.Spec, plan); err != nil {
			return err
		}
		return o.c.Update(ctx, in, apiview.ResServiceInstances)
	})
	if err != nil {
		return err
	}
	if _, err := fmt.Fprintf(o.f.Streams.Out, "Update requested for instance: %s (%s)\n", o.name, o.changes(plan)); err != nil {
		return err
	}
	if !o.wf.wait {
		return nil
	}
	what := fmt.Sprintf("instance %q to be updated", o.name)
	return o.wf.progressTo(o.f).For(ctx, what, func(ctx context.Context) (wait.State, error) {
		in, err := o.c.Instance(ctx, o.ns, o.name)
		if err != nil {
			return wait.State{}, err
		}
		return updateState(in, before), nil
	})
}

// stalledReasons are the controller's refusals that wait for the spec to
// change: nothing was sent to the broker, so --wait would wait for ever.
var stalledReasons = map[string]bool{
	v1beta1.ReasonInvalidParameters:            true,
	v1beta1.ReasonErrorInvalidPlanSchema:       true,
	v1beta1.ReasonPlanChangeNotAllowed:         true,
	v1beta1.ReasonReferencesDeletedServicePlan: true,
}

// updateState decides whether an update is over: settled as any
// operation, or stalled by the controller with a Ready condition other
// than the one before the update (which may be an older stall).
func updateState(in *v1beta1.ServiceInstance, before *v1beta1.ServiceInstanceCondition) wait.State {
	st := instanceSettled(in)
	c := in.Status.GetCondition(v1beta1.ServiceInstanceConditionReady)
	if st.Done || c == nil || c.Status != v1beta1.ConditionFalse || !stalledReasons[c.Reason] {
		return st
	}
	if before != nil && before.Reason == c.Reason && before.Message == c.Message && before.LastTransitionTime.Equal(&c.LastTransitionTime) {
		return st
	}
	st.Done, st.Err = true, fmt.Errorf("the controller sent nothing to the broker: %s: %s", c.Reason, c.Message)
	return st
}

// newPlan finds --plan among the plans of the instance's class and checks,
// before anything is written, that the catalog lets the instance move to
// it.
func (o *updateInstance) newPlan(ctx context.Context, in *v1beta1.ServiceInstance) (*apiview.Plan, error) {
	classNs, className := "", ""
	switch {
	case in.Spec.ClusterServiceClassRef != nil:
		className = in.Spec.ClusterServiceClassRef.Name
	case in.Spec.ServiceClassRef != nil:
		classNs, className = in.Namespace, in.Spec.ServiceClassRef.Name
	default:
		return nil, fmt.Errorf("instance %q has no class resolved yet; wait until it is provisioned", o.name)
	}
	off, err := o.c.Offerings(ctx, apiview.AllScope, o.ns)
	if err != nil {
		return nil, err
	}
	class, ok := off.ClassOf(classNs, className)
	if !ok {
		return nil, fmt.Errorf("the class %q of instance %q cannot be found; run svcat sync broker", className, o.name)
	}
	plan, err := resolve.Plan(off.Plans, class, o.plan, o.kubeName)
	if err != nil {
		return nil, err
	}
	current := currentPlanName(in)
	if err := planChangeAllowed(class, plan, current); err != nil {
		return nil, err
	}
	return &plan, nil
}

// currentPlanName is the Kubernetes name of the plan the instance refers
// to now, as the controller resolved it.
func currentPlanName(in *v1beta1.ServiceInstance) string {
	switch {
	case in.Spec.ClusterServicePlanRef != nil:
		return in.Spec.ClusterServicePlanRef.Name
	case in.Spec.ServicePlanRef != nil:
		return in.Spec.ServicePlanRef.Name
	}
	return ""
}

// planChangeAllowed applies the catalog's plan_updateable (the plan's own
// setting overriding its class's) and refuses removed plans, so that svcat
// says so instead of writing a spec the controller would only refuse.
func planChangeAllowed(class apiview.Class, plan apiview.Plan, current string) error {
	if plan.Name == current {
		return nil
	}
	updatable := class.Spec.PlanUpdatable
	if plan.Spec.PlanUpdatable != nil {
		updatable = *plan.Spec.PlanUpdatable
	}
	if !updatable {
		return fmt.Errorf("class %q does not allow plan changes (plan_updateable is false in broker %s's catalog): nothing was changed",
			class.Spec.ExternalName, class.Broker)
	}
	if plan.Removed {
		return fmt.Errorf("plan %q was removed from broker %s's catalog: instances cannot move to it", plan.Spec.ExternalName, class.Broker)
	}
	return nil
}

// apply writes the change into spec. The plan is set in the form the
// instance names its class in (external name, external ID or Kubernetes
// name), as the controller resolves the plan the same way.
func (o *updateInstance) apply(spec *v1beta1.ServiceInstanceSpec, plan *apiview.Plan) error {
	if plan != nil {
		setPlan(spec, *plan)
	}
	switch {
	case len(o.pf.pairs) > 0:
		raw, err := params.Merge(spec.Parameters, o.pf.pairs)
		if err != nil {
			return err
		}
		spec.Parameters = raw
	case o.pf.json != "":
		spec.Parameters = o.pf.raw
		if string(o.pf.raw.Raw) == "{}" {
			spec.Parameters = nil
		}
	}
	if len(o.pf.secrets) > 0 {
		spec.ParametersFrom = o.pf.from
	}
	return nil
}

func setPlan(s *v1beta1.ServiceInstanceSpec, plan apiview.Plan) {
	switch {
	case s.ClusterServiceClassExternalName != "":
		s.ClusterServicePlanExternalName = plan.Spec.ExternalName
	case s.ClusterServiceClassExternalID != "":
		s.ClusterServicePlanExternalID = plan.Spec.ExternalID
	case s.ClusterServiceClassName != "":
		s.ClusterServicePlanName = plan.Name
	case s.ServiceClassExternalName != "":
		s.ServicePlanExternalName = plan.Spec.ExternalName
	case s.ServiceClassExternalID != "":
		s.ServicePlanExternalID = plan.Spec.ExternalID
	default:
		s.ServicePlanName = plan.Name
	}
	// The controller would resolve the same reference; writing it now
	// saves it a second spec write.
	if plan.Namespace == "" {
		s.ClusterServicePlanRef = &v1beta1.ClusterObjectReference{Name: plan.Name}
	} else {
		s.ServicePlanRef = &v1beta1.LocalObjectReference{Name: plan.Name}
	}
}

// changes says in a few words what was asked for.
func (o *updateInstance) changes(plan *apiview.Plan) string {
	var out []string
	if plan != nil {
		out = append(out, "plan "+plan.Spec.ExternalName)
	}
	switch {
	case len(o.pf.pairs) > 0:
		names := make([]string, 0, len(o.pf.pairs))
		for _, p := range o.pf.pairs {
			n, _, _ := strings.Cut(p, "=")
			names = append(names, strings.TrimSpace(n))
		}
		out = append(out, "parameters "+strings.Join(uniqueStrings(names), ", "))
	case o.pf.json != "":
		out = append(out, "all parameters")
	}
	if len(o.pf.secrets) > 0 {
		out = append(out, "parameters from "+strings.Join(o.pf.secrets, ", "))
	}
	return strings.Join(out, "; ")
}

func uniqueStrings(in []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range in {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}
