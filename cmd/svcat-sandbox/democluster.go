package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/svcat-io/svcat/internal/sandbox"
)

// helmVersion is the Helm CLI `make helm` builds into bin/helm-<version>.
const helmVersion = "v4.3.2"

// demoCluster is `make demo-cluster`: the seed's walkthrough with
// everything in pods on a real cluster, checked step by step.
func demoCluster(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("svcat-sandbox demo-cluster", flag.ContinueOnError)
	fs.SetOutput(stderr)
	binDir := "bin"
	if exe, err := os.Executable(); err == nil {
		binDir = filepath.Dir(exe)
	}
	kubeconfig := fs.String("kubeconfig", os.Getenv("KUBECONFIG"), "admin kubeconfig of a running cluster (default $KUBECONFIG; make cluster prints it)")
	kubectl := fs.String("kubectl", "", "kubectl to run (default: from PATH)")
	helm := fs.String("helm", filepath.Join(binDir, "helm-"+helmVersion), "helm binary (make helm builds it)")
	install := fs.String("install", "helm", "how to install svcat: helm (charts/svcat) or kustomize (config/default)")
	timeout := fs.Duration("step-timeout", 3*time.Minute, "how long each step may wait")
	var im sandbox.Images
	fs.StringVar(&im.Controller, "controller-image", defaultImages.Controller, "catalog-controller image, as the node has it")
	fs.StringVar(&im.Broker, "broker-image", defaultImages.Broker, "kafka-broker image")
	fs.StringVar(&im.Producer, "producer-image", defaultImages.Producer, "demo-kafka-producer image")
	fs.StringVar(&im.Consumer, "consumer-image", defaultImages.Consumer, "demo-kafka-consumer image")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	t0 := time.Now()
	c, err := sandbox.NewCluster(ctx, sandbox.ClusterOptions{
		Out: stdout, Kubeconfig: *kubeconfig, Kubectl: *kubectl, Helm: *helm,
		Install: *install, Images: im, StepTimeout: *timeout,
	})
	if err != nil {
		fmt.Fprintln(stderr, "svcat-sandbox:", err)
		return 1
	}
	defer c.Close()
	fmt.Fprintf(stdout, "# the cluster's node is at %s; NodePorts are reached there\n", c.NodeIP)
	err = c.Run(ctx)
	fmt.Fprintf(stdout, "\n# times:\n")
	for _, st := range c.Times {
		fmt.Fprintf(stdout, "#   %-50s %s\n", st.Step, st.Took.Round(100*time.Millisecond))
	}
	if err != nil {
		var se *sandbox.StepError
		if errors.As(err, &se) {
			fmt.Fprintf(stderr, "\nsvcat-sandbox: the walkthrough in pods stopped at %q: %v\n", se.Step, se.Err)
		} else {
			fmt.Fprintf(stderr, "\nsvcat-sandbox: %v\n", err)
		}
		return 1
	}
	fmt.Fprintf(stdout, "\nEvery step did in pods what the seed shows (%s).\n", time.Since(t0).Round(time.Second))
	return 0
}

// defaultImages are the names make images gives the images it loads into
// the cluster's node.
var defaultImages = sandbox.Images{
	Controller: "svcat.local/catalog-controller:dev",
	Broker:     "svcat.local/kafka-broker:dev",
	Producer:   "svcat.local/demo-kafka-producer:dev",
	Consumer:   "svcat.local/demo-kafka-consumer:dev",
}
