package localcluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/svcat-io/svcat/internal/ociimage"
)

// The one-node cluster: a real Kubernetes node on this machine (etcd,
// kube-apiserver, kube-controller-manager, kube-scheduler, containerd,
// kubelet, kube-proxy, CNI bridge networking, CoreDNS), for tests and demos
// that need pods. It needs Linux and root. Its processes run detached, so
// `make cluster` can return while the cluster keeps running; everything it
// has is recorded in its folder, which `make cluster-down` reads.

// DefaultNodeDir is where the cluster keeps its state, certificates, logs,
// containerd's images and the kubelet's pods.
const DefaultNodeDir = "/var/lib/svcat-cluster"

// Pinned versions of the node's parts; bin/ folders are named after them
// (hack/cluster-binaries.sh builds them).
const (
	CNIPluginsVersion = "v1.10.0"
	CoreDNSVersion    = "v1.15.0"
	// PauseImage and CoreDNSImage are the image names `make images`
	// writes into bin/images/pause.tar and bin/images/coredns.tar.
	PauseImage   = "localhost/svcat/pause:1"
	CoreDNSImage = "localhost/svcat/coredns:1.15.0"
	// NodeName is the node's name in the API.
	NodeName = "svcat-node"
)

// NodeOptions configure StartNode. The zero value uses the repository's
// bin/ folder and DefaultNodeDir.
type NodeOptions struct {
	// Dir is the cluster's folder (default DefaultNodeDir, or
	// $SVCAT_CLUSTER_DIR).
	Dir string
	// BinDir is the repository's bin/ folder with the built binaries and
	// images (default: found from the working directory).
	BinDir string
	// Images are more image tarballs to import into the node besides the
	// pause and CoreDNS images.
	Images []string
	// Out receives progress lines (default os.Stderr).
	Out io.Writer
	// Timeout bounds the whole bring-up (default 5 minutes).
	Timeout time.Duration
}

// Cluster is a running one-node cluster.
type Cluster struct {
	// NodeIP is the node's own address, on the interface svcat0 that up
	// created: the API server, the kubelet and NodePorts listen there.
	NodeIP netip.Addr
	// Kubeconfig is an admin kubeconfig file.
	Kubeconfig string
	// Config reaches the API server as admin.
	Config *rest.Config
	// Client is a clientset for Config.
	Client kubernetes.Interface
	// PodCIDR and ServiceCIDR are the pod and Service ranges.
	PodCIDR, ServiceCIDR netip.Prefix
	// Dir is the cluster's folder; logs are in Dir/logs.
	Dir string

	paths nodePaths
	out   io.Writer
}

// nodeState is the state file: what down needs to find and undo.
type nodeState struct {
	NodeIP      string       `json:"nodeIP"`
	PodCIDR     string       `json:"podCIDR"`
	ServiceCIDR string       `json:"serviceCIDR"`
	Started     time.Time    `json:"started"`
	Procs       []procRecord `json:"procs"`
	Ready       bool         `json:"ready"`
}

func (o NodeOptions) withDefaults() (NodeOptions, error) {
	if o.Dir == "" {
		o.Dir = os.Getenv("SVCAT_CLUSTER_DIR")
	}
	if o.Dir == "" {
		o.Dir = DefaultNodeDir
	}
	if !filepath.IsAbs(o.Dir) {
		return o, fmt.Errorf("cluster folder %q: must be an absolute path", o.Dir)
	}
	if o.BinDir == "" {
		root, err := repoRoot()
		if err != nil {
			return o, err
		}
		o.BinDir = filepath.Join(root, "bin")
	}
	if o.Out == nil {
		o.Out = os.Stderr
	}
	if o.Timeout == 0 {
		o.Timeout = 5 * time.Minute
	}
	return o, nil
}

// NodeUnsupported says why this machine cannot run the cluster (not Linux,
// not root), or "" when it can.
func NodeUnsupported() string {
	if runtime.GOOS != "linux" {
		return "the one-node cluster needs Linux (this is " + runtime.GOOS + ")"
	}
	if os.Geteuid() != 0 {
		return "the one-node cluster needs root (it creates a network interface, iptables rules and cgroups)"
	}
	return ""
}

// nodeBinaries are the binaries the cluster runs, by name.
type nodeBinaries map[string]string

