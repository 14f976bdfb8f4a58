// Package localcluster gives integration tests a real kube-apiserver and etcd
// (controller-runtime's envtest) with svcat's CRDs installed, started once per
// test package:
//
//	func TestMain(m *testing.M) { localcluster.Main(m) }
//
//	func TestSomething(t *testing.T) {
//		env := localcluster.Get(t)
//		ns := env.Namespace(t)
//		...
//	}
package localcluster

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/wait"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	scv1beta1 "github.com/svcat-io/svcat/api/v1beta1"
)

// DefaultK8sVersion is the kube-apiserver version `make envtest` builds.
const DefaultK8sVersion = "v1.37.0"

// Env is a running control plane with the CRDs installed.
type Env struct {
	// Config reaches the API server as a cluster admin.
	Config *rest.Config
	// Client is a controller-runtime client (no cache) for core and svcat
	// kinds.
	Client client.Client
	// Scheme knows the core and svcat kinds.
	Scheme *runtime.Scheme
	// Kubeconfig is the path of a kubeconfig file for the admin user, for
	// running kubectl or svcat against this control plane.
	Kubeconfig string

	env *envtest.Environment
	dir string
}

var (
	shared     *Env
	startErr   error
	beforeStop []func()
)

// BeforeStop registers a function that Main runs after the tests and before
// it stops the control plane: stopping controllers first lets the API server
// shut down without waiting for their watches.
func BeforeStop(f func()) { beforeStop = append(beforeStop, f) }

// Main starts the control plane, runs the package's tests and stops it. Call
// it from TestMain. When SVCAT_SKIP_ENVTEST is set the control plane is not
// started and tests that call Get are skipped, so unit tests run anywhere.
func Main(m *testing.M) { MainWith(m, Options{}) }

// MainWith is Main with a control plane started with o.
func MainWith(m *testing.M, o Options) {
	if os.Getenv("SVCAT_SKIP_ENVTEST") == "" {
		shared, startErr = StartWith(o)
	}
	code := m.Run()
	for _, f := range beforeStop {
		f()
	}
	if shared != nil {
		if err := shared.Stop(); err != nil {
			fmt.Fprintf(os.Stderr, "localcluster: stopping control plane: %v\n", err)
		}
	}
	os.Exit(code)
}

// Get returns the package's control plane, failing the test when it could
// not start.
func Get(t testing.TB) *Env {
	t.Helper()
	if os.Getenv("SVCAT_SKIP_ENVTEST") != "" {
		t.Skip("SVCAT_SKIP_ENVTEST is set: skipping a test that needs kube-apiserver")
	}
	if startErr != nil {
		t.Fatalf("control plane did not start: %v", startErr)
	}
	if shared == nil {
		t.Fatal("localcluster.Get called without localcluster.Main in TestMain")
	}
	return shared
}

// Options change how the control plane is started; the zero value is
// envtest's defaults.
type Options struct {
	// APIServerArgs set kube-apiserver flags (name without "--"), replacing
	// envtest's value of the same flag: for tests that need the API server
	// to look like a cluster's, e.g. listening on every address.
	APIServerArgs map[string]string
}

// Start starts a control plane with the CRDs from config/crd/bases. Most
// tests use Main and Get instead; Start is for benchmarks and tools that
// manage the lifetime themselves.
func Start() (*Env, error) { return StartWith(Options{}) }

// StartWith is Start with o.
func StartWith(o Options) (*Env, error) {
	root, err := repoRoot()
	if err != nil {
		return nil, err
	}
	assets, err := assetsDir(root)
	if err != nil {
		return nil, err
	}
	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		return nil, err
	}
	if err := scv1beta1.AddToScheme(scheme); err != nil {
		return nil, err
	}
	te := &envtest.Environment{
		BinaryAssetsDirectory:    assets,
		CRDDirectoryPaths:        []string{filepath.Join(root, "config", "crd", "bases")},
		ErrorIfCRDPathMissing:    true,
		Scheme:                   scheme,
		ControlPlaneStartTimeout: 2 * time.Minute,
		ControlPlaneStopTimeout:  time.Minute,
	}
	for k, v := range o.APIServerArgs {
		te.ControlPlane.GetAPIServer().Configure().Set(k, v)
	}
	cfg, err := te.Start()
	if err != nil {
		return nil, fmt.Errorf("starting kube-apiserver and etcd from %s: %w", assets, err)
	}
	// Tests create objects in bursts; client-side throttling would only
	// make them slower, not more realistic.
	cfg.QPS, cfg.Burst = -1, -1
	e := &Env{Config: cfg, Scheme: scheme, env: te}
	if e.Client, err = client.New(cfg, client.Options{Scheme: scheme}); err != nil {
		_ = te.Stop()
		return nil, err
	}
	if err := e.writeKubeconfig(); err != nil {
		_ = te.Stop()
		return nil, err
	}
	return e, nil
}

