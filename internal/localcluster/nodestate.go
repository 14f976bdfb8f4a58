package localcluster

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
)

// MachineState is what a cluster changes on the machine, recorded before up
// so that down can restore it and a test can check that down left nothing.
type MachineState struct {
	Links     []string `json:"links"`
	Iptables  []string `json:"iptables"`
	Ip6tables []string `json:"ip6tables"`
	Mounts    []string `json:"mounts"`
	Cgroups   []string `json:"cgroups"`
	Netns     []string `json:"netns"`
	LogLinks  []string `json:"logLinks"`
	IPForward string   `json:"ipForward"`
	// Sysctls are the values of watchedSysctls.
	Sysctls map[string]string `json:"sysctls"`
	// Paths are the well-known places the components write to when not
	// told otherwise; true when the path exists.
	Paths map[string]bool `json:"paths"`
	// Processes are the processes that belong to the cluster: those
	// naming its folder, and those in the kubepods cgroups.
	Processes []string `json:"processes"`
}

// watchedSysctls are the kernel settings the components change: the kubelet
// sets the first six at start (there is no setting to stop it; with
// protectKernelDefaults it refuses to start instead), the bridge plugin turns
// on forwarding, kube-proxy may set route_localnet. Down puts back what up
// found.
var watchedSysctls = []string{
	"vm.overcommit_memory", "vm.panic_on_oom", "kernel.panic", "kernel.panic_on_oops",
	"kernel.keys.root_maxkeys", "kernel.keys.root_maxbytes",
	"net.ipv4.ip_forward", "net.ipv6.conf.all.forwarding", "net.ipv4.conf.all.route_localnet",
}

func sysctlPath(name string) string {
	return "/proc/sys/" + strings.ReplaceAll(name, ".", "/")
}

func readSysctls() map[string]string {
	m := map[string]string{}
	for _, n := range watchedSysctls {
		if b, err := os.ReadFile(sysctlPath(n)); err == nil {
			m[n] = strings.TrimSpace(string(b))
		}
	}
	return m
}

// watchedPaths are places outside the cluster folder that Kubernetes or
// containerd use by default: down must leave each as it found it.
var watchedPaths = []string{
	"/var/lib/cni", "/etc/cni", "/opt/cni", "/opt/containerd", "/var/lib/kubelet",
	"/var/log/containers", "/var/log/pods", "/run/netns", "/etc/kubernetes",
	"/run/containerd/s", "/run/containerd/runc/k8s.io", "/run/containerd/fifo", "/run/containerd",
}

// kubeletOwned are watched paths only a kubelet or its CNI plugins use
// (the kubelet's device-plugin socket folder is fixed at /var/lib/kubelet,
// whatever its root folder): when up found them missing, down removes them
// whole.
var kubeletOwned = []string{"/var/lib/kubelet", "/var/lib/cni"}

// SnapshotMachine records the machine's state relevant to a cluster whose
// folder is dir.
func SnapshotMachine(dir string) MachineState {
	s := MachineState{
		Links:     linkNames(),
		Iptables:  ruleLines("iptables-save"),
		Ip6tables: ruleLines("ip6tables-save"),
		Mounts:    mountPoints(),
		Cgroups:   kubepodsCgroups(),
		Netns:     dirEntries("/run/netns"),
		LogLinks:  dirEntries("/var/log/containers"),
		Paths:     map[string]bool{},
		Processes: clusterProcesses(dir),
		Sysctls:   readSysctls(),
	}
	if b, err := os.ReadFile("/proc/sys/net/ipv4/ip_forward"); err == nil {
		s.IPForward = strings.TrimSpace(string(b))
	}
	for _, p := range watchedPaths {
		_, err := os.Lstat(p)
		s.Paths[p] = err == nil
	}
	return s
}

// Diff lists, one line each, what differs in after from s: an empty list
// means the machine is as s recorded it.
func (s MachineState) Diff(after MachineState) []string {
	var out []string
	list := func(what string, before, now []string) {
		for _, x := range now {
			if !slices.Contains(before, x) {
				out = append(out, fmt.Sprintf("%s added: %s", what, x))
			}
		}
		for _, x := range before {
			if !slices.Contains(now, x) {
				out = append(out, fmt.Sprintf("%s removed: %s", what, x))
			}
		}
	}
	list("network interface", s.Links, after.Links)
	list("iptables rule", s.Iptables, after.Iptables)
	list("ip6tables rule", s.Ip6tables, after.Ip6tables)
	list("mount", s.Mounts, after.Mounts)
	list("cgroup", s.Cgroups, after.Cgroups)
	list("network namespace", s.Netns, after.Netns)
	list("/var/log/containers entry", s.LogLinks, after.LogLinks)
	list("process", s.Processes, after.Processes)
	if s.IPForward != after.IPForward {
		out = append(out, fmt.Sprintf("net.ipv4.ip_forward: %s before, %s now", s.IPForward, after.IPForward))
	}
	for _, n := range watchedSysctls {
		if n != "net.ipv4.ip_forward" && s.Sysctls[n] != after.Sysctls[n] {
			out = append(out, fmt.Sprintf("%s: %s before, %s now", n, s.Sysctls[n], after.Sysctls[n]))
		}
	}
	for _, p := range watchedPaths {
		if s.Paths[p] != after.Paths[p] {
			out = append(out, fmt.Sprintf("%s: existed before %v, exists now %v", p, s.Paths[p], after.Paths[p]))
		}
	}
	return out
}

