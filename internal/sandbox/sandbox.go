// Package sandbox runs the seed's walkthrough on one machine: a real
// kube-apiserver and etcd with svcat's CRDs, the catalog-controller in
// process, the kafka-broker with its embedded Kafka serving the seed's
// catalog, and the sample producer and consumer as local processes. It is
// shared by cmd/svcat-sandbox (make demo, make sandbox) and the end-to-end
// test, so that what the test checks is what a newcomer runs.
package sandbox

import (
	"context"
	"crypto/rand"
	_ "embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/go-logr/logr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/svcat-io/svcat/internal/controllermanager"
	"github.com/svcat-io/svcat/internal/kafkabroker/catalog"
	"github.com/svcat-io/svcat/internal/kafkabroker/embedded"
	"github.com/svcat-io/svcat/internal/kafkabroker/server"
	"github.com/svcat-io/svcat/internal/localcluster"
)

// The seed's ClusterServiceBroker names this in-cluster address; the
// controller's development resolve option sends it to the local broker.
const (
	BrokerHost      = "cloudkarafka-service-broker-service.osb.svc.cluster.local"
	BrokerNamespace = "osb"
	BrokerSecret    = "cloudkarafka-service-broker-secret"
	BrokerUser      = "admin"
)

//go:embed cloudkarafka-catalog.yaml
var seedCatalog []byte

// App says how to start one of the sample applications.
type App struct {
	// Path and Args of the executable; Env is added to the environment.
	Path string
	Args []string
	Env  []string
}

// Options configure a sandbox.
type Options struct {
	// Out receives the transcript: each command and what it printed.
	Out io.Writer
	// Root is the repository checkout (manifests, CRDs, envtest binaries);
	// empty finds it above the working directory.
	Root string
	// Kubectl is "auto" (kubectl from PATH when there is one, else
	// kubectl's command tree in this process), "builtin" (the in-process
	// one), or a path to kubectl.
	Kubectl string
	// Producer and Consumer start the sample apps; a zero App looks for
	// demo-kafka-producer/-consumer next to this executable, then on PATH.
	Producer, Consumer App
	// StepTimeout bounds each wait of the walkthrough.
	StepTimeout time.Duration
}

// Sandbox is a running control plane, controller and broker.
type Sandbox struct {
	opts    Options
	root    string
	work    string // temporary directory: logs, bindings
	logFile *os.File

	Env        *localcluster.Env
	Kubeconfig string
	// client reads what the walkthrough waits for: Env.Client here, the
	// cluster's admin client in a cluster run.
	client client.Client
	// hooks change the steps a cluster run does differently.
	hooks hooks
	// The open section, when sections are timed.
	sectionTitle   string
	sectionT0      time.Time
	BrokerPassword string
	BrokerAddr     string
	broker         *server.Server
	kubectl        kubectl

	stopMu sync.Mutex
	stops  []func() // run in reverse order by Close
}

// Start brings everything up. Close it even when it fails: what started is
// stopped again.
func Start(ctx context.Context, opts Options) (_ *Sandbox, err error) {
	if opts.Out == nil {
		opts.Out = io.Discard
	}
	if opts.StepTimeout == 0 {
		opts.StepTimeout = 90 * time.Second
	}
	s := &Sandbox{opts: opts}
	defer func() {
		if err != nil {
			s.Close()
		}
	}()
	if s.root = opts.Root; s.root == "" {
		if s.root, err = findRoot(); err != nil {
			return nil, err
		}
	}
	if s.work, err = os.MkdirTemp("", "svcat-sandbox-"); err != nil {
		return nil, err
	}
	s.onStop(func() { _ = os.RemoveAll(s.work) })
	if s.logFile, err = os.Create(filepath.Join(s.work, "components.log")); err != nil {
		return nil, err
	}
	s.onStop(func() { _ = s.logFile.Close() })
	logger := slog.New(slog.NewTextHandler(s.logFile, &slog.HandlerOptions{Level: slog.LevelInfo}))
	// The controller logs through controller-runtime; its lines go to the
	// components log so that the transcript shows only the walkthrough.
	ctrllog.SetLogger(logr.FromSlogHandler(logger.Handler()))

	s.printf("# starting kube-apiserver and etcd (from bin/envtest), with svcat's CRDs\n")
	t0 := time.Now()
	if s.Env, err = localcluster.Start(); err != nil {
		return nil, err
	}
	s.onStop(func() { _ = s.Env.Stop() })
	s.client = s.Env.Client
	s.Kubeconfig = filepath.Join(s.work, "kubeconfig")
	// localcluster removes its kubeconfig when stopped; a copy in the work
	// directory keeps the path printed by `make sandbox` stable.
	if err := copyFile(s.Env.Kubeconfig, s.Kubeconfig); err != nil {
		return nil, err
	}
	s.printf("#   up in %s\n", time.Since(t0).Round(100*time.Millisecond))

	if s.kubectl, err = newKubectl(opts.Kubectl, s.Kubeconfig, s.root, s.kubectlCache()); err != nil {
		return nil, err
	}

	s.printf("# starting the kafka-broker with its embedded Kafka, serving the seed's catalog\n")
	if err := s.startBroker(ctx, logger.With("component", "kafka-broker")); err != nil {
		return nil, err
	}
	s.printf("#   OSB API on http://%s, Kafka on %s\n", s.BrokerAddr, strings.Join(s.broker.Cluster().Addrs(), ","))

	s.printf("# starting the catalog-controller with --dev-resolve=%s:80:%s\n", BrokerHost, s.BrokerAddr)
	if err := s.startController(); err != nil {
		return nil, err
	}
	s.printf("#   logs of the controller and the broker: %s\n", s.logFile.Name())
	return s, nil
}