func (e *Env) writeKubeconfig() error {
	user, err := e.env.ControlPlane.AddUser(envtest.User{Name: "svcat-test-admin", Groups: []string{"system:masters"}}, nil)
	if err != nil {
		return fmt.Errorf("adding an admin user: %w", err)
	}
	kc, err := user.KubeConfig()
	if err != nil {
		return err
	}
	if e.dir, err = os.MkdirTemp("", "svcat-cluster-"); err != nil {
		return err
	}
	e.Kubeconfig = filepath.Join(e.dir, "kubeconfig")
	return os.WriteFile(e.Kubeconfig, kc, 0o600)
}

// User returns a client config authenticated as a user with the given
// groups and no other rights, for RBAC tests with real users.
func (e *Env) User(name string, groups ...string) (*rest.Config, error) {
	u, err := e.env.ControlPlane.AddUser(envtest.User{Name: name, Groups: groups}, nil)
	if err != nil {
		return nil, err
	}
	cfg := u.Config()
	cfg.QPS, cfg.Burst = -1, -1
	return cfg, nil
}

// Stop stops the control plane and removes its files.
func (e *Env) Stop() error {
	err := e.env.Stop()
	if e.dir != "" {
		_ = os.RemoveAll(e.dir)
	}
	return err
}

// Namespace creates a namespace with a unique name for one test and deletes
// it when the test ends, so tests in a package do not see each other's
// objects.
func (e *Env) Namespace(t testing.TB) string {
	t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: namespacePrefix(t.Name())}}
	if err := e.Client.Create(context.Background(), ns); err != nil {
		t.Fatalf("creating namespace: %v", err)
	}
	t.Cleanup(func() { _ = e.Client.Delete(context.Background(), ns) })
	return ns.Name
}

func namespacePrefix(testName string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(testName) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
		default:
			b.WriteRune('-')
		}
		if b.Len() >= 40 {
			break
		}
	}
	return strings.Trim(b.String(), "-") + "-"
}

// repoRoot finds the module root from the working directory, which go test
// sets to the package's directory.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			if _, err := os.Stat(filepath.Join(dir, "config", "crd", "bases")); err == nil {
				return dir, nil
			}
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("cannot find the svcat repository root (with config/crd/bases) above the working directory")
		}
		dir = parent
	}
}

func assetsDir(root string) (string, error) {
	dir := os.Getenv("KUBEBUILDER_ASSETS")
	if dir == "" {
		dir = filepath.Join(root, "bin", "envtest", DefaultK8sVersion)
	}
	for _, name := range []string{"kube-apiserver", "etcd"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			return "", fmt.Errorf("%s not found in %s: run 'make envtest' to build it from source", name, dir)
		}
	}
	return dir, nil
}

// Eventually polls check every 50 ms until it returns nil, and fails the
// test with check's last error when timeout passes first.
func Eventually(t testing.TB, timeout time.Duration, what string, check func() error) {
	t.Helper()
	EventuallyEvery(t, timeout, 50*time.Millisecond, what, check)
}

// EventuallyEvery is Eventually polling every interval.
func EventuallyEvery(t testing.TB, timeout, interval time.Duration, what string, check func() error) {
	t.Helper()
	var err error
	if wait.PollUntilContextTimeout(context.Background(), interval, timeout, true, func(context.Context) (bool, error) {
		err = check()
		return err == nil, nil
	}) != nil {
		t.Fatalf("%s: still not true after %v: %v", what, timeout, err)
	}
}
