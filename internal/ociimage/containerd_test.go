//go:build linux

package ociimage

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// testNamespace keeps the test's images, containers and cgroups apart from
// anything a cluster on this machine has under k8s.io.
const testNamespace = "svcat-images-test"

// TestImagesRunInContainerd imports images written by this package into a
// private containerd (Debian's, as the one-node cluster uses) and runs them
// with runc: the pause image from its own entrypoint as UID/GID 65532,
// stopping on SIGTERM; the demo producer printing its usage.
func TestImagesRunInContainerd(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: containerd and runc create namespaces, mounts and cgroups")
	}
	if testing.Short() {
		t.Skip("-short: starts containerd and runs containers")
	}
	ensureContainerd(t)
	bins := testBinaries(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	c := startContainerd(t, ctx)

	images := filepath.Join(t.TempDir(), "images")
	producer, _ := ComponentByName("demo-kafka-producer")
	pause, _ := ComponentByName("pause")
	producerRef := producer.ImageRef(Registry, "0.0.0-test")
	var ids []string
	for _, im := range []struct {
		c   Component
		ref string
	}{{pause, PauseRef}, {producer, producerRef}} {
		img, err := Build(im.c.Spec(filepath.Join(bins, im.c.Name), "test"))
		if err != nil {
			t.Fatal(err)
		}
		id, err := img.ConfigName()
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id.String())
		archive := filepath.Join(images, im.c.Name+".tar")
		if err := WriteArchive(archive, img, im.ref); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		if err := Import(ctx, archive, c.socket, testNamespace); err != nil {
			t.Fatal(err)
		}
		t.Logf("imported %s in %s", im.ref, time.Since(start).Round(time.Millisecond))
	}
	listed := strings.Fields(c.ctr(t, ctx, "images", "ls", "-q"))
	for _, ref := range []string{PauseRef, producerRef} {
		if !slices.Contains(listed, ref) {
			t.Errorf("containerd lists %q, not %s: the archive's name was lost on import", listed, ref)
		}
	}

	// The config we wrote (user, entrypoint) is the one containerd holds.
	for _, id := range ids {
		if _, err := c.ctrErr(ctx, "content", "get", id); err != nil {
			t.Errorf("containerd has no blob %s, the image ID (config digest) written", id)
		}
	}

	// The producer from its binary, printing what it prints.
	out, err := c.ctrErr(ctx, "run", "--rm", producerRef, "producer-help", "/demo-kafka-producer", "-help")
	if err != nil {
		t.Fatalf("ctr run demo-kafka-producer -help: %v\n%s", err, out)
	}
	if !strings.Contains(out, "Usage of demo-kafka-producer") || !strings.Contains(out, "-binding-root") {
		t.Errorf("demo-kafka-producer -help in the container printed:\n%s", out)
	}

	// pause from the image's own entrypoint and user.
	const id = "pause-test"
	c.started = append(c.started, id)
	c.ctr(t, ctx, "run", "-d", PauseRef, id)
	pid := c.taskPID(t, ctx, id)
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Uid:\t65532\t65532\t65532\t65532", "Gid:\t65532\t65532\t65532\t65532"} {
		if !strings.Contains(string(status), want) {
			t.Errorf("the pause process (pid %d) is not running as 65532: /proc/%d/status lacks %q:\n%s", pid, pid, want, status)
		}
	}
	if cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid)); string(cmdline) != "/pause\x00" {
		t.Errorf("the pause process runs %q, want the image's entrypoint /pause", cmdline)
	}
	c.ctr(t, ctx, "task", "kill", "-s", "SIGTERM", id)
	if st := c.waitStopped(t, ctx, id, 15*time.Second); st != "STOPPED" {
		t.Errorf("pause did not stop within 15s of SIGTERM (status %s)", st)
	}
}

// ensureContainerd installs Debian's containerd and runc when missing, as
// make cluster does. Another engineer's apt-get may hold the lock: wait.
func ensureContainerd(t *testing.T) {
	t.Helper()
	missing := false
	for _, tool := range []string{"containerd", "ctr", "containerd-shim-runc-v2", "runc"} {
		if _, err := exec.LookPath(tool); err != nil {
			missing = true
		}
	}
	if !missing {
		return
	}
	t.Log("installing containerd and runc with apt-get (about a minute; waits up to 10 min for the dpkg lock)")
	start := time.Now()
	cmd := exec.Command("apt-get", "-o", "DPkg::Lock::Timeout=600", "install", "-y", "containerd", "runc")
	cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("apt-get install containerd runc: %v\n%s", err, out)
	}
	t.Logf("installed in %s", time.Since(start).Round(time.Second))
}

type containerd struct {
	dir, socket string
	started     []string // container IDs to remove at the end
}

