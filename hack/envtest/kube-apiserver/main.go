// Command kube-apiserver builds the real Kubernetes API server from the
// module proxy so integration tests can run against it (envtest), since
// prebuilt binaries cannot be downloaded on our build machines.
package main

import (
	"os"

	"k8s.io/component-base/cli"
	"k8s.io/kubernetes/cmd/kube-apiserver/app"
)

func main() {
	os.Exit(cli.Run(app.NewAPIServerCommand()))
}
