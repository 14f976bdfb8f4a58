// Command svcat is the Service Catalog command line. Installed as
// kubectl-svcat it is also the kubectl plugin "kubectl svcat".
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/svcat-io/svcat/internal/cli/svcatcmd"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := svcatcmd.Run(ctx, genericiooptions.IOStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr}, os.Args[0], os.Args[1:])
	stop()
	os.Exit(code)
}