// startContainerd runs a containerd with its own root, state and socket
// under a temporary directory, and stops it, its containers and mounts at
// the end of the test.
func startContainerd(t *testing.T, ctx context.Context) *containerd {
	t.Helper()
	// A short path: the socket's must fit in sun_path (108 bytes).
	dir, err := os.MkdirTemp("", "ctd-")
	if err != nil {
		t.Fatal(err)
	}
	c := &containerd{dir: dir, socket: filepath.Join(dir, "containerd.sock")}
	// The CRI plugin is off: nothing here goes through the kubelet, and
	// it would read the host's CNI configuration. restrict_oom_score_adj
	// is set anyway, as the cluster needs it (no CAP_SYS_RESOURCE here).
	config := fmt.Sprintf(`version = 2
root = %q
state = %q
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = %q
[ttrpc]
  address = %q
[plugins."io.containerd.grpc.v1.cri"]
  restrict_oom_score_adj = true
`, filepath.Join(dir, "root"), filepath.Join(dir, "state"), c.socket, c.socket+".ttrpc")
	if err := os.WriteFile(filepath.Join(dir, "config.toml"), []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	logf, err := os.Create(filepath.Join(dir, "containerd.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("containerd", "--config", filepath.Join(dir, "config.toml"))
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); logf.Close(); close(exited) }()
	t.Cleanup(func() { c.stop(t, cmd, exited) })

	start := time.Now()
	for {
		if _, err := c.ctrErr(ctx, "version"); err == nil {
			break
		}
		select {
		case <-exited:
			t.Fatalf("containerd exited at start:\n%s", readTail(filepath.Join(dir, "containerd.log")))
		case <-time.After(200 * time.Millisecond):
		}
		if time.Since(start) > 30*time.Second {
			t.Fatalf("containerd did not answer on %s within 30s:\n%s", c.socket, readTail(filepath.Join(dir, "containerd.log")))
		}
	}
	t.Logf("containerd up on %s in %s", c.socket, time.Since(start).Round(time.Millisecond))
	return c
}

// stop removes the test's containers, stops containerd and leaves nothing
// behind: no shim, no mount under its directory, no cgroup of the test's
// namespace, no directory.
func (c *containerd) stop(t *testing.T, cmd *exec.Cmd, exited <-chan struct{}) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, id := range c.started {
		c.ctrErr(ctx, "task", "kill", "-s", "SIGKILL", id)
		c.ctrErr(ctx, "task", "rm", "-f", id)
		c.ctrErr(ctx, "containers", "rm", id)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-exited:
	case <-time.After(15 * time.Second):
		cmd.Process.Kill()
		<-exited
	}
	for _, pid := range processesMentioning(c.dir) {
		t.Errorf("process %d (%s) still runs after containerd stopped; killing it", pid, cmdlineOf(pid))
		syscall.Kill(pid, syscall.SIGKILL)
	}
	mounts := mountsUnder(c.dir)
	for i := len(mounts) - 1; i >= 0; i-- {
		if err := syscall.Unmount(mounts[i], syscall.MNT_DETACH); err != nil {
			t.Errorf("unmount %s: %v", mounts[i], err)
		}
	}
	cgroups, _ := filepath.Glob("/sys/fs/cgroup/*/" + testNamespace)
	if d := "/sys/fs/cgroup/" + testNamespace; dirExists(d) {
		cgroups = append(cgroups, d)
	}
	for _, cg := range cgroups {
		if err := os.Remove(cg); err != nil {
			t.Errorf("cgroup %s left behind: %v", cg, err)
		}
	}
	if err := os.RemoveAll(c.dir); err != nil {
		t.Errorf("removing %s: %v", c.dir, err)
	}
}

func (c *containerd) ctrErr(ctx context.Context, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "ctr", append([]string{"--address", c.socket, "--namespace", testNamespace}, args...)...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

func (c *containerd) ctr(t *testing.T, ctx context.Context, args ...string) string {
	t.Helper()
	out, err := c.ctrErr(ctx, args...)
	if err != nil {
		t.Fatalf("ctr %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// task reads `ctr task ls` (TASK PID STATUS) for id.
func (c *containerd) task(t *testing.T, ctx context.Context, id string) (pid int, status string) {
	t.Helper()
	sc := bufio.NewScanner(strings.NewReader(c.ctr(t, ctx, "task", "ls")))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 3 && f[0] == id {
			fmt.Sscan(f[1], &pid)
			return pid, f[2]
		}
	}
	return 0, ""
}

func (c *containerd) taskPID(t *testing.T, ctx context.Context, id string) int {
	t.Helper()
	pid, status := c.task(t, ctx, id)
	if status != "RUNNING" || pid <= 0 {
		t.Fatalf("task %s is %q (pid %d), want RUNNING", id, status, pid)
	}
	return pid
}

func (c *containerd) waitStopped(t *testing.T, ctx context.Context, id string, within time.Duration) string {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		_, status := c.task(t, ctx, id)
		if status == "STOPPED" || time.Now().After(deadline) {
			return status
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// mountsUnder lists mount points at or below dir, outermost first.
func mountsUnder(dir string) []string {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nil
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) > 4 && (fields[4] == dir || strings.HasPrefix(fields[4], dir+"/")) {
			out = append(out, fields[4])
		}
	}
	return out
}

// processesMentioning finds processes whose command line names dir: the
// shims of this containerd carry its socket or state path.
func processesMentioning(dir string) []int {
	entries, _ := os.ReadDir("/proc")
	var pids []int
	for _, e := range entries {
		var pid int
		if _, err := fmt.Sscan(e.Name(), &pid); err != nil || pid == os.Getpid() {
			continue
		}
		if strings.Contains(cmdlineOf(pid), dir) {
			pids = append(pids, pid)
		}
	}
	return pids
}

func cmdlineOf(pid int) string {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	return strings.ReplaceAll(string(b), "\x00", " ")
}

func dirExists(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}

func readTail(path string) string {
	b, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err.Error()
	}
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}
