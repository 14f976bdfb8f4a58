package localcluster

import (
	"bufio"
	"bytes"
	"fmt"
	"net/netip"
	"os/exec"
	"strings"
)

// The node's network. The node gets its own address on a dummy interface the
// tooling creates and deletes, so nothing the cluster does targets the
// machine's own addresses: NodePorts, the API server and the kubelet listen
// there only. The candidate ranges are private; up takes the first candidate
// of each list that overlaps no address or route on the machine.
var (
	nodeIPCandidates = []string{"172.31.250.1/32", "10.250.250.1/32", "192.168.250.1/32"}
	// Each pod range is one /24: the controller manager allocates the node
	// the whole range, and the bridge's address pool is the same /24.
	podCIDRCandidates     = []string{"10.244.0.0/24", "10.245.0.0/24", "172.31.244.0/24"}
	serviceCIDRCandidates = []string{"10.96.0.0/16", "10.97.0.0/16", "172.31.96.0/20"}
)

const (
	// nodeLink is the dummy interface holding the node's address.
	nodeLink = "svcat0"
	// bridgeLink is the CNI bridge the pods are attached to.
	bridgeLink = "svcatbr0"
	// cniNetwork names the CNI network (also the IPAM's folder name).
	cniNetwork = "svcat-pods"
)

// netPlan is the addresses a cluster uses.
type netPlan struct {
	NodeIP      netip.Addr
	PodCIDR     netip.Prefix
	ServiceCIDR netip.Prefix
}

// APIServiceIP is the ClusterIP of the `kubernetes` Service: the first
// address of the Service range.
func (p netPlan) APIServiceIP() netip.Addr { return p.ServiceCIDR.Addr().Next() }

// DNSServiceIP is the ClusterIP of CoreDNS's Service (the tenth address, as
// kubeadm does, so it is easy to recognise).
func (p netPlan) DNSServiceIP() netip.Addr {
	a := p.ServiceCIDR.Addr()
	for range 10 {
		a = a.Next()
	}
	return a
}

// BridgeIP is the bridge's (the pods' gateway's) address: the first of the
// pod range.
func (p netPlan) BridgeIP() netip.Addr { return p.PodCIDR.Addr().Next() }

// planNetwork picks, for the node address, the pod range and the Service
// range, the first candidate that overlaps none of taken nor each other.
func planNetwork(taken []netip.Prefix) (netPlan, error) {
	var plan netPlan
	node, err := firstFree("node address", nodeIPCandidates, taken)
	if err != nil {
		return plan, err
	}
	taken = append(taken, node)
	pods, err := firstFree("pod range", podCIDRCandidates, taken)
	if err != nil {
		return plan, err
	}
	taken = append(taken, pods)
	svcs, err := firstFree("Service range", serviceCIDRCandidates, taken)
	if err != nil {
		return plan, err
	}
	return netPlan{NodeIP: node.Addr(), PodCIDR: pods, ServiceCIDR: svcs}, nil
}

func firstFree(what string, candidates []string, taken []netip.Prefix) (netip.Prefix, error) {
	for _, c := range candidates {
		p := netip.MustParsePrefix(c)
		if !overlapsAny(p, taken) {
			return p, nil
		}
	}
	return netip.Prefix{}, fmt.Errorf("no free %s: every candidate (%s) overlaps an address or route on this machine (%v)",
		what, strings.Join(candidates, ", "), taken)
}

func overlapsAny(p netip.Prefix, taken []netip.Prefix) bool {
	for _, t := range taken {
		if p.Overlaps(t) {
			return true
		}
	}
	return false
}

// parseTaken reads the IPv4 prefixes of `ip -4 -o addr show` and
// `ip -4 route show table all` output. Default routes are left out: they
// overlap everything and say nothing about which addresses are in use.
func parseTaken(addrOut, routeOut []byte) []netip.Prefix {
	var taken []netip.Prefix
	sc := bufio.NewScanner(bytes.NewReader(addrOut))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		for i := 0; i+1 < len(f); i++ {
			if f[i] == "inet" {
				if p, err := netip.ParsePrefix(f[i+1]); err == nil {
					taken = append(taken, p.Masked())
				}
			}
		}
	}
	sc = bufio.NewScanner(bytes.NewReader(routeOut))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 0 {
			continue
		}
		dst := f[0]
		switch dst {
		case "local", "broadcast", "unicast", "blackhole", "unreachable", "prohibit", "throw", "anycast", "multicast":
			if len(f) < 2 {
				continue
			}
			dst = f[1]
		}
		if dst == "default" {
			continue
		}
		if !strings.Contains(dst, "/") {
			dst += "/32"
		}
		if p, err := netip.ParsePrefix(dst); err == nil && p.Bits() > 0 {
			taken = append(taken, p.Masked())
		}
	}
	return taken
}

// machineTaken lists the IPv4 prefixes in use on this machine.
func machineTaken() ([]netip.Prefix, error) {
	addrs, err := exec.Command("ip", "-4", "-o", "addr", "show").Output()
	if err != nil {
		return nil, fmt.Errorf("listing addresses (ip -4 addr): %w", err)
	}
	routes, err := exec.Command("ip", "-4", "route", "show", "table", "all").Output()
	if err != nil {
		return nil, fmt.Errorf("listing routes (ip -4 route): %w", err)
	}
	return parseTaken(addrs, routes), nil
}

// linkExists says whether a network interface of that name exists.
func linkExists(name string) bool {
	return exec.Command("ip", "link", "show", "dev", name).Run() == nil
}

// addNodeLink creates the interface holding the node's address: a dummy
// interface, or where the kernel has no dummy driver (our machines' kernel
// has none and no modules to load) an empty bridge, which works the same for
// an address that only this machine uses.
func addNodeLink(ip netip.Addr) error {
	if out, err := exec.Command("ip", "link", "add", nodeLink, "type", "dummy").CombinedOutput(); err != nil {
		if out2, err2 := exec.Command("ip", "link", "add", nodeLink, "type", "bridge").CombinedOutput(); err2 != nil {
			return fmt.Errorf("ip link add %s type dummy: %v: %s; type bridge: %v: %s",
				nodeLink, err, bytes.TrimSpace(out), err2, bytes.TrimSpace(out2))
		}
	}
	steps := [][]string{
		{"ip", "addr", "add", netip.PrefixFrom(ip, 32).String(), "dev", nodeLink},
		{"ip", "link", "set", nodeLink, "up"},
	}
	for _, s := range steps {
		if out, err := exec.Command(s[0], s[1:]...).CombinedOutput(); err != nil {
			return fmt.Errorf("%s: %v: %s", strings.Join(s, " "), err, bytes.TrimSpace(out))
		}
	}
	return nil
}
