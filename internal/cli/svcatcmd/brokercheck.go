package svcatcmd

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/svcat-io/svcat/internal/osb"
	"github.com/svcat-io/svcat/internal/osbcheck"
)

func newBrokerCmd(f *Factory) *cobra.Command {
	c := &cobra.Command{
		Use:   "broker",
		Short: "Work with a broker directly, without the cluster",
	}
	c.AddCommand(newBrokerCheckCmd(f))
	return c
}

type brokerCheck struct {
	f          *Factory
	url        string
	username   string
	password   string
	secret     string
	token      string
	apiVersion string
	insecure   bool
	caFile     string
	services   []string
	plans      []string
	maxPlans   int
	parameters string
	context    string
	timeout    time.Duration
	pollTime   time.Duration
	output     string

	cfg osbcheck.Config
}

func newBrokerCheckCmd(f *Factory) *cobra.Command {
	o := &brokerCheck{}
	c := &cobra.Command{
		Use:   "check URL",
		Short: "Check that a broker follows the Open Service Broker API",
		Long: "Read and validate the broker's catalog, drive the chosen plans through provision,\n" +
			"update, bind, unbind and deprovision, and send the requests the spec says a broker\n" +
			"must refuse. Every check names its spec section and force; a MUST failure exits 1,\n" +
			"a SHOULD failure is a warning. What the check creates it removes, also on Ctrl-C;\n" +
			"what it cannot remove it lists with the IDs. See docs/broker-check.md.",
		Example: "  svcat broker check http://127.0.0.1:8080 --username admin --password secret\n" +
			"  svcat broker check https://kafka-broker.brokers.svc:8443 --secret brokers/kafka-broker-auth --ca-file ca.pem -o junit > osb.xml\n" +
			"  svcat broker check http://ups:8080 --token $TOKEN --plan small --parameters '{\"size\": 1}'",
		Args: exactArgs(1, "URL"),
		RunE: runE(f, o),
	}
	fl := c.Flags()
	fl.StringVar(&o.username, "username", "", "Basic-auth user name")
	fl.StringVar(&o.password, "password", "", "Basic-auth password")
	fl.StringVar(&o.secret, "secret", "", "NAMESPACE/NAME of a Secret with username and password, or token")
	fl.StringVar(&o.token, "token", "", "Bearer token")
	fl.StringVar(&o.apiVersion, "api-version", osb.APIVersion, "X-Broker-API-Version to send")
	fl.BoolVar(&o.insecure, "insecure", false, "Do not verify the broker's TLS certificate")
	fl.StringVar(&o.caFile, "ca-file", "", "PEM file with the CA that signed the broker's certificate")
	fl.StringArrayVar(&o.services, "service", nil, "Offering to check, by ID or name; repeatable (default: all)")
	fl.StringArrayVar(&o.plans, "plan", nil, "Plan to check, by ID or name; repeatable (default: every bindable plan)")
	fl.IntVar(&o.maxPlans, "max-plans", 0, "Check at most this many plans (0: no limit)")
	fl.StringVar(&o.parameters, "parameters", "", `Parameters for provision and update, as a JSON object; {"PLAN": {...}} keyed by the --plan values gives each plan its own`)
	fl.StringVar(&o.context, "context", "", "The context object to send, as JSON (default: a Kubernetes context)")
	fl.DurationVar(&o.timeout, "request-timeout", 30*time.Second, "Time limit of each request")
	fl.DurationVar(&o.pollTime, "poll-timeout", 5*time.Minute, "Time limit of each asynchronous operation")
	fl.StringVarP(&o.output, "output", "o", "text", "Report format: text, json or junit")
	return c
}

// exactArgs is cobra.ExactArgs with an error that names the argument.
func exactArgs(n int, what string) cobra.PositionalArgs {
	return func(_ *cobra.Command, args []string) error {
		if len(args) != n {
			return usageErrorf("expected %s, got %d arguments", what, len(args))
		}
		return nil
	}
}

func (o *brokerCheck) Complete(f *Factory, args []string) error {
	o.f, o.url = f, args[0]
	if o.insecure && o.caFile != "" {
		// Checked before the file is read, so the mistake is named first.
		return usageErrorf("--insecure and --ca-file cannot be used together: --ca-file verifies the broker's certificate, --insecure does not")
	}
	if o.caFile != "" {
		ca, err := os.ReadFile(o.caFile)
		if err != nil {
			return fmt.Errorf("reading --ca-file: %w", err)
		}
		o.cfg.CABundle = ca
	}
	return nil
}

