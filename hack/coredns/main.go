// Command coredns is CoreDNS with only the plugins the one-node cluster's
// Corefile uses (internal/localcluster writes it). The stock build links every
// plugin (cloud DNS providers, etcd, geoip, ...) and takes about 11 minutes
// cold on our 2 cores; this one needs a fraction of that, and with
// CGO_ENABLED=0 it is static, so its image needs no libc.
package main

import (
	"fmt"
	"os"
	"slices"

	"github.com/coredns/coredns/core/dnsserver"
	"github.com/coredns/coredns/coremain"

	// The plugins the Corefile may name. Each registers its directive in init.
	_ "github.com/coredns/coredns/plugin/cache"
	_ "github.com/coredns/coredns/plugin/errors"
	_ "github.com/coredns/coredns/plugin/health"
	_ "github.com/coredns/coredns/plugin/kubernetes"
	_ "github.com/coredns/coredns/plugin/loadbalance"
	_ "github.com/coredns/coredns/plugin/log"
	_ "github.com/coredns/coredns/plugin/loop"
	_ "github.com/coredns/coredns/plugin/ready"
	_ "github.com/coredns/coredns/plugin/reload"
)

// linked names the directives of the plugins imported above. It must match
// the imports: a name here that is not linked makes Caddy refuse a Corefile
// using it, and a linked plugin missing here is never run.
var linked = []string{"cache", "errors", "health", "kubernetes", "loadbalance", "log", "loop", "ready", "reload"}

func main() {
	order, err := executionOrder(dnsserver.Directives, linked)
	if err != nil {
		fmt.Fprintln(os.Stderr, "coredns:", err)
		os.Exit(2)
	}
	if err := dnsserver.SetDirectives(order); err != nil {
		fmt.Fprintln(os.Stderr, "coredns:", err)
		os.Exit(2)
	}
	coremain.Run()
}

// executionOrder keeps upstream's execution order (the order matters: each
// plugin sees only what the ones after it answer) and drops the directives of
// plugins this binary does not link, so the order is never written by hand.
func executionOrder(upstream, keep []string) ([]string, error) {
	var order []string
	for _, d := range upstream {
		if slices.Contains(keep, d) {
			order = append(order, d)
		}
	}
	if len(order) != len(keep) {
		return nil, fmt.Errorf("directives %v are not all in upstream's list %v", keep, upstream)
	}
	return order, nil
}