func findBinaries(bin string) (nodeBinaries, error) {
	b := nodeBinaries{
		"etcd":                    filepath.Join(bin, "envtest", DefaultK8sVersion, "etcd"),
		"kube-apiserver":          filepath.Join(bin, "envtest", DefaultK8sVersion, "kube-apiserver"),
		"kube-controller-manager": filepath.Join(bin, "cluster", DefaultK8sVersion, "kube-controller-manager"),
		"kube-scheduler":          filepath.Join(bin, "cluster", DefaultK8sVersion, "kube-scheduler"),
		"kubelet":                 filepath.Join(bin, "cluster", DefaultK8sVersion, "kubelet"),
		"kube-proxy":              filepath.Join(bin, "cluster", DefaultK8sVersion, "kube-proxy"),
		"cni":                     filepath.Join(bin, "cni", CNIPluginsVersion),
		"pause.tar":               filepath.Join(bin, "images", "pause.tar"),
		"coredns.tar":             filepath.Join(bin, "images", "coredns.tar"),
	}
	var missing []string
	for _, p := range b {
		if _, err := os.Stat(p); err != nil {
			missing = append(missing, p)
		}
	}
	for _, tool := range []string{"containerd", "containerd-shim-runc-v2", "runc", "ctr", "iptables", "ip6tables", "iptables-save", "iptables-restore", "conntrack", "ip"} {
		p, err := lookPathSbin(tool)
		if err != nil {
			missing = append(missing, tool+" (Debian package)")
			continue
		}
		b[tool] = p
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("missing: %s; run 'make cluster-binaries cluster-images' (as root; it installs containerd, runc, iptables and conntrack with apt)",
			strings.Join(missing, ", "))
	}
	return b, nil
}

func lookPathSbin(name string) (string, error) {
	for _, d := range strings.Split(componentPath(), ":") {
		p := filepath.Join(d, name)
		if st, err := os.Stat(p); err == nil && !st.IsDir() && st.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", exec.ErrNotFound
}

// step prints what is about to happen and, when done, how long it took.
type stepper struct {
	out   io.Writer
	start time.Time
}

func (s *stepper) do(what, expect string, f func() error) error {
	t := time.Now()
	if expect != "" {
		fmt.Fprintf(s.out, "cluster: %s (%s)...\n", what, expect)
	} else {
		fmt.Fprintf(s.out, "cluster: %s...\n", what)
	}
	if err := f(); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	fmt.Fprintf(s.out, "cluster:   done in %s\n", time.Since(t).Round(100*time.Millisecond))
	return nil
}

// StartNode brings up the one-node cluster and returns when the node is
// Ready and CoreDNS answers. It refuses when a cluster (or what is left of
// one) is already there. On failure it tears down what it started.
func StartNode(ctx context.Context, o NodeOptions) (*Cluster, error) {
	if why := NodeUnsupported(); why != "" {
		return nil, errors.New(why)
	}
	o, err := o.withDefaults()
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	unlock, err := lockNode(o.Dir)
	if err != nil {
		return nil, err
	}
	defer unlock()
	if err := refuseIfPresent(o.Dir); err != nil {
		return nil, err
	}
	bins, err := findBinaries(o.BinDir)
	if err != nil {
		return nil, err
	}
	c := &Cluster{Dir: o.Dir, paths: nodePaths{Dir: o.Dir}, out: o.Out}
	st := &stepper{out: o.Out, start: time.Now()}
	if err := c.up(ctx, st, bins, o); err != nil {
		fmt.Fprintf(o.Out, "cluster: bring-up failed: %v\ncluster: tearing down what was started\n", err)
		// Tear-down removes the folder; the logs say why it failed.
		if kept, kerr := keepLogs(c.paths.Logs()); kerr == nil {
			err = fmt.Errorf("%w (the components' logs are kept in %s)", err, kept)
		}
		if derr := teardown(context.Background(), o.Dir, o.Out); derr != nil {
			fmt.Fprintf(o.Out, "cluster: tear-down after the failure: %v\n", derr)
		}
		return nil, err
	}
	fmt.Fprintf(o.Out, "cluster: up in %s: node %s at %s\n", time.Since(st.start).Round(time.Second), NodeName, c.NodeIP)
	return c, nil
}

// keepLogs copies the components' logs to a new temporary folder.
func keepLogs(dir string) (string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil || len(entries) == 0 {
		return "", fmt.Errorf("no logs in %s", dir)
	}
	kept, err := os.MkdirTemp("", "svcat-cluster-logs-")
	if err != nil {
		return "", err
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			continue
		}
		if err := os.WriteFile(filepath.Join(kept, e.Name()), b, 0o600); err != nil {
			return "", err
		}
	}
	return kept, nil
}

