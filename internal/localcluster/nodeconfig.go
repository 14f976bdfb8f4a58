package localcluster

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
)

// nodePaths are the files and folders of one cluster, all under its state
// folder so that down removes them by removing one folder.
type nodePaths struct {
	Dir string
}

func (p nodePaths) path(elem ...string) string {
	return filepath.Join(append([]string{p.Dir}, elem...)...)
}
func (p nodePaths) State() string          { return p.path("state.json") }
func (p nodePaths) Before() string         { return p.path("before.json") }
func (p nodePaths) PKI() string            { return p.path("pki") }
func (p nodePaths) Logs() string           { return p.path("logs") }
func (p nodePaths) Kubeconfigs() string    { return p.path("kubeconfig") }
func (p nodePaths) Admin() string          { return p.path("kubeconfig", "admin.kubeconfig") }
func (p nodePaths) Etcd() string           { return p.path("etcd") }
func (p nodePaths) Containerd() string     { return p.path("containerd") }
func (p nodePaths) ContainerdConf() string { return p.path("containerd", "config.toml") }
func (p nodePaths) ContainerdSock() string { return p.path("containerd", "containerd.sock") }
func (p nodePaths) CNIConf() string        { return p.path("cni", "net.d") }
func (p nodePaths) CNIIPAM() string        { return p.path("cni", "ipam") }
func (p nodePaths) KubeletRoot() string    { return p.path("kubelet") }
func (p nodePaths) KubeletConf() string    { return p.path("kubelet-config.yaml") }
func (p nodePaths) KubeProxyConf() string  { return p.path("kube-proxy-config.yaml") }
func (p nodePaths) PodLogs() string        { return p.path("pod-logs") }
func (p nodePaths) Kubeconfig(n string) string {
	return p.path("kubeconfig", n+".kubeconfig")
}

// Ports on the node's address (nothing else of the machine's uses that
// address, so they cannot clash) and on loopback for etcd, which must not be
// reachable from pods.
const (
	apiServerPort = 6443
	etcdPort      = 12379
	etcdPeerPort  = 12380
	clusterDomain = "cluster.local"
	// corednsPort is CoreDNS's port in its pod: above 1024, so the
	// non-root process needs no capability; the Service maps 53 to it.
	corednsPort = 1053
)

// containerdConfig is containerd's configuration (version 2, containerd 1.6
// from Debian). Everything lives under the cluster's folder, with its own
// socket, so a system containerd on the same machine is not disturbed.
func containerdConfig(p nodePaths, cniBin, pauseImage string) string {
	d := p.Containerd()
	return fmt.Sprintf(`version = 2
root = %q
state = %q
# The "opt" plugin would create /opt/containerd, outside the cluster's folder.
disabled_plugins = ["io.containerd.internal.v1.opt", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.aufs"]

[grpc]
  address = %q

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = %q
  # The host lacks CAP_SYS_RESOURCE: without this every sandbox fails with
  # "can't get final child's PID from pipe: EOF" (runc cannot lower
  # oom_score_adj).
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
        # runc's state, by default in /run/containerd/runc, stays in the
        # cluster's folder.
        Root = %q
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = %q
    conf_dir = %q
    max_conf_num = 1
`, filepath.Join(d, "root"), filepath.Join(d, "state"), p.ContainerdSock(), pauseImage, filepath.Join(d, "runc"), cniBin, p.CNIConf())
}

// cniConflist is the pod network: one bridge with the node's pod range, the
// bridge as the pods' gateway, and hairpin mode so a pod reaches itself
// through a Service. No masquerading: pods talk only to each other and to
// the node's address.
func cniConflist(p nodePaths, plan netPlan) (string, error) {
	conf := map[string]any{
		"cniVersion": "1.0.0",
		"name":       cniNetwork,
		"plugins": []any{
			map[string]any{
				"type":        "bridge",
				"bridge":      bridgeLink,
				"isGateway":   true,
				"ipMasq":      false,
				"hairpinMode": true,
				"ipam": map[string]any{
					"type":    "host-local",
					"dataDir": p.CNIIPAM(),
					"ranges":  [][]map[string]string{{{"subnet": plan.PodCIDR.String(), "gateway": plan.BridgeIP().String()}}},
					"routes":  []map[string]string{{"dst": "0.0.0.0/0"}},
				},
			},
			map[string]any{"type": "portmap", "capabilities": map[string]bool{"portMappings": true}},
		},
	}
	b, err := json.MarshalIndent(conf, "", "  ")
	return string(b), err
}

