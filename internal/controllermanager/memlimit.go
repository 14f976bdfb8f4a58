package controllermanager

import (
	"errors"
	"io/fs"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
)

// cgroupMemoryFiles are where a container's memory limit is found: cgroup v2,
// then v1.
var cgroupMemoryFiles = []string{"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"}

// MemoryLimit is the Go runtime's soft memory limit the controller sets for
// itself: ratio of the container's memory limit, so the garbage collector
// works harder before the kernel's OOM killer would. Without it, the heap
// grows to twice the live data before a collection, and a controller whose
// live data is half its container's limit gets killed. It returns 0 when
// GOMEMLIMIT is set (the operator's choice wins), ratio is 0, or no limit is
// found.
func MemoryLimit(ratio float64, getenv func(string) string, readFile func(string) ([]byte, error)) (int64, error) {
	if ratio <= 0 || getenv("GOMEMLIMIT") != "" {
		return 0, nil
	}
	for _, f := range cgroupMemoryFiles {
		b, err := readFile(f)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return 0, err
		}
		v := strings.TrimSpace(string(b))
		if v == "max" {
			return 0, nil
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return 0, nil // not a number: not a limit this code understands
		}
		if n <= 0 || n >= 1<<60 { // cgroup v1 says "unlimited" with a huge number
			return 0, nil
		}
		return int64(float64(n) * ratio), nil
	}
	return 0, nil
}

// ApplyMemoryLimit sets the soft memory limit from the container's (see
// MemoryLimit) and returns it, 0 when none was set.
func ApplyMemoryLimit(ratio float64) (int64, error) {
	limit, err := MemoryLimit(ratio, os.Getenv, os.ReadFile)
	if err != nil || limit == 0 {
		return 0, err
	}
	debug.SetMemoryLimit(limit)
	return limit, nil
}