func (s *Sandbox) startBroker(ctx context.Context, log *slog.Logger) error {
	cat, err := catalog.Parse(seedCatalog)
	if err != nil {
		return err
	}
	s.BrokerPassword = randomHex(16)
	srv, err := server.New(ctx, server.Config{
		Username: BrokerUser,
		Password: s.BrokerPassword,
		Catalog:  cat,
		// The kafka-broker command's default, so that names look as they
		// would in a cluster.
		TopicPrefixBase: "svcat-",
		// Port 0: several sandboxes (or a sandbox and a test) can run on
		// one machine.
		Embedded: &embedded.Config{Port: 0, ListenHost: "127.0.0.1"},
		Logger:   log,
	})
	if err != nil {
		return fmt.Errorf("starting the kafka-broker: %w", err)
	}
	s.broker = srv
	s.onStop(srv.Close)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	s.BrokerAddr = ln.Addr().String()
	sctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Serve(sctx, ln, nil); err != nil {
			log.Error("serving the OSB API", slog.Any("err", err))
		}
	}()
	s.onStop(func() { cancel(); <-done })
	return nil
}

func (s *Sandbox) startController() error {
	opts := controllermanager.DefaultOptions()
	opts.MetricsAddr, opts.ProbeAddr = "0", "0"
	// A demo should notice a broker that came up late within seconds.
	opts.Controller.RetryMaxDelay = 2 * time.Second
	// This is --dev-resolve: the seed's manifest keeps its in-cluster URL
	// and the controller dials the local broker for that host and port.
	opts.Controller.Resolve = map[string]string{BrokerHost + ":80": s.BrokerAddr}
	// The sandbox's broker runs on 127.0.0.1; a production install refuses
	// loopback brokers.
	opts.Controller.RefuseLoopbackBrokerURLs = false
	mgr, err := controllermanager.NewManager(s.Env.Config, opts)
	if err != nil {
		return fmt.Errorf("building the catalog-controller: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- mgr.Start(ctx) }()
	s.onStop(func() {
		cancel()
		if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
			fmt.Fprintf(s.logFile, "catalog-controller: %v\n", err)
		}
	})
	return nil
}

// Broker is the running kafka-broker, for tests that look at its Kafka.
func (s *Sandbox) Broker() *server.Server { return s.broker }

// WorkDir is the sandbox's temporary directory, removed by Close.
func (s *Sandbox) WorkDir() string { return s.work }

// LogPath is the file holding the controller's, the broker's and the
// apps' logs; Close removes it.
func (s *Sandbox) LogPath() string { return s.logFile.Name() }

// kubectlCache is the in-process kubectl's discovery and HTTP cache: in the
// work directory, so that the caches of API servers on ports that never
// come back do not pile up in ~/.kube/cache.
func (s *Sandbox) kubectlCache() string { return filepath.Join(s.work, "kubectl-cache") }

// Root is the repository checkout the sandbox reads manifests from.
func (s *Sandbox) Root() string { return s.root }

func (s *Sandbox) onStop(f func()) {
	s.stopMu.Lock()
	defer s.stopMu.Unlock()
	s.stops = append(s.stops, f)
}

// Close stops everything in reverse order of starting: apps, controller,
// broker, control plane, then removes the work directory.
func (s *Sandbox) Close() {
	s.stopMu.Lock()
	stops := s.stops
	s.stops = nil
	s.stopMu.Unlock()
	for i := len(stops) - 1; i >= 0; i-- {
		stops[i]()
	}
}

func (s *Sandbox) printf(format string, args ...any) {
	fmt.Fprintf(s.opts.Out, format, args...)
}

func findRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "config", "samples", "kafka")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("cannot find the svcat checkout (with config/samples/kafka) above the working directory; run from the repository")
		}
		dir = parent
	}
}

func copyFile(from, to string) error {
	b, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	return os.WriteFile(to, b, 0o600)
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}