func linkNames() []string {
	out, err := exec.Command("ip", "-o", "link", "show").Output()
	if err != nil {
		return nil
	}
	var names []string
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		// "3: eth0@if4: <...>": the name is the second field, up to '@'.
		f := strings.Fields(sc.Text())
		if len(f) > 1 {
			name, _, _ := strings.Cut(strings.TrimSuffix(f[1], ":"), "@")
			names = append(names, name)
		}
	}
	return names
}

var (
	counters          = regexp.MustCompile(`\[\d+:\d+\]`)
	emptyBuiltinChain = regexp.MustCompile(`^:(PREROUTING|INPUT|FORWARD|OUTPUT|POSTROUTING) ACCEPT( \[\d+:\d+\])?$`)
)

// ruleLines is the output of iptables-save (or ip6tables-save) without
// comments and packet counters, which change by themselves. Missing tools
// (iptables not installed yet) give no lines.
func ruleLines(tool string) []string {
	out, err := exec.Command(tool).Output()
	if err != nil {
		return nil
	}
	return normalizeRules(out)
}

// normalizeRules keeps the lines of an iptables-save output that have an
// effect. Table headers, COMMIT and built-in chains with the ACCEPT policy
// are left out: iptables-nft creates a table with its built-in chains the
// first time anything uses it, and no iptables command deletes a table again,
// so on a machine that never had rules the first cluster leaves empty tables
// behind, which filter nothing.
func normalizeRules(out []byte) []string {
	var lines []string
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		l := strings.TrimSpace(sc.Text())
		if l == "" || strings.HasPrefix(l, "#") || strings.HasPrefix(l, "*") || l == "COMMIT" || emptyBuiltinChain.MatchString(l) {
			continue
		}
		lines = append(lines, strings.TrimSpace(counters.ReplaceAllString(l, "")))
	}
	return lines
}

// mountPoints are the mount points of /proc/self/mountinfo.
func mountPoints() []string {
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return nil
	}
	var points []string
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Fields(l)
		if len(f) > 4 {
			points = append(points, unescapeMount(f[4]))
		}
	}
	return points
}

// unescapeMount undoes mountinfo's octal escapes of space, tab, newline and
// backslash.
func unescapeMount(s string) string {
	return strings.NewReplacer(`\040`, " ", `\011`, "\t", `\012`, "\n", `\134`, `\`).Replace(s)
}

// kubepodsCgroups lists the kubelet's cgroup folders (kubepods and
// everything under it) in every cgroup v1 hierarchy and in cgroup v2.
func kubepodsCgroups() []string {
	var dirs []string
	roots, _ := filepath.Glob("/sys/fs/cgroup/*/kubepods*")
	v2, _ := filepath.Glob("/sys/fs/cgroup/kubepods*")
	for _, root := range append(roots, v2...) {
		_ = filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
			if err == nil && d.IsDir() {
				dirs = append(dirs, p)
			}
			return nil
		})
	}
	return dirs
}

func dirEntries(dir string) []string {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

// clusterBinaries are the programs a cluster runs outside pods. A process
// belongs to the cluster when it runs one of them and names the cluster's
// folder on its command line (its flags point there), or when it runs in a
// pod's cgroup. Naming the folder alone is not enough: a shell, `tail -f` of
// a log or a script that mentions the path is not the cluster's to kill.
var clusterBinaries = []string{
	"etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubelet", "kube-proxy",
	"containerd", "containerd-shim", "containerd-shim-runc-v1", "containerd-shim-runc-v2", "runc",
}

// isClusterProcess applies that rule to a process's executable, command
// line and cgroup file.
func isClusterProcess(dir, exe string, cmdline, cgroup []byte) bool {
	if bytes.Contains(cgroup, []byte("/kubepods")) {
		return true
	}
	return slices.Contains(clusterBinaries, filepath.Base(strings.TrimSuffix(exe, " (deleted)"))) &&
		bytes.Contains(cmdline, []byte(dir))
}

// clusterProcesses lists, as "pid command", the processes that belong to
// the cluster in dir (see isClusterProcess).
func clusterProcesses(dir string) []string {
	// Where this machine itself runs in a Kubernetes pod every process's
	// cgroup names kubepods: only the binary rule can tell then.
	selfCg, _ := os.ReadFile("/proc/self/cgroup")
	hostInPod := bytes.Contains(selfCg, []byte("/kubepods"))
	var out []string
	entries, _ := os.ReadDir("/proc")
	self := fmt.Sprint(os.Getpid())
	for _, e := range entries {
		if e.Name() == self || e.Name()[0] < '0' || e.Name()[0] > '9' {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil || len(cmdline) == 0 {
			continue // kernel threads have none
		}
		exe, _ := os.Readlink(filepath.Join("/proc", e.Name(), "exe"))
		var cg []byte
		if !hostInPod {
			cg, _ = os.ReadFile(filepath.Join("/proc", e.Name(), "cgroup"))
		}
		if isClusterProcess(dir, exe, cmdline, cg) {
			out = append(out, e.Name()+" "+strings.ReplaceAll(strings.TrimRight(string(cmdline), "\x00"), "\x00", " "))
		}
	}
	return out
}
