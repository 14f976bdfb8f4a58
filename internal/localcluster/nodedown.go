package localcluster

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"syscall"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
)

// StopNode tears down the cluster in o.Dir (make cluster-down), whoever
// started it, and leaves the machine as it was before up: no process,
// interface, iptables rule, mount, cgroup or file of the cluster remains. It
// is safe to run again, and after a failed or half-finished up.
func StopNode(ctx context.Context, o NodeOptions) error {
	if why := NodeUnsupported(); why != "" {
		return errors.New(why)
	}
	if o.Dir == "" {
		o.Dir = os.Getenv("SVCAT_CLUSTER_DIR")
	}
	if o.Dir == "" {
		o.Dir = DefaultNodeDir
	}
	if o.Out == nil {
		o.Out = os.Stderr
	}
	unlock, err := lockNode(o.Dir)
	if err != nil {
		return err
	}
	defer unlock()
	return teardown(ctx, o.Dir, o.Out)
}

// teardown does the work of StopNode; the caller holds the lock.
func teardown(ctx context.Context, dir string, out io.Writer) error {
	t0 := time.Now()
	p := nodePaths{Dir: dir}
	state, err := readState(dir)
	if err != nil {
		state = &nodeState{}
		fmt.Fprintf(out, "cluster: no state in %s; cleaning up whatever a cluster may have left\n", dir)
	}
	var before MachineState
	if b, err := os.ReadFile(p.Before()); err == nil {
		_ = json.Unmarshal(b, &before)
	}
	st := &stepper{out: out, start: t0}
	procs := map[string]procRecord{}
	for _, r := range state.Procs {
		procs[r.Name] = r
	}
	stop := func(names ...string) error {
		var errs []error
		for _, n := range names {
			if r, ok := procs[n]; ok {
				errs = append(errs, r.stop(15*time.Second))
			}
		}
		return errors.Join(errs...)
	}
	var errs []error
	keep := func(err error) {
		if err != nil {
			errs = append(errs, err)
			fmt.Fprintf(out, "cluster:   %v\n", err)
		}
	}
	apiUp := procs["kube-apiserver"].alive() && procs["kubelet"].alive()
	keep(st.do("stopping the controller manager and the scheduler", "", func() error {
		// Nothing may recreate the pods about to be deleted.
		return stop("kube-controller-manager", "kube-scheduler")
	}))
	if apiUp {
		keep(st.do("deleting every pod and waiting until containerd runs no container", "10-40 s", func() error {
			return drainPods(ctx, p)
		}))
	}
	keep(st.do("stopping kube-proxy and the kubelet", "", func() error { return stop("kube-proxy", "kubelet") }))
	if procs["containerd"].alive() {
		keep(st.do("removing leftover containers", "", func() error { return removeContainers(p) }))
	}
	keep(st.do("stopping containerd, kube-apiserver and etcd", "", func() error {
		return stop("containerd", "kube-apiserver", "etcd")
	}))
	keep(st.do("stopping leftover processes (containerd shims, pods)", "", func() error { return killLeftovers(dir) }))
	keep(st.do("deleting network namespaces, unmounting, deleting interfaces "+nodeLink+" and "+bridgeLink, "", func() error {
		return errors.Join(deleteNetns(before), unmountUnder(dir), deleteLinks())
	}))
	keep(st.do("removing the KUBE- and CNI- iptables and ip6tables rules", "", func() error {
		return errors.Join(restoreRules("iptables", before.Iptables), restoreRules("ip6tables", before.Ip6tables))
	}))
	keep(st.do("restoring the kernel settings (ip_forward, the kubelet's), removing kubepods cgroups, log links and files", "", func() error {
		return errors.Join(restoreSysctls(before), removeCgroups(before), removeLogLinks(before, dir), removeFiles(before, dir))
	}))
	if len(errs) > 0 {
		return fmt.Errorf("tear-down finished with errors (run it again; see above): %w", errors.Join(errs...))
	}
	fmt.Fprintf(out, "cluster: down in %s\n", time.Since(t0).Round(time.Second))
	return nil
}

