package aggtest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// FrontProxyCN is the CN of the front-proxy client certificate, as on the
// seed's PKS cluster: the cluster's host name instead of "aggregator".
const FrontProxyCN = "demo.pks.ik.am"

// ControlPlane is etcd and a kube-apiserver run as processes with flags
// this package controls, unlike envtest's: the requestheader flags are the
// point of the test, and the kube-apiserver must restart with other flags
// on the same data and port.
type ControlPlane struct {
	// Config reaches the kube-apiserver as a cluster admin.
	Config *rest.Config
	// Kubeconfig is a file for the admin user.
	Kubeconfig string
	// ProxyClientCert is the front-proxy client certificate file, as on a
	// control-plane node.
	ProxyClientCert string
	// FrontProxyCA signs the front-proxy client certificate.
	FrontProxyCA *CA

	dir        string
	binDir     string
	etcdPort   int
	securePort int
	etcd       *process
	apiserver  *process
	files      map[string]string
}

// BinDir is where `make envtest` puts kube-apiserver and etcd: the
// KUBEBUILDER_ASSETS directory when set, else bin/envtest/v1.37.0 under
// the repository root.
func BinDir() (string, error) {
	dir := os.Getenv("KUBEBUILDER_ASSETS")
	if dir == "" {
		wd, err := os.Getwd()
		if err != nil {
			return "", err
		}
		for d := wd; ; d = filepath.Dir(d) {
			if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
				dir = filepath.Join(d, "bin", "envtest", "v1.37.0")
				break
			}
			if filepath.Dir(d) == d {
				return "", errors.New("cannot find the repository root above the working directory")
			}
		}
	}
	for _, name := range []string{"kube-apiserver", "etcd"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			return "", fmt.Errorf("%s not found in %s: run 'make envtest' to build it from source", name, dir)
		}
	}
	return dir, nil
}

// StartControlPlane starts etcd and a kube-apiserver in dir whose
// front-proxy client certificate has CN FrontProxyCN and whose
// --requestheader-allowed-names are allowedNames.
func StartControlPlane(ctx context.Context, dir string, allowedNames []string) (*ControlPlane, error) {
	binDir, err := BinDir()
	if err != nil {
		return nil, err
	}
	cp := &ControlPlane{dir: dir, binDir: binDir, files: map[string]string{}}
	if err := cp.writePKI(); err != nil {
		return nil, err
	}
	if cp.etcdPort, err = freePort(); err != nil {
		return nil, err
	}
	peerPort, err := freePort()
	if err != nil {
		return nil, err
	}
	if cp.securePort, err = freePort(); err != nil {
		return nil, err
	}
	etcdURL := fmt.Sprintf("http://127.0.0.1:%d", cp.etcdPort)
	peerURL := fmt.Sprintf("http://127.0.0.1:%d", peerPort)
	cp.etcd, err = startProcess(filepath.Join(binDir, "etcd"), filepath.Join(dir, "etcd.log"),
		"--name=default",
		"--data-dir="+filepath.Join(dir, "etcd-data"),
		"--listen-client-urls="+etcdURL,
		"--advertise-client-urls="+etcdURL,
		"--listen-peer-urls="+peerURL,
		"--initial-advertise-peer-urls="+peerURL,
		"--initial-cluster=default="+peerURL,
		// Test data need not survive a power cut; fsync would only slow
		// a shared machine down.
		"--unsafe-no-fsync=true",
	)
	if err != nil {
		return nil, err
	}
	if err := cp.StartAPIServer(ctx, allowedNames); err != nil {
		cp.Stop()
		return nil, err
	}
	return cp, nil
}

