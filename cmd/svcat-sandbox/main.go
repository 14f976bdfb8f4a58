// Command svcat-sandbox runs the seed's walkthrough on this machine.
//
//	svcat-sandbox demo      do every step of the seed, check it, clean up (make demo)
//	svcat-sandbox sandbox   set up the same and keep it running until Ctrl-C (make sandbox)
//	svcat-sandbox demo-cluster
//	                        the seed in pods on a real cluster, installed with helm (make demo-cluster)
//	svcat-sandbox mount-secret NAMESPACE/NAME DIR
//	                        write a Secret's keys as files, like a Secret volume
//	svcat-sandbox kubectl ARGS...
//	                        kubectl (its command tree, linked in), for machines without kubectl
//
// See docs/demo.md.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/svcat-io/svcat/internal/controllermanager"
	"github.com/svcat-io/svcat/internal/sandbox"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

const usage = `usage:
  svcat-sandbox demo [--kubectl auto|builtin|PATH]
  svcat-sandbox sandbox [--kubectl auto|builtin|PATH]
  svcat-sandbox demo-cluster [--kubeconfig FILE] [--install helm|kustomize] [--helm PATH] [--*-image REF]
  svcat-sandbox mount-secret NAMESPACE/NAME DIR
  svcat-sandbox kubectl ARGS...   (kubectl itself, in process; reads $KUBECONFIG)
`

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	mode, args := args[0], args[1:]
	switch mode {
	case "mount-secret":
		return mountSecret(ctx, args, stdout, stderr)
	case "kubectl":
		return inProcessKubectl(ctx, args, stdout, stderr)
	case "demo-cluster":
		return demoCluster(ctx, args, stdout, stderr)
	case "cluster":
		return sandbox.ClusterCommand(ctx, args, stdout, stderr)
	}
	fs := flag.NewFlagSet("svcat-sandbox "+mode, flag.ContinueOnError)
	fs.SetOutput(stderr)
	kubectl := fs.String("kubectl", "auto", "kubectl to run: auto (from PATH, else kubectl's command tree in process), builtin (in process), or a path")
	timeout := fs.Duration("step-timeout", 90*time.Second, "how long each step may wait")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	opts := sandbox.Options{Out: stdout, Kubectl: *kubectl, StepTimeout: *timeout}
	switch mode {
	case "demo":
		return demo(ctx, opts, stdout, stderr)
	case "sandbox":
		return keepRunning(ctx, opts, stdout, stderr)
	default:
		fmt.Fprint(stderr, usage)
		return 2
	}
}

// start starts the sandbox, or says why not and returns nil.
func start(ctx context.Context, opts sandbox.Options, stderr io.Writer) *sandbox.Sandbox {
	sb, err := sandbox.Start(ctx, opts)
	if err != nil {
		fmt.Fprintln(stderr, "svcat-sandbox:", err)
		return nil
	}
	return sb
}

func demo(ctx context.Context, opts sandbox.Options, stdout, stderr io.Writer) int {
	t0 := time.Now()
	sb := start(ctx, opts, stderr)
	if sb == nil {
		return 1
	}
	_, err := sb.Walkthrough(ctx)
	if err == nil {
		err = sb.Teardown(ctx)
	}
	if err != nil {
		// The components log goes with the sandbox's directory; show
		// its end while it is still there.
		if b, rerr := os.ReadFile(sb.LogPath()); rerr == nil {
			fmt.Fprintf(stderr, "\n# last lines of the controller's and the broker's log:\n%s", lastLines(string(b), 40))
		}
	}
	fmt.Fprintln(stdout, "\n# stopping the apps, the controller, the broker and the control plane")
	sb.Close()
	return report(stdout, stderr, err, "the walkthrough", "Every step did what the seed shows", t0)
}

// report ends a walkthrough: the step it stopped at, or that every step
// passed, with the exit code.
func report(stdout, stderr io.Writer, err error, what, success string, t0 time.Time) int {
	if err != nil {
		var se *sandbox.StepError
		if errors.As(err, &se) {
			fmt.Fprintf(stderr, "\nsvcat-sandbox: %s stopped at %q: %v\n", what, se.Step, se.Err)
		} else {
			fmt.Fprintf(stderr, "\nsvcat-sandbox: %v\n", err)
		}
		return 1
	}
	fmt.Fprintf(stdout, "\n%s (%s).\n", success, time.Since(t0).Round(time.Second))
	return 0
}

func keepRunning(ctx context.Context, opts sandbox.Options, stdout, stderr io.Writer) int {
	sb := start(ctx, opts, stderr)
	if sb == nil {
		return 1
	}
	defer sb.Close()
	if err := sb.RegisterBroker(ctx); err != nil {
		fmt.Fprintln(stderr, "svcat-sandbox:", err)
		return 1
	}
	binDir := filepath.Join(sb.Root(), "bin")
	if exe, err := os.Executable(); err == nil {
		binDir = filepath.Dir(exe)
	}
	sb.PrintTry(stdout, binDir)
	sb.KeepDefaultTopics(ctx)
	fmt.Fprintln(stdout, "\n# stopping the controller, the broker and the control plane")
	return 0
}

// mountSecret reads the Secret through $KUBECONFIG, the way the sandbox's
// printed commands set it up.
func mountSecret(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) != 2 || !strings.Contains(args[0], "/") {
		fmt.Fprint(stderr, usage)
		return 2
	}
	ns, name, _ := strings.Cut(args[0], "/")
	cfg, err := restConfig()
	if err != nil {
		fmt.Fprintln(stderr, "svcat-sandbox:", err)
		return 1
	}
	scheme, err := controllermanager.NewScheme()
	if err != nil {
		fmt.Fprintln(stderr, "svcat-sandbox:", err)
		return 1
	}
	c, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		fmt.Fprintln(stderr, "svcat-sandbox:", err)
		return 1
	}
	keys, err := sandbox.MountSecret(ctx, c, ns, name, args[1])
	if err != nil {
		fmt.Fprintln(stderr, "svcat-sandbox:", err)
		return 1
	}
	fmt.Fprintf(stdout, "wrote %s into %s\n", strings.Join(keys, ", "), args[1])
	return 0
}

func lastLines(s string, n int) string {
	lines := strings.SplitAfter(s, "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "")
}

// restConfig reads $KUBECONFIG (or ~/.kube/config), as kubectl does.
func restConfig() (*rest.Config, error) {
	return clientcmd.NewNonInteractiveDeferredLoadingClientConfig(clientcmd.NewDefaultClientConfigLoadingRules(), nil).ClientConfig()
}

// inProcessKubectl is kubectl with this program's streams and kubectl's own
// kubeconfig lookup; its exit status is kubectl's.
func inProcessKubectl(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	streams := genericiooptions.IOStreams{In: os.Stdin, Out: stdout, ErrOut: stderr}
	err := sandbox.RunKubectl(ctx, streams, sandbox.KubectlConfig{}, args...)
	var exit *sandbox.KubectlExit
	switch {
	case err == nil:
		return 0
	case errors.As(err, &exit):
		// kubectl has printed its message.
		return exit.Code
	default:
		fmt.Fprintln(stderr, "svcat-sandbox:", err)
		return 1
	}
}