func (o *brokerCheck) Validate() error {
	u, err := url.Parse(o.url)
	switch {
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		return fmt.Errorf("invalid URL %q: use an absolute http:// or https:// URL", o.url)
	case o.token != "" && (o.username != "" || o.password != ""):
		return errors.New("--token and --username/--password cannot be used together")
	case o.secret != "" && (o.token != "" || o.username != "" || o.password != ""):
		return errors.New("--secret cannot be used with --token, --username or --password")
	case o.secret != "" && len(strings.Split(o.secret, "/")) != 2:
		return fmt.Errorf("invalid --secret %q: use NAMESPACE/NAME", o.secret)
	case o.maxPlans < 0:
		return fmt.Errorf("invalid --max-plans %d: it must be 0 or more", o.maxPlans)
	case o.output != "text" && o.output != "json" && o.output != "junit":
		return fmt.Errorf("invalid --output %q: use text, json or junit", o.output)
	case o.timeout <= 0 || o.pollTime <= 0:
		return errors.New("--request-timeout and --poll-timeout must be positive")
	}
	params, err := parseParameters(o.parameters, o.plans)
	if err != nil {
		return err
	}
	var cx map[string]any
	if o.context != "" {
		if err := json.Unmarshal([]byte(o.context), &cx); err != nil || cx == nil {
			return fmt.Errorf("invalid --context: it must be a JSON object")
		}
	}
	o.cfg = osbcheck.Config{
		URL: o.url, Username: o.username, Password: o.password, Token: o.token,
		APIVersion: o.apiVersion, Insecure: o.insecure, CABundle: o.cfg.CABundle,
		Services: o.services, Plans: o.plans, MaxPlans: o.maxPlans,
		Parameters: params, Context: cx, Timeout: o.timeout, PollTimeout: o.pollTime,
	}
	return nil
}

// parseParameters reads --parameters: an object whose every key is one of
// the --plan selections is per plan; anything else applies to all plans.
func parseParameters(raw string, plans []string) (map[string]map[string]any, error) {
	if raw == "" {
		return nil, nil
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(raw), &m); err != nil || m == nil {
		return nil, errors.New("invalid --parameters: it must be a JSON object")
	}
	perPlan := len(m) > 0 && len(plans) > 0
	out := map[string]map[string]any{}
	for k, v := range m {
		sub, isObj := v.(map[string]any)
		if !isObj || !contains(plans, k) {
			perPlan = false
			break
		}
		out[k] = sub
	}
	if !perPlan {
		return map[string]map[string]any{"": m}, nil
	}
	return out, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func (o *brokerCheck) Run(ctx context.Context) error {
	if o.secret != "" {
		if err := o.readSecret(ctx); err != nil {
			return err
		}
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		select {
		case <-ctx.Done():
			// Cleanup takes up to --poll-timeout; say why nothing ends yet.
			fmt.Fprintln(o.f.Streams.ErrOut, "Interrupted: removing the instances and bindings the check created…")
		case <-done:
		}
	}()
	rep, err := osbcheck.Run(ctx, o.cfg)
	close(done)
	wg.Wait() // the notice is written before anything else is
	if err != nil {
		return err
	}
	out := o.f.Streams.Out
	switch o.output {
	case "json":
		err = rep.WriteJSON(out)
	case "junit":
		err = rep.WriteJUnit(out)
	default:
		err = rep.WriteText(out)
	}
	if err != nil {
		return err
	}
	if rep.Failed() {
		return fmt.Errorf("the broker fails %d MUST checks (%s)%s", len(rep.Failures(osbcheck.Must)), strings.Join(mustIDs(rep), ", "), leftoverNote(rep))
	}
	return nil
}

func mustIDs(rep *osbcheck.Report) []string {
	var ids []string
	for _, id := range rep.FailedIDs() {
		if c, _ := osbcheck.CheckByID(id); c.Force == osbcheck.Must {
			ids = append(ids, id)
		}
	}
	return ids
}

func leftoverNote(rep *osbcheck.Report) string {
	s := ""
	if rep.Aborted != "" {
		s += "; the check did not finish: " + rep.Aborted
	}
	if n := len(rep.Leftovers); n > 0 {
		s += fmt.Sprintf("; %d resources could not be removed, listed in the report", n)
	}
	return s
}

// readSecret takes the credentials from a Secret, as a registered broker's
// are: username and password, or token.
func (o *brokerCheck) readSecret(ctx context.Context) error {
	ns, name, _ := strings.Cut(o.secret, "/")
	c, err := o.f.Client()
	if err != nil {
		return err
	}
	s, err := c.Secret(ctx, ns, name)
	if err != nil {
		return fmt.Errorf("reading --secret %s: %w", o.secret, err)
	}
	switch {
	case len(s.Data["token"]) > 0:
		o.cfg.Token = string(s.Data["token"])
	case len(s.Data["username"]) > 0:
		o.cfg.Username, o.cfg.Password = string(s.Data["username"]), string(s.Data["password"])
	default:
		return fmt.Errorf("secret %s has neither the key token nor the key username", o.secret)
	}
	return nil
}
