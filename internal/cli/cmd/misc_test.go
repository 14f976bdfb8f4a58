package cmd_test

import (
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