// kubeletConfig is the KubeletConfiguration the reference recipe found
// necessary on these machines: cgroupfs on cgroup v1, swap tolerated,
// webhook authentication and authorization, a serving certificate from the
// cluster CA, loose eviction (the machine's disk is shared), and no image
// GC (the images are imported locally and cannot be pulled again). Pods
// are synced every 10 s rather than every minute, so a changed Secret
// reaches the volumes it is mounted in within seconds (the servicebinding.io
// promise the cluster tests check waited up to 3 minutes otherwise); on one
// node with a few pods the extra syncs cost nothing noticeable.
func kubeletConfig(p nodePaths, plan netPlan) string {
	pki := p.PKI()
	return fmt.Sprintf(`apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: %[1]s
port: 10250
readOnlyPort: 0
healthzBindAddress: %[1]s
healthzPort: 10248
authentication:
  anonymous:
    enabled: false
  webhook:
    enabled: true
  x509:
    clientCAFile: %[2]s
authorization:
  mode: Webhook
tlsCertFile: %[3]s
tlsPrivateKeyFile: %[4]s
rotateCertificates: false
serverTLSBootstrap: false
cgroupDriver: cgroupfs
failCgroupV1: false
failSwapOn: false
containerRuntimeEndpoint: unix://%[5]s
clusterDNS:
- %[6]s
clusterDomain: %[7]s
podLogsDir: %[8]s
evictionHard:
  nodefs.available: "2%%"
  nodefs.inodesFree: "2%%"
  imagefs.available: "2%%"
  memory.available: "100Mi"
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
serializeImagePulls: false
maxPods: 110
syncFrequency: 10s
`, plan.NodeIP, filepath.Join(pki, "ca.crt"), filepath.Join(pki, "kubelet.crt"), filepath.Join(pki, "kubelet.key"),
		p.ContainerdSock(), plan.DNSServiceIP(), clusterDomain, p.PodLogs())
}

// kubeProxyConfig: iptables mode; NodePorts only on the node's address (not
// on the machine's own, nor on localhost); conntrack values 0, so the host's
// sysctls are left as they are.
func kubeProxyConfig(p nodePaths, plan netPlan, node string) string {
	return fmt.Sprintf(`apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
mode: iptables
clientConnection:
  kubeconfig: %[1]s
hostnameOverride: %[2]s
bindAddress: %[3]s
healthzBindAddress: %[3]s:10256
metricsBindAddress: %[3]s:10249
clusterCIDR: %[4]s
nodePortAddresses:
- %[3]s/32
iptables:
  localhostNodePorts: false
conntrack:
  maxPerCore: 0
  min: 0
  tcpEstablishedTimeout: 0s
  tcpCloseWaitTimeout: 0s
`, p.Kubeconfig("kube-proxy"), node, plan.NodeIP, plan.PodCIDR)
}

// corefile serves the cluster domain and reverse lookups from the API. There
// is no forward plugin: pods may reach only the cluster's own addresses, so
// other names are not resolved.
func corefile() string {
	return strings.TrimLeft(fmt.Sprintf(`
.:%d {
    errors
    health :8080
    ready :8181
    kubernetes %s in-addr.arpa ip6.arpa {
        pods insecure
        ttl 30
    }
    cache 30
    reload
    loadbalance
}
`, corednsPort, clusterDomain), "\n")
}

