package main

import (
	"context"
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
	kubeconfig := fs.String("kubeconfig", "", "admin kubeconfig of another running cluster, which has the images (default: the one-node cluster make cluster left running, or one this run starts and stops)")
	kubectl := fs.String("kubectl", "", "kubectl to run (default: from PATH)")
	helm := fs.String("helm", filepath.Join(binDir, "helm-"+helmVersion), "helm binary (make helm builds it)")
	install := fs.String("install", "helm", "how to install svcat: helm (charts/svcat) or kustomize (config/default)")
	timeout := fs.Duration("step-timeout", 3*time.Minute, "how long each step may wait")
	var im sandbox.Images
	fs.StringVar(&im.Controller, "controller-image", "", "catalog-controller image, as the node has it (default: what make images writes)")
	fs.StringVar(&im.Broker, "broker-image", "", "kafka-broker image (default: what make images writes)")
	fs.StringVar(&im.Producer, "producer-image", "", "demo-kafka-producer image (default: what make images writes)")
	fs.StringVar(&im.Consumer, "consumer-image", "", "demo-kafka-consumer image (default: what make images writes)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	t0 := time.Now()
	if err := defaultImages(&im); err != nil {
		fmt.Fprintln(stderr, "svcat-sandbox:", err)
		return 1
	}
	target, err := clusterFor(ctx, *kubeconfig, sandbox.ImageArchives(binDir), stdout)
	if err != nil {
		fmt.Fprintln(stderr, "svcat-sandbox:", err)
		return 1
	}
	defer target.stop(stdout)
	c, err := sandbox.NewCluster(ctx, sandbox.ClusterOptions{
		Out: stdout, Kubeconfig: target.kubeconfig, Kubectl: *kubectl, Helm: *helm,
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
	if target.up > 0 {
		fmt.Fprintf(stdout, "#   %-50s %s\n", "bring the cluster up", target.up.Round(100*time.Millisecond))
	}
	for _, st := range c.Times {
		fmt.Fprintf(stdout, "#   %-50s %s\n", st.Step, st.Took.Round(100*time.Millisecond))
	}
	return report(stdout, stderr, err, "the walkthrough in pods", "Every step did in pods what the seed shows", t0)
}

// defaultImages fills in the images make images writes for this checkout.
func defaultImages(im *sandbox.Images) error {
	root, err := os.Getwd()
	if err != nil {
		return err
	}
	def, err := sandbox.DefaultImages(root)
	if err != nil {
		return fmt.Errorf("%w (run from the repository)", err)
	}
	for _, p := range []struct {
		v *string
		d string
	}{
		{&im.Controller, def.Controller}, {&im.Broker, def.Broker}, {&im.Producer, def.Producer}, {&im.Consumer, def.Consumer},
	} {
		if *p.v == "" {
			*p.v = p.d
		}
	}
	return nil
}
