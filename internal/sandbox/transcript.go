package sandbox

import (
	"bytes"
	"sync"
)

// Transcript collects what a run prints (Options.Out) so that a caller,
// such as a test, can read it while the run's goroutines still write.
type Transcript struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (t *Transcript) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.b.Write(p)
}

func (t *Transcript) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.b.String()
}
