package localcluster

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// procRecord is one component process, recorded in the state file so that
// down (in another process, possibly after a reboot of the shell) finds it.
type procRecord struct {
	Name string `json:"name"`
	Pid  int    `json:"pid"`
	Bin  string `json:"bin"`
	Log  string `json:"log"`
}

// startDetached starts bin in its own session with its output in logDir, so
// that it outlives the command that started it (make cluster returns while
// the cluster keeps running).
func startDetached(name, bin string, args []string, logDir string) (procRecord, error) {
	logPath := filepath.Join(logDir, name+".log")
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return procRecord{}, err
	}
	defer logFile.Close()
	devNull, err := os.Open(os.DevNull)
	if err != nil {
		return procRecord{}, err
	}
	defer devNull.Close()
	closeInheritedFiles()
	cmd := exec.Command(bin, args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = devNull, logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	cmd.Env = append(os.Environ(), "PATH="+componentPath())
	if err := cmd.Start(); err != nil {
		return procRecord{}, fmt.Errorf("starting %s: %w", name, err)
	}
	// Reap it if it exits while this process still runs (a test's
	// cluster); otherwise a dead component would look alive as a zombie.
	go func() { _ = cmd.Wait() }()
	return procRecord{Name: name, Pid: cmd.Process.Pid, Bin: bin, Log: logPath}, nil
}

// closeInheritedFiles marks every descriptor above stderr close-on-exec.
// Go marks its own files so, but not those this process inherited: a
// `flock LOCK make cluster` would otherwise hand its lock to the cluster's
// processes, and the lock would stay held as long as the cluster runs.
func closeInheritedFiles() {
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return
	}
	for _, e := range entries {
		if fd, err := strconv.Atoi(e.Name()); err == nil && fd > 2 {
			syscall.CloseOnExec(fd)
		}
	}
}

// componentPath is PATH with the sbin folders, where Debian puts runc,
// iptables and conntrack, which the components look up by name.
func componentPath() string {
	path := os.Getenv("PATH")
	for _, d := range []string{"/usr/local/sbin", "/usr/sbin", "/sbin"} {
		if !strings.Contains(":"+path+":", ":"+d+":") {
			path += ":" + d
		}
	}
	return path
}

// alive says whether pid runs the recorded binary: a pid alone could have
// been reused by an unrelated process since the cluster started.
func (r procRecord) alive() bool {
	if r.Pid <= 0 {
		return false
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", r.Pid))
	if err != nil {
		return false
	}
	// The state is the field after the parenthesised command name.
	if i := bytes.LastIndexByte(stat, ')'); i >= 0 && i+2 < len(stat) && stat[i+2] == 'Z' {
		return false
	}
	exe, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", r.Pid))
	if err != nil {
		return false
	}
	exe = strings.TrimSuffix(exe, " (deleted)")
	return exe == r.Bin || filepath.Base(exe) == filepath.Base(r.Bin)
}

// stop sends SIGTERM and waits up to grace for the process to exit, then
// kills it.
func (r procRecord) stop(grace time.Duration) error {
	if !r.alive() {
		return nil
	}
	_ = syscall.Kill(r.Pid, syscall.SIGTERM)
	if waitGone(r, grace) {
		return nil
	}
	_ = syscall.Kill(r.Pid, syscall.SIGKILL)
	if waitGone(r, 10*time.Second) {
		return nil
	}
	return fmt.Errorf("%s (pid %d) did not exit after SIGKILL", r.Name, r.Pid)
}

func waitGone(r procRecord, d time.Duration) bool {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if !r.alive() {
			return true
		}
		time.Sleep(100 * time.Millisecond)
	}
	return !r.alive()
}

// logTail returns the last lines of a component's log, for errors that say
// why a component did not come up.
func logTail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

var errNotRunning = errors.New("no cluster is running")
