// Package brokerurl is the broker URL policy: which hosts and addresses a
// broker URL, and each connection to a broker, may reach (never the
// Kubernetes API server, link-local or cloud metadata addresses, and by
// default not loopback), and the API server addresses it refuses.
package brokerurl

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// AllowHostsFlag is the controller flag that exempts hosts from the
// policy; messages name it so the fix is one copy-paste away.
const AllowHostsFlag = "--allow-broker-url-hosts"

// RefuseLoopbackFlag is the controller flag that refuses loopback brokers.
const RefuseLoopbackFlag = "--refuse-loopback-broker-urls"

// metadataHosts are cloud metadata service names. Their addresses are mostly
// link-local (refused anyway), but the names are refused before any DNS
// lookup because some clouds resolve them to other addresses and a
// resolver may be configured to answer anything.
var metadataHosts = map[string]bool{
	"metadata.google.internal":   true, // GCP
	"metadata.goog":              true, // GCP
	"metadata":                   true, // GCP short name, also OpenStack
	"metadata.azure.com":         true,
	"instance-data":              true, // AWS
	"instance-data.ec2.internal": true,
}

// metadataAddrs are metadata services outside the link-local ranges.
var metadataAddrs = map[netip.Addr]string{
	netip.MustParseAddr("100.100.100.200"): "the Alibaba Cloud metadata service",
	netip.MustParseAddr("fd00:ec2::254"):   "the AWS IPv6 metadata service",
}

// apiServerNames are the in-cluster names of the API server's Service.
var apiServerNames = []string{"kubernetes", "kubernetes.default", "kubernetes.default.svc"}

// Policy decides whether a broker URL may be used. A broker object
// is user input: anyone who may create a ServiceBroker in a namespace could
// otherwise make the controller send requests, with the controller's network
// position, to the cloud metadata service (and read its answers back in the
// broker's status) or to the API server.
//
// The zero value refuses link-local and metadata addresses and allows the
// rest; set APIServer and APIServerEndpoints to refuse the API server too.
type Policy struct {
	// Allow lists host names, IP addresses and CIDR prefixes exempt from the
	// policy (--allow-broker-url-hosts).
	Allow []string
	// RefuseLoopback also refuses 127.0.0.0/8, ::1 and the unspecified
	// addresses (which reach the local host).
	RefuseLoopback bool
	// APIServer is the API server's URL (rest.Config.Host). Its address and
	// port are refused, not its whole host: on a development machine the
	// API server and brokers share 127.0.0.1.
	APIServer string
	// APIServerEndpoints, if set, returns the other addresses the API
	// server answers on (APIServerAddresses.Get): its Service and
	// EndpointSlices, read from the cluster.
	APIServerEndpoints func() APIServerEndpoints
	// LookupIPAddr resolves host names; default net.DefaultResolver.
	LookupIPAddr func(ctx context.Context, host string) ([]net.IPAddr, error)
}

// APIServerEndpoints are the addresses of the API server besides the
// kubeconfig's host.
type APIServerEndpoints struct {
	// AddrPorts are where it listens: the addresses and ports of the
	// `kubernetes` Service's EndpointSlices.
	AddrPorts []netip.AddrPort
	// Addrs are refused at every port: the Service's ClusterIPs, where
	// nothing else answers.
	Addrs []netip.Addr
	// Local are this machine's interface addresses. At the API server's
	// ports they are refused like loopback: an API server on this machine
	// usually listens on all of them.
	Local []netip.Addr
}

// Error says why a broker URL was refused, which address was the
// problem, and how to allow it.
type Error struct {
	// Host is the URL's host as written.
	Host string
	// Addr is the refused address when the host is not written as it:
	// resolved by DNS, dialed, or an address in another notation.
	Addr string
	// Resolved says Addr came from resolving or dialing Host, not from
	// reading it.
	Resolved bool
	// Why describes the destination, e.g. "a link-local address".
	Why string
}

func (e *Error) Error() string {
	target := fmt.Sprintf("%q", e.Host)
	switch {
	case e.Addr != "" && e.Resolved:
		target += fmt.Sprintf(" (resolves to %s)", e.Addr)
	case e.Addr != "":
		target += fmt.Sprintf(" (the address %s)", e.Addr)
	}
	return fmt.Sprintf("the broker URL's host %s is not allowed: it is %s. Broker URLs may not point at the API server, "+
		"link-local addresses (169.254.0.0/16, fe80::/10) or cloud metadata services, nor at loopback addresses when the controller runs with %s; "+
		"use the broker's own address, or start the controller with %s=%s if this broker really lives there",
		target, e.Why, RefuseLoopbackFlag, AllowHostsFlag, e.Host)
}

