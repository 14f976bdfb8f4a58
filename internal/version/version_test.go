package version

import (
	"runtime"
	"runtime/debug"
	"testing"
)

func TestFromBuildInfo(t *testing.T) {
	const rev = "0123456789abcdef0123456789abcdef01234567"
	vcs := func(modified string) []debug.BuildSetting {
		return []debug.BuildSetting{{Key: "vcs", Value: "git"}, {Key: "vcs.revision", Value: rev}, {Key: "vcs.modified", Value: modified}}
	}
	tests := []struct {
		name    string
		version string
		bi      *debug.BuildInfo
		ok      bool
		want    Info
		short   string
	}{
		{"no build info", "dev", nil, false, Info{Version: "dev", GoVersion: runtime.Version()}, ""},
		{"set with -X", "v1.2.3", &debug.BuildInfo{GoVersion: "go1.26.1", Main: debug.Module{Version: "v0.0.0-x"}, Settings: vcs("false")}, true,
			Info{Version: "v1.2.3", GitCommit: rev, GoVersion: "go1.26.1"}, rev[:12]},
		{"go install @version", "dev", &debug.BuildInfo{GoVersion: "go1.26.1", Main: debug.Module{Version: "v1.2.4"}}, true,
			Info{Version: "v1.2.4", GoVersion: "go1.26.1"}, ""},
		{"devel build with changes", "dev", &debug.BuildInfo{GoVersion: "go1.26.1", Main: debug.Module{Version: "(devel)"}, Settings: vcs("true")}, true,
			Info{Version: "dev", GitCommit: rev + "-dirty", GoVersion: "go1.26.1"}, rev[:12] + "-dirty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := fromBuildInfo(tt.version, tt.bi, tt.ok)
			if got != tt.want {
				t.Errorf("fromBuildInfo = %+v, want %+v", got, tt.want)
			}
			if s := got.ShortCommit(); s != tt.short {
				t.Errorf("ShortCommit = %q, want %q", s, tt.short)
			}
		})
	}
}

// Get reads the running test binary's build information; whatever the
// toolchain recorded, the Go version is never empty.
func TestGet(t *testing.T) {
	if got := Get(); got.Version == "" || got.GoVersion == "" {
		t.Errorf("Get() = %+v", got)
	}
}
