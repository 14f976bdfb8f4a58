// Package testcontroller runs the real catalog-controller in a test process
// against a localcluster API server: the one way the integration tests start it.
package testcontroller

import (
	"context"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/go-logr/logr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/svcat-io/svcat/internal/controllermanager"
	"github.com/svcat-io/svcat/internal/localcluster"
)

// Options are the controller's defaults without metrics or probe listeners
// (tests run several processes and packages at once), with fast retries so
// "broken, then fixed" tests stay short.
func Options() controllermanager.Options {
	o := controllermanager.DefaultOptions()
	o.MetricsAddr, o.ProbeAddr = "0", "0"
	o.Controller.RetryBaseDelay, o.Controller.RetryMaxDelay = 50*time.Millisecond, time.Second
	o.Controller.OSBTimeout = 5 * time.Second
	// The tests' brokers run on 127.0.0.1.
	o.Controller.RefuseLoopbackBrokerURLs = false
	// A test package may start the controller once per test, one after
	// the other, in one process.
	o.AllowSeveralInProcess = true
	return o
}

// SetLogger sends controller-runtime's log to stderr when SVCAT_TEST_LOGS
// is set, and nowhere otherwise.
func SetLogger() {
	if os.Getenv("SVCAT_TEST_LOGS") != "" {
		ctrl.SetLogger(zap.New(zap.UseDevMode(true)))
	} else {
		ctrl.SetLogger(logr.Discard())
	}
}

// Start runs a controller with o against env. stop ends it and returns once
// its watches are closed, with the manager's error, if any.
func Start(env *localcluster.Env, o controllermanager.Options) (stop func() error, err error) {
	mgr, err := controllermanager.NewManager(env.Config, o)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- mgr.Start(ctx) }()
	var result error
	stopped := false
	return func() error {
		if !stopped {
			stopped = true
			cancel()
			if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
				result = err
			}
		}
		return result
	}, nil
}

// StartForTest is Start for one test: the controller stops when the test
// ends (or when stop is called), and a manager error fails the test.
func StartForTest(t *testing.T, env *localcluster.Env, o controllermanager.Options) (stop func()) {
	t.Helper()
	s, err := Start(env, o)
	if err != nil {
		t.Fatalf("building the controller manager: %v", err)
	}
	stop = func() {
		if err := s(); err != nil {
			t.Errorf("controller manager: %v", err)
		}
	}
	t.Cleanup(stop)
	return stop
}

// StartShared starts one controller for a whole test package, with the
// package's logger; it stops before the API server does, or the server
// would wait for the controller's watches to close.
func StartShared(env *localcluster.Env, o controllermanager.Options) {
	SetLogger()
	stop, err := Start(env, o)
	if err != nil {
		panic(err)
	}
	localcluster.BeforeStop(func() {
		if err := stop(); err != nil {
			panic(err)
		}
	})
}
