package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/svcat-io/svcat/internal/localcluster"
)

// demoTarget is the cluster a demo-cluster run uses, and whether the run
// started it (then it stops it too).
type demoTarget struct {
	kubeconfig string
	node       *localcluster.Cluster
	started    bool
	up         time.Duration
	unlock     func()
}

// machineLock is the lock every up..down on this machine holds (test/cluster
// takes it too): a run must not install into a cluster a test package is
// using, nor start one beside it. SVCAT_CLUSTER_LOCKED=1 says the caller
// holds it already (flock /tmp/svcat-cluster.lock ...).
const machineLock = "/tmp/svcat-cluster.lock"

func lockMachine(out io.Writer) (func(), error) {
	if os.Getenv("SVCAT_CLUSTER_LOCKED") == "1" {
		return func() {}, nil
	}
	f, err := os.OpenFile(machineLock, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	if syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) != nil {
		fmt.Fprintf(out, "# another cluster run holds %s (a test package, or another demo); waiting for it...\n", machineLock)
		if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
			f.Close()
			return nil, err
		}
	}
	return func() { f.Close() }, nil
}

// clusterFor picks the cluster: the one kubeconfig names (it must have the
// images), else the one-node cluster `make cluster` left running, with the
// freshly built images loaded, else a new one-node cluster with them.
func clusterFor(ctx context.Context, kubeconfig string, images []string, out io.Writer) (*demoTarget, error) {
	if kubeconfig != "" {
		fmt.Fprintf(out, "# using the cluster of %s; its node must have the images\n", kubeconfig)
		return &demoTarget{kubeconfig: kubeconfig}, nil
	}
	if why := localcluster.NodeUnsupported(); why != "" {
		return nil, fmt.Errorf("%s; or pass --kubeconfig of a cluster that has the images", why)
	}
	unlock, err := lockMachine(out)
	if err != nil {
		return nil, err
	}
	if node, err := localcluster.OpenNode(localcluster.NodeOptions{Out: out}); err == nil {
		fmt.Fprintf(out, "# using the running one-node cluster (%s); loading the images into its node\n", node.Dir)
		t0 := time.Now()
		for _, img := range images {
			if err := node.LoadImage(img); err != nil {
				unlock()
				return nil, err
			}
		}
		fmt.Fprintf(out, "#   loaded %d images in %s\n", len(images), time.Since(t0).Round(100*time.Millisecond))
		return &demoTarget{kubeconfig: node.Kubeconfig, node: node, unlock: unlock}, nil
	}
	// Not running (or broken: StartNode then refuses over the leftovers
	// and says so).
	fmt.Fprintf(out, "# starting a one-node cluster with the images %s (make cluster keeps one running between runs)\n", names(images))
	t0 := time.Now()
	node, err := localcluster.StartNode(ctx, localcluster.NodeOptions{Images: images, Out: out})
	if err != nil {
		unlock()
		return nil, err
	}
	return &demoTarget{kubeconfig: node.Kubeconfig, node: node, started: true, up: time.Since(t0), unlock: unlock}, nil
}

// stop tears down a cluster this run started, and lets the next run go.
func (t *demoTarget) stop(out io.Writer) {
	if t.unlock != nil {
		defer t.unlock()
	}
	if !t.started {
		return
	}
	fmt.Fprintf(out, "\n# tearing down the one-node cluster this run started\n")
	t0 := time.Now()
	if err := t.node.Stop(); err != nil {
		fmt.Fprintf(out, "# tear-down: %v (make cluster-down retries it)\n", err)
		return
	}
	fmt.Fprintf(out, "#   down in %s\n", time.Since(t0).Round(100*time.Millisecond))
}

func names(paths []string) string {
	s := ""
	for i, p := range paths {
		if i > 0 {
			s += ", "
		}
		s += filepath.Base(p)
	}
	return s
}
