package tenancy

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"k8s.io/utils/ptr"

	"github.com/svcat-io/svcat/internal/localcluster"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// controllerBinary builds cmd/catalog-controller once per run.
func (c *cluster) controllerBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "svcat-tenant-")
		if err != nil {
			buildErr = err
			return
		}
		localcluster.BeforeStop(func() { _ = os.RemoveAll(dir) })
		binPath = filepath.Join(dir, "catalog-controller")
		fmt.Println("tenant suite: building ./cmd/catalog-controller (once per run)...")
		start := time.Now()
		cmd := exec.Command("go", "build", "-o", binPath, "./cmd/catalog-controller")
		cmd.Dir = c.root
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("building catalog-controller: %v\n%s", err, out)
			return
		}
		fmt.Printf("tenant suite: built in %v\n", time.Since(start).Round(time.Second))
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// controllerProcess is a running catalog-controller.
type controllerProcess struct {
	cmd     *exec.Cmd
	logPath string
	metrics string // base URL of the metrics endpoint
	done    chan struct{}
	// killedFor says why the suite's memory guard killed it, "" if it did
	// not.
	mu        sync.Mutex
	killedFor string
}

// serviceAccountKubeconfig writes a kubeconfig that authenticates as the
// controller's ServiceAccount with a token from the TokenRequest API, as a
// pod's projected token would.
func (c *cluster) serviceAccountKubeconfig(t *testing.T, dir string) string {
	t.Helper()
	kc := clientcmdapi.NewConfig()
	kc.Clusters["envtest"] = &clientcmdapi.Cluster{Server: c.env.Config.Host, CertificateAuthorityData: c.env.Config.CAData}
	kc.AuthInfos["sa"] = &clientcmdapi.AuthInfo{Token: c.serviceAccountToken(t)}
	kc.Contexts["sa"] = &clientcmdapi.Context{Cluster: "envtest", AuthInfo: "sa", Namespace: controllerNamespace}
	kc.CurrentContext = "sa"
	path := filepath.Join(dir, "kubeconfig")
	must(t, clientcmd.WriteToFile(*kc, path))
	return path
}

// serviceAccountToken is a token of the controller's ServiceAccount from
// the TokenRequest API.
func (c *cluster) serviceAccountToken(t *testing.T) string {
	t.Helper()
	cs, err := kubernetes.NewForConfig(c.env.Config)
	must(t, err)
	tr, err := cs.CoreV1().ServiceAccounts(controllerNamespace).CreateToken(context.Background(), c.serviceAccount,
		&authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: ptr.To[int64](3600)}}, metav1.CreateOptions{})
	must(t, err)
	return tr.Status.Token
}

// serviceAccountConfig reaches the API server as the controller does.
func (c *cluster) serviceAccountConfig(t *testing.T) *rest.Config {
	t.Helper()
	return &rest.Config{Host: c.env.Config.Host, BearerToken: c.serviceAccountToken(t),
		TLSClientConfig: rest.TLSClientConfig{CAData: c.env.Config.CAData}}
}

// controllerArgs are the Deployment's arguments with overrides: the
// listeners on free loopback ports, leader election in the controller's
// namespace under a Lease of the test's own, brokers on loopback allowed
// (the tests' brokers listen on 127.0.0.1), then the test's own flags,
// which win because they come last.
func (c *cluster) controllerArgs(t *testing.T, help string, metricsAddr, probeAddr string, extra []string) []string {
	overridden := map[string]bool{}
	var own []string
	set := func(flag string) {
		name, _, _ := strings.Cut(strings.TrimPrefix(flag, "--"), "=")
		overridden[name] = true
		own = append(own, flag)
	}
	set("--metrics-bind-address=" + metricsAddr)
	set("--health-probe-bind-address=" + probeAddr)
	set("--leader-election-namespace=" + controllerNamespace)
	set("--leader-election-id=" + leaseName(t.Name()))
	set("--retry-max-delay=5s")
	set("--zap-encoder=json")
	for _, f := range loopbackFlags(help) {
		set(f)
	}
	for _, f := range extra {
		set(f)
	}
	var args []string
	for _, a := range c.manager.Args {
		name, _, _ := strings.Cut(strings.TrimPrefix(a, "--"), "=")
		if !overridden[name] {
			args = append(args, a)
		}
	}
	return append(args, own...)
}

// loopbackFlags allow brokers on 127.0.0.1 with whatever flag this build
// has for it; the API server must stay refused whatever it is.
func loopbackFlags(help string) []string {
	switch {
	case strings.Contains(help, "-allow-loopback-broker-urls"):
		return []string{"--allow-loopback-broker-urls=true"}
	case strings.Contains(help, "-refuse-loopback-broker-urls"):
		return []string{"--refuse-loopback-broker-urls=false"}
	}
	return []string{"--allow-broker-url-hosts=127.0.0.1"}
}

