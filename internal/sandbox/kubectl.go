package sandbox

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/client-go/rest"
	kubectlcmd "k8s.io/kubectl/pkg/cmd"
	cmdutil "k8s.io/kubectl/pkg/cmd/util"
)

// kubectl runs the kubectl commands of the walkthrough: a kubectl program
// (from PATH or a path), or kubectl's own command tree (k8s.io/kubectl) in
// this process, so that a machine with nothing but this repository runs the
// demo and prints what kubectl prints.
type kubectl interface {
	// describe says which one runs, for the transcript.
	describe() string
	// run returns what the command wrote to stdout and stderr, in order.
	run(ctx context.Context, args ...string) (string, error)
}

func newKubectl(mode, kubeconfig, root, cacheDir string) (kubectl, error) {
	switch mode {
	case "", "auto":
		if path, err := exec.LookPath("kubectl"); err == nil {
			return execKubectl{path: path, kubeconfig: kubeconfig, root: root}, nil
		}
		return inProcessKubectl{kubeconfig: kubeconfig, cacheDir: cacheDir, why: "no kubectl on PATH"}, nil
	case "builtin":
		return inProcessKubectl{kubeconfig: kubeconfig, cacheDir: cacheDir, why: "--kubectl builtin"}, nil
	default:
		if _, err := os.Stat(mode); err != nil {
			return nil, fmt.Errorf("--kubectl %s: %w", mode, err)
		}
		return execKubectl{path: mode, kubeconfig: kubeconfig, root: root}, nil
	}
}

type execKubectl struct{ path, kubeconfig, root string }

func (k execKubectl) describe() string { return "kubectl (" + k.path + ")" }

func (k execKubectl) run(ctx context.Context, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, k.path, args...)
	// KUBECONFIG rather than --kubeconfig: some kubectl wrappers refuse
	// global flags before the subcommand.
	cmd.Env = append(os.Environ(), "KUBECONFIG="+k.kubeconfig)
	cmd.Dir = k.root
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

// inProcessKubectl is kubectl's command tree, linked into this binary.
type inProcessKubectl struct{ kubeconfig, cacheDir, why string }

func (k inProcessKubectl) describe() string {
	return "kubectl's command tree (k8s.io/kubectl), in process (" + k.why + ")"
}

func (k inProcessKubectl) run(ctx context.Context, args ...string) (string, error) {
	// Locked: a command that outlives ctx keeps writing after run returns.
	out := &lockedBuffer{}
	streams := genericiooptions.IOStreams{In: strings.NewReader(""), Out: out, ErrOut: out}
	err := RunKubectl(ctx, streams, KubectlConfig{Kubeconfig: k.kubeconfig, CacheDir: k.cacheDir}, args...)
	return out.String(), err
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// KubectlConfig says which cluster an in-process kubectl talks to.
type KubectlConfig struct {
	// Kubeconfig is the file to read; empty reads $KUBECONFIG or
	// ~/.kube/config, as kubectl does. A --kubeconfig argument wins.
	Kubeconfig string
	// CacheDir holds kubectl's discovery and HTTP caches; empty is
	// kubectl's ~/.kube/cache.
	CacheDir string
}

// KubectlExit is kubectl ending with an error: what the kubectl program
// would have printed on stderr before exiting with Code.
type KubectlExit struct {
	Message string
	Code    int
}

func (e *KubectlExit) Error() string {
	if e.Message == "" {
		return fmt.Sprintf("kubectl: exit status %d", e.Code)
	}
	return strings.TrimSuffix(e.Message, "\n")
}

// kubectlMu serialises in-process runs: kubectl keeps what to do on a fatal
// error, and the warning handler of every client-go client, in
// process-wide variables.
var kubectlMu sync.Mutex

// RunKubectl runs one kubectl command (args without "kubectl") with
// kubectl's own command tree, as the kubectl program of the same release
// would, writing to streams. Where kubectl would exit, it returns a
// *KubectlExit carrying kubectl's message, also written to streams.ErrOut.
//
// Not everything of the program is here: the klog flags (-v, --vmodule)
// would change the logging of the whole process, a kuberc file would make
// the output depend on the user's preferences, and plugins are programs of
// their own; `auth can-i` and --profile end the process, so they are
// refused with an error.
//
// When ctx ends first RunKubectl returns, and the command finishes in the
// background before the next one starts.
func RunKubectl(ctx context.Context, streams genericiooptions.IOStreams, cfg KubectlConfig, args ...string) error {
	done := make(chan error, 1)
	kubectlMu.Lock()
	go func() {
		defer kubectlMu.Unlock()
		var err error
		// Deferred, so that it also runs when fatal ends the goroutine.
		defer func() { done <- err }()
		cmdutil.BehaviorOnFatal(func(msg string, code int) {
			if msg != "" {
				fmt.Fprint(streams.ErrOut, withNewline(msg))
			}
			err = &KubectlExit{Message: msg, Code: code}
			// kubectl expects fatal not to return. Goexit ends only this
			// goroutine, even when kubectl calls it from one of its own.
			runtime.Goexit()
		})
		defer cmdutil.DefaultBehaviorOnFatal()
		// kubectl points every client's warnings at its stderr; give them
		// back to client-go's default when it is done.
		defer rest.SetDefaultWarningHandler(rest.WarningLogger{})
		err = executeKubectl(ctx, streams, cfg, args)
	}()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return fmt.Errorf("kubectl %s: %w", strings.Join(args, " "), ctx.Err())
	}
}

