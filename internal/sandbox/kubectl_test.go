package sandbox

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/svcat-io/svcat/internal/localcluster"
)

func TestMain(m *testing.M) { localcluster.Main(m) }

// inProcess runs kubectl's command tree against the test's control plane,
// as the sandbox does without a kubectl program.
func inProcess(t *testing.T, env *localcluster.Env, args ...string) (string, error) {
	t.Helper()
	k := inProcessKubectl{kubeconfig: env.Kubeconfig, cacheDir: t.TempDir(), why: "test"}
	return k.run(t.Context(), args...)
}

// kubectl's fatal path exits the kubectl program; in process it must come
// back as an error with kubectl's message, and the next command must run.
func TestInProcessKubectlErrorIsReturnedNotExited(t *testing.T) {
	env := localcluster.Get(t)
	ns := env.Namespace(t)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"get", "secret", "nope", "-n", ns}, `Error from server (NotFound): secrets "nope" not found`},
		{[]string{"get", "secrets", "--nope"}, "error: unknown flag: --nope"},
		{[]string{"frobnicate"}, `error: unknown command "frobnicate" for "kubectl"`},
		{[]string{"get", "nothings"}, `error: the server doesn't have a resource type "nothings"`},
	} {
		out, err := inProcess(t, env, c.args...)
		var exit *KubectlExit
		if !errors.As(err, &exit) || exit.Code != 1 {
			t.Errorf("kubectl %s: %v (%T), want a *KubectlExit with code 1", strings.Join(c.args, " "), err, err)
			continue
		}
		if !strings.Contains(exit.Error(), c.want) || !strings.Contains(out, c.want) {
			t.Errorf("kubectl %s: error %q, output %q; want both to hold %q", strings.Join(c.args, " "), exit, out, c.want)
		}
	}
	out, err := inProcess(t, env, "create", "-n", ns, "secret", "generic", "s", "--from-literal=a=b=c")
	if err != nil || out != "secret/s created\n" {
		t.Fatalf("create secret after the errors: %v %q", err, out)
	}
	var sec corev1.Secret
	if err := env.Client.Get(t.Context(), client.ObjectKey{Namespace: ns, Name: "s"}, &sec); err != nil || string(sec.Data["a"]) != "b=c" {
		t.Errorf("the created Secret: %v %q", err, sec.Data)
	}
}

// Each run gets a fresh command tree: a flag given once does not stay set
// for the next command, and $KUBECONFIG does not override the sandbox's.
func TestInProcessKubectlKeepsNothingBetweenRuns(t *testing.T) {
	env := localcluster.Get(t)
	ns := env.Namespace(t)
	t.Setenv("KUBECONFIG", "/nonexistent/kubeconfig")
	if out, err := inProcess(t, env, "create", "configmap", "c", "-n", ns, "--from-literal=k=v"); err != nil {
		t.Fatalf("%v %s", err, out)
	}
	out, err := inProcess(t, env, "get", "configmap", "c", "-n", ns, "-o", "name")
	if err != nil || out != "configmap/c\n" {
		t.Fatalf("get -o name: %v %q", err, out)
	}
	// Without -n: the kubeconfig's namespace (default), not the last one,
	// and a table, not -o name.
	out, err = inProcess(t, env, "get", "configmap", "c")
	if want := `Error from server (NotFound): configmaps "c" not found`; err == nil || !strings.Contains(out, want) {
		t.Errorf("get without -n: %v %q, want %q", err, out, want)
	}
	out, err = inProcess(t, env, "get", "configmap", "c", "--namespace", ns)
	if err != nil || !strings.HasPrefix(out, "NAME   DATA   AGE\nc      1      ") {
		t.Errorf("get as a table: %v %q", err, out)
	}
}

// Commands that end the kubectl program by other means than its fatal
// path are refused, not run.
func TestInProcessKubectlRefusesProcessExits(t *testing.T) {
	env := localcluster.Get(t)
	for _, args := range [][]string{
		{"auth", "can-i", "delete", "nodes", "--as", "nobody"},
		{"-n", "default", "auth", "can-i", "get", "pods"},
		{"get", "pods", "--profile", "cpu"},
		{"get", "pods", "--profile=heap"},
	} {
		out, err := inProcess(t, env, args...)
		if err == nil || !strings.Contains(err.Error(), "does not run in process") {
			t.Errorf("kubectl %s: %v %q, want a refusal", strings.Join(args, " "), err, out)
		}
	}
	if out, err := inProcess(t, env, "get", "namespace", "default", "--profile=none", "-o", "name"); err != nil || out != "namespace/default\n" {
		t.Errorf("--profile=none: %v %q", err, out)
	}
}

// Runs from several goroutines take turns: kubectl's fatal behaviour is
// one process-wide setting.
func TestInProcessKubectlConcurrentRuns(t *testing.T) {
	env := localcluster.Get(t)
	var wg sync.WaitGroup
	errs := make([]error, 6)
	outs := make([]string, 6)
	for i := range errs {
		wg.Go(func() {
			args := []string{"get", "namespace", "default", "-o", "name"}
			if i%2 == 1 {
				args = []string{"get", "namespace", "missing-" + string(rune('a'+i))}
			}
			k := inProcessKubectl{kubeconfig: env.Kubeconfig, cacheDir: t.TempDir(), why: "test"}
			outs[i], errs[i] = k.run(context.Background(), args...)
		})
	}
	wg.Wait()
	for i, err := range errs {
		if i%2 == 0 && (err != nil || outs[i] != "namespace/default\n") {
			t.Errorf("run %d: %v %q", i, err, outs[i])
		}
		if i%2 == 1 && (err == nil || !strings.Contains(outs[i], "NotFound")) {
			t.Errorf("run %d: %v %q, want NotFound", i, err, outs[i])
		}
	}
}

// The svcat-sandbox kubectl command passes its streams through.
func TestRunKubectlStreams(t *testing.T) {
	env := localcluster.Get(t)
	var out, errOut strings.Builder
	streams := genericiooptions.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut}
	err := RunKubectl(t.Context(), streams, KubectlConfig{Kubeconfig: env.Kubeconfig, CacheDir: t.TempDir()}, "get", "namespace", "kube-system", "nope", "-o", "name")
	if err == nil || out.String() != "namespace/kube-system\n" || !strings.Contains(errOut.String(), `namespaces "nope" not found`) {
		t.Errorf("err %v\nstdout %q\nstderr %q", err, out.String(), errOut.String())
	}
}