func (cp *ControlPlane) writePKI() error {
	servingCA, err := NewCA("svcat-doctor-test-serving-ca")
	if err != nil {
		return err
	}
	clientCA, err := NewCA("svcat-doctor-test-client-ca")
	if err != nil {
		return err
	}
	if cp.FrontProxyCA, err = NewCA("svcat-doctor-test-front-proxy-ca"); err != nil {
		return err
	}
	serving, err := servingCA.ServingCert("kube-apiserver", []string{"localhost"}, []net.IP{net.IPv4(127, 0, 0, 1)})
	if err != nil {
		return err
	}
	admin, err := clientCA.ClientCert("svcat-doctor-admin", "system:masters")
	if err != nil {
		return err
	}
	proxy, err := cp.FrontProxyCA.ClientCert(FrontProxyCN)
	if err != nil {
		return err
	}
	// The service account signing key can be any key the kube-apiserver
	// reads; nothing in these tests uses service account tokens.
	sa, err := clientCA.ClientCert("service-accounts")
	if err != nil {
		return err
	}
	f := cp.files
	if f["serving.crt"], f["serving.key"], err = serving.Write(cp.dir, "serving"); err != nil {
		return err
	}
	if f["proxy.crt"], f["proxy.key"], err = proxy.Write(cp.dir, "front-proxy-client"); err != nil {
		return err
	}
	if _, f["sa.key"], err = sa.Write(cp.dir, "sa"); err != nil {
		return err
	}
	if f["client-ca.crt"], err = writeFile(cp.dir, "client-ca.crt", clientCA.PEM); err != nil {
		return err
	}
	if f["front-proxy-ca.crt"], err = writeFile(cp.dir, "front-proxy-ca.crt", cp.FrontProxyCA.PEM); err != nil {
		return err
	}
	cp.ProxyClientCert = f["proxy.crt"]
	cp.Config = &rest.Config{
		TLSClientConfig: rest.TLSClientConfig{CAData: servingCA.PEM, CertData: admin.CertPEM, KeyData: admin.KeyPEM},
		QPS:             -1, Burst: -1,
	}
	return nil
}

// StartAPIServer starts the kube-apiserver with allowedNames, on the same
// port and data as before, and waits until it is ready.
func (cp *ControlPlane) StartAPIServer(ctx context.Context, allowedNames []string) error {
	f := cp.files
	host := fmt.Sprintf("https://127.0.0.1:%d", cp.securePort)
	args := []string{
		"--etcd-servers=" + fmt.Sprintf("http://127.0.0.1:%d", cp.etcdPort),
		"--bind-address=127.0.0.1",
		"--advertise-address=127.0.0.1",
		// A loopback advertise address is refused by the endpoint
		// reconciler, and there is only one kube-apiserver anyway.
		"--endpoint-reconciler-type=none",
		"--secure-port=" + strconv.Itoa(cp.securePort),
		"--cert-dir=" + filepath.Join(cp.dir, "cert-dir"),
		"--tls-cert-file=" + f["serving.crt"],
		"--tls-private-key-file=" + f["serving.key"],
		"--client-ca-file=" + f["client-ca.crt"],
		"--authorization-mode=RBAC",
		"--service-cluster-ip-range=10.0.0.0/24",
		"--service-account-issuer=" + host,
		"--service-account-key-file=" + f["sa.key"],
		"--service-account-signing-key-file=" + f["sa.key"],
		// No controller-manager creates default service accounts.
		"--disable-admission-plugins=ServiceAccount",
		// The front proxy, as PKS configured it.
		"--requestheader-client-ca-file=" + f["front-proxy-ca.crt"],
		"--requestheader-allowed-names=" + strings.Join(allowedNames, ","),
		"--requestheader-username-headers=X-Remote-User",
		"--requestheader-group-headers=X-Remote-Group",
		"--requestheader-extra-headers-prefix=X-Remote-Extra-",
		"--proxy-client-cert-file=" + f["proxy.crt"],
		"--proxy-client-key-file=" + f["proxy.key"],
	}
	p, err := startProcess(filepath.Join(cp.binDir, "kube-apiserver"), filepath.Join(cp.dir, "kube-apiserver.log"), args...)
	if err != nil {
		return err
	}
	cp.apiserver = p
	cp.Config.Host = host
	if err := cp.writeKubeconfig(); err != nil {
		return err
	}
	if err := cp.waitReady(ctx); err != nil {
		return fmt.Errorf("%w\n%s", err, p.logTail())
	}
	return nil
}

