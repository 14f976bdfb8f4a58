// Package doctorcmd is the svcat doctor command: it gathers evidence from the
// cluster, runs the doctor's checks and prints the report, or prints an
// allowed-names fix for the platform the kube-apiserver runs on.
package doctorcmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/svcat-io/svcat/internal/doctor"
)

// ErrorsFound is returned when the report has errors, so that the process
// exits non-zero after printing it.
type ErrorsFound struct{ N int }

func (e *ErrorsFound) Error() string {
	if e.N == 1 {
		return "doctor found 1 error"
	}
	return fmt.Sprintf("doctor found %d errors", e.N)
}

// Output formats. "table" is accepted for text because every other svcat
// command calls its default output that, and shell completion offers it.
const (
	outputText  = "text"
	outputTable = "table"
	outputJSON  = "json"
	outputYAML  = "yaml"
)

// aggregationFlags are shared by doctor and doctor aggregation.
type aggregationFlags struct {
	proxyCert    string
	allowedNames []string
	// deployment holds at most one name; a slice to share checkedValue.
	deployment []string
}

func (a *aggregationFlags) add(c *cobra.Command) {
	c.Flags().StringVar(&a.proxyCert, "proxy-client-cert", "", "The kube-apiserver's --proxy-client-cert-file, to read its CN and check it against the allowed names and the requestheader CA (on a control-plane node)")
	c.Flags().Var(&checkedValue{values: &a.allowedNames, list: true, check: doctor.ValidateAllowedName}, "allowed-name", "Name to add to --requestheader-allowed-names in the printed fixes (the front-proxy certificate's CN); repeatable")
	c.Flags().Var(&checkedValue{values: &a.deployment, check: doctor.ValidateDeployment}, "deployment", "The cluster's BOSH deployment (PKS: service-instance_<uuid>), for the BOSH fixes")
}

func (a *aggregationFlags) deploymentName() string {
	if len(a.deployment) == 0 {
		return ""
	}
	return a.deployment[0]
}

type options struct {
	streams genericiooptions.IOStreams
	config  *genericclioptions.ConfigFlags

	output          string
	controllerNS    string
	controllerLease string
	controllerDep   string
	stuckAfter      time.Duration
	agg             aggregationFlags
	timeout         time.Duration

	// checks limits the run; empty means every check.
	checks []string
}

func (o *options) gather(ctx context.Context) (*doctor.Evidence, error) {
	cfg, err := o.config.ToRESTConfig()
	if err != nil {
		return nil, fmt.Errorf("reading the kubeconfig: %w", err)
	}
	g, err := doctor.NewGatherer(cfg)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	return g.Gather(ctx, doctor.GatherOptions{
		ControllerNamespace: o.controllerNS,
		LeaseName:           o.controllerLease,
		DeploymentName:      o.controllerDep,
		ProxyCertPath:       o.agg.proxyCert,
		Checks:              o.checks,
	})
}

func (o *options) run(ctx context.Context) error {
	ev, err := o.gather(ctx)
	if err != nil {
		return err
	}
	opts := doctor.DefaultOptions()
	opts.StuckAfter = o.stuckAfter
	opts.Fix = doctor.FixParams{Add: o.agg.allowedNames, Deployment: o.agg.deploymentName()}
	r := doctor.Diagnose(ev, opts, o.checks...)
	if err := o.write(r); err != nil {
		return err
	}
	if r.Summary.Errors > 0 {
		return &ErrorsFound{N: r.Summary.Errors}
	}
	return nil
}

func (o *options) write(r *doctor.Report) error {
	return writeReport(o.streams.Out, o.output, r)
}

func writeReport(w io.Writer, output string, r *doctor.Report) error {
	switch output {
	case outputJSON:
		return doctor.WriteJSON(w, r)
	case outputYAML:
		return doctor.WriteYAML(w, r)
	}
	return doctor.WriteText(w, r)
}