// drainPods deletes every pod and waits until containerd has no running
// task: the kubelet then has stopped every sandbox, and with it the CNI
// plugin has released each pod's address and network namespace.
func drainPods(ctx context.Context, p nodePaths) error {
	cfg, err := clientcmd.BuildConfigFromFlags("", p.Admin())
	if err != nil {
		return err
	}
	cfg.Timeout = 10 * time.Second
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return err
	}
	nss, err := cs.CoreV1().Namespaces().List(ctx, metav1.ListOptions{})
	if err != nil {
		return err
	}
	grace := int64(2)
	for _, ns := range nss.Items {
		_ = cs.CoreV1().Pods(ns.Name).DeleteCollection(ctx, metav1.DeleteOptions{GracePeriodSeconds: &grace}, metav1.ListOptions{})
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		tasks, err := runningTasks(p)
		pods := 0
		for _, ns := range nss.Items {
			if l, err := cs.CoreV1().Pods(ns.Name).List(ctx, metav1.ListOptions{}); err == nil {
				pods += len(l.Items)
			}
		}
		if err == nil && tasks == 0 && pods == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("after 60 s: %d pods, %d containerd tasks (err %v); the rest is removed by force", pods, tasks, err)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

func ctrCmd(p nodePaths, args ...string) *exec.Cmd {
	ctr, err := lookPathSbin("ctr")
	if err != nil {
		ctr = "ctr"
	}
	return exec.Command(ctr, append([]string{"--address", p.ContainerdSock(), "-n", "k8s.io"}, args...)...)
}

// runningTasks counts containerd's running tasks.
func runningTasks(p nodePaths) (int, error) {
	out, err := ctrCmd(p, "tasks", "ls").Output()
	if err != nil {
		return 0, err
	}
	n := 0
	for _, l := range strings.Split(string(out), "\n")[1:] {
		if strings.Contains(l, "RUNNING") {
			n++
		}
	}
	return n, nil
}

// removeContainers kills every task and deletes every container that the
// kubelet did not.
func removeContainers(p nodePaths) error {
	out, err := ctrCmd(p, "containers", "ls", "-q").Output()
	if err != nil {
		return err
	}
	ids := strings.Fields(string(out))
	for _, id := range ids {
		_ = ctrCmd(p, "tasks", "kill", "-s", "SIGKILL", id).Run()
	}
	time.Sleep(500 * time.Millisecond)
	for _, id := range ids {
		_ = ctrCmd(p, "tasks", "delete", "-f", id).Run()
		_ = ctrCmd(p, "containers", "delete", id).Run()
	}
	return nil
}

// killLeftovers kills the processes still naming the cluster's folder (the
// shims of containers that could not be removed) and the processes in the
// kubepods cgroups.
func killLeftovers(dir string) error {
	var pids []int
	for _, line := range clusterProcesses(dir) {
		var pid int
		if _, err := fmt.Sscan(line, &pid); err == nil {
			pids = append(pids, pid)
		}
	}
	for _, pid := range pids {
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if left := clusterProcesses(dir); len(left) == 0 {
			return nil
		}
		time.Sleep(200 * time.Millisecond)
	}
	if left := clusterProcesses(dir); len(left) > 0 {
		return fmt.Errorf("processes still running: %s", strings.Join(left, "; "))
	}
	return nil
}

// deleteNetns deletes the CNI network namespaces that were not there before
// up; deleting one also deletes the pod's end of its veth pair.
func deleteNetns(before MachineState) error {
	var errs []error
	for _, n := range dirEntries("/run/netns") {
		if !strings.HasPrefix(n, "cni-") || slices.Contains(before.Netns, n) {
			continue
		}
		path := filepath.Join("/run/netns", n)
		_ = syscall.Unmount(path, syscall.MNT_DETACH)
		if err := os.Remove(path); err != nil && !os.IsNotExist(err) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// unmountUnder unmounts every mount under dir, deepest first.
func unmountUnder(dir string) error {
	prefix := filepath.Clean(dir) + "/"
	var points []string
	for _, m := range mountPoints() {
		if strings.HasPrefix(m, prefix) {
			points = append(points, m)
		}
	}
	sort.Slice(points, func(i, j int) bool { return len(points[i]) > len(points[j]) })
	var errs []error
	for _, m := range points {
		if err := syscall.Unmount(m, 0); err != nil {
			if err := syscall.Unmount(m, syscall.MNT_DETACH); err != nil && err != syscall.EINVAL && err != syscall.ENOENT {
				errs = append(errs, fmt.Errorf("unmounting %s: %w", m, err))
			}
		}
	}
	return errors.Join(errs...)
}

func deleteLinks() error {
	var errs []error
	for _, l := range []string{bridgeLink, nodeLink} {
		if !linkExists(l) {
			continue
		}
		if out, err := exec.Command("ip", "link", "del", l).CombinedOutput(); err != nil {
			errs = append(errs, fmt.Errorf("ip link del %s: %v: %s", l, err, bytes.TrimSpace(out)))
		}
	}
	// veths whose pod namespace was not deleted cleanly.
	for _, l := range linkNames() {
		if strings.HasPrefix(l, "veth") {
			if master, err := os.Readlink("/sys/class/net/" + l + "/master"); err == nil && filepath.Base(master) == bridgeLink {
				_ = exec.Command("ip", "link", "del", l).Run()
			}
		}
	}
	return errors.Join(errs...)
}

// restoreRules removes the rules and chains the cluster added: every
// KUBE- and CNI- line of tool-save that was not there before up.
func restoreRules(tool string, before []string) error {
	save, err := lookPathSbin(tool + "-save")
	if err != nil {
		return nil // no iptables: nothing can have been added
	}
	out, err := exec.Command(save).Output()
	if err != nil {
		return fmt.Errorf("%s-save: %w", tool, err)
	}
	kept, dropped := dropClusterRules(out, before)
	if dropped == 0 {
		return nil
	}
	restore, err := lookPathSbin(tool + "-restore")
	if err != nil {
		return err
	}
	cmd := exec.Command(restore)
	cmd.Stdin = bytes.NewReader(kept)
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%s-restore: %v: %s", tool, err, bytes.TrimSpace(b))
	}
	return nil
}

// dropClusterRules removes from an iptables-save output the lines naming a
// KUBE- or CNI- chain that were not in before (counters ignored), and says
// how many it removed.
func dropClusterRules(save []byte, before []string) ([]byte, int) {
	var b bytes.Buffer
	dropped := 0
	for _, l := range strings.SplitAfter(string(save), "\n") {
		t := strings.TrimSpace(l)
		if (strings.Contains(t, "KUBE-") || strings.Contains(t, "CNI-")) && !strings.HasPrefix(t, "#") &&
			!slices.Contains(before, strings.TrimSpace(counters.ReplaceAllString(t, ""))) {
			dropped++
			continue
		}
		b.WriteString(l)
	}
	return b.Bytes(), dropped
}

// restoreSysctls puts back the kernel settings up found.
func restoreSysctls(before MachineState) error {
	var errs []error
	if before.IPForward != "" {
		errs = append(errs, os.WriteFile(sysctlPath("net.ipv4.ip_forward"), []byte(before.IPForward+"\n"), 0o644))
	}
	now := readSysctls()
	for _, n := range watchedSysctls {
		v, ok := before.Sysctls[n]
		if !ok || n == "net.ipv4.ip_forward" || now[n] == v {
			continue
		}
		if err := os.WriteFile(sysctlPath(n), []byte(v+"\n"), 0o644); err != nil {
			errs = append(errs, fmt.Errorf("restoring %s to %s: %w", n, v, err))
		}
	}
	return errors.Join(errs...)
}

// removeCgroups removes the kubepods cgroup folders that were not there
// before, deepest first; a cgroup still holding a process cannot be removed.
func removeCgroups(before MachineState) error {
	var errs []error
	for range 20 {
		errs = nil
		dirs := kubepodsCgroups()
		sort.Slice(dirs, func(i, j int) bool { return len(dirs[i]) > len(dirs[j]) })
		for _, d := range dirs {
			if slices.Contains(before.Cgroups, d) {
				continue
			}
			if err := syscall.Rmdir(d); err != nil && err != syscall.ENOENT {
				errs = append(errs, fmt.Errorf("rmdir %s: %w", d, err))
			}
		}
		if len(errs) == 0 {
			return nil
		}
		time.Sleep(250 * time.Millisecond)
	}
	return errors.Join(errs...)
}

// removeLogLinks removes the kubelet's /var/log/containers links into the
// cluster's folder, and the folder when up created it.
func removeLogLinks(before MachineState, dir string) error {
	for _, n := range dirEntries("/var/log/containers") {
		path := filepath.Join("/var/log/containers", n)
		target, err := os.Readlink(path)
		if err == nil && (strings.HasPrefix(target, dir+"/") || !slices.Contains(before.LogLinks, n)) {
			_ = os.Remove(path)
		}
	}
	return nil
}

// removeFiles removes the cluster's folder and the well-known paths the
// components created outside it.
func removeFiles(before MachineState, dir string) error {
	var errs []error
	if err := os.RemoveAll(dir); err != nil {
		errs = append(errs, err)
	}
	if before.Paths != nil {
		for _, p := range watchedPaths {
			if !before.Paths[p] {
				if slices.Contains(kubeletOwned, p) {
					errs = append(errs, os.RemoveAll(p))
					continue
				}
				if err := removeIfOurs(p); err != nil {
					errs = append(errs, err)
				}
			}
		}
	}
	return errors.Join(errs...)
}

// removeIfOurs removes a well-known path that did not exist before up. A
// folder that holds files is left alone and reported: something else may
// have started using it meanwhile.
func removeIfOurs(p string) error {
	st, err := os.Lstat(p)
	if err != nil {
		return nil
	}
	if !st.IsDir() {
		return os.Remove(p)
	}
	if err := removeEmptyTree(p); err != nil {
		return fmt.Errorf("%s did not exist before up and is not empty now; left as it is: %w", p, err)
	}
	return nil
}

// removeEmptyTree removes a folder whose tree holds only folders.
func removeEmptyTree(p string) error {
	entries, err := os.ReadDir(p)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if !e.IsDir() {
			return fmt.Errorf("%s holds %s", p, e.Name())
		}
		if err := removeEmptyTree(filepath.Join(p, e.Name())); err != nil {
			return err
		}
	}
	return os.Remove(p)
}
