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
	// Paths are the well-known places the components write to when not
	// told otherwise; true when the path exists.
	Paths map[string]bool `json:"paths"`
	// Processes are the processes that belong to the cluster: those
	// naming its folder, and those in the kubepods cgroups.
	Processes []string `json:"processes"`
}

// watchedPaths are places outside the cluster folder that Kubernetes or
// containerd use by default: down must leave each as it found it.
var watchedPaths = []string{
	"/var/lib/cni", "/etc/cni", "/opt/cni", "/opt/containerd", "/var/lib/kubelet",
	"/var/log/containers", "/var/log/pods", "/run/netns", "/etc/kubernetes",
	"/run/containerd/s", "/run/containerd/runc/k8s.io", "/run/containerd/fifo",
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

var counters = regexp.MustCompile(`\[\d+:\d+\]`)

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

func normalizeRules(out []byte) []string {
	var lines []string
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		l := strings.TrimSpace(sc.Text())
		if l == "" || strings.HasPrefix(l, "#") {
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

// clusterProcesses lists, as "pid command", the processes that name dir on
// their command line (components, containerd's shims) or run in a pod's
// cgroup.
func clusterProcesses(dir string) []string {
	var out []string
	entries, _ := os.ReadDir("/proc")
	self := fmt.Sprint(os.Getpid())
	for _, e := range entries {
		if e.Name() == self || e.Name()[0] < '0' || e.Name()[0] > '9' {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil || len(cmdline) == 0 {
			continue
		}
		cg, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "cgroup"))
		if bytes.Contains(cmdline, []byte(dir)) || bytes.Contains(cg, []byte("/kubepods")) {
			out = append(out, e.Name()+" "+strings.ReplaceAll(strings.TrimRight(string(cmdline), "\x00"), "\x00", " "))
		}
	}
	return out
}