// apiServerArgs are kube-apiserver's flags.
func apiServerArgs(p nodePaths, plan netPlan) []string {
	pki := p.PKI()
	f := func(n string) string { return filepath.Join(pki, n) }
	return []string{
		"--advertise-address=" + plan.NodeIP.String(),
		"--bind-address=" + plan.NodeIP.String(),
		fmt.Sprintf("--secure-port=%d", apiServerPort),
		fmt.Sprintf("--etcd-servers=http://127.0.0.1:%d", etcdPort),
		"--service-cluster-ip-range=" + plan.ServiceCIDR.String(),
		"--authorization-mode=Node,RBAC",
		"--client-ca-file=" + f("ca.crt"),
		"--tls-cert-file=" + f("apiserver.crt"),
		"--tls-private-key-file=" + f("apiserver.key"),
		"--kubelet-client-certificate=" + f("apiserver-kubelet-client.crt"),
		"--kubelet-client-key=" + f("apiserver-kubelet-client.key"),
		"--kubelet-certificate-authority=" + f("ca.crt"),
		"--kubelet-preferred-address-types=InternalIP",
		"--service-account-key-file=" + f("sa.pub"),
		"--service-account-signing-key-file=" + f("sa.key"),
		"--service-account-issuer=https://kubernetes.default.svc." + clusterDomain,
		// The front-proxy settings (the aggregation layer's) fill the
		// extension-apiserver-authentication ConfigMap that the controller
		// manager and scheduler read; without them they log an error every
		// few seconds. No certificate with the allowed name is ever issued.
		"--requestheader-client-ca-file=" + f("ca.crt"),
		"--requestheader-allowed-names=front-proxy-client",
		"--requestheader-username-headers=X-Remote-User",
		"--requestheader-group-headers=X-Remote-Group",
		"--requestheader-extra-headers-prefix=X-Remote-Extra-",
		"--enable-admission-plugins=NodeRestriction",
		"--allow-privileged=true",
		// The `kubernetes` Service's endpoints are the advertised address:
		// pods reach the API server through the Service.
		"--endpoint-reconciler-type=lease",
		"--profiling=false",
	}
}

func etcdArgs(p nodePaths) []string {
	return []string{
		"--name=svcat-node",
		"--data-dir=" + p.Etcd(),
		fmt.Sprintf("--listen-client-urls=http://127.0.0.1:%d", etcdPort),
		fmt.Sprintf("--advertise-client-urls=http://127.0.0.1:%d", etcdPort),
		fmt.Sprintf("--listen-peer-urls=http://127.0.0.1:%d", etcdPeerPort),
		fmt.Sprintf("--initial-advertise-peer-urls=http://127.0.0.1:%d", etcdPeerPort),
		fmt.Sprintf("--initial-cluster=svcat-node=http://127.0.0.1:%d", etcdPeerPort),
		"--unsafe-no-fsync=true", // a throwaway cluster on a shared disk
		"--log-level=warn",
	}
}

func controllerManagerArgs(p nodePaths, plan netPlan) []string {
	pki := p.PKI()
	kc := p.Kubeconfig("controller-manager")
	return []string{
		"--kubeconfig=" + kc,
		"--authentication-kubeconfig=" + kc,
		"--authorization-kubeconfig=" + kc,
		"--bind-address=" + plan.NodeIP.String(),
		"--leader-elect=false",
		"--use-service-account-credentials=true",
		"--service-account-private-key-file=" + filepath.Join(pki, "sa.key"),
		"--root-ca-file=" + filepath.Join(pki, "ca.crt"),
		"--cluster-signing-cert-file=" + filepath.Join(pki, "ca.crt"),
		"--cluster-signing-key-file=" + filepath.Join(pki, "ca.key"),
		// The pod range is one /24 and so is the node's share: the node
		// gets the whole range, which is what the bridge hands out.
		"--allocate-node-cidrs=true",
		"--cluster-cidr=" + plan.PodCIDR.String(),
		fmt.Sprintf("--node-cidr-mask-size=%d", plan.PodCIDR.Bits()),
		"--service-cluster-ip-range=" + plan.ServiceCIDR.String(),
		"--controllers=*,bootstrapsigner,tokencleaner",
		"--profiling=false",
	}
}

func schedulerArgs(p nodePaths, plan netPlan) []string {
	kc := p.Kubeconfig("scheduler")
	return []string{
		"--kubeconfig=" + kc,
		"--authentication-kubeconfig=" + kc,
		"--authorization-kubeconfig=" + kc,
		"--bind-address=" + plan.NodeIP.String(),
		"--leader-elect=false",
		"--profiling=false",
	}
}

func kubeletArgs(p nodePaths, plan netPlan, node string) []string {
	return []string{
		"--config=" + p.KubeletConf(),
		"--kubeconfig=" + p.Kubeconfig("kubelet"),
		"--hostname-override=" + node,
		"--node-ip=" + plan.NodeIP.String(),
		"--root-dir=" + p.KubeletRoot(),
		"--cert-dir=" + filepath.Join(p.KubeletRoot(), "pki"),
	}
}

func kubeProxyArgs(p nodePaths) []string {
	return []string{"--config=" + p.KubeProxyConf()}
}
