package svcatcmd

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"

	"github.com/svcat-io/svcat/api/v1beta1"
	"github.com/svcat-io/svcat/internal/cli/apiview"
	"github.com/svcat-io/svcat/internal/cli/output"
)

type register struct {
	named
	url              string
	basicSecret      string
	bearerSecret     string
	caFile           string
	skipTLS          bool
	classRestriction []string
	planRestriction  []string
	relistBehavior   string
	relistDuration   time.Duration
	scope            scopeFlags
	wf               waitFlags

	behavior v1beta1.ServiceBrokerRelistBehavior
	ca       []byte
}

func newRegisterCmd(f *Factory) *cobra.Command {
	o := &register{}
	c := &cobra.Command{
		Use:   "register NAME --url URL",
		Short: "Register a broker: its catalog becomes classes and plans",
		Long: "Create a ServiceBroker (--scope namespace, the default) or a ClusterServiceBroker\n" +
			"(--scope cluster). Credentials come from a secret in the current namespace: keys\n" +
			"username and password for --basic-secret, token for --bearer-secret.",
		Example: "  svcat register kafka --url http://kafka-broker.brokers.svc:8080 --scope cluster --basic-secret kafka-broker-auth --wait\n" +
			"  svcat register ups --url https://ups.example.com --ca ca.pem --relist-behavior duration --relist-duration 30m\n" +
			"  svcat register ups --url http://ups --class-restrictions \"spec.externalName in (mysql, redis)\"",
		Args: nameArg("broker"),
		RunE: runE(f, o),
	}
	c.Flags().StringVar(&o.url, "url", "", "URL of the broker's OSB API (required)")
	c.Flags().StringVar(&o.basicSecret, "basic-secret", "", "Secret with the keys username and password for basic authentication")
	c.Flags().StringVar(&o.bearerSecret, "bearer-secret", "", "Secret with the key token for bearer authentication")
	c.Flags().StringVar(&o.caFile, "ca", "", "PEM file with the CA that signed the broker's certificate")
	c.Flags().BoolVar(&o.skipTLS, "skip-tls", false, "Do not verify the broker's TLS certificate (insecure)")
	c.Flags().StringArrayVar(&o.classRestriction, "class-restrictions", nil, "Only classes matching this predicate, such as \"spec.externalName in (mysql)\"; repeatable")
	c.Flags().StringArrayVar(&o.planRestriction, "plan-restrictions", nil, "Only plans matching this predicate, such as \"spec.free == true\"; repeatable")
	c.Flags().StringVar(&o.relistBehavior, "relist-behavior", "duration", "When to fetch the catalog again: duration (every --relist-duration) or manual (svcat sync broker)")
	c.Flags().DurationVar(&o.relistDuration, "relist-duration", 0, "How often to fetch the catalog with --relist-behavior duration, such as 15m")
	o.scope.addWrite(c)
	o.wf.add(c)
	return c
}

func (o *register) Complete(f *Factory, args []string) (err error) {
	if o.caFile != "" {
		if o.ca, err = os.ReadFile(o.caFile); err != nil {
			return fmt.Errorf("reading --ca: %w", err)
		}
	}
	return o.complete(f, args, "broker")
}

func (o *register) Validate() error {
	if err := o.scope.validate(); err != nil {
		return err
	}
	u, err := url.Parse(o.url)
	switch {
	case o.url == "":
		return errors.New("--url is required")
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		return fmt.Errorf("invalid --url %q: use an absolute http:// or https:// URL", o.url)
	case o.basicSecret != "" && o.bearerSecret != "":
		return errors.New("--basic-secret and --bearer-secret cannot be used together")
	case o.caFile != "" && o.skipTLS:
		return errors.New("--ca and --skip-tls cannot be used together: --ca verifies the broker's certificate, --skip-tls does not")
	}
	switch strings.ToLower(o.relistBehavior) {
	case "duration":
		o.behavior = v1beta1.ServiceBrokerRelistBehaviorDuration
	case "manual":
		o.behavior = v1beta1.ServiceBrokerRelistBehaviorManual
		if o.relistDuration != 0 {
			return errors.New("--relist-duration only applies to --relist-behavior duration")
		}
	default:
		return fmt.Errorf("invalid --relist-behavior %q: use duration or manual", o.relistBehavior)
	}
	if o.relistDuration < 0 {
		return fmt.Errorf("invalid --relist-duration %s: it must be positive", o.relistDuration)
	}
	return o.wf.validate()
}

// spec builds the part of the broker both scopes share.
func (o *register) spec() v1beta1.CommonServiceBrokerSpec {
	s := v1beta1.CommonServiceBrokerSpec{
		URL:                   o.url,
		InsecureSkipTLSVerify: o.skipTLS,
		CABundle:              o.ca,
		RelistBehavior:        o.behavior,
	}
	if o.relistDuration > 0 {
		s.RelistDuration = &metav1.Duration{Duration: o.relistDuration}
	}
	if len(o.classRestriction) > 0 || len(o.planRestriction) > 0 {
		s.CatalogRestrictions = &v1beta1.CatalogRestrictions{ServiceClass: o.classRestriction, ServicePlan: o.planRestriction}
	}
	return s
}