// dnsTimeout bounds the lookup so a slow resolver delays a relist, never
// blocks a worker for the whole OSB timeout.
const dnsTimeout = 5 * time.Second

// Check returns nil or a *Error. A URL that does not parse or a
// host that does not resolve is let through: the request that follows fails
// with the usual, more precise error (invalid URL, broker unreachable) and
// cannot reach anything.
func (p *Policy) Check(ctx context.Context, rawURL string) error {
	return p.check(ctx, rawURL, false)
}

// CheckProxied is Check for a request that goes through --broker-proxy: the
// proxy resolves the host again and dials it, so a host the controller
// cannot resolve is refused instead of let through, since nothing here would
// see where the proxy sends it.
func (p *Policy) CheckProxied(ctx context.Context, rawURL string) error {
	return p.check(ctx, rawURL, true)
}

func (p *Policy) check(ctx context.Context, rawURL string, proxied bool) error {
	u, err := url.Parse(rawURL)
	if err != nil || u.Hostname() == "" {
		return nil
	}
	host := normalHost(u.Hostname())
	port, ok := urlPort(u)
	if !ok {
		return nil // the dialer refuses a port out of range
	}
	allowedAddrs, allowedHost := p.allowed(host)
	if allowedHost {
		return nil
	}
	if metadataHosts[host] {
		return &Error{Host: u.Hostname(), Why: "a cloud metadata service's name"}
	}
	lookup := p.lookup()
	api := p.apiServer(ctx, lookup)
	if api.isName(host, port) {
		return &Error{Host: u.Hostname(), Why: "the Kubernetes API server"}
	}

	addrs, resolved := hostAddrs(ctx, host, lookup)
	if proxied && len(addrs) == 0 {
		return &Error{Host: u.Hostname(), Why: "a name the controller cannot resolve, so it cannot tell where the broker proxy (--broker-proxy) would send the request"}
	}
	// Every address must pass: the dialer may pick any of them.
	for _, a := range addrs {
		a = normalAddr(a)
		if allowedAddrs(a) {
			continue
		}
		why := p.refusal(a, port, api)
		if why == "" {
			continue
		}
		e := &Error{Host: u.Hostname(), Why: why, Resolved: resolved}
		if resolved || a.String() != host {
			e.Addr = a.String()
		}
		return e
	}
	return nil
}

// hostAddrs is what a host stands for: itself when it is an address in any
// notation a resolver accepts, else what DNS answers (nothing when it does
// not answer in time).
func hostAddrs(ctx context.Context, host string, lookup func(context.Context, string) ([]net.IPAddr, error)) (addrs []netip.Addr, resolved bool) {
	if a, err := netip.ParseAddr(host); err == nil {
		return []netip.Addr{a}, false
	}
	if a, ok := parseIPv4Numbers(host); ok {
		return []netip.Addr{a}, false
	}
	lctx, cancel := context.WithTimeout(ctx, dnsTimeout)
	defer cancel()
	ips, err := lookup(lctx, host)
	if err != nil {
		return nil, true
	}
	for _, ip := range ips {
		if a, ok := netip.AddrFromSlice(ip.IP); ok {
			addrs = append(addrs, a)
		}
	}
	return addrs, true
}

// parseIPv4Numbers reads the IPv4 notations of inet_aton besides dotted
// decimal: one to four numbers, each decimal, octal (leading 0) or hex
// (0x), the last one filling the remaining bytes: "127.1", "2130706433",
// "0x7f000001", "0177.0.0.1". Go's own resolver does not accept them (it
// asks DNS), but the C library's does (a cgo build, curl, a proxy), so the
// policy reads them as the addresses they are instead of depending on
// which resolver runs.
func parseIPv4Numbers(s string) (netip.Addr, bool) {
	parts := strings.Split(s, ".")
	if len(parts) > 4 {
		return netip.Addr{}, false
	}
	var v uint64
	for i, part := range parts {
		n, ok := parseInetNumber(part)
		if !ok {
			return netip.Addr{}, false
		}
		bits := 8
		if i == len(parts)-1 {
			bits = 8 * (5 - len(parts))
		}
		if n >= 1<<bits {
			return netip.Addr{}, false
		}
		v = v<<bits | n
	}
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}), true
}

