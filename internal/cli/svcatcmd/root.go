// Package svcatcmd holds the svcat commands. Each command reads its flags into
// an options struct, completes it from the kubeconfig and the arguments,
// validates it without touching the cluster, and runs.
package svcatcmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/spf13/cobra"
	"golang.org/x/term"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/cli-runtime/pkg/printers"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/svcat-io/svcat/internal/cli/apiview"
	"github.com/svcat-io/svcat/internal/cli/wait"
	doctorcmd "github.com/svcat-io/svcat/internal/doctor/doctorcmd"
)

// Exit statuses, documented in the root command's help.
const (
	ExitOK      = 0
	ExitError   = 1
	ExitUsage   = 2
	ExitTimeout = 3
)

// UsageError is a mistake in the command line itself.
type UsageError struct{ Err error }

func (e *UsageError) Error() string { return e.Err.Error() }
func (e *UsageError) Unwrap() error { return e.Err }

func usageErrorf(format string, a ...any) error {
	return &UsageError{Err: fmt.Errorf(format, a...)}
}

// ExitCode is the exit status for an error returned by a command.
func ExitCode(err error) int {
	var ue *UsageError
	var te *wait.TimeoutError
	switch {
	case err == nil:
		return ExitOK
	case errors.As(err, &te):
		return ExitTimeout
	case errors.As(err, &ue):
		return ExitUsage
	}
	return ExitError
}

// Factory gives commands what they share: streams, the kubeconfig flags and
// a client made on first use, so commands that need no cluster never read
// the kubeconfig.
type Factory struct {
	Streams genericiooptions.IOStreams
	Config  *genericclioptions.ConfigFlags

	once   sync.Once
	client *apiview.Client
	err    error
}

// Client connects to the cluster the kubeconfig flags select.
func (f *Factory) Client() (*apiview.Client, error) {
	f.once.Do(func() {
		cfg, err := f.Config.ToRESTConfig()
		if err != nil {
			f.err = fmt.Errorf("reading the kubeconfig: %w", err)
			return
		}
		scheme, err := apiview.Scheme()
		if err != nil {
			f.err = err
			return
		}
		c, err := client.New(cfg, client.Options{Scheme: scheme})
		if err != nil {
			f.err = fmt.Errorf("connecting to the cluster: %w", err)
			return
		}
		f.client = apiview.New(c)
	})
	return f.client, f.err
}

// Namespace is the namespace from -n or the kubeconfig context.
func (f *Factory) Namespace() (string, error) {
	ns, _, err := f.Config.ToRawKubeConfigLoader().Namespace()
	if err != nil {
		return "", fmt.Errorf("reading the namespace from the kubeconfig: %w", err)
	}
	return ns, nil
}

// IsTerminal says whether w is a terminal, to decide on redrawn progress.
func IsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

const rootLong = `svcat is the command line for the Kubernetes Service Catalog: browse the
classes and plans that service brokers offer, provision instances, bind them
to get credentials, and manage brokers.

It also works as a kubectl plugin: installed on the PATH as kubectl-svcat,
it runs as "kubectl svcat".

Exit status:
  0  success
  1  the command failed (the error says why and what to do)
  2  the command line is wrong (unknown flag, missing argument, bad value)
  3  --wait timed out; the operation may still finish in the background`