const doctorLong = `Diagnose what svcat needs from the cluster and say how to fix what is wrong:

  crds         svcat's CRDs are installed, established and serve v1beta1
  controller   the catalog controller holds a fresh leader lease and its
               Deployment, where there is one, is ready
  brokers      every broker is Ready, else why not
  operations   no instance or binding is stuck in an operation
  aggregation  the front-proxy configuration aggregated API servers trust,
               and why each unavailable APIService is unavailable

svcat itself uses CRDs, not an aggregated API; the aggregation check is for
the cluster's aggregated APIs (metrics-server and others), which fail with
401 when the kube-apiserver's front-proxy client certificate has a CN that is
not in --requestheader-allowed-names. When doctor knows the CN (from
--proxy-client-cert on a control-plane node, or --allowed-name) it prints the
fix for each platform as YAML.

Exit status: 0 when no check found an error (warnings allowed), 1 otherwise.`

// NewCmdDoctor builds svcat doctor and its aggregation subcommand.
// configFlags are the root command's kubeconfig flags.
func NewCmdDoctor(streams genericiooptions.IOStreams, configFlags *genericclioptions.ConfigFlags) *cobra.Command {
	o := &options{streams: streams, config: configFlags}
	c := &cobra.Command{
		Use:   "doctor",
		Short: "Diagnose the catalog's CRDs, controller, brokers, operations and the aggregation layer",
		Long:  doctorLong,
		Example: "  svcat doctor\n" +
			"  svcat doctor -o json\n" +
			"  # on a control-plane node, with the kube-apiserver's --proxy-client-cert-file (kubeadm's path here):\n" +
			"  svcat doctor --proxy-client-cert /etc/kubernetes/pki/front-proxy-client.crt",
		Args:          cobra.NoArgs,
		SilenceUsage:  true,
		SilenceErrors: true,
		RunE: func(c *cobra.Command, _ []string) error {
			return o.run(c.Context())
		},
	}
	addCommonFlags(c, o)
	c.Flags().StringVar(&o.controllerNS, "controller-namespace", doctor.DefaultControllerNamespace, "Namespace of the catalog controller's lease and Deployment")
	c.Flags().StringVar(&o.controllerLease, "controller-lease", doctor.DefaultLeaseName, "Name of the catalog controller's leader election Lease (its --leader-election-id)")
	c.Flags().StringVar(&o.controllerDep, "controller-deployment", doctor.DefaultDeploymentName, "Name of the catalog controller's Deployment")
	c.Flags().DurationVar(&o.stuckAfter, "stuck-after", doctor.DefaultOptions().StuckAfter, "How long an instance or binding operation may run before it is reported as stuck")
	c.AddCommand(newCmdAggregation(streams, configFlags))
	return c
}

func addCommonFlags(c *cobra.Command, o *options) {
	c.Flags().VarP(newChoice(&o.output, outputText, outputText, outputTable, outputJSON, outputYAML), "output", "o", "Output format: text, json or yaml")
	c.Flags().DurationVar(&o.timeout, "timeout", time.Minute, "How long reading the cluster may take in all")
	o.agg.add(c)
}

type aggregationOptions struct {
	options
	fix     string
	current []string
}

const aggregationLong = `Check only the aggregation layer, or with --fix print the change that adds
the front-proxy client certificate's CN to the kube-apiserver's
--requestheader-allowed-names, in the form the platform needs:

  flag            the flag, with the commands that set it by hand on a BOSH
                  master: sed on bpm.yml and monit restart (undone when BOSH
                  recreates the VM)
  ops-file        a CFCR ops-file replacing the kube-apiserver's k8s-args
  runtime-config  a BOSH runtime-config whose os-conf pre-start-script addon
                  applies the sed before every start, and the
                  bosh update-runtime-config command, in its comments
  all             the three, as a YAML stream

The output is YAML. The current allowed names are read from
kube-system/extension-apiserver-authentication unless
--current-allowed-names gives them.`

