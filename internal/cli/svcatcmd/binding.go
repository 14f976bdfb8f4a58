package svcatcmd

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/svcat-io/svcat/api/v1beta1"
	"github.com/svcat-io/svcat/internal/cli/apiview"
	"github.com/svcat-io/svcat/internal/cli/output"
)

type bind struct {
	named
	// instanceNS is the namespace of an instance shared with this one.
	instanceNS string
	binding    string
	secretName string
	externalID string
	pf         paramFlags
	wf         waitFlags
}

func newBindCmd(f *Factory) *cobra.Command {
	o := &bind{}
	c := &cobra.Command{
		Use:   "bind [NAMESPACE/]INSTANCE",
		Short: "Bind an instance: the broker's credentials go into a secret",
		Example: "  svcat bind demo-kafka\n" +
			"  svcat bind demo-kafka --name orders-kafka --secret-name orders-kafka-creds --wait\n" +
			"  svcat bind demo-kafka -p role=consumer\n" +
			"  svcat bind team-a/demo-kafka --name team-a-kafka   # an instance team-a shares with this namespace",
		Args: nameArg("instance"),
		RunE: runE(f, o),
	}
	c.Flags().StringVar(&o.binding, "name", "", "Name of the binding; defaults to the instance's name")
	c.Flags().StringVar(&o.secretName, "secret-name", "", "Name of the secret for the credentials; defaults to the binding's name")
	c.Flags().StringVar(&o.externalID, "external-id", "", "The binding's ID at the broker; a UUID is generated when empty. Setting one needs the verb adopt on servicebindings cluster-wide (svcat-external-id admission policy)")
	c.Flags().StringVar(&o.instanceNS, "instance-namespace", "", "Namespace of an instance shared with this one (or give NAMESPACE/INSTANCE)")
	o.pf.add(c)
	o.wf.add(c)
	return c
}

func (o *bind) Complete(f *Factory, args []string) error {
	if err := o.complete(f, args, "instance"); err != nil {
		return err
	}
	var err error
	if o.instanceNS, o.name, err = instanceArg(o.name, o.instanceNS); err != nil {
		return err
	}
	if o.instanceNS == o.ns {
		o.instanceNS = ""
	}
	if o.binding == "" {
		o.binding = o.name
	}
	return nil
}

func (o *bind) Validate() error {
	if err := o.pf.validate(); err != nil {
		return err
	}
	return o.wf.validate()
}

func (o *bind) Run(ctx context.Context) error {
	// A binding of a missing instance would sit there failing; say so now.
	// Another namespace's instance cannot be read from here: the binding's
	// condition says whether it is shared.
	if o.instanceNS == "" {
		if _, err := o.c.Instance(ctx, o.ns, o.name); err != nil {
			return err
		}
	}
	b := apiview.NewBinding(o.ns, o.binding, v1beta1.InstanceReference{Name: o.name, Namespace: o.instanceNS}, o.secretName)
	b.Spec.ExternalID, b.Spec.Parameters, b.Spec.ParametersFrom = o.externalID, o.pf.raw, o.pf.from
	if err := o.c.Create(ctx, b, apiview.ResServiceBindings); err != nil {
		return err
	}
	if !o.wf.wait {
		return output.BindingDetails(o.f.Streams.Out, b, nil, nil, false)
	}
	what := fmt.Sprintf("binding %q to be ready", o.binding)
	if err := o.wf.progressTo(o.f).For(ctx, what, waitBindingSettled(o.c, o.ns, o.binding)); err != nil {
		return err
	}
	b, err := o.c.Binding(ctx, o.ns, o.binding)
	if err != nil {
		return err
	}
	secret, err := o.c.Secret(ctx, o.ns, b.Spec.SecretName)
	if isNotFound(err) {
		secret, err = nil, nil
	}
	return output.BindingDetails(o.f.Streams.Out, b, secret, err, false)
}

type unbind struct {
	instance string
	names    []string
	ns       string
	abandon  bool
	yes      bool
	wf       waitFlags

	f *Factory
	c *apiview.Client
}

func newUnbindCmd(f *Factory) *cobra.Command {
	o := &unbind{}
	c := &cobra.Command{
		Use:   "unbind INSTANCE | --name BINDING...",
		Short: "Delete the bindings of an instance, or the named bindings",
		Long: "Delete ServiceBindings; the controller asks the broker to unbind and deletes the\n" +
			"credentials' secret. Give an instance to delete all of its bindings, or --name\n" +
			"(repeatable) for particular ones. --abandon skips the broker, as for deprovision.",
		Example: "  svcat unbind demo-kafka\n  svcat unbind --name orders-kafka --name billing-kafka --wait",
		Args:    cobra.MaximumNArgs(1),
		RunE:    runE(f, o),
	}
	c.Flags().StringArrayVar(&o.names, "name", nil, "A binding to delete; repeatable")
	c.Flags().BoolVar(&o.abandon, "abandon", false, "Delete without unbinding at the broker, leaving the credentials valid there")
	c.Flags().BoolVarP(&o.yes, "yes", "y", false, "Do not ask for confirmation of --abandon")
	o.wf.add(c)
	return c
}

func (o *unbind) Complete(f *Factory, args []string) (err error) {
	o.f = f
	if len(args) == 1 {
		o.instance = args[0]
	}
	if o.ns, err = f.Namespace(); err != nil {
		return err
	}
	o.c, err = f.Client()
	return err
}

func (o *unbind) Validate() error {
	if (o.instance == "") == (len(o.names) == 0) {
		return errors.New("give either an instance name or --name BINDING, not both")
	}
	return o.wf.validate()
}

func (o *unbind) Run(ctx context.Context) error {
	var bindings []v1beta1.ServiceBinding
	if o.instance != "" {
		if _, err := o.c.Instance(ctx, o.ns, o.instance); err != nil {
			return err
		}
		var err error
		if bindings, err = o.c.BindingsOf(ctx, o.ns, o.instance); err != nil {
			return err
		}
		if len(bindings) == 0 {
			_, err := fmt.Fprintf(o.f.Streams.ErrOut, "Instance %q has no bindings.\n", o.instance)
			return err
		}
	} else {
		for _, n := range o.names {
			b, err := o.c.Binding(ctx, o.ns, n)
			if err != nil {
				return err
			}
			bindings = append(bindings, *b)
		}
	}
	names := make([]string, len(bindings))
	for i, b := range bindings {
		names[i] = b.Name
	}
	if o.abandon {
		ok, err := confirmAbandon(o.f, o.yes, fmt.Sprintf("binding(s) %s", strings.Join(names, ", ")))
		if err != nil || !ok {
			return err
		}
	}
	var errs []error
	var deleted []string
	for i := range bindings {
		b := &bindings[i]
		if o.abandon {
			if err := markAbandoned(ctx, o.c, b, apiview.ResServiceBindings); err != nil {
				errs = append(errs, err)
				continue
			}
		}
		if err := o.c.Delete(ctx, b, apiview.ResServiceBindings); err != nil {
			errs = append(errs, err)
			continue
		}
		deleted = append(deleted, b.Name)
	}
	if o.wf.wait && len(deleted) > 0 {
		what := fmt.Sprintf("binding(s) %s to be deleted", strings.Join(deleted, ", "))
		if err := o.wf.progressTo(o.f).For(ctx, what, waitBindingsGone(o.c, o.ns, deleted)); err != nil {
			errs = append(errs, err)
			deleted = nil
		}
	}
	for _, n := range deleted {
		if err := output.Deleted(o.f.Streams.Out, n); err != nil {
			return err
		}
	}
	return errors.Join(errs...)
}