// executeKubectl is the kubectl program's main with a fresh command tree,
// so that no flag value survives from one run to the next.
func executeKubectl(ctx context.Context, streams genericiooptions.IOStreams, cfg KubectlConfig, args []string) error {
	flags := genericclioptions.NewConfigFlags(true).
		WithDeprecatedPasswordFlag().WithDiscoveryBurst(300).WithDiscoveryQPS(50.0).
		WithWarningPrinter(streams)
	if cfg.Kubeconfig != "" {
		flags.KubeConfig = &cfg.Kubeconfig
	}
	if cfg.CacheDir != "" {
		flags.CacheDir = &cfg.CacheDir
	}
	// Arguments hold only the program name: kubectl reads a kuberc file
	// only when given more.
	cmd := kubectlcmd.NewKubectlCommand(kubectlcmd.KubectlOptions{
		Arguments: []string{"kubectl"}, ConfigFlags: flags, IOStreams: streams,
	})
	if err := refuseProcessExits(cmd, args); err != nil {
		return err
	}
	cmd.SetArgs(args)
	cmd.SetIn(streams.In)
	cmd.SetOut(streams.Out)
	cmd.SetErr(streams.ErrOut)
	// As kubectl's main: errors that reach here (bad flags, unknown
	// commands) are printed and turned into an exit by CheckErr.
	cmd.SilenceErrors = true
	if err := cmd.ExecuteContext(ctx); err != nil {
		cmdutil.CheckErr(err)
	}
	return nil
}

// refuseProcessExits wraps the tree so that it refuses what the kubectl
// program ends its process for outside the fatal-error path, which would
// end this one.
func refuseProcessExits(cmd *cobra.Command, args []string) error {
	if c, _, err := cmd.Find(args); err == nil && c.CommandPath() == "kubectl auth can-i" {
		return errors.New("kubectl auth can-i does not run in process: it ends its process when the answer is no; run a kubectl program")
	}
	pre := cmd.PersistentPreRunE
	cmd.PersistentPreRunE = func(c *cobra.Command, args []string) error {
		if p := c.Flags().Lookup("profile"); p != nil && p.Value.String() != "none" {
			return fmt.Errorf("kubectl --profile=%s does not run in process: its Ctrl-C handler would end this program", p.Value)
		}
		return pre(c, args)
	}
	return nil
}

// RunKubectl runs one kubectl command against the sandbox with the given
// kubectl ("auto", "builtin" or a path), for tests that compare the
// in-process kubectl with a kubectl program.
func (s *Sandbox) RunKubectl(ctx context.Context, mode string, args ...string) (string, error) {
	k, err := newKubectl(mode, s.Kubeconfig, s.root, s.kubectlCache())
	if err != nil {
		return "", err
	}
	return k.run(ctx, args...)
}
