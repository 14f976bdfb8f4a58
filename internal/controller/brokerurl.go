package controller

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strings"
	"time"
)

// AllowBrokerURLHostsFlag is the controller flag that exempts hosts from the
// policy; messages name it so the fix is one copy-paste away.
const AllowBrokerURLHostsFlag = "--allow-broker-url-hosts"

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

// BrokerURLPolicy decides whether a broker URL may be used. A broker object
// is user input: anyone who may create a ServiceBroker in a namespace could
// otherwise make the controller send requests, with the controller's network
// position, to the cloud metadata service (and read its answers back in the
// broker's status) or to the API server. Loopback is allowed unless
// RefuseLoopback: development setups and tests run brokers on 127.0.0.1.
//
// The zero value refuses link-local and metadata addresses and allows the
// rest; set APIServer to refuse the API server too.
type BrokerURLPolicy struct {
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
	// LookupIPAddr resolves host names; default net.DefaultResolver.
	LookupIPAddr func(ctx context.Context, host string) ([]net.IPAddr, error)
}

// BrokerURLError says why a broker URL was refused, which address was the
// problem, and how to allow it.
type BrokerURLError struct {
	// Host is the URL's host as written.
	Host string
	// Addr is the refused address when it came from DNS, else "".
	Addr string
	// Why describes the destination, e.g. "a link-local address".
	Why string
}

func (e *BrokerURLError) Error() string {
	target := fmt.Sprintf("%q", e.Host)
	if e.Addr != "" {
		target += fmt.Sprintf(" (resolves to %s)", e.Addr)
	}
	return fmt.Sprintf("the broker URL's host %s is not allowed: it is %s. Broker URLs may not point at the API server, "+
		"link-local addresses (169.254.0.0/16, fe80::/10) or cloud metadata services; use the broker's own address, "+
		"or start the controller with %s=%s if this broker really lives there", target, e.Why, AllowBrokerURLHostsFlag, e.Host)
}

// dnsTimeout bounds the lookup so a slow resolver delays a relist, never
// blocks a worker for the whole OSB timeout.
const dnsTimeout = 5 * time.Second

// Check returns nil or a *BrokerURLError. A URL that does not parse or a
// host that does not resolve is let through: the request that follows fails
// with the usual, more precise error (invalid URL, broker unreachable) and
// cannot reach anything.
func (p *BrokerURLPolicy) Check(ctx context.Context, rawURL string) error {
	u, err := url.Parse(rawURL)
	if err != nil || u.Hostname() == "" {
		return nil
	}
	host := strings.ToLower(strings.TrimSuffix(u.Hostname(), "."))
	port := defaultPort(u)
	allowedAddrs, allowedHost := p.allowed(host)
	if allowedHost {
		return nil
	}
	if metadataHosts[host] {
		return &BrokerURLError{Host: u.Hostname(), Why: "a cloud metadata service's name"}
	}
	lookup := p.lookup()
	api := p.apiServer(ctx, lookup)
	if api.isName(host, port) {
		return &BrokerURLError{Host: u.Hostname(), Why: "the Kubernetes API server"}
	}

	var addrs []netip.Addr
	fromDNS := false
	if a, err := netip.ParseAddr(host); err == nil {
		addrs = []netip.Addr{a}
	} else {
		lctx, cancel := context.WithTimeout(ctx, dnsTimeout)
		ips, err := lookup(lctx, host)
		cancel()
		if err != nil {
			return nil
		}
		fromDNS = true
		for _, ip := range ips {
			if a, ok := netip.AddrFromSlice(ip.IP); ok {
				addrs = append(addrs, a)
			}
		}
	}
	// Every address must pass: the dialer may pick any of them.
	for _, a := range addrs {
		a = a.Unmap().WithZone("")
		if allowedAddrs(a) {
			continue
		}
		why := p.refusal(a, port, api)
		if why == "" {
			continue
		}
		e := &BrokerURLError{Host: u.Hostname(), Why: why}
		if fromDNS {
			e.Addr = a.String()
		}
		return e
	}
	return nil
}

