package faults

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// controllerProcess runs the real catalog-controller binary, so that it can
// be killed with SIGKILL like a crashing pod, and keeps all it logged.
type controllerProcess struct {
	bin, kubeconfig string
	args            []string

	mu   sync.Mutex
	cmd  *exec.Cmd
	logs lockedBuffer
	runs int
}

// lockedBuffer collects stdout and stderr, which exec copies from two
// goroutines.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func buildController(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), "catalog-controller")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/catalog-controller")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building catalog-controller: %v\n%s", err, out)
	}
	return bin
}

func (c *controllerProcess) start() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	cmd := exec.Command(c.bin, c.args...)
	cmd.Env = append(os.Environ(), "KUBECONFIG="+c.kubeconfig)
	fmt.Fprintf(&c.logs, "---- start %d\n", c.runs)
	cmd.Stdout, cmd.Stderr = &c.logs, &c.logs
	if err := cmd.Start(); err != nil {
		return err
	}
	c.cmd = cmd
	c.runs++
	return nil
}

// kill sends SIGKILL: no graceful shutdown, no lease release, whatever was
// in flight is cut off.
func (c *controllerProcess) kill() {
	c.mu.Lock()
	cmd := c.cmd
	c.cmd = nil
	c.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Signal(syscall.SIGKILL)
	_ = cmd.Wait()
}

func (c *controllerProcess) output() string { return c.logs.String() }

func (c *controllerProcess) restartAfter(d time.Duration) error {
	c.kill()
	time.Sleep(d)
	return c.start()
}

// memory reads the controller's resident set and its peak (VmRSS, VmHWM),
// in bytes, from /proc.
func (c *controllerProcess) memory() (rss, peak int64, err error) {
	c.mu.Lock()
	cmd := c.cmd
	c.mu.Unlock()
	if cmd == nil {
		return 0, 0, fmt.Errorf("controller not running")
	}
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", cmd.Process.Pid))
	if err != nil {
		return 0, 0, err
	}
	for _, line := range strings.Split(string(data), "\n") {
		var kb int64
		if n, _ := fmt.Sscanf(line, "VmRSS: %d kB", &kb); n == 1 {
			rss = kb << 10
		}
		if n, _ := fmt.Sscanf(line, "VmHWM: %d kB", &kb); n == 1 {
			peak = kb << 10
		}
	}
	return rss, peak, nil
}