func parseInetNumber(s string) (uint64, bool) {
	base := 10
	switch {
	case len(s) > 2 && (s[:2] == "0x" || s[:2] == "0X"):
		base, s = 16, s[2:]
	case len(s) > 1 && s[0] == '0':
		base, s = 8, s[1:]
	}
	n, err := strconv.ParseUint(s, base, 32)
	return n, err == nil
}

// CheckConn applies the policy to the address a connection to a broker is
// about to be made to: the host name the URL gave and the address the
// dialer resolved it to. Check looked the name up when the broker was
// reconciled; a name that resolves differently later (DNS rebinding, or a
// short TTL) is caught here, before any byte is sent.
func (p *Policy) CheckConn(ctx context.Context, urlHost string, addr netip.AddrPort) error {
	host := normalHost(urlHost)
	allowedAddrs, allowedHost := p.allowed(host)
	if allowedHost {
		return nil
	}
	a := normalAddr(addr.Addr())
	if allowedAddrs(a) {
		return nil
	}
	if why := p.refusal(a, addr.Port(), p.apiServer(ctx, p.lookup())); why != "" {
		return &Error{Host: urlHost, Addr: a.String(), Resolved: true, Why: why}
	}
	return nil
}

func (p *Policy) lookup() func(ctx context.Context, host string) ([]net.IPAddr, error) {
	if p.LookupIPAddr != nil {
		return p.LookupIPAddr
	}
	return net.DefaultResolver.LookupIPAddr
}

// allowed reports whether the host name is exempt, and returns the test for
// exempt addresses.
func (p *Policy) allowed(host string) (func(netip.Addr) bool, bool) {
	var prefixes []netip.Prefix
	for _, a := range p.Allow {
		a = strings.ToLower(strings.TrimSpace(a))
		if a == "" {
			continue
		}
		if pr, err := netip.ParsePrefix(a); err == nil {
			prefixes = append(prefixes, pr.Masked())
			continue
		}
		if ip, err := netip.ParseAddr(strings.Trim(a, "[]")); err == nil {
			ip = normalAddr(ip)
			prefixes = append(prefixes, netip.PrefixFrom(ip, ip.BitLen()))
			continue
		}
		if strings.TrimSuffix(a, ".") == host {
			return nil, true
		}
	}
	return func(ip netip.Addr) bool {
		for _, pr := range prefixes {
			if pr.Contains(ip) {
				return true
			}
		}
		return false
	}, false
}

// refusal says what a refused address is, "" when it is fine. a is
// normalised (normalAddr).
func (p *Policy) refusal(a netip.Addr, port uint16, api apiServer) string {
	if why := api.is(a, port); why != "" {
		return why
	}
	switch {
	case metadataAddrs[a] != "":
		return metadataAddrs[a]
	case a.IsLinkLocalUnicast():
		return "a link-local address, where cloud metadata services answer"
	case p.RefuseLoopback && (a.IsLoopback() || a.IsUnspecified()):
		return "a loopback address, refused by " + RefuseLoopbackFlag
	}
	return ""
}

// normalHost is a URL host as the policy compares names.
func normalHost(h string) string {
	return strings.ToLower(strings.TrimSuffix(h, "."))
}

var (
	// ipv4Compatible (::a.b.c.d, deprecated) and nat64 (64:ff9b::/96, the
	// well-known NAT64 prefix) embed an IPv4 address that some stacks or a
	// NAT64 gateway reach.
	ipv4Compatible = netip.MustParsePrefix("::/96")
	nat64          = netip.MustParsePrefix("64:ff9b::/96")
)

// normalAddr is the address a connection to a reaches, so that one rule
// covers every way of writing it: IPv4-mapped and embedded IPv4 addresses
// become IPv4, zones go.
func normalAddr(a netip.Addr) netip.Addr {
	a = a.WithZone("").Unmap()
	if a.Is6() && !a.IsUnspecified() && !a.IsLoopback() && (ipv4Compatible.Contains(a) || nat64.Contains(a)) {
		b := a.As16()
		return netip.AddrFrom4([4]byte(b[12:]))
	}
	return a
}

