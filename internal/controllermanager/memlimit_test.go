package controllermanager

import (
	"io/fs"
	"testing"
)

func TestMemoryLimit(t *testing.T) {
	files := func(m map[string]string) func(string) ([]byte, error) {
		return func(name string) ([]byte, error) {
			if v, ok := m[name]; ok {
				return []byte(v), nil
			}
			return nil, fs.ErrNotExist
		}
	}
	noEnv := func(string) string { return "" }
	for _, tc := range []struct {
		name  string
		ratio float64
		env   func(string) string
		files map[string]string
		want  int64
	}{
		{"cgroup v2 limit", 0.9, noEnv, map[string]string{"/sys/fs/cgroup/memory.max": "268435456\n"}, 241591910},
		{"cgroup v2 unlimited", 0.9, noEnv, map[string]string{"/sys/fs/cgroup/memory.max": "max\n"}, 0},
		{"cgroup v1 limit", 0.5, noEnv, map[string]string{"/sys/fs/cgroup/memory/memory.limit_in_bytes": "1000"}, 500},
		{"cgroup v1 unlimited", 0.9, noEnv, map[string]string{"/sys/fs/cgroup/memory/memory.limit_in_bytes": "9223372036854771712"}, 0},
		{"no cgroup", 0.9, noEnv, nil, 0},
		{"GOMEMLIMIT set", 0.9, func(k string) string {
			if k == "GOMEMLIMIT" {
				return "100MiB"
			}
			return ""
		}, map[string]string{"/sys/fs/cgroup/memory.max": "268435456"}, 0},
		{"turned off", 0, noEnv, map[string]string{"/sys/fs/cgroup/memory.max": "268435456"}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := MemoryLimit(tc.ratio, tc.env, files(tc.files))
			if err != nil || got != tc.want {
				t.Errorf("got %d, %v; want %d", got, err, tc.want)
			}
		})
	}
}
