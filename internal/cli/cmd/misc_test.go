package cmd_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/svcat-io/svcat/internal/cli/cmd"
	"github.com/svcat-io/svcat/internal/testenv"
)

func TestCompletion(t *testing.T) {
	env := testenv.Get(t)
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
	if r := svcat(t, env, "", "completion", "powershell"); r.code != cmd.ExitUsage {
		t.Errorf("completion powershell: exit %d, want %d", r.code, cmd.ExitUsage)
	}
}

func TestVersion(t *testing.T) {
	env := testenv.Get(t)
	r := svcat(t, env, "", "version", "--client")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "Client Version: ") || strings.Count(r.stdout, "\n") != 1 {
		t.Errorf("version --client: exit %d:\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = svcat(t, env, "", "version")
	if r.code != 0 || !strings.Contains(r.stdout, "Kubernetes Version: v1.37") ||
		!strings.Contains(r.stdout, "Service Catalog API: servicecatalog.k8s.io/v1beta1\n") {
		t.Errorf("version: exit %d:\n%s%s", r.code, r.stdout, r.stderr)
	}
}

func TestHelpDocumentsExitStatus(t *testing.T) {
	env := testenv.Get(t)
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
	env := testenv.Get(t)
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
