// Package faults runs a randomized workload against a real API server, a
// catalog-controller process that is killed and restarted, and a scripted
// broker that fails on purpose, then proves that nothing was lost: no orphan
// at the broker, no double provision, every Ready binding's Secret holds the
// credentials the broker last issued, every Ready instance has at the broker
// its spec's plan and parameters (parameter Secrets' values included) and,
// upgrading automatically, the catalog's maintenance version, every deleted
// object is gone at the broker, and no credential ever reached a log line or
// an event.
//
// make test runs it small; make test-faults runs the full size:
//
//	SVCAT_FAULT_OPS=1000 SVCAT_FAULT_KILLS=10 SVCAT_FAULT_OUTAGES=2 SVCAT_FAULT_OUTAGE=10s
//
// SVCAT_FAULT_SEED replays a run; every run prints its seed.
package faults

import (
	"testing"

	"github.com/svcat-io/svcat/internal/localcluster"
)

func TestMain(m *testing.M) { localcluster.Main(m) }
