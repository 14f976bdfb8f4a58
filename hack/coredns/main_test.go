package main

import (
	"slices"
	"testing"

	"github.com/coredns/coredns/core/dnsserver"
)

func TestExecutionOrderKeepsUpstreamOrder(t *testing.T) {
	order, err := executionOrder(dnsserver.Directives, linked)
	if err != nil {
		t.Fatal(err)
	}
	// Upstream runs cache before kubernetes (cache answers first) and
	// errors and log before both.
	pos := func(d string) int { return slices.Index(order, d) }
	if !(pos("errors") < pos("cache") && pos("cache") < pos("kubernetes")) {
		t.Errorf("order = %v, want errors, then cache, then kubernetes", order)
	}
	if len(order) != len(linked) {
		t.Errorf("order has %d directives, want the %d linked ones: %v", len(order), len(linked), order)
	}
}

func TestExecutionOrderRefusesUnknownDirectives(t *testing.T) {
	if _, err := executionOrder([]string{"errors", "cache"}, []string{"cache", "no-such-plugin"}); err == nil {
		t.Error("a directive missing upstream was accepted")
	}
}
