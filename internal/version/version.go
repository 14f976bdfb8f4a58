// Package version says which build of svcat is running. The svcat CLI
// prints it and the catalog-controller publishes it, so that a person can
// tell which client talks to which controller.
package version

import (
	"runtime"
	"runtime/debug"
)

// Version is the release, set at build time with
//
//	-ldflags "-X github.com/svcat-io/svcat/internal/version.Version=v1.2.3"
//
// It stays a plain string variable initialised with a constant: -X can set
// nothing else.
var Version = "dev"

// Info is what a binary knows about its own build.
type Info struct {
	// Version is Version, or the module version the Go toolchain recorded
	// when Version was not set (a binary built with go install ...@v1.2.3).
	Version string `json:"version"`
	// GitCommit is the VCS revision the toolchain stamped, with "-dirty"
	// when the work tree had changes; empty when unknown (go test, or
	// -buildvcs=false).
	GitCommit string `json:"gitCommit,omitempty"`
	GoVersion string `json:"goVersion"`
}

// Get returns this binary's build information.
func Get() Info {
	info, ok := debug.ReadBuildInfo()
	return fromBuildInfo(Version, info, ok)
}

// fromBuildInfo is Get without the globals, for tests.
func fromBuildInfo(v string, bi *debug.BuildInfo, ok bool) Info {
	i := Info{Version: v, GoVersion: runtime.Version()}
	if !ok || bi == nil {
		return i
	}
	if bi.GoVersion != "" {
		i.GoVersion = bi.GoVersion
	}
	// "(devel)" is what the toolchain records for a plain go build without
	// VCS information; it says less than "dev".
	if v == "dev" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		i.Version = bi.Main.Version
	}
	var dirty bool
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			i.GitCommit = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if dirty && i.GitCommit != "" {
		i.GitCommit += "-dirty"
	}
	return i
}

// ShortCommit is GitCommit cut to 12 characters, the length people quote,
// keeping a "-dirty" suffix.
func (i Info) ShortCommit() string {
	c, suffix := i.GitCommit, ""
	if len(c) > 6 && c[len(c)-6:] == "-dirty" {
		c, suffix = c[:len(c)-6], "-dirty"
	}
	if len(c) > 12 {
		c = c[:12]
	}
	return c + suffix
}