// NewRoot builds the svcat command tree. argv0 is the name it was invoked
// as: kubectl-svcat shows "kubectl svcat" in help and examples.
func NewRoot(streams genericiooptions.IOStreams, argv0 string) *cobra.Command {
	cfg := genericclioptions.NewConfigFlags(true)
	// -s is --secret in provision and bind, as in v0.3; the API server comes
	// from the kubeconfig.
	cfg.APIServer = nil
	f := &Factory{Streams: streams, Config: cfg}

	root := &cobra.Command{
		Use:           "svcat",
		Short:         "The Kubernetes Service Catalog command line",
		Long:          rootLong,
		SilenceErrors: true,
		SilenceUsage:  true,
		CompletionOptions: cobra.CompletionOptions{
			DisableDefaultCmd: true,
		},
	}
	if name := displayName(argv0); name != "svcat" {
		root.Annotations = map[string]string{cobra.CommandDisplayNameAnnotation: name}
	}
	root.SetIn(streams.In)
	root.SetOut(streams.Out)
	root.SetErr(streams.ErrOut)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &UsageError{Err: err} })
	cfg.AddFlags(root.PersistentFlags())

	root.AddGroup(
		&cobra.Group{ID: "browse", Title: "Browse the catalog:"},
		&cobra.Group{ID: "use", Title: "Use services:"},
		&cobra.Group{ID: "admin", Title: "Manage brokers:"},
	)
	add := func(group string, cmds ...*cobra.Command) {
		for _, c := range cmds {
			c.GroupID = group
			root.AddCommand(c)
		}
	}
	add("browse", newGetCmd(f), newDescribeCmd(f), newMarketplaceCmd(f))
	add("use", newProvisionCmd(f), newDeprovisionCmd(f), newBindCmd(f), newUnbindCmd(f), newTouchCmd(f), newUpgradeCmd(f), newUpdateCmd(f), newUICmd(f), newCreateCmd(f), newShareCmd(f), newUnshareCmd(f), newRotateCmd(f))
	add("admin", newRegisterCmd(f), newDeregisterCmd(f), newSyncCmd(f), newBrokerCmd(f))
	root.AddCommand(newCompletionCmd(), newVersionCmd(f))
	root.AddCommand(doctorcmd.NewCmdDoctor(streams, cfg))
	setUsageErrors(root)
	// The wiring is static; TestRegisterCompletions proves it has no
	// mistakes, so there is nothing to handle at run time.
	_ = registerCompletions(f, root)
	return root
}

// setUsageErrors makes argument-count errors usage errors everywhere.
func setUsageErrors(c *cobra.Command) {
	if c.Args != nil {
		args := c.Args
		c.Args = func(cmd *cobra.Command, a []string) error {
			if err := args(cmd, a); err != nil {
				return &UsageError{Err: err}
			}
			return nil
		}
	}
	for _, sub := range c.Commands() {
		setUsageErrors(sub)
	}
}

func displayName(argv0 string) string {
	base := strings.TrimSuffix(filepath.Base(argv0), ".exe")
	if rest, ok := strings.CutPrefix(base, "kubectl-"); ok && rest != "" {
		// kubectl maps dashes in plugin names to spaces and underscores to
		// dashes; undo that to show what the user types.
		return "kubectl " + strings.ReplaceAll(strings.ReplaceAll(rest, "-", " "), "_", "-")
	}
	return "svcat"
}

// Run executes svcat with args and returns the exit status, printing any
// error to the error stream. main and the tests share it.
func Run(ctx context.Context, streams genericiooptions.IOStreams, argv0 string, args []string) int {
	root := NewRoot(streams, argv0)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return ExitOK
	}
	// Errors carry broker and controller messages: keep them from driving
	// the terminal.
	fmt.Fprintf(streams.ErrOut, "Error: %s\n", printers.EscapeTerminal(err.Error()))
	if ExitCode(err) == ExitUsage {
		fmt.Fprintf(streams.ErrOut, "Run '%s --help' for usage.\n", commandPath(root, args))
	}
	return ExitCode(err)
}

// commandPath names the subcommand args selects, for the usage hint.
func commandPath(root *cobra.Command, args []string) string {
	if c, _, err := root.Find(args); err == nil && c != nil {
		return c.CommandPath()
	}
	return root.CommandPath()
}

// options is what every command does in order.
type options interface {
	// Complete fills in what comes from the arguments and the kubeconfig.
	Complete(f *Factory, args []string) error
	// Validate checks the options without touching the cluster.
	Validate() error
	// Run does the work.
	Run(ctx context.Context) error
}

func runE(f *Factory, o options) func(*cobra.Command, []string) error {
	return func(c *cobra.Command, args []string) error {
		if err := o.Complete(f, args); err != nil {
			return err
		}
		if err := o.Validate(); err != nil {
			return &UsageError{Err: err}
		}
		return o.Run(c.Context())
	}
}