// StopAPIServer stops the kube-apiserver, leaving etcd running.
func (cp *ControlPlane) StopAPIServer() error {
	if cp.apiserver == nil {
		return nil
	}
	err := cp.apiserver.stop()
	cp.apiserver = nil
	return err
}

// Stop stops both processes.
func (cp *ControlPlane) Stop() {
	_ = cp.StopAPIServer()
	if cp.etcd != nil {
		_ = cp.etcd.stop()
		cp.etcd = nil
	}
}

// APIServerLog is the end of the kube-apiserver's log, for failures.
func (cp *ControlPlane) APIServerLog() string {
	if cp.apiserver == nil {
		return ""
	}
	return cp.apiserver.logTail()
}

func (cp *ControlPlane) writeKubeconfig() error {
	kc := clientcmdapi.NewConfig()
	kc.Clusters["doctor-test"] = &clientcmdapi.Cluster{Server: cp.Config.Host, CertificateAuthorityData: cp.Config.CAData}
	kc.AuthInfos["admin"] = &clientcmdapi.AuthInfo{ClientCertificateData: cp.Config.CertData, ClientKeyData: cp.Config.KeyData}
	kc.Contexts["doctor-test"] = &clientcmdapi.Context{Cluster: "doctor-test", AuthInfo: "admin"}
	kc.CurrentContext = "doctor-test"
	cp.Kubeconfig = filepath.Join(cp.dir, "kubeconfig")
	return clientcmd.WriteToFile(*kc, cp.Kubeconfig)
}

// waitReady polls /readyz as the admin until every check passes, including
// the post-start hooks that register the APIService controllers.
func (cp *ControlPlane) waitReady(ctx context.Context) error {
	cfg := rest.CopyConfig(cp.Config)
	cfg.Timeout = 5 * time.Second
	hc, err := rest.HTTPClientFor(cfg)
	if err != nil {
		return err
	}
	defer hc.CloseIdleConnections()
	var last string
	err = wait.PollUntilContextTimeout(ctx, 250*time.Millisecond, 3*time.Minute, true, func(ctx context.Context) (bool, error) {
		if cp.apiserver.exited() {
			return false, errors.New("kube-apiserver exited during start")
		}
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, cp.Config.Host+"/readyz", nil)
		resp, err := hc.Do(req)
		if err != nil {
			last = err.Error()
			return false, nil
		}
		resp.Body.Close()
		last = resp.Status
		return resp.StatusCode == http.StatusOK, nil
	})
	if err != nil && !cp.apiserver.exited() {
		return fmt.Errorf("kube-apiserver not ready: %s", last)
	}
	return err
}

// freePort asks the kernel for a free port. Another process could take it
// before the server binds it; on a test machine that is rare enough.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// ClosedPort is a port on 127.0.0.1 that nothing listens on, for a
// backend that refuses connections.
func ClosedPort() (int32, error) {
	p, err := freePort()
	return int32(p), err
}

// process is a started server with its log file.
type process struct {
	cmd  *exec.Cmd
	log  string
	done chan struct{}
	err  error
}

func startProcess(path, logFile string, args ...string) (*process, error) {
	lf, err := os.OpenFile(logFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(path, args...)
	cmd.Stdout, cmd.Stderr = lf, lf
	if err := cmd.Start(); err != nil {
		lf.Close()
		return nil, fmt.Errorf("starting %s: %w", path, err)
	}
	p := &process{cmd: cmd, log: logFile, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		lf.Close()
		close(p.done)
	}()
	return p, nil
}

func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop asks the process to shut down and kills it if it takes too long.
func (p *process) stop() error {
	if p.exited() {
		return nil
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
		return nil
	case <-time.After(30 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
		return fmt.Errorf("%s did not stop within 30s and was killed", filepath.Base(p.cmd.Path))
	}
}

func (p *process) logTail() string {
	data, err := os.ReadFile(p.log)
	if err != nil {
		return ""
	}
	const max = 4000
	if len(data) > max {
		data = data[len(data)-max:]
	}
	return fmt.Sprintf("--- end of %s ---\n%s", p.log, data)
}
