// Command kube-controller-manager builds the real controller manager from the
// module proxy for the one-node cluster (make cluster): no prebuilt binaries
// can be downloaded on our machines.
package main

import (
	"os"
	_ "time/tzdata" // CronJob time zones work without the host's zoneinfo

	"k8s.io/component-base/cli"
	_ "k8s.io/component-base/logs/json/register"
	_ "k8s.io/component-base/metrics/prometheus/clientgo"
	_ "k8s.io/component-base/metrics/prometheus/version"
	"k8s.io/kubernetes/cmd/kube-controller-manager/app"
)

func main() {
	os.Exit(cli.Run(app.NewControllerManagerCommand()))
}
