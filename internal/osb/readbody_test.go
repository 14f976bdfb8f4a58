package osb

import (
	"runtime"
	"strings"
	"testing"
)

// A broker that announces a large body and sends little must not make the
// client allocate what it announced: with twenty such requests in flight
// (a hanging broker), announced sizes would add up to hundreds of MiB.
func TestReadBodyAllocatesWhatArrives(t *testing.T) {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	body, err := readBody(strings.NewReader(`{"services":[]}`), DefaultMaxResponseBytes, DefaultMaxResponseBytes, nil, nil)
	runtime.ReadMemStats(&after)
	if err != nil || string(body) != `{"services":[]}` {
		t.Fatalf("readBody = %q, %v", body, err)
	}
	if n := after.TotalAlloc - before.TotalAlloc; n > 1<<20 {
		t.Errorf("reading 15 bytes announced as %d allocated %d bytes", DefaultMaxResponseBytes, n)
	}
}
