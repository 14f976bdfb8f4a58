package svcatcmd

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/svcat-io/svcat/api/v1beta1"
	"github.com/svcat-io/svcat/internal/cli/apiview"
	"github.com/svcat-io/svcat/internal/cli/output"
	"github.com/svcat-io/svcat/internal/cli/wait"
)

// newCreateCmd is "svcat create": objects that are not provisioned from a
// broker's catalog.
func newCreateCmd(f *Factory) *cobra.Command {
	c := &cobra.Command{
		Use:   "create",
		Short: "Create a user-provided instance",
		Args:  cobra.NoArgs,
	}
	c.AddCommand(newCreateUserProvidedCmd(f))
	return c
}

type createUserProvided struct {
	named
	fromSecret string
	pairs      []string
	wf         waitFlags

	literals map[string][]byte
}

func newCreateUserProvidedCmd(f *Factory) *cobra.Command {
	o := &createUserProvided{}
	c := &cobra.Command{
		Use:   "user-provided NAME (--from-secret SECRET | --param KEY=VALUE...)",
		Short: "Create an instance whose credentials you provide, with no broker",
		Long: "Create a user-provided ServiceInstance: credentials you hold (a database outside\n" +
			"the cluster, a SaaS token) made bindable like any other instance. Bindings copy the\n" +
			"Secret's keys into their own Secrets, with their secretTransforms and the\n" +
			"servicebinding.io keys (type \"user-provided\" unless the Secret has a \"type\" key),\n" +
			"and a change of the Secret reaches every binding.\n\n" +
			"--from-secret names a Secret of the namespace that you keep. --param creates the\n" +
			"Secret NAME-credentials from literal values, owned by the instance, so it goes\n" +
			"with it; the values then pass through your shell's history, so prefer\n" +
			"--from-secret for real credentials.",
		Example: "  svcat create user-provided orders-db --from-secret orders-db-creds\n" +
			"  svcat create user-provided smtp -p host=smtp.example.com -p port=587 --wait\n" +
			"  svcat bind orders-db",
		Args: nameArg("instance"),
		RunE: runE(f, o),
	}
	c.Flags().StringVar(&o.fromSecret, "from-secret", "", "A Secret in the namespace whose keys are the credentials")
	c.Flags().StringArrayVarP(&o.pairs, "param", "p", nil, "A credential KEY=VALUE, stored in the Secret NAME-credentials; repeat it for more")
	o.wf.add(c)
	return c
}

func (o *createUserProvided) Complete(f *Factory, args []string) error {
	return o.complete(f, args, "instance")
}

func (o *createUserProvided) Validate() error {
	switch {
	case o.fromSecret == "" && len(o.pairs) == 0:
		return errors.New("give the credentials: --from-secret SECRET, or --param KEY=VALUE (repeatable)")
	case o.fromSecret != "" && len(o.pairs) > 0:
		return errors.New("--from-secret and --param cannot be combined: the credentials come from one Secret")
	}
	if len(o.pairs) > 0 {
		var err error
		if o.literals, err = apiview.ParseCredentials("--param", o.pairs); err != nil {
			return err
		}
	}
	return o.wf.validate()
}

func (o *createUserProvided) Run(ctx context.Context) error {
	in, err := o.c.CreateUserProvided(ctx, o.ns, o.name, o.fromSecret, o.literals)
	if err != nil {
		return err
	}
	if o.wf.wait {
		what := fmt.Sprintf("instance %q to be Ready", o.name)
		if err := o.wf.progressTo(o.f).For(ctx, what, o.waitReady); err != nil {
			return err
		}
		if in, err = o.c.Instance(ctx, o.ns, o.name); err != nil {
			return err
		}
	}
	return output.InstanceDetails(o.f.Streams.Out, in, apiview.UserProvidedClass, "", nil)
}

// waitReady is the --wait check. The Secret is read again only when the
// controller says it is missing: --param creates it just after the
// instance, so the controller may have looked in between.
func (o *createUserProvided) waitReady(ctx context.Context) (wait.State, error) {
	in, err := o.c.Instance(ctx, o.ns, o.name)
	if err != nil {
		return wait.State{}, err
	}
	exists := false
	if c := in.Status.GetCondition(v1beta1.ServiceInstanceConditionReady); c != nil && c.Reason == v1beta1.ReasonUserProvidedSecretNotFound {
		_, err := o.c.Secret(ctx, o.ns, in.Spec.UserProvided.SecretRef.Name)
		if err != nil && !isNotFound(err) {
			return wait.State{}, err
		}
		exists = err == nil
	}
	return userProvidedState(in, exists), nil
}

// userProvidedStalls are the controller's answers that only a change by
// the user ends (the Secret created or shrunk, spec.parameters removed):
// --wait would otherwise wait for its timeout.
var userProvidedStalls = map[string]bool{
	v1beta1.ReasonUserProvidedSecretNotFound: true,
	v1beta1.ReasonUserProvidedSecretTooLarge: true,
	v1beta1.ReasonUserProvidedParameters:     true,
}

// userProvidedState decides whether a new user-provided instance is
// settled, or stalled by one of userProvidedStalls for its current spec.
// secretExists: the Secret is there now, so a "not found" is older than
// it and the controller's watch of the Secret brings the instance back.
func userProvidedState(in *v1beta1.ServiceInstance, secretExists bool) wait.State {
	st := instanceSettled(in)
	c := in.Status.GetCondition(v1beta1.ServiceInstanceConditionReady)
	switch {
	case st.Done || in.Status.ObservedGeneration < in.Generation:
		return st
	case c == nil || c.Status != v1beta1.ConditionFalse || !userProvidedStalls[c.Reason]:
		return st
	case c.Reason == v1beta1.ReasonUserProvidedSecretNotFound && secretExists:
		return st
	}
	st.Done, st.Err = true, fmt.Errorf("instance %s/%s is not Ready: %s: %s", in.Namespace, in.Name, c.Reason, c.Message)
	return st
}
