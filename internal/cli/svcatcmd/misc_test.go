package svcatcmd_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/svcat-io/svcat/internal/cli/svcatcmd"
	"github.com/svcat-io/svcat/internal/localcluster"
	"github.com/svcat-io/svcat/internal/version"
)

func TestCompletion(t *testing.T) {
	env := localcluster.Get(t)
	tests := []struct {
		shell string
		want  string
	}{
		{"bash", "__start_svcat"},
		{"zsh", "#compdef svcat"},
		{"fish", "complete -c svcat"},
	}
	for _, tt := range tests {
		r := svcat(t, env, "", "completion", tt.shell)
		if r.code != 0 || !strings.Contains(r.stdout, tt.want) {
			t.Errorf("completion %s: exit %d, output lacks %q", tt.shell, r.code, tt.want)
		}
	}
	if r := svcat(t, env, "", "completion", "powershell"); r.code != svcatcmd.ExitUsage {
		t.Errorf("completion powershell: exit %d, want %d", r.code, svcatcmd.ExitUsage)
	}
}

func TestVersion(t *testing.T) {
	env := localcluster.Get(t)
	svcatcmd.SetClientBuildInfo(t, version.Info{Version: "v0.9.0-test", GitCommit: "0123456789abcdef0123456789abcdef01234567", GoVersion: "go1.26.0"})
	r := svcat(t, env, "", "version", "--client")
	mustSucceed(t, r)
	if r.stdout != "Client Version: v0.9.0-test (commit 0123456789ab, go1.26.0)\n" {
		t.Errorf("version --client:\n%s", r.stdout)
	}

	// No controller has published its version: the rest is still shown,
	// and the command succeeds.
	r = svcat(t, env, "", "version")
	mustSucceed(t, r)
	if !strings.Contains(r.stdout, "Kubernetes Version: v1.37") ||
		!strings.Contains(r.stdout, "Service Catalog API: servicecatalog.k8s.io/v1beta1\n") ||
		!strings.Contains(r.stdout, "Server Version: controller version unknown: no catalog-controller has published its version") {
		t.Errorf("version without a controller:\n%s", r.stdout)
	}

	// The ConfigMap the controller's leader writes (its writing is tested in
	// internal/controllermanager).
	ns := fixedNamespace(t, env, "svcat-version-test")
	cm := &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: version.ControllerInfoName, Labels: version.ControllerInfoLabels()},
		Data: map[string]string{
			version.KeyVersion: "v0.9.1", version.KeyGitCommit: "fedcba9876543210fedcba9876543210fedcba98-dirty",
			version.KeyGoVersion: "go1.26.0", version.KeyStartedAt: "2026-11-22T06:00:00Z",
		},
	}
	if err := env.Client.Create(context.Background(), cm); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = env.Client.Delete(context.Background(), cm) })
	r = svcat(t, env, "", "version")
	mustSucceed(t, r)
	golden(t, "version", r.stdout)

	// A user who may not list ConfigMaps is told why, and still succeeds.
	r = svcat(t, env, "", "--as", "version-reader", "version")
	mustSucceed(t, r)
	if !strings.Contains(r.stdout, "Server Version: controller version unknown: you may not list configmaps in all namespaces") {
		t.Errorf("version without access to ConfigMaps:\n%s", r.stdout)
	}
}

func TestHelpDocumentsExitStatus(t *testing.T) {
	env := localcluster.Get(t)
	r := svcat(t, env, "", "--help")
	for _, want := range []string{"Exit status:", "0  success", "2  the command line is wrong", "3  --wait timed out", "marketplace", "kubectl svcat"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("svcat --help lacks %q:\n%s", want, r.stdout)
		}
	}
}

// TestDynamicCompletion asks for completions the way the shell scripts do,
// through cobra's hidden __complete command.
func TestDynamicCompletion(t *testing.T) {
	env := localcluster.Get(t)
	seedCatalog(t, env)
	tests := []struct {
		args []string
		want []string
	}{
		{[]string{"-n", "default", "describe", "instance", ""}, []string{"demo-kafka"}},
		{[]string{"-n", demoNS, "describe", "binding", "demo"}, []string{"demo-kafka-binding"}},
		{[]string{"provision", "x", "--class", "cloud"}, []string{"cloudkarafka"}},
		{[]string{"provision", "x", "--class", "cloudkarafka", "--plan", ""}, []string{"duck"}},
		{[]string{"describe", "plan", ""}, []string{"cloudkarafka/duck"}},
		{[]string{"deregister", ""}, []string{"cloudkarafka"}},
		{[]string{"get", "plans", "-o", ""}, []string{"table", "json", "yaml"}},
		{[]string{"broker", "check", "http://127.0.0.1:1", "-o", ""}, []string{"text", "json", "junit"}},
		{[]string{"get", "classes", "--scope", ""}, []string{"all", "cluster", "namespace"}},
		{[]string{"-n", "default", "describe", "instance", "demo-kafka", ""}, nil},
	}
	for _, tt := range tests {
		r := svcat(t, env, "", append([]string{"__complete"}, tt.args...)...)
		lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
		// The last line is the directive, such as ":4" (no file completion).
		got := lines[:len(lines)-1]
		if r.code != 0 || !slices.Equal(got, tt.want) && !(len(got) == 0 && len(tt.want) == 0) {
			t.Errorf("__complete %v = %q (exit %d, %s), want %q", tt.args, got, r.code, r.stderr, tt.want)
		}
	}
}
