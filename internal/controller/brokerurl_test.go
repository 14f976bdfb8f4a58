package controller

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"strings"
	"testing"
)

// fakeDNS answers from a table; unknown names fail as NXDOMAIN would.
func fakeDNS(table map[string][]string) func(context.Context, string) ([]net.IPAddr, error) {
	return func(_ context.Context, host string) ([]net.IPAddr, error) {
		addrs, ok := table[host]
		if !ok {
			return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
		}
		out := make([]net.IPAddr, len(addrs))
		for i, a := range addrs {
			out[i] = net.IPAddr{IP: net.ParseIP(a)}
		}
		return out, nil
	}
}

func TestBrokerURLPolicy(t *testing.T) {
	dns := fakeDNS(map[string][]string{
		"broker.example.com":     {"203.0.113.7"},
		"rebind.example.com":     {"203.0.113.8", "169.254.169.254"},
		"localhost":              {"127.0.0.1", "::1"},
		"api.cluster.example":    {"198.51.100.10"},
		"api-alias.example.com":  {"198.51.100.10"},
		"ipv6-ll.example.com":    {"fe80::1"},
		"broker.osb.svc.cluster": {"10.96.12.34"},
	})
	const api = "https://198.51.100.10:6443"
	tests := []struct {
		name   string
		url    string
		policy BrokerURLPolicy
		// refused is a substring of the expected error, "" for allowed.
		refused string
	}{
		{name: "public name", url: "https://broker.example.com"},
		{name: "cluster service", url: "http://broker.osb.svc.cluster:8080"},
		{name: "private address", url: "http://10.1.2.3:8080"},
		{name: "loopback allowed by default", url: "http://127.0.0.1:8090"},
		{name: "localhost allowed by default", url: "http://localhost:8090"},
		{name: "IPv6 loopback allowed by default", url: "http://[::1]:8090"},
		{name: "unparseable URL left to the client", url: "http://%zz"},
		{name: "unresolvable name left to the client", url: "https://nowhere.example.com"},

		{name: "AWS/Azure/GCP metadata address", url: "http://169.254.169.254/latest", refused: "link-local"},
		{name: "any 169.254/16", url: "http://169.254.1.2:8080", refused: "link-local"},
		{name: "IPv4-mapped IPv6 link-local", url: "http://[::ffff:169.254.169.254]/", refused: "link-local"},
		{name: "IPv6 link-local", url: "http://[fe80::1%25eth0]:8080", refused: "link-local"},
		{name: "IPv6 link-local via DNS", url: "http://ipv6-ll.example.com", refused: "resolves to fe80::1"},
		{name: "GCP metadata name", url: "http://metadata.google.internal/computeMetadata/v1", refused: "cloud metadata"},
		{name: "metadata name with trailing dot and case", url: "http://Metadata.Google.Internal./", refused: "cloud metadata"},
		{name: "Alibaba metadata", url: "http://100.100.100.200/", refused: "Alibaba"},
		{name: "AWS IPv6 metadata", url: "http://[fd00:ec2::254]/", refused: "AWS IPv6"},
		{name: "one bad address of several", url: "https://rebind.example.com", refused: "resolves to 169.254.169.254"},

		{name: "API server address and port", url: "https://198.51.100.10:6443/", policy: BrokerURLPolicy{APIServer: api}, refused: "API server"},
		{name: "API server by another name", url: "https://api-alias.example.com:6443", policy: BrokerURLPolicy{APIServer: "https://api.cluster.example:6443"}, refused: "API server"},
		{name: "API server's own name", url: "https://api.cluster.example:6443/v2", policy: BrokerURLPolicy{APIServer: "https://api.cluster.example:6443"}, refused: "API server"},
		{name: "in-cluster API server name", url: "https://kubernetes.default.svc", refused: "API server"},
		{name: "in-cluster API server FQDN", url: "https://kubernetes.default.svc.cluster.local:443", refused: "API server"},
		{name: "other port on the API server's machine", url: "http://198.51.100.10:8080", policy: BrokerURLPolicy{APIServer: api}},
		{name: "API server on loopback, broker on another loopback port", url: "http://127.0.0.1:8090", policy: BrokerURLPolicy{APIServer: "https://127.0.0.1:6443"}},
		{name: "API server on loopback", url: "https://localhost:6443", policy: BrokerURLPolicy{APIServer: "https://127.0.0.1:6443"}, refused: "API server"},

		{name: "loopback refused on request", url: "http://127.0.0.1:8090", policy: BrokerURLPolicy{RefuseLoopback: true}, refused: "loopback"},
		{name: "localhost refused on request", url: "http://localhost:8090", policy: BrokerURLPolicy{RefuseLoopback: true}, refused: "loopback"},
		{name: "unspecified refused with loopback", url: "http://0.0.0.0:8090", policy: BrokerURLPolicy{RefuseLoopback: true}, refused: "loopback"},

		{name: "allowed by address", url: "http://169.254.169.254/", policy: BrokerURLPolicy{Allow: []string{"169.254.169.254"}}},
		{name: "allowed by prefix", url: "http://169.254.3.4:8080", policy: BrokerURLPolicy{Allow: []string{"169.254.0.0/16"}}},
		{name: "allowed by name", url: "http://metadata.google.internal/", policy: BrokerURLPolicy{Allow: []string{"Metadata.Google.Internal"}}},
		{name: "allowed IPv6 in brackets", url: "http://[fe80::1]:8080", policy: BrokerURLPolicy{Allow: []string{"[fe80::1]"}}},
		{name: "allow of another host does not help", url: "http://169.254.169.254/", policy: BrokerURLPolicy{Allow: []string{"169.254.169.253", "broker.example.com"}}, refused: "link-local"},
		{name: "allowed API server", url: "https://198.51.100.10:6443/", policy: BrokerURLPolicy{APIServer: api, Allow: []string{"198.51.100.10"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := tt.policy
			p.LookupIPAddr = dns
			err := p.Check(context.Background(), tt.url)
			if tt.refused == "" {
				if err != nil {
					t.Fatalf("Check(%s) = %v, want allowed", tt.url, err)
				}
				return
			}
			var ue *BrokerURLError
			if !errors.As(err, &ue) {
				t.Fatalf("Check(%s) = %v, want a *BrokerURLError", tt.url, err)
			}
			msg := err.Error()
			// The message names the cause, the allowed destinations and the
			// exact flag value that would allow this host.
			for _, want := range []string{tt.refused, "169.254.0.0/16, fe80::/10", AllowBrokerURLHostsFlag + "=" + ue.Host} {
				if !strings.Contains(msg, want) {
					t.Errorf("message %q does not contain %q", msg, want)
				}
			}
		})
	}
}

// The lookup gets a deadline, so a hanging resolver cannot hold a worker.
func TestBrokerURLPolicyLookupDeadline(t *testing.T) {
	p := BrokerURLPolicy{LookupIPAddr: func(ctx context.Context, host string) ([]net.IPAddr, error) {
		if _, ok := ctx.Deadline(); !ok {
			t.Error("lookup without a deadline")
		}
		return nil, errors.New("fail")
	}}
	if err := p.Check(context.Background(), "http://slow.example.com"); err != nil {
		t.Fatal(err)
	}
}

// CheckConn applies the same rules to the address a connection goes to.
func TestBrokerURLPolicyCheckConn(t *testing.T) {
	ctx := context.Background()
	p := &BrokerURLPolicy{Allow: []string{"trusted.example", "169.254.10.0/24"}, APIServer: "https://10.0.0.1:6443"}
	for _, tc := range []struct {
		host, addr string
		refused    string
	}{
		{"broker.example", "10.1.2.3:443", ""},
		{"broker.example", "127.0.0.1:8080", ""},
		{"broker.example", "169.254.169.254:80", "link-local"},
		{"broker.example", "[fe80::1]:80", "link-local"},
		{"broker.example", "100.100.100.200:80", "Alibaba"},
		{"broker.example", "10.0.0.1:6443", "API server"},
		{"broker.example", "10.0.0.1:8443", ""},
		{"trusted.example", "169.254.169.254:80", ""},
		{"broker.example", "169.254.10.5:80", ""},
	} {
		err := p.CheckConn(ctx, tc.host, netip.MustParseAddrPort(tc.addr))
		switch {
		case tc.refused == "" && err != nil:
			t.Errorf("%s -> %s refused: %v", tc.host, tc.addr, err)
		case tc.refused != "" && (err == nil || !strings.Contains(err.Error(), tc.refused)):
			t.Errorf("%s -> %s: got %v, want a refusal naming %q", tc.host, tc.addr, err, tc.refused)
		}
	}
}
