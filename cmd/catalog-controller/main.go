// Command catalog-controller reconciles the servicecatalog.k8s.io kinds
// against Open Service Broker API brokers.
package main

import (
	"flag"
	"fmt"
	"os"

	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/svcat-io/svcat/internal/controllermanager"
)

func main() {
	opts := controllermanager.DefaultOptions()
	opts.BindFlags(flag.CommandLine)
	zopts := zap.Options{}
	zopts.BindFlags(flag.CommandLine)
	flag.Parse()
	ctrl.SetLogger(zap.New(zap.UseFlagOptions(&zopts)))

	cfg, err := ctrl.GetConfig()
	if err != nil {
		fmt.Fprintln(os.Stderr, "catalog-controller:", err)
		os.Exit(1)
	}
	mgr, err := controllermanager.NewManager(cfg, opts)
	if err != nil {
		fmt.Fprintln(os.Stderr, "catalog-controller:", err)
		os.Exit(1)
	}
	if err := mgr.Start(ctrl.SetupSignalHandler()); err != nil {
		fmt.Fprintln(os.Stderr, "catalog-controller:", err)
		os.Exit(1)
	}
}