func leaseName(test string) string {
	var b strings.Builder
	b.WriteString("svcat-tenant-")
	for _, r := range strings.ToLower(test) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
		} else {
			b.WriteRune('-')
		}
	}
	s := b.String()
	if len(s) > 60 {
		s = s[:60]
	}
	return strings.TrimRight(s, "-")
}

// startController runs the controller for one test, with the container's
// memory limit as GOMEMLIMIT's base as in a pod (--memory-limit-ratio of
// the container limit). It stops (SIGTERM) when the test ends; its log is
// kept and its path printed when the test failed. guardRSS, when not 0,
// kills the process once its RSS passes that many bytes, so a test proving
// a memory bound cannot take the machine down with the old code.
func (c *cluster) startController(t *testing.T, guardRSS int64, extra ...string) *controllerProcess {
	t.Helper()
	bin := c.controllerBinary(t)
	dir, err := os.MkdirTemp("", "svcat-tenant-controller-")
	must(t, err)
	kubeconfig := c.serviceAccountKubeconfig(t, dir)
	help, _ := exec.Command(bin, "--help").CombinedOutput()
	metricsAddr, probeAddr := freeAddr(t), freeAddr(t)
	args := c.controllerArgs(t, string(help), metricsAddr, probeAddr, extra)
	logPath := filepath.Join(dir, "controller.log")
	logFile, err := os.Create(logPath)
	must(t, err)
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "KUBECONFIG="+kubeconfig)
	if limit, ratio := c.memoryLimit(), memoryLimitRatio(args); limit > 0 && ratio > 0 {
		cmd.Env = append(cmd.Env, fmt.Sprintf("GOMEMLIMIT=%d", int64(float64(limit)*ratio)))
	}
	cmd.Stdout, cmd.Stderr = logFile, logFile
	fmt.Fprintf(logFile, "# %s %s\n", bin, strings.Join(args, " "))
	must(t, cmd.Start())
	p := &controllerProcess{cmd: cmd, logPath: logPath, metrics: "http://" + metricsAddr, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); logFile.Close(); close(p.done) }()
	if guardRSS > 0 {
		go p.guard(guardRSS)
	}
	t.Cleanup(func() {
		p.stop()
		if t.Failed() || os.Getenv("SVCAT_TENANT_KEEP_LOGS") != "" {
			t.Logf("catalog-controller log kept: %s", logPath)
		} else {
			_ = os.RemoveAll(dir)
		}
	})
	waitFor(t, time.Minute, "the controller's health endpoint", func() error {
		select {
		case <-p.done:
			return fmt.Errorf("exited: %s", tail(logPath, 20))
		default:
		}
		resp, err := http.Get("http://" + probeAddr + "/readyz")
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("/readyz: %s", resp.Status)
		}
		return nil
	})
	return p
}

// memoryLimitRatio is --memory-limit-ratio as the arguments set it (0: no
// soft limit).
func memoryLimitRatio(args []string) float64 {
	ratio := 0.9
	for _, a := range args {
		if v, ok := strings.CutPrefix(a, "--memory-limit-ratio="); ok {
			if f, err := strconv.ParseFloat(v, 64); err == nil {
				ratio = f
			}
		}
	}
	return ratio
}

// stop sends SIGTERM, then SIGKILL after 10 s.
func (p *controllerProcess) stop() {
	select {
	case <-p.done:
		return
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

func (p *controllerProcess) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

func (p *controllerProcess) guard(limit int64) {
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-p.done:
			return
		case <-tick.C:
		}
		if rss := p.status("VmRSS"); rss > limit {
			p.mu.Lock()
			p.killedFor = fmt.Sprintf("RSS %d MiB passed the guard of %d MiB", rss>>20, limit>>20)
			p.mu.Unlock()
			_ = p.cmd.Process.Kill()
			return
		}
	}
}

func (p *controllerProcess) killReason() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.killedFor
}

// peakRSS is the process's high-water mark of resident memory (VmHWM).
func (p *controllerProcess) peakRSS() int64 { return p.status("VmHWM") }

// status reads a "kB" field of /proc/PID/status in bytes, 0 when gone.
func (p *controllerProcess) status(field string) int64 {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if v, ok := strings.CutPrefix(s.Text(), field+":"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// scrape returns the controller's /metrics text.
func (p *controllerProcess) scrape(t *testing.T) string {
	t.Helper()
	resp, err := http.Get(p.metrics + "/metrics")
	must(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	must(t, err)
	return string(b)
}

// log returns the controller's log so far.
func (p *controllerProcess) log(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(p.logPath)
	must(t, err)
	return string(b)
}

func tail(path string, n int) string {
	b, _ := os.ReadFile(path)
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	defer ln.Close()
	return ln.Addr().String()
}

// controllerSubject is the user name the controller's token authenticates
// as.
func (c *cluster) controllerSubject() string {
	return "system:serviceaccount:" + controllerNamespace + ":" + c.serviceAccount
}
