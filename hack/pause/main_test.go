//go:build linux

package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func buildPause(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "pause")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func TestVersionAndArguments(t *testing.T) {
	bin := buildPause(t)
	out, err := exec.Command(bin, "-v").Output()
	if err != nil || strings.TrimSpace(string(out)) != version {
		t.Errorf("pause -v: %q, %v; want %q", out, err, version)
	}
	out, err = exec.Command(bin, "sleep").CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 2 || !strings.Contains(string(out), `"sleep"`) {
		t.Errorf("pause sleep: %q, %v; want exit 2 naming the argument", out, err)
	}
}

// TestReapsAndStopsAsPID1 runs pause as PID 1 of a new PID namespace, as in
// a pod, orphans a process into it and checks that pause reaps it once it
// exits, then that SIGTERM stops pause with status 0.
func TestReapsAndStopsAsPID1(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root for a PID namespace")
	}
	if _, err := exec.LookPath("nsenter"); err != nil {
		t.Skip("needs nsenter (util-linux) to start a process in pause's namespace")
	}
	bin := buildPause(t)
	cmd := exec.Command(bin)
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWPID}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	defer func() { cmd.Process.Kill(); <-done }()
	// Let pause install its signal handlers before anything exits under it.
	time.Sleep(200 * time.Millisecond)

	// sh exits at once (its sleep must not hold nsenter's output pipe, or
	// nsenter's caller waits for it); the background sleep is orphaned to pause (PID 1 in
	// there) and becomes a zombie when it ends unless pause reaps it.
	in := exec.Command("nsenter", "--target", fmt.Sprint(cmd.Process.Pid), "--pid", "--", "/bin/sh", "-c", "sleep 1.5 </dev/null >/dev/null 2>&1 & exit 0")
	if out, err := in.CombinedOutput(); err != nil {
		t.Fatalf("nsenter: %v\n%s", err, out)
	}
	time.Sleep(100 * time.Millisecond)
	if n := len(children(cmd.Process.Pid, "")); n == 0 {
		t.Fatal("the orphaned sleep was not reparented to pause; the test cannot tell whether pause reaps")
	}
	deadline := time.Now().Add(5 * time.Second)
	for len(children(cmd.Process.Pid, "")) > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("pause has not reaped its children 5s after they exited: %v", children(cmd.Process.Pid, "Z"))
		}
		time.Sleep(50 * time.Millisecond)
	}

	cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-done:
		done <- err // for the deferred wait
		if err != nil {
			t.Errorf("pause after SIGTERM: %v, want exit status 0", err)
		}
	case <-time.After(5 * time.Second):
		t.Error("pause did not exit within 5s of SIGTERM")
	}
}

// children lists the processes whose parent is ppid (in state, if given:
// "Z" for zombies).
func children(ppid int, state string) []string {
	entries, _ := os.ReadDir("/proc")
	var out []string
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...; comm may hold spaces, so cut at the last ')'.
		s := string(b)
		i := strings.LastIndexByte(s, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(s[i+1:])
		if len(f) < 2 || f[1] != fmt.Sprint(ppid) || (state != "" && f[0] != state) {
			continue
		}
		out = append(out, e.Name()+" "+s[:i+1]+" "+f[0])
	}
	return out
}
