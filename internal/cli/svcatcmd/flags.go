package svcatcmd

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/svcat-io/svcat/internal/cli/apiview"
	"github.com/svcat-io/svcat/internal/cli/output"
	"github.com/svcat-io/svcat/internal/cli/wait"
)

// outputFlags is -o/--output.
type outputFlags struct {
	raw    string
	format output.Format
}

func (o *outputFlags) add(c *cobra.Command) {
	c.Flags().StringVarP(&o.raw, "output", "o", string(output.FormatTable), "Output format: table, json or yaml")
}

func (o *outputFlags) validate() error {
	f, err := output.ParseFormat(o.raw)
	o.format = f
	return err
}

// namespaceFlags is --all-namespaces on top of the global -n.
type namespaceFlags struct {
	all bool
	// ns is the namespace to use; empty means every namespace.
	ns string
}

func (n *namespaceFlags) add(c *cobra.Command) {
	c.Flags().BoolVar(&n.all, "all-namespaces", false, "List across all namespaces instead of the current one")
}

func (n *namespaceFlags) complete(f *Factory) error {
	if n.all {
		n.ns = ""
		return nil
	}
	ns, err := f.Namespace()
	n.ns = ns
	return err
}

// scopeFlags is --scope: all|cluster|namespace on read commands, and
// cluster|namespace (default namespace) on commands that change brokers, as
// in v0.3.
type scopeFlags struct {
	raw     string
	allowed []apiview.Scope
	scope   apiview.Scope
}

func (s *scopeFlags) addRead(c *cobra.Command) {
	s.allowed = []apiview.Scope{apiview.AllScope, apiview.ClusterScope, apiview.NamespaceScope}
	c.Flags().StringVar(&s.raw, "scope", string(apiview.AllScope), "Limit the command to a scope: all, cluster or namespace")
}

func (s *scopeFlags) addWrite(c *cobra.Command) {
	s.allowed = []apiview.Scope{apiview.ClusterScope, apiview.NamespaceScope}
	c.Flags().StringVar(&s.raw, "scope", string(apiview.NamespaceScope), "Scope of the broker: cluster or namespace")
}

func (s *scopeFlags) validate() error {
	sc, err := apiview.ParseScope(s.raw, s.allowed...)
	s.scope = sc
	return err
}

// waitFlags are --wait, --timeout and --interval.
type waitFlags struct {
	wait     bool
	timeout  string
	interval time.Duration
	waiter   wait.Waiter
}

func (w *waitFlags) add(c *cobra.Command) {
	c.Flags().BoolVar(&w.wait, "wait", false, "Wait until the operation finishes")
	c.Flags().StringVar(&w.timeout, "timeout", "5m", "How long --wait waits, such as 30s or 10m; -1 waits forever")
	c.Flags().DurationVar(&w.interval, "interval", time.Second, "How often --wait checks progress")
}

func (w *waitFlags) validate() error {
	timeout, err := parseTimeout(w.timeout)
	if err != nil {
		return err
	}
	if w.interval <= 0 {
		return fmt.Errorf("invalid --interval %s: it must be positive", w.interval)
	}
	w.waiter = wait.Waiter{Interval: w.interval, Timeout: timeout}
	return nil
}

// parseTimeout reads --timeout; -1 (v0.3's "forever") becomes zero.
func parseTimeout(s string) (time.Duration, error) {
	if s == "-1" {
		return 0, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("invalid --timeout %q: use a duration such as 30s or 5m, or -1 to wait forever", s)
	}
	return d, nil
}

// progressTo points the waiter's progress at the error stream, redrawing
// one line when it is a terminal.
func (w *waitFlags) progressTo(f *Factory) wait.Waiter {
	wt := w.waiter
	wt.Progress = f.Streams.ErrOut
	wt.Terminal = IsTerminal(f.Streams.ErrOut)
	return wt
}

// confirm asks a yes/no question on the streams; anything but y or yes,
// including end of input, is no.
func confirm(in io.Reader, out io.Writer, question string) (bool, error) {
	if _, err := fmt.Fprintf(out, "%s [y/N]: ", question); err != nil {
		return false, err
	}
	if in == nil {
		return false, nil
	}
	line, err := bufio.NewReader(in).ReadString('\n')
	if f, ok := in.(*os.File); !ok || !term.IsTerminal(int(f.Fd())) {
		// Nobody typed the answer, so nothing echoed the line end.
		if _, err := fmt.Fprintln(out); err != nil {
			return false, err
		}
	}
	if err != nil && line == "" {
		return false, nil
	}
	switch strings.ToLower(strings.TrimSpace(line)) {
	case "y", "yes":
		return true, nil
	}
	return false, nil
}

// oneName takes the single NAME argument of commands that need it.
func oneName(args []string, what string) (string, error) {
	if len(args) != 1 || args[0] == "" {
		return "", usageErrorf("exactly one %s name is required, %d given", what, len(args))
	}
	return args[0], nil
}

// nameArg is the argument rule of commands that take one NAME.
func nameArg(what string) cobra.PositionalArgs {
	return func(_ *cobra.Command, args []string) error {
		_, err := oneName(args, what)
		return err
	}
}