// broker builds the broker object for the chosen scope.
func (o *register) broker() apiview.Broker {
	if o.scope.scope == apiview.ClusterScope {
		b := &v1beta1.ClusterServiceBroker{ObjectMeta: metav1.ObjectMeta{Name: o.name}}
		b.Spec.CommonServiceBrokerSpec = o.spec()
		// A cluster broker's secret lives in a namespace of its own
		// choosing; the current one is the natural place.
		switch {
		case o.basicSecret != "":
			b.Spec.AuthInfo = &v1beta1.ClusterServiceBrokerAuthInfo{Basic: &v1beta1.ClusterBasicAuthConfig{
				SecretRef: &v1beta1.ObjectReference{Namespace: o.ns, Name: o.basicSecret}}}
		case o.bearerSecret != "":
			b.Spec.AuthInfo = &v1beta1.ClusterServiceBrokerAuthInfo{Bearer: &v1beta1.ClusterBearerTokenAuthConfig{
				SecretRef: &v1beta1.ObjectReference{Namespace: o.ns, Name: o.bearerSecret}}}
		}
		return apiview.ClusterBroker(b)
	}
	b := &v1beta1.ServiceBroker{ObjectMeta: metav1.ObjectMeta{Namespace: o.ns, Name: o.name}}
	b.Spec.CommonServiceBrokerSpec = o.spec()
	switch {
	case o.basicSecret != "":
		b.Spec.AuthInfo = &v1beta1.ServiceBrokerAuthInfo{Basic: &v1beta1.BasicAuthConfig{
			SecretRef: &v1beta1.LocalObjectReference{Name: o.basicSecret}}}
	case o.bearerSecret != "":
		b.Spec.AuthInfo = &v1beta1.ServiceBrokerAuthInfo{Bearer: &v1beta1.BearerTokenAuthConfig{
			SecretRef: &v1beta1.LocalObjectReference{Name: o.bearerSecret}}}
	}
	return apiview.NamespacedBroker(b)
}

func (o *register) Run(ctx context.Context) error {
	b := o.broker()
	if err := o.c.Create(ctx, b.Object, b.Resource()); err != nil {
		return err
	}
	if o.wf.wait {
		what := fmt.Sprintf("broker %q to fetch its catalog", o.name)
		if err := o.wf.progressTo(o.f).For(ctx, what, waitBrokerSettled(o.c, o.scope.scope, o.ns, o.name)); err != nil {
			return err
		}
		var err error
		if b, err = findBroker(ctx, o.c, o.scope.scope, o.ns, o.name); err != nil {
			return err
		}
	}
	return output.BrokerDetails(o.f.Streams.Out, b)
}

type deregister struct {
	named
	scope scopeFlags
	wf    waitFlags
}

func newDeregisterCmd(f *Factory) *cobra.Command {
	o := &deregister{}
	c := &cobra.Command{
		Use:     "deregister NAME",
		Short:   "Remove a broker; its classes and plans go with it",
		Example: "  svcat deregister ups\n  svcat deregister kafka --scope cluster --wait",
		Args:    nameArg("broker"),
		RunE:    runE(f, o),
	}
	o.scope.addWrite(c)
	o.wf.add(c)
	return c
}

func (o *deregister) Complete(f *Factory, args []string) error {
	return o.complete(f, args, "broker")
}

func (o *deregister) Validate() error {
	if err := o.scope.validate(); err != nil {
		return err
	}
	return o.wf.validate()
}

func (o *deregister) Run(ctx context.Context) error {
	b, err := findBroker(ctx, o.c, o.scope.scope, o.ns, o.name)
	if err != nil {
		return err
	}
	if err := o.c.Delete(ctx, b.Object, b.Resource()); err != nil {
		return err
	}
	if o.wf.wait {
		what := fmt.Sprintf("broker %q to be removed", o.name)
		if err := o.wf.progressTo(o.f).For(ctx, what, waitBrokerGone(o.c, o.scope.scope, o.ns, o.name)); err != nil {
			return err
		}
	}
	_, err = fmt.Fprintf(o.f.Streams.Out, "Successfully removed broker %q\n", o.name)
	return err
}

type syncBroker struct {
	named
	scope scopeFlags
}

func newSyncCmd(f *Factory) *cobra.Command {
	s := &cobra.Command{
		Use:     "sync",
		Aliases: []string{"relist"},
		Short:   "Ask the controller to fetch a broker's catalog now",
		Args:    cobra.NoArgs,
		RunE:    func(c *cobra.Command, _ []string) error { return c.Help() },
	}
	o := &syncBroker{}
	c := &cobra.Command{
		Use:     "broker NAME",
		Aliases: []string{"brokers", "brk"},
		Short:   "Increment the broker's relistRequests so the controller fetches its catalog",
		Example: "  svcat sync broker ups\n  svcat sync broker kafka --scope cluster",
		Args:    nameArg("broker"),
		RunE:    runE(f, o),
	}
	o.scope.addWrite(c)
	s.AddCommand(c)
	return s
}

func (o *syncBroker) Complete(f *Factory, args []string) error {
	return o.complete(f, args, "broker")
}

func (o *syncBroker) Validate() error { return o.scope.validate() }

func (o *syncBroker) Run(ctx context.Context) error {
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		b, err := findBroker(ctx, o.c, o.scope.scope, o.ns, o.name)
		if err != nil {
			return err
		}
		b.Spec.RelistRequests++
		return o.c.Update(ctx, b.Object, b.Resource())
	})
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(o.f.Streams.Out, "Synchronization requested for broker: %s\n", o.name)
	return err
}
