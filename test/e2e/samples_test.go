package e2e

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// The walkthrough applies config/samples/kafka, and promises that these are
// the seed's manifests verbatim.
func TestSamplesAreTheSeedsManifests(t *testing.T) {
	for _, name := range []string{"cluster-service-broker.yml", "service-instance.yml", "service-binding.yml"} {
		seed, err := os.ReadFile(filepath.Join("..", "testdata", "seed", name))
		if err != nil {
			t.Fatal(err)
		}
		sample, err := os.ReadFile(filepath.Join("..", "..", "config", "samples", "kafka", name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(seed, sample) {
			t.Errorf("config/samples/kafka/%s differs from test/testdata/seed/%s", name, name)
		}
	}
}
