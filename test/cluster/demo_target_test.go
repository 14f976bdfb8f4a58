package cluster

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// The images the seed's tests run, written by hack/images (what make
// images runs) from this checkout and loaded into the package's node once.
var (
	demoImagesOnce sync.Once
	demoImagesErr  error
	demoImageNames = []string{"catalog-controller", "kafka-broker", "demo-kafka-producer", "demo-kafka-consumer"}
)

// demoCluster is the package's cluster with the demo images loaded.
func demoCluster(t *testing.T) demoTarget {
	t.Helper()
	c := Cluster(t)
	demoImagesOnce.Do(func() {
		dir := filepath.Join(imagesDir, "demo")
		t0 := time.Now()
		fmt.Fprintf(os.Stderr, "test/cluster: writing and loading the images %s (about a minute with a cold build cache)...\n", strings.Join(demoImageNames, ", "))
		cmd := exec.Command("go", "run", "./hack/images", "-out", dir, "-only", strings.Join(demoImageNames, ","))
		cmd.Dir = repoRoot(t)
		if out, err := cmd.CombinedOutput(); err != nil {
			demoImagesErr = fmt.Errorf("hack/images: %v: %s", err, out)
			return
		}
		for _, n := range demoImageNames {
			if err := c.LoadImage(filepath.Join(dir, n+".tar")); err != nil {
				demoImagesErr = err
				return
			}
		}
		fmt.Fprintf(os.Stderr, "test/cluster:   done in %s\n", time.Since(t0).Round(100*time.Millisecond))
	})
	if demoImagesErr != nil {
		t.Fatalf("the demo images: %v", demoImagesErr)
	}
	return demoTarget{Kubeconfig: c.Kubeconfig, Dir: c.Dir}
}
