package doctorcmd_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"k8s.io/cli-runtime/pkg/genericiooptions"

	clicmd "github.com/svcat-io/svcat/internal/cli/svcatcmd"
	"github.com/svcat-io/svcat/internal/localcluster"
)

// TestSvcatExitStatus runs doctor through the svcat command line itself:
// the command is registered, and the exit status says whether an error was
// found.
func TestSvcatExitStatus(t *testing.T) {
	env := localcluster.Get(t)
	run := func(args ...string) (int, string, string) {
		var out, errOut bytes.Buffer
		streams := genericiooptions.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		code := clicmd.Run(ctx, streams, "svcat", append([]string{"--kubeconfig", env.Kubeconfig}, args...))
		return code, out.String(), errOut.String()
	}

	// envtest runs no aggregated API server: that part is healthy.
	if code, out, errOut := run("doctor", "aggregation"); code != 0 || !strings.Contains(out, ": healthy\n") {
		t.Errorf("svcat doctor aggregation: exit %d\n%s%s", code, out, errOut)
	}
	// No catalog controller runs in this namespace: an error, exit 1.
	code, out, errOut := run("doctor", "--controller-namespace", "svcat-exit-test")
	if code != 1 || !strings.Contains(out, "[error]   controller   no catalog controller is running") ||
		!strings.Contains(errOut, "Error: doctor found 1 error\n") {
		t.Errorf("svcat doctor without a controller: exit %d\n%s%s", code, out, errOut)
	}
	for _, args := range [][]string{{"doctor", "--bogus"}, {"doctor", "-o", "wide"}, {"doctor", "aggregation", "--allowed-name", "a/b"}} {
		if code, _, errOut := run(args...); code != clicmd.ExitUsage {
			t.Errorf("svcat %s: exit %d, want %d\n%s", strings.Join(args, " "), code, clicmd.ExitUsage, errOut)
		}
	}
}
