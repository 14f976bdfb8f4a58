package svcatcmd

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/utils/ptr"

	"github.com/svcat-io/svcat/api/v1beta1"
	"github.com/svcat-io/svcat/internal/cli/apiview"
	"github.com/svcat-io/svcat/internal/cli/output"
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
		if o.literals, err = parseLiterals(o.pairs); err != nil {
			return err
		}
	}
	return o.wf.validate()
}

// credentialsSecretName is the Secret --param creates for instance name.
func credentialsSecretName(name string) string { return name + "-credentials" }

// parseLiterals turns KEY=VALUE flags into Secret data: keys valid as
// Secret keys, each once, the whole within what a user-provided instance
// takes. Errors name the flag and key, never a value.
func parseLiterals(pairs []string) (map[string][]byte, error) {
	data := make(map[string][]byte, len(pairs))
	size := 0
	for _, p := range pairs {
		k, v, ok := strings.Cut(p, "=")
		if !ok {
			return nil, fmt.Errorf("--param %q: want KEY=VALUE", k)
		}
		if errs := validation.IsConfigMapKey(k); len(errs) > 0 {
			return nil, fmt.Errorf("--param %q: not valid as a Secret key: %s", k, strings.Join(errs, "; "))
		}
		if _, dup := data[k]; dup {
			return nil, fmt.Errorf("--param %q is given twice: each key holds one value", k)
		}
		data[k] = []byte(v)
		size += len(k) + len(v)
	}
	if size > v1beta1.MaxUserProvidedSecretBytes {
		return nil, fmt.Errorf("the --param values take %d bytes, more than the %d a user-provided instance takes", size, v1beta1.MaxUserProvidedSecretBytes)
	}
	return data, nil
}

func (o *createUserProvided) Run(ctx context.Context) error {
	secret := o.fromSecret
	if secret == "" {
		secret = credentialsSecretName(o.name)
		// Checked first, so that nothing is created when the name is taken.
		if _, err := o.c.Secret(ctx, o.ns, secret); err == nil {
			return fmt.Errorf("a Secret %q already exists in namespace %q: use --from-secret %s to take its keys, or delete it first", secret, o.ns, secret)
		} else if !isNotFound(err) {
			return err
		}
	} else if _, err := o.c.Secret(ctx, o.ns, secret); err != nil {
		if isNotFound(err) {
			return fmt.Errorf("no Secret %q in namespace %q: create it first (kubectl create secret generic %s --from-literal=KEY=VALUE), or use --param", secret, o.ns, secret)
		}
		return err
	}
	in := newUserProvidedInstance(o.ns, o.name, secret)
	if err := o.c.Create(ctx, in, apiview.ResServiceInstances); err != nil {
		return err
	}
	if o.literals != nil {
		if err := o.c.Create(ctx, literalSecret(in, secret, o.literals), apiview.ResSecrets); err != nil {
			// Nothing half made is left behind.
			if derr := o.c.C.Delete(ctx, in); derr != nil {
				return fmt.Errorf("%w; the instance %q was created but could not be deleted again: %v", err, o.name, derr)
			}
			return err
		}
	}
	if o.wf.wait {
		what := fmt.Sprintf("instance %q to be Ready", o.name)
		if err := o.wf.progressTo(o.f).For(ctx, what, waitInstanceSettled(o.c, o.ns, o.name)); err != nil {
			return err
		}
		var err error
		if in, err = o.c.Instance(ctx, o.ns, o.name); err != nil {
			return err
		}
	}
	return output.InstanceDetails(o.f.Streams.Out, in, apiview.UserProvidedClass, "", nil)
}

func newUserProvidedInstance(ns, name, secret string) *v1beta1.ServiceInstance {
	in := &v1beta1.ServiceInstance{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: v1beta1.ServiceInstanceSpec{UserProvided: &v1beta1.UserProvidedCredentials{
			SecretRef: v1beta1.UserProvidedSecretReference{Name: secret}}}}
	in.SetGroupVersionKind(v1beta1.GroupVersion.WithKind("ServiceInstance"))
	return in
}

// literalSecret holds --param's values, owned by the instance so that the
// garbage collector deletes it with the instance.
func literalSecret(in *v1beta1.ServiceInstance, name string, data map[string][]byte) *corev1.Secret {
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: in.Namespace, Name: name,
		OwnerReferences: []metav1.OwnerReference{{APIVersion: v1beta1.GroupVersion.String(), Kind: "ServiceInstance",
			Name: in.Name, UID: in.UID, Controller: ptr.To(true)}}},
		Type: corev1.SecretTypeOpaque, Data: data}
	s.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("Secret"))
	return s
}
