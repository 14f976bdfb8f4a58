package svcatcmd_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/svcat-io/svcat/internal/localcluster"
)

// TestKubectlPlugin builds the binary as kubectl-svcat and runs it through
// kubectl's plugin mechanism, which finds kubectl-* executables on PATH.
func TestKubectlPlugin(t *testing.T) {
	kubectl, err := exec.LookPath("kubectl")
	if err != nil {
		t.Skip("kubectl is not installed")
	}
	env := localcluster.Get(t)
	seedCatalog(t, env)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	dir := t.TempDir()
	build := exec.CommandContext(ctx, "go", "build", "-o", filepath.Join(dir, "kubectl-svcat"), "github.com/svcat-io/svcat/cmd/svcat")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	run := func(args ...string) (string, error) {
		c := exec.CommandContext(ctx, kubectl, args...)
		c.Env = append(os.Environ(), "PATH="+dir+string(os.PathListSeparator)+os.Getenv("PATH"), "KUBECONFIG="+env.Kubeconfig)
		out, err := c.CombinedOutput()
		return string(out), err
	}

	out, err := run("plugin", "list")
	if err != nil || !strings.Contains(out, filepath.Join(dir, "kubectl-svcat")) {
		t.Errorf("kubectl plugin list does not show kubectl-svcat (%v):\n%s", err, out)
	}
	out, err = run("svcat", "marketplace")
	if err != nil {
		t.Fatalf("kubectl svcat marketplace: %v\n%s", err, out)
	}
	golden(t, "marketplace", out)

	out, err = run("svcat", "get", "--help")
	if err != nil || !strings.Contains(out, "kubectl svcat get [command]") {
		t.Errorf("help should name the command as kubectl users type it (%v):\n%s", err, out)
	}
	// kubectl passes the plugin's exit status on.
	out, err = run("svcat", "get", "instances", "--bogus")
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 2 {
		t.Errorf("exit status %v, want 2:\n%s", err, out)
	}
}
