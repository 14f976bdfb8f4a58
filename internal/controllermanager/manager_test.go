package controllermanager

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr"
	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/svcat-io/svcat/internal/localcluster"
)

func TestMain(m *testing.M) {
	ctrl.SetLogger(logr.Discard())
	localcluster.Main(m)
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func get(url string) (int, string, error) {
	resp, err := http.Get(url)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body), err
}

// The manager serves its probes and metrics, elects a leader, and with two
// replicas only one of them leads.
func TestManagerProbesMetricsAndLeaderElection(t *testing.T) {
	env := localcluster.Get(t)
	ns := env.Namespace(t)
	start := func() (string, string, ctrl.Manager, context.CancelFunc) {
		o := DefaultOptions()
		o.MetricsAddr, o.ProbeAddr = freeAddr(t), freeAddr(t)
		o.LeaderElect, o.LeaderElectionNamespace = true, ns
		o.AllowSeveralInProcess = true
		mgr, err := NewManager(env.Config, o)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { defer close(done); _ = mgr.Start(ctx) }()
		t.Cleanup(func() { cancel(); <-done })
		return o.MetricsAddr, o.ProbeAddr, mgr, cancel
	}
	metricsAddr, probeAddr, first, _ := start()
	deadline := time.Now().Add(30 * time.Second)
	for {
		code, _, err := get("http://" + probeAddr + "/readyz")
		if err == nil && code == http.StatusOK {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("/readyz never answered 200: %d %v", code, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if code, _, err := get("http://" + probeAddr + "/healthz"); err != nil || code != http.StatusOK {
		t.Errorf("/healthz: %d %v", code, err)
	}
	select {
	case <-first.Elected():
	case <-time.After(30 * time.Second):
		t.Fatal("the first replica was never elected")
	}
	_, body, err := get("http://" + metricsAddr + "/metrics")
	if err != nil || !strings.Contains(body, "controller_runtime_active_workers{controller=\"serviceinstance\"}") {
		t.Errorf("/metrics lacks controller metrics (err %v):\n%.2000s", err, body)
	}

	_, _, second, _ := start()
	select {
	case <-second.Elected():
		t.Error("a second replica was elected while the first holds the lease")
	case <-time.After(3 * time.Second):
	}
}

func TestResolveFlag(t *testing.T) {
	o := DefaultOptions()
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	o.BindFlags(fs)
	if err := fs.Parse([]string{"--dev-resolve", "b.osb.svc.cluster.local:80:127.0.0.1:8090", "--dev-resolve", "tls.example:443:127.0.0.2"}); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"b.osb.svc.cluster.local:80": "127.0.0.1:8090", "tls.example:443": "127.0.0.2:443"}
	if fmt.Sprint(o.Controller.Resolve) != fmt.Sprint(want) {
		t.Errorf("resolve = %v, want %v", o.Controller.Resolve, want)
	}
	if err := fs.Parse([]string{"--dev-resolve", "nohost"}); err == nil || !strings.Contains(err.Error(), "want HOST:PORT:ADDRESS") {
		t.Errorf("bad value accepted or unclear error: %v", err)
	}
}
