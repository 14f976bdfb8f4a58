package ui_test

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"strings"
	"testing"
	"time"

	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/svcat-io/svcat/internal/cli/svcatcmd"
	"github.com/svcat-io/svcat/internal/localcluster"
)

// TestCommand runs svcat ui as a user would (without a browser): it prints
// a URL that logs in, serves until interrupted, and refuses to listen
// beyond loopback.
func TestCommand(t *testing.T) {
	env := localcluster.Get(t)
	catalogFixture(t, env)
	ns := env.Namespace(t)

	pr, pw := io.Pipe()
	ctx, cancel := context.WithCancel(context.Background())
	code := make(chan int, 1)
	go func() {
		streams := genericiooptions.IOStreams{In: strings.NewReader(""), Out: pw, ErrOut: io.Discard}
		code <- svcatcmd.Run(ctx, streams, "svcat", []string{"--kubeconfig", env.Kubeconfig, "-n", ns, "ui", "--no-browser"})
		pw.Close()
	}()
	var u string
	sc := bufio.NewScanner(pr)
	for sc.Scan() {
		if s := strings.TrimSpace(sc.Text()); strings.HasPrefix(s, "http://127.0.0.1:") {
			u = s
			break
		}
	}
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	if !strings.Contains(u, "/?token=") {
		t.Fatalf("svcat ui printed no URL with a token: %q", u)
	}
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 30 * time.Second}
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(b), "Developer Duck") || !strings.Contains(string(b), ns) {
		t.Errorf("the printed URL opens %d:\n%s", resp.StatusCode, b)
	}
	cancel()
	select {
	case c := <-code:
		if c != 0 {
			t.Errorf("svcat ui exited %d after the interrupt", c)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("svcat ui did not stop within 10s of the interrupt")
	}

	var errOut strings.Builder
	streams := genericiooptions.IOStreams{In: strings.NewReader(""), Out: io.Discard, ErrOut: &errOut}
	if c := svcatcmd.Run(context.Background(), streams, "svcat", []string{"--kubeconfig", env.Kubeconfig, "ui", "--address", "0.0.0.0:8080"}); c != svcatcmd.ExitUsage ||
		!strings.Contains(errOut.String(), "listens only on a loopback address") {
		t.Errorf("--address 0.0.0.0:8080: exit %d, %s", c, errOut.String())
	}
}
