// Package cluster tests the one-node Kubernetes cluster (make cluster) and,
// on it, what runs in pods. TestMain brings one cluster up for the whole
// package and tears it down after the last test, then checks that the
// machine is as it was before; tests get the cluster with Cluster(t).
//
// It needs Linux and root; otherwise, or with SVCAT_SKIP_CLUSTER=1, every
// test is skipped with the reason. With SVCAT_CLUSTER_REUSE=1 the tests use
// the cluster `make cluster` left running and leave it running.
package cluster

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/svcat-io/svcat/internal/localcluster"
	"github.com/svcat-io/svcat/internal/ociimage"
)

// probeImage is the image of testdata/probe, which the test pods run.
const probeImage = "localhost/svcat/cluster-probe:test"

var (
	shared    *localcluster.Cluster
	skipWhy   string
	startErr  error
	imagesDir string
)

// Cluster returns the package's running cluster, skipping the test when the
// machine cannot run one and failing it when the cluster did not start.
func Cluster(t testing.TB) *localcluster.Cluster {
	t.Helper()
	if skipWhy != "" {
		t.Skip(skipWhy)
	}
	if startErr != nil {
		t.Fatalf("the cluster did not start: %v\n(SVCAT_CLUSTER_REUSE=1 runs these tests on the cluster `make cluster` left running)", startErr)
	}
	return shared
}

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	switch {
	case os.Getenv("SVCAT_SKIP_CLUSTER") == "1":
		skipWhy = "SVCAT_SKIP_CLUSTER=1: skipping the one-node cluster tests"
	case localcluster.NodeUnsupported() != "":
		skipWhy = "skipping the one-node cluster tests: " + localcluster.NodeUnsupported()
	}
	if skipWhy != "" {
		fmt.Fprintln(os.Stderr, "test/cluster:", skipWhy)
		return m.Run()
	}
	var err error
	if imagesDir, err = os.MkdirTemp("", "svcat-cluster-test-"); err != nil {
		fmt.Fprintln(os.Stderr, "test/cluster:", err)
		return 1
	}
	defer os.RemoveAll(imagesDir)
	probe, err := buildProbeImage(imagesDir)
	if err != nil {
		fmt.Fprintln(os.Stderr, "test/cluster: building the probe image:", err)
		return 1
	}
	if os.Getenv("SVCAT_CLUSTER_REUSE") == "1" {
		if shared, startErr = localcluster.OpenNode(localcluster.NodeOptions{}); startErr == nil {
			startErr = shared.LoadImage(probe)
		}
		return m.Run()
	}
	unlock, err := machineLock()
	if err != nil {
		fmt.Fprintln(os.Stderr, "test/cluster:", err)
		return 1
	}
	defer unlock()

	dir := os.Getenv("SVCAT_CLUSTER_DIR")
	if dir == "" {
		dir = localcluster.DefaultNodeDir
	}
	before := localcluster.SnapshotMachine(dir)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	shared, startErr = localcluster.StartNode(ctx, localcluster.NodeOptions{Images: []string{probe}, Out: os.Stderr})
	cancel()
	code := m.Run()
	if shared == nil {
		return code
	}
	if err := shared.Stop(); err != nil {
		fmt.Fprintln(os.Stderr, "test/cluster: FAIL: tearing the cluster down:", err)
		return 1
	}
	// Tear-down must leave the machine as it was: a difference is a
	// failure of the package even when every test passed.
	if diff := before.Diff(localcluster.SnapshotMachine(dir)); len(diff) > 0 {
		fmt.Fprintln(os.Stderr, "test/cluster: FAIL: the cluster's tear-down left the machine changed:")
		for _, d := range diff {
			fmt.Fprintln(os.Stderr, "  ", d)
		}
		return 1
	}
	if _, err := os.Stat(dir); err == nil {
		fmt.Fprintf(os.Stderr, "test/cluster: FAIL: the cluster's folder %s is still there after tear-down\n", dir)
		return 1
	}
	fmt.Fprintln(os.Stderr, "test/cluster: tear-down left nothing behind (processes, interfaces, iptables, mounts, cgroups, files)")
	return code
}

// machineLock takes the machine-wide lock that serialises every up..down
// on this machine (people wrap `make cluster ... make cluster-down` in
// `flock /tmp/svcat-cluster.lock`), waiting for a running one to finish.
// SVCAT_CLUSTER_LOCKED=1 says the caller already holds it.
func machineLock() (func(), error) {
	if os.Getenv("SVCAT_CLUSTER_LOCKED") == "1" {
		return func() {}, nil
	}
	f, err := os.OpenFile("/tmp/svcat-cluster.lock", os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	if syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) != nil {
		fmt.Fprintln(os.Stderr, "test/cluster: another cluster runs on this machine (/tmp/svcat-cluster.lock is held); waiting for it...")
		if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
			f.Close()
			return nil, err
		}
	}
	return func() { f.Close() }, nil
}

// buildProbeImage builds testdata/probe statically and writes its image.
func buildProbeImage(dir string) (string, error) {
	bin := filepath.Join(dir, "probe")
	cmd := exec.Command("go", "build", "-trimpath", "-o", bin, "./testdata/probe")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build: %v: %s", err, out)
	}
	img, err := ociimage.Build(ociimage.Spec{Binary: bin})
	if err != nil {
		return "", err
	}
	archive := filepath.Join(dir, "probe.tar")
	return archive, ociimage.WriteArchive(archive, img, probeImage)
}
