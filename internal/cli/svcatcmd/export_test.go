package svcatcmd

import (
	"testing"

	"github.com/svcat-io/svcat/internal/version"
)

// SetClientBuildInfo fixes what `svcat version` says about the client for
// the rest of the test, so golden files do not depend on the toolchain or
// the commit the test binary was built from.
func SetClientBuildInfo(t testing.TB, i version.Info) {
	old := buildInfo
	buildInfo = func() version.Info { return i }
	t.Cleanup(func() { buildInfo = old })
}
