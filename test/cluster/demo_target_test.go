package cluster

import (
	"os"
	"testing"
)

// demoCluster is the cluster the seed's tests run on. Until the package's
// shared cluster is wired in, a running cluster's kubeconfig and folder
// come from the environment.
func demoCluster(t *testing.T) demoTarget {
	t.Helper()
	kc := os.Getenv("SVCAT_DEMO_KUBECONFIG")
	if kc == "" {
		t.Skip("SVCAT_DEMO_KUBECONFIG is not set")
	}
	return demoTarget{Kubeconfig: kc, Dir: os.Getenv("SVCAT_CLUSTER_DIR")}
}