// refuseIfPresent refuses to start over a running cluster or its leftovers:
// a second set of components would fight over the same interface, ports and
// iptables chains.
func refuseIfPresent(dir string) error {
	if s, err := readState(dir); err == nil {
		for _, p := range s.Procs {
			if p.alive() {
				return fmt.Errorf("a cluster is already running (started %s, node %s; %s pid %d): use it (KUBECONFIG=%s) or run 'make cluster-down' first",
					s.Started.Format(time.RFC3339), s.NodeIP, p.Name, p.Pid, nodePaths{Dir: dir}.Admin())
			}
		}
		return fmt.Errorf("a stopped cluster's leftovers are in %s: run 'make cluster-down' to clean up first", dir)
	}
	if _, err := os.Stat(dir); err == nil {
		return fmt.Errorf("%s exists without a cluster state file: run 'make cluster-down' to clean it up first", dir)
	}
	for _, l := range []string{nodeLink, bridgeLink} {
		if linkExists(l) {
			return fmt.Errorf("network interface %s exists (a cluster's leftover?): run 'make cluster-down' first", l)
		}
	}
	return nil
}

func (c *Cluster) up(ctx context.Context, st *stepper, bins nodeBinaries, o NodeOptions) error {
	p := c.paths
	for _, d := range []string{p.Dir, p.Logs(), p.Kubeconfigs(), p.CNIConf(), p.CNIIPAM(), p.Containerd(), p.KubeletRoot(), p.PodLogs()} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	_ = os.Chmod(p.Dir, 0o700)
	if err := writeJSON(p.Before(), SnapshotMachine(p.Dir)); err != nil {
		return err
	}
	state := &nodeState{Started: time.Now()}
	var plan netPlan
	if err := st.do("picking the node's address, pod and Service ranges", "", func() error {
		taken, err := machineTaken()
		if err != nil {
			return err
		}
		if plan, err = planNetwork(taken); err != nil {
			return err
		}
		state.NodeIP, state.PodCIDR, state.ServiceCIDR = plan.NodeIP.String(), plan.PodCIDR.String(), plan.ServiceCIDR.String()
		fmt.Fprintf(st.out, "cluster:   node %s on %s, pods %s, Services %s\n", plan.NodeIP, nodeLink, plan.PodCIDR, plan.ServiceCIDR)
		return writeJSON(p.State(), state)
	}); err != nil {
		return err
	}
	c.NodeIP, c.PodCIDR, c.ServiceCIDR, c.Kubeconfig = plan.NodeIP, plan.PodCIDR, plan.ServiceCIDR, p.Admin()
	if err := st.do("creating interface "+nodeLink+" with "+plan.NodeIP.String()+"/32", "", func() error {
		return addNodeLink(plan.NodeIP)
	}); err != nil {
		return err
	}
	if err := st.do("writing the cluster CA, certificates, kubeconfigs and configuration", "", func() error {
		return writeNodeFiles(p, plan, bins)
	}); err != nil {
		return err
	}
	start := func(name string, args []string) error {
		r, err := startDetached(name, bins[name], args, p.Logs())
		if err != nil {
			return err
		}
		state.Procs = append(state.Procs, r)
		return writeJSON(p.State(), state)
	}
	if err := st.do("starting etcd", "a few seconds", func() error {
		if err := start("etcd", etcdArgs(p)); err != nil {
			return err
		}
		return c.waitFor(ctx, state, "etcd", 30*time.Second, func() error {
			resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/health", etcdPort))
			if err != nil {
				return err
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				return fmt.Errorf("health: %s", resp.Status)
			}
			return nil
		})
	}); err != nil {
		return err
	}
	if err := st.do("starting kube-apiserver on "+plan.NodeIP.String(), "about 10 s", func() error {
		if err := start("kube-apiserver", apiServerArgs(p, plan)); err != nil {
			return err
		}
		cfg, err := clientcmd.BuildConfigFromFlags("", p.Admin())
		if err != nil {
			return err
		}
		cfg.QPS, cfg.Burst = -1, -1
		c.Config = cfg
		if c.Client, err = kubernetes.NewForConfig(cfg); err != nil {
			return err
		}
		return c.waitFor(ctx, state, "kube-apiserver", 90*time.Second, func() error {
			return c.Client.Discovery().RESTClient().Get().AbsPath("/readyz").Do(ctx).Error()
		})
	}); err != nil {
		return err
	}
	if err := st.do("starting containerd and importing the pause and CoreDNS images", "a few seconds", func() error {
		if err := start("containerd", []string{"--config", p.ContainerdConf()}); err != nil {
			return err
		}
		if err := c.waitFor(ctx, state, "containerd", 30*time.Second, func() error {
			return exec.Command(bins["ctr"], "--address", p.ContainerdSock(), "version").Run()
		}); err != nil {
			return err
		}
		for _, img := range append([]string{bins["pause.tar"], bins["coredns.tar"]}, o.Images...) {
			if err := c.LoadImage(img); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		return err
	}
	if err := st.do("starting kube-controller-manager, kube-scheduler, kubelet and kube-proxy", "", func() error {
		for _, s := range []struct {
			name string
			args []string
		}{
			{"kube-controller-manager", controllerManagerArgs(p, plan)},
			{"kube-scheduler", schedulerArgs(p, plan)},
			{"kubelet", kubeletArgs(p, plan, NodeName)},
			{"kube-proxy", kubeProxyArgs(p)},
		} {
			if err := start(s.name, s.args); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		return err
	}
	if err := st.do("waiting for node "+NodeName+" to be Ready", "10-30 s", func() error {
		return c.waitFor(ctx, state, "node", 2*time.Minute, func() error { return nodeReady(ctx, c.Client) })
	}); err != nil {
		return err
	}
	if err := st.do("deploying CoreDNS at "+plan.DNSServiceIP().String()+" and waiting for it to be Ready", "10-30 s", func() error {
		if err := applyCoreDNS(ctx, c.Client, plan); err != nil {
			return err
		}
		return c.waitFor(ctx, state, "CoreDNS", 2*time.Minute, func() error { return coreDNSReady(ctx, c.Client) })
	}); err != nil {
		return err
	}
	state.Ready = true
	return writeJSON(p.State(), state)
}

// waitFor polls check until it succeeds, the timeout passes or a component
// exits; the error then carries the end of the dead component's log.
func (c *Cluster) waitFor(ctx context.Context, state *nodeState, what string, timeout time.Duration, check func() error) error {
	deadline := time.Now().Add(timeout)
	var last error
	for {
		if last = check(); last == nil {
			return nil
		}
		for _, p := range state.Procs {
			if !p.alive() {
				return fmt.Errorf("%s exited; the end of %s:\n%s", p.Name, p.Log, logTail(p.Log, 20))
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not ready after %s: %v (logs in %s)", what, timeout, last, c.paths.Logs())
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s: %w (last: %v)", what, ctx.Err(), last)
		case <-time.After(250 * time.Millisecond):
		}
	}
}

func nodeReady(ctx context.Context, cs kubernetes.Interface) error {
	n, err := cs.CoreV1().Nodes().Get(ctx, NodeName, metav1.GetOptions{})
	if err != nil {
		return err
	}
	for _, cond := range n.Status.Conditions {
		if cond.Type == corev1.NodeReady {
			if cond.Status == corev1.ConditionTrue {
				return nil
			}
			return fmt.Errorf("node %s Ready=%s: %s", NodeName, cond.Status, cond.Message)
		}
	}
	return fmt.Errorf("node %s has no Ready condition yet", NodeName)
}

func writeNodeFiles(p nodePaths, plan netPlan, bins nodeBinaries) error {
	if err := writePKI(p.PKI(), plan, NodeName); err != nil {
		return err
	}
	server := fmt.Sprintf("https://%s:%d", plan.NodeIP, apiServerPort)
	for _, id := range []struct{ file, cert string }{
		{"admin", "admin"}, {"controller-manager", "controller-manager"}, {"scheduler", "scheduler"},
		{"kubelet", "kubelet-client"}, {"kube-proxy", "kube-proxy"},
	} {
		if err := writeKubeconfig(p.Kubeconfig(id.file), p.PKI(), id.cert, server); err != nil {
			return err
		}
	}
	conflist, err := cniConflist(p, plan)
	if err != nil {
		return err
	}
	files := map[string]string{
		p.ContainerdConf(): containerdConfig(p, bins["cni"], PauseImage),
		filepath.Join(p.CNIConf(), "10-svcat.conflist"): conflist,
		p.KubeletConf():   kubeletConfig(p, plan),
		p.KubeProxyConf(): kubeProxyConfig(p, plan, NodeName),
	}
	for path, content := range files {
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// LoadImage imports an image tarball (OCI layout or docker archive, as
// `make images` writes) into the node's containerd, where pods with
// imagePullPolicy Never or IfNotPresent find it.
func (c *Cluster) LoadImage(tarball string) error {
	return loadImage(c.paths, tarball)
}

func loadImage(p nodePaths, tarball string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	return ociimage.Import(ctx, tarball, p.ContainerdSock(), "k8s.io")
}

// APIServiceIP is the ClusterIP of the `kubernetes` Service.
func (c *Cluster) APIServiceIP() netip.Addr {
	return netPlan{ServiceCIDR: c.ServiceCIDR}.APIServiceIP()
}

// DNSServiceIP is the ClusterIP of CoreDNS's kube-dns Service.
func (c *Cluster) DNSServiceIP() netip.Addr {
	return netPlan{ServiceCIDR: c.ServiceCIDR}.DNSServiceIP()
}

// ExportLine is the shell line that points kubectl at the cluster.
func (c *Cluster) ExportLine() string { return "export KUBECONFIG=" + c.Kubeconfig }

// Stop tears the cluster down, leaving the machine as it was before
// StartNode.
func (c *Cluster) Stop() error {
	return StopNode(context.Background(), NodeOptions{Dir: c.Dir, Out: c.out})
}

// OpenNode returns the running cluster in o.Dir (started by `make cluster`
// or by another process), for tests and tools that use a cluster they did
// not start.
func OpenNode(o NodeOptions) (*Cluster, error) {
	if o.Dir == "" {
		o.Dir = os.Getenv("SVCAT_CLUSTER_DIR")
	}
	if o.Dir == "" {
		o.Dir = DefaultNodeDir
	}
	s, err := readState(o.Dir)
	if err != nil {
		return nil, errNotRunning
	}
	if !s.Ready {
		return nil, fmt.Errorf("the cluster in %s is not Ready (still starting, or failed): see %s", o.Dir, filepath.Join(o.Dir, "logs"))
	}
	for _, p := range s.Procs {
		if !p.alive() {
			return nil, fmt.Errorf("the cluster in %s is broken: %s (pid %d) is not running; see %s", o.Dir, p.Name, p.Pid, p.Log)
		}
	}
	p := nodePaths{Dir: o.Dir}
	c := &Cluster{Dir: o.Dir, paths: p, out: o.Out, Kubeconfig: p.Admin()}
	if c.out == nil {
		c.out = os.Stderr
	}
	if c.NodeIP, err = netip.ParseAddr(s.NodeIP); err != nil {
		return nil, err
	}
	c.PodCIDR, _ = netip.ParsePrefix(s.PodCIDR)
	c.ServiceCIDR, _ = netip.ParsePrefix(s.ServiceCIDR)
	if c.Config, err = clientcmd.BuildConfigFromFlags("", p.Admin()); err != nil {
		return nil, err
	}
	c.Config.QPS, c.Config.Burst = -1, -1
	if c.Client, err = kubernetes.NewForConfig(c.Config); err != nil {
		return nil, err
	}
	return c, nil
}

// NodeStatus describes the cluster in dir for `cluster status`.
func NodeStatus(dir string) string {
	if dir == "" {
		dir = DefaultNodeDir
	}
	s, err := readState(dir)
	if err != nil {
		return "no cluster (no state in " + dir + ")"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "cluster started %s, node %s at %s, pods %s, Services %s, ready %v\n",
		s.Started.Format(time.RFC3339), NodeName, s.NodeIP, s.PodCIDR, s.ServiceCIDR, s.Ready)
	for _, p := range s.Procs {
		state := "running"
		if !p.alive() {
			state = "NOT RUNNING"
		}
		fmt.Fprintf(&b, "  %-24s pid %-7d %-12s log %s\n", p.Name, p.Pid, state, p.Log)
	}
	fmt.Fprintf(&b, "export KUBECONFIG=%s\n", nodePaths{Dir: dir}.Admin())
	return b.String()
}

func readState(dir string) (*nodeState, error) {
	b, err := os.ReadFile(nodePaths{Dir: dir}.State())
	if err != nil {
		return nil, err
	}
	var s nodeState
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("reading %s: %w", nodePaths{Dir: dir}.State(), err)
	}
	return &s, nil
}

func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// lockNode serialises up and down on this machine. The lock file sits
// beside the cluster's folder (down removes the folder).
func lockNode(dir string) (func(), error) {
	path := filepath.Clean(dir) + ".lock"
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, fmt.Errorf("another 'cluster up' or 'cluster down' is running (%s is locked)", path)
	}
	return func() {
		// Without a cluster the lock file would be the one thing left.
		if _, err := os.Stat(dir); os.IsNotExist(err) {
			_ = os.Remove(path)
		}
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}
