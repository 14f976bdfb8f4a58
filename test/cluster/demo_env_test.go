package cluster

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/svcat-io/svcat/internal/sandbox"
)

// demoTarget is the running cluster the seed's tests install into.
type demoTarget struct {
	// Kubeconfig is an admin kubeconfig.
	Kubeconfig string
	// Dir is the cluster's folder (the kubelet's pods are under
	// Dir/kubelet), empty when unknown.
	Dir string
}

// repoRoot is the checkout this test runs in.
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// newDemo prepares a seed run on the shared cluster, installing with
// install ("helm" or "kustomize"). The transcript is logged when the test
// fails, and a failed test resets the cluster for the next one.
func newDemo(t *testing.T, install string, helmSet ...string) (*sandbox.Cluster, *sandbox.Transcript) {
	t.Helper()
	target := demoCluster(t)
	root := repoRoot(t)
	helm := filepath.Join(root, "bin", "helm-v4.3.2")
	if _, err := os.Stat(helm); err != nil {
		t.Fatalf("%v: make helm builds it (make test does)", err)
	}
	im, err := sandbox.DefaultImages(root)
	if err != nil {
		t.Fatal(err)
	}
	out := &sandbox.Transcript{}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c, err := sandbox.NewCluster(ctx, sandbox.ClusterOptions{
		Out: out, Root: root, Kubeconfig: target.Kubeconfig,
		Helm:    helm,
		Install: install, HelmSet: helmSet, Images: im,
		StepTimeout: 3 * time.Minute,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
			defer cancel()
			c.Diagnose(ctx)
			c.Reset(ctx)
			t.Logf("transcript:\n%s", out.String())
		}
		c.Close()
	})
	return c, out
}