func newCmdAggregation(streams genericiooptions.IOStreams, configFlags *genericclioptions.ConfigFlags) *cobra.Command {
	o := &aggregationOptions{options: options{streams: streams, config: configFlags, checks: []string{doctor.CheckAggregation}}}
	c := &cobra.Command{
		Use:   "aggregation",
		Short: "Diagnose the aggregation layer, or print the allowed-names fix for a platform",
		Long:  aggregationLong,
		Example: "  svcat doctor aggregation\n" +
			"  svcat doctor aggregation --fix runtime-config --allowed-name demo.pks.ik.am --deployment service-instance_1234 > fix.yml\n" +
			"  svcat doctor aggregation --fix ops-file --allowed-name master.cfcr.internal --current-allowed-names aggregator",
		Args:          cobra.NoArgs,
		SilenceUsage:  true,
		SilenceErrors: true,
		RunE: func(c *cobra.Command, _ []string) error {
			if err := o.validate(); err != nil {
				return err
			}
			if o.fix == "" {
				return o.run(c.Context())
			}
			return o.printFix(c.Context())
		},
	}
	addCommonFlags(c, &o.options)
	c.Flags().Var(newChoice(&o.fix, "", append(slices.Clone(doctor.FixFormats), "all")...), "fix", "Print the allowed-names fix as YAML: "+strings.Join(doctor.FixFormats, ", ")+" or all")
	c.Flags().StringSliceVar(&o.current, "current-allowed-names", nil, "The kube-apiserver's --requestheader-allowed-names now (default: read from the cluster)")
	return c
}

func (o *aggregationOptions) validate() error {
	if o.fix == "" {
		return nil
	}
	if len(o.agg.allowedNames) == 0 && o.agg.proxyCert == "" {
		return errors.New("--fix needs the name to allow: --allowed-name NAME (the front-proxy client certificate's CN) or --proxy-client-cert FILE")
	}
	return nil
}

// printFix prints only the YAML so that it can be redirected to a file and
// applied.
func (o *aggregationOptions) printFix(ctx context.Context) error {
	p := doctor.FixParams{Current: o.current, Add: o.agg.allowedNames, Deployment: o.agg.deploymentName()}
	if o.agg.proxyCert != "" {
		cert, err := doctor.ReadCertificate(o.agg.proxyCert)
		if err != nil {
			return fmt.Errorf("reading --proxy-client-cert: %w", err)
		}
		p.Add = append(p.Add, cert.Subject.CommonName)
	}
	if len(p.Current) == 0 {
		ev, err := o.gather(ctx)
		if err != nil {
			return fmt.Errorf("%w (or give the names with --current-allowed-names)", err)
		}
		rh := ev.Aggregation.RequestHeader
		if ev.Aggregation.AuthErr != nil {
			return fmt.Errorf("reading the current allowed names: %w (or give them with --current-allowed-names)", ev.Aggregation.AuthErr)
		}
		p.Current = rh.AllowedNames
	}
	var fixes []doctor.RenderedFix
	if o.fix == "all" {
		var err error
		if fixes, err = doctor.RenderAllFixes(p); err != nil {
			return err
		}
	} else {
		y, err := doctor.RenderFix(o.fix, p)
		if err != nil {
			return err
		}
		fixes = []doctor.RenderedFix{{Format: o.fix, YAML: y}}
	}
	return writeFixes(o.streams.Out, o.output, fixes)
}

func writeFixes(w io.Writer, output string, fixes []doctor.RenderedFix) error {
	if output == outputJSON || output == outputYAML {
		return writeReport(w, output, &doctor.Report{Fixes: fixes, Summary: doctor.Summary{Healthy: true}})
	}
	var b strings.Builder
	for i, f := range fixes {
		if len(fixes) > 1 || i > 0 {
			fmt.Fprintf(&b, "--- # %s\n", f.Format)
		}
		b.WriteString(f.YAML)
	}
	_, err := io.WriteString(w, b.String())
	return err
}