// CheckConn applies the policy to the address a connection to a broker is
// about to be made to: the host name the URL gave and the address the
// dialer resolved it to. Check looked the name up when the broker was
// reconciled; a name that resolves differently later (DNS rebinding, or a
// short TTL) is caught here, before any byte is sent.
func (p *BrokerURLPolicy) CheckConn(ctx context.Context, urlHost string, addr netip.AddrPort) error {
	host := strings.ToLower(strings.TrimSuffix(urlHost, "."))
	allowedAddrs, allowedHost := p.allowed(host)
	if allowedHost {
		return nil
	}
	a := addr.Addr().Unmap().WithZone("")
	if allowedAddrs(a) {
		return nil
	}
	if why := p.refusal(a, fmt.Sprint(addr.Port()), p.apiServer(ctx, p.lookup())); why != "" {
		return &BrokerURLError{Host: urlHost, Addr: a.String(), Why: why}
	}
	return nil
}

func (p *BrokerURLPolicy) lookup() func(ctx context.Context, host string) ([]net.IPAddr, error) {
	if p.LookupIPAddr != nil {
		return p.LookupIPAddr
	}
	return net.DefaultResolver.LookupIPAddr
}

// allowed reports whether the host name is exempt, and returns the test for
// exempt addresses.
func (p *BrokerURLPolicy) allowed(host string) (func(netip.Addr) bool, bool) {
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
			prefixes = append(prefixes, netip.PrefixFrom(ip.Unmap(), ip.Unmap().BitLen()))
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

// refusal says what a refused address is, "" when it is fine.
func (p *BrokerURLPolicy) refusal(a netip.Addr, port string, api apiServer) string {
	switch {
	case api.is(a, port):
		return "the Kubernetes API server's address"
	case metadataAddrs[a] != "":
		return metadataAddrs[a]
	case a.IsLinkLocalUnicast():
		return "a link-local address, where cloud metadata services answer"
	case p.RefuseLoopback && (a.IsLoopback() || a.IsUnspecified()):
		return "a loopback address, refused by --refuse-loopback-broker-urls"
	}
	return ""
}

// apiServer is the API server's address as the policy compares it.
type apiServer struct {
	host  string
	addrs []netip.Addr
	port  string
}

// apiServer parses APIServer and resolves its host when it is a name, so a
// broker URL naming the API server's address some other way is caught too.
func (p *BrokerURLPolicy) apiServer(ctx context.Context, lookup func(context.Context, string) ([]net.IPAddr, error)) apiServer {
	u, err := url.Parse(p.APIServer)
	if err != nil || u.Hostname() == "" {
		return apiServer{}
	}
	s := apiServer{host: strings.ToLower(u.Hostname()), port: defaultPort(u)}
	if a, err := netip.ParseAddr(s.host); err == nil {
		s.addrs = []netip.Addr{a.Unmap().WithZone("")}
		return s
	}
	lctx, cancel := context.WithTimeout(ctx, dnsTimeout)
	defer cancel()
	if ips, err := lookup(lctx, s.host); err == nil {
		for _, ip := range ips {
			if a, ok := netip.AddrFromSlice(ip.IP); ok {
				s.addrs = append(s.addrs, a.Unmap())
			}
		}
	}
	return s
}

// isName matches the in-cluster Service names (any port: they only ever
// reach the API server) and the name the controller itself uses for it.
func (s apiServer) isName(host, port string) bool {
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

// is compares address and port: a broker on another port of the same
// machine is a different service.
func (s apiServer) is(a netip.Addr, port string) bool {
	if port != s.port {
		return false
	}
	for _, api := range s.addrs {
		if api == a || (api.IsUnspecified() && (a.IsLoopback() || a.IsUnspecified())) {
			return true
		}
	}
	return false
}

func defaultPort(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	if u.Scheme == "http" {
		return "80"
	}
	return "443"
}