// apiServer is where the API server answers, as the policy compares it.
type apiServer struct {
	// host and port are the kubeconfig's.
	host string
	port uint16
	// at are addresses with the port the API server listens on there.
	at map[netip.AddrPort]bool
	// anyPort are addresses where only the API server answers.
	anyPort map[netip.Addr]bool
	// ports are every port it listens on; local, this machine's addresses.
	ports map[uint16]bool
	local map[netip.Addr]bool
}

// apiServer gathers the API server's addresses: the kubeconfig's host
// (resolved when it is a name, so a broker URL naming its address some other
// way is caught too) and APIServerEndpoints.
func (p *Policy) apiServer(ctx context.Context, lookup func(context.Context, string) ([]net.IPAddr, error)) apiServer {
	s := apiServer{at: map[netip.AddrPort]bool{}, anyPort: map[netip.Addr]bool{}, ports: map[uint16]bool{}, local: map[netip.Addr]bool{}}
	if p.APIServerEndpoints != nil {
		e := p.APIServerEndpoints()
		for _, ap := range e.AddrPorts {
			s.add(ap.Addr(), ap.Port())
		}
		for _, a := range e.Addrs {
			s.anyPort[normalAddr(a)] = true
		}
		for _, a := range e.Local {
			s.local[normalAddr(a)] = true
		}
	}
	u, err := url.Parse(p.APIServer)
	if err != nil || u.Hostname() == "" {
		return s
	}
	port, ok := urlPort(u)
	if !ok {
		return s
	}
	s.host, s.port = normalHost(u.Hostname()), port
	addrs, _ := hostAddrs(ctx, s.host, lookup)
	for _, a := range addrs {
		s.add(a, port)
	}
	s.ports[port] = true
	return s
}

func (s apiServer) add(a netip.Addr, port uint16) {
	s.at[netip.AddrPortFrom(normalAddr(a), port)] = true
	s.ports[port] = true
}

// isName matches the in-cluster Service names (any port: they only ever
// reach the API server) and the name the controller itself uses for it.
func (s apiServer) isName(host string, port uint16) bool {
	for _, n := range apiServerNames {
		if host == n {
			return true
		}
	}
	if strings.HasPrefix(host, "kubernetes.default.svc.") {
		// With the cluster domain, whatever it is.
		return true
	}
	if _, err := netip.ParseAddr(host); err == nil {
		// Addresses are compared by is, which honours Allow.
		return false
	}
	return s.host != "" && host == s.host && port == s.port
}

// is says how a (normalised) at port reaches the API server, "" when it
// does not. A broker on another port of the API server's machine is a
// different service; but on the API server's ports, every loopback and
// unspecified address, and every address of this machine, reaches an API
// server that runs here and listens on all of them (0.0.0.0 and [::] are
// its default), whichever of them its kubeconfig or endpoints name.
func (s apiServer) is(a netip.Addr, port uint16) string {
	switch {
	case s.at[netip.AddrPortFrom(a, port)]:
		return fmt.Sprintf("the Kubernetes API server's address and port (%s)", netip.AddrPortFrom(a, port))
	case s.anyPort[a]:
		return "the Kubernetes API server's Service address (ClusterIP)"
	case s.ports[port] && (a.IsLoopback() || a.IsUnspecified()):
		return fmt.Sprintf("a loopback address at the Kubernetes API server's port %d", port)
	case s.ports[port] && s.local[a]:
		return fmt.Sprintf("an address of this machine at the Kubernetes API server's port %d", port)
	}
	return ""
}

// urlPort is the port a request to u goes to. Ports are compared as
// numbers: the dialer reads "06443" as 6443.
func urlPort(u *url.URL) (uint16, bool) {
	p := u.Port()
	if p == "" {
		if u.Scheme == "http" {
			return 80, true
		}
		return 443, true
	}
	n, err := strconv.ParseUint(p, 10, 16)
	return uint16(n), err == nil
}

// ParseProxy reads --broker-proxy. The message does not repeat the
// value: a proxy URL may carry a password.
func ParseProxy(v string) (*url.URL, error) {
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("--broker-proxy: want an http:// or https:// proxy URL such as http://proxy.example:3128")
	}
	return u, nil
}
