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
	"github.com/svcat-io/svcat/internal/version"
)

func main() {
	opts := controllermanager.DefaultOptions()
	opts.BindFlags(flag.CommandLine)
	zopts := zap.Options{}
	zopts.BindFlags(flag.CommandLine)
	flag.Parse()
	ctrl.SetLogger(zap.New(zap.UseFlagOptions(&zopts)))
	// First line of every start, so a log alone says which build ran.
	v := version.Get()
	ctrl.Log.Info("starting catalog-controller", "version", v.Version, "gitCommit", v.GitCommit, "goVersion", v.GoVersion)

	if limit, err := controllermanager.ApplyMemoryLimit(opts.MemoryLimitRatio); err != nil {
		ctrl.Log.Error(err, "reading the container's memory limit")
	} else if limit > 0 {
		ctrl.Log.Info("Go soft memory limit set from the container's", "bytes", limit, "ratio", opts.MemoryLimitRatio)
	}

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
