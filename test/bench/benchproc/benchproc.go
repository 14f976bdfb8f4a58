// Package benchproc runs the catalog-controller binary in its own process
// for benchmarks, so the memory measured is the controller's alone, and
// reads its resident set from /proc.
package benchproc

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
)

// Controller is a running catalog-controller process.
type Controller struct {
	cmd  *exec.Cmd
	done chan struct{}
	err  error
}

// Start runs bin against the kubeconfig without leader election, metrics or
// probe listeners (several benchmarks may run on one machine), with extra
// flags and environment. Its log goes to stderr when BENCH_CONTROLLER_LOGS
// is set.
func Start(bin, kubeconfig string, extraArgs, extraEnv []string) (*Controller, error) {
	args := append([]string{"--leader-elect=false", "--metrics-bind-address=0", "--health-probe-bind-address=0", "--cluster-id=bench"}, extraArgs...)
	cmd := exec.Command(bin, args...)
	cmd.Env = append(append(os.Environ(), "KUBECONFIG="+kubeconfig), extraEnv...)
	if os.Getenv("BENCH_CONTROLLER_LOGS") != "" {
		cmd.Stderr = os.Stderr
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	c := &Controller{cmd: cmd, done: make(chan struct{})}
	go func() {
		c.err = cmd.Wait()
		close(c.done)
	}()
	return c, nil
}

// Exited reports whether the process ended, and how.
func (c *Controller) Exited() (bool, error) {
	select {
	case <-c.done:
		return true, c.err
	default:
		return false, nil
	}
}

// PeakRSS is the process's high-water resident set (VmHWM), in bytes; -1
// when it cannot be read.
func (c *Controller) PeakRSS() int64 { return c.status("VmHWM:") }

// RSS is the process's resident set now (VmRSS), in bytes.
func (c *Controller) RSS() int64 { return c.status("VmRSS:") }

func (c *Controller) status(field string) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", c.cmd.Process.Pid))
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) == 3 && f[0] == field {
			kb, err := strconv.ParseInt(f[1], 10, 64)
			if err != nil {
				return -1
			}
			return kb << 10
		}
	}
	return -1
}

// Stop kills the process and waits for it.
func (c *Controller) Stop() {
	_ = c.cmd.Process.Kill()
	<-c.done
}
