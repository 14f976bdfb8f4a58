package brokerurl

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	scv1beta1 "github.com/svcat-io/svcat/api/v1beta1"
	"github.com/svcat-io/svcat/internal/controller/brokerclient"
	"github.com/svcat-io/svcat/internal/osb"
	"github.com/svcat-io/svcat/internal/testbroker"
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
		"node-1.example":         {"192.0.2.2"},
	})
	const api = "https://198.51.100.10:6443"
	endpoints := func() APIServerEndpoints {
		return APIServerEndpoints{
			AddrPorts: []netip.AddrPort{netip.MustParseAddrPort("192.0.2.2:6443"), netip.MustParseAddrPort("[2001:db8::2]:6443")},
			Addrs:     []netip.Addr{netip.MustParseAddr("10.96.0.1")},
			Local:     []netip.Addr{netip.MustParseAddr("192.0.2.9"), netip.MustParseAddr("fe80::1")},
		}
	}
	tests := []struct {
		name   string
		url    string
		policy Policy
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

		{name: "API server address and port", url: "https://198.51.100.10:6443/", policy: Policy{APIServer: api}, refused: "API server"},
		{name: "API server by another name", url: "https://api-alias.example.com:6443", policy: Policy{APIServer: "https://api.cluster.example:6443"}, refused: "API server"},
		{name: "API server's own name", url: "https://api.cluster.example:6443/v2", policy: Policy{APIServer: "https://api.cluster.example:6443"}, refused: "API server"},
		{name: "in-cluster API server name", url: "https://kubernetes.default.svc", refused: "API server"},
		{name: "in-cluster API server FQDN", url: "https://kubernetes.default.svc.cluster.local:443", refused: "API server"},
		{name: "other port on the API server's machine", url: "http://198.51.100.10:8080", policy: Policy{APIServer: api}},
		{name: "API server on loopback, broker on another loopback port", url: "http://127.0.0.1:8090", policy: Policy{APIServer: "https://127.0.0.1:6443"}},
		{name: "API server on loopback", url: "https://localhost:6443", policy: Policy{APIServer: "https://127.0.0.1:6443"}, refused: "API server"},

		{name: "loopback refused on request", url: "http://127.0.0.1:8090", policy: Policy{RefuseLoopback: true}, refused: "loopback"},
		{name: "localhost refused on request", url: "http://localhost:8090", policy: Policy{RefuseLoopback: true}, refused: "loopback"},
		{name: "unspecified refused with loopback", url: "http://0.0.0.0:8090", policy: Policy{RefuseLoopback: true}, refused: "loopback"},

		{name: "allowed by address", url: "http://169.254.169.254/", policy: Policy{Allow: []string{"169.254.169.254"}}},
		{name: "allowed by prefix", url: "http://169.254.3.4:8080", policy: Policy{Allow: []string{"169.254.0.0/16"}}},
		{name: "allowed by name", url: "http://metadata.google.internal/", policy: Policy{Allow: []string{"Metadata.Google.Internal"}}},
		{name: "allowed IPv6 in brackets", url: "http://[fe80::1]:8080", policy: Policy{Allow: []string{"[fe80::1]"}}},
		{name: "allow of another host does not help", url: "http://169.254.169.254/", policy: Policy{Allow: []string{"169.254.169.253", "broker.example.com"}}, refused: "link-local"},
		{name: "allowed API server", url: "https://198.51.100.10:6443/", policy: Policy{APIServer: api, Allow: []string{"198.51.100.10"}}},

		// Link-local and metadata addresses in the notations a resolver or
		// a NAT64 gateway turns into them.
		{name: "metadata address in decimal", url: "http://2852039166/", refused: "(the address 169.254.169.254)"},
		{name: "metadata address in hex", url: "http://0xa9fea9fe/", refused: "(the address 169.254.169.254)"},
		{name: "metadata address in octal parts", url: "http://0251.0376.0251.0376/", refused: "(the address 169.254.169.254)"},
		{name: "metadata address in two parts", url: "http://169.16689662/", refused: "(the address 169.254.169.254)"},
		{name: "metadata address IPv4-mapped in hex", url: "http://[::ffff:a9fe:a9fe]/", refused: "(the address 169.254.169.254)"},
		{name: "metadata address behind NAT64", url: "http://[64:ff9b::a9fe:a9fe]/", refused: "(the address 169.254.169.254)"},
		{name: "Alibaba metadata IPv4-compatible", url: "http://[::100.100.100.200]/", refused: "Alibaba"},
		{name: "five parts is a name", url: "http://127.0.0.0.1:6443/", policy: Policy{APIServer: "https://127.0.0.1:6443"}},
		{name: "a part too large is a name", url: "http://256.1:6443/", policy: Policy{APIServer: "https://127.0.0.1:6443"}},

		{name: "loopback in short notation refused on request", url: "http://127.1:8090", policy: Policy{RefuseLoopback: true}, refused: "(the address 127.0.0.1)"},
		{name: "loopback in short notation allowed by default", url: "http://127.1:8090"},
		{name: "unspecified IPv6 refused with loopback", url: "http://[::]:8090", policy: Policy{RefuseLoopback: true}, refused: "loopback"},
		{name: "mapped loopback refused on request", url: "http://[::ffff:127.0.0.1]:8090", policy: Policy{RefuseLoopback: true}, refused: "loopback"},
		{name: "loopback allowed by address", url: "http://0x7f000001:8090", policy: Policy{RefuseLoopback: true, Allow: []string{"127.0.0.0/8"}}},

		// The API server's endpoints and Service, read from the cluster.
		{name: "API server endpoint", url: "https://192.0.2.2:6443", policy: Policy{APIServer: "https://10.96.0.1:443", APIServerEndpoints: endpoints}, refused: "API server's address and port (192.0.2.2:6443)"},
		{name: "API server endpoint in IPv6", url: "https://[2001:db8::2]:6443", policy: Policy{APIServerEndpoints: endpoints}, refused: "API server's address and port"},
		{name: "API server endpoint by name", url: "https://node-1.example:6443", policy: Policy{APIServerEndpoints: endpoints}, refused: "resolves to 192.0.2.2"},
		{name: "API server endpoint, other port", url: "http://192.0.2.2:8080", policy: Policy{APIServerEndpoints: endpoints}},
		{name: "API server ClusterIP at any port", url: "http://10.96.0.1:8080", policy: Policy{APIServerEndpoints: endpoints}, refused: "ClusterIP"},
		{name: "API server ClusterIP mapped", url: "https://[::ffff:a60:1]", policy: Policy{APIServerEndpoints: endpoints}, refused: "ClusterIP"},
		{name: "this machine's other address at the API server's port", url: "https://192.0.2.9:6443", policy: Policy{APIServerEndpoints: endpoints}, refused: "an address of this machine at the Kubernetes API server's port 6443"},
		{name: "this machine's address at another port", url: "http://192.0.2.9:8090", policy: Policy{APIServerEndpoints: endpoints}},
		{name: "loopback at a remote API server's port", url: "https://127.0.0.1:6443", policy: Policy{APIServerEndpoints: endpoints}, refused: "loopback address at the Kubernetes API server's port 6443"},
		{name: "allowed endpoint", url: "https://192.0.2.2:6443", policy: Policy{APIServerEndpoints: endpoints, Allow: []string{"192.0.2.0/24"}}},
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
			var ue *Error
			if !errors.As(err, &ue) {
				t.Fatalf("Check(%s) = %v, want a *Error", tt.url, err)
			}
			msg := err.Error()
			// The message names the cause, the allowed destinations and the
			// exact flag value that would allow this host.
			for _, want := range []string{tt.refused, "169.254.0.0/16, fe80::/10", AllowHostsFlag + "=" + ue.Host} {
				if !strings.Contains(msg, want) {
					t.Errorf("message %q does not contain %q", msg, want)
				}
			}
		})
	}
}

// An API server on loopback is reached at its port through every loopback
// and unspecified address, in every notation a URL can carry, whether or not
// loopback brokers are allowed; other ports stay open for local brokers.
func TestBrokerURLPolicyLoopbackAPIServer(t *testing.T) {
	p := Policy{APIServer: "https://127.0.0.1:6443", LookupIPAddr: fakeDNS(map[string][]string{"localhost": {"127.0.0.1", "::1"}})}
	for _, host := range []string{
		"127.0.0.1", "127.0.0.2", "127.255.255.254", "127.1", "127.0.1", "2130706433", "0x7f000001", "0X7F.1", "0177.0.0.1", "017700000001",
		"0", "0.0.0.0", "0.0", "localhost", "LocalHost.", "127.0.0.1.",
		"[::1]", "[::]", "[0:0:0:0:0:0:0:1]", "[::ffff:127.0.0.1]", "[::ffff:7f00:2]", "[0:0:0:0:0:ffff:7f00:1]", "[::ffff:0.0.0.0]", "[::127.0.0.1]",
		"[64:ff9b::7f00:1]", "[::1%25lo]",
	} {
		for _, port := range []string{":6443", ":06443"} {
			u := "https://" + host + port + "/v2/catalog"
			err := p.Check(context.Background(), u)
			var ue *Error
			if !errors.As(err, &ue) || !strings.Contains(err.Error(), "Kubernetes API server") {
				t.Errorf("Check(%s) = %v, want refused as the API server", u, err)
			}
		}
		if err := p.Check(context.Background(), "http://"+host+":8090"); err != nil {
			t.Errorf("a loopback broker on another port, %s:8090, was refused: %v", host, err)
		}
	}
}

// The lookup gets a deadline, so a hanging resolver cannot hold a worker.
func TestBrokerURLPolicyLookupDeadline(t *testing.T) {
	p := Policy{LookupIPAddr: func(ctx context.Context, host string) ([]net.IPAddr, error) {
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
	p := &Policy{Allow: []string{"trusted.example", "169.254.10.0/24"}, APIServer: "https://10.0.0.1:6443",
		APIServerEndpoints: func() APIServerEndpoints {
			return APIServerEndpoints{AddrPorts: []netip.AddrPort{netip.MustParseAddrPort("192.0.2.2:6443")},
				Addrs: []netip.Addr{netip.MustParseAddr("10.96.0.1")}, Local: []netip.Addr{netip.MustParseAddr("192.0.2.9")}}
		}}
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
		{"broker.example", "[::ffff:169.254.169.254]:80", "link-local"},
		{"broker.example", "[64:ff9b::a9fe:a9fe]:80", "link-local"},
		{"broker.example", "[::ffff:10.0.0.1]:6443", "API server"},
		{"broker.example", "127.0.0.2:6443", "loopback address at the Kubernetes API server's port"},
		{"broker.example", "0.0.0.0:6443", "loopback address at the Kubernetes API server's port"},
		{"broker.example", "[::]:6443", "loopback address at the Kubernetes API server's port"},
		{"broker.example", "[::ffff:127.0.0.1]:6443", "loopback address at the Kubernetes API server's port"},
		{"broker.example", "192.0.2.2:6443", "API server's address and port (192.0.2.2:6443)"},
		{"broker.example", "192.0.2.2:8080", ""},
		{"broker.example", "10.96.0.1:80", "ClusterIP"},
		{"broker.example", "192.0.2.9:6443", "an address of this machine"},
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

// The Service's ClusterIPs are refused at every port, each EndpointSlice
// address at each of its slice's ports, and at every port when the slice
// lists none.
func TestAPIServerEndpointsFromTheCluster(t *testing.T) {
	port := int32(6443)
	svc := &corev1.Service{Spec: corev1.ServiceSpec{ClusterIP: "10.96.0.1", ClusterIPs: []string{"10.96.0.1", "fd00:96::1"}}}
	slices := []discoveryv1.EndpointSlice{
		{Endpoints: []discoveryv1.Endpoint{{Addresses: []string{"192.0.2.2", "192.0.2.3"}}}, Ports: []discoveryv1.EndpointPort{{Port: &port}}},
		{Endpoints: []discoveryv1.Endpoint{{Addresses: []string{"198.51.100.7", "not an address"}}}},
	}
	got := apiServerEndpoints(svc, slices, nil)
	want := APIServerEndpoints{
		AddrPorts: []netip.AddrPort{netip.MustParseAddrPort("192.0.2.2:6443"), netip.MustParseAddrPort("192.0.2.3:6443")},
		Addrs:     []netip.Addr{netip.MustParseAddr("10.96.0.1"), netip.MustParseAddr("10.96.0.1"), netip.MustParseAddr("fd00:96::1"), netip.MustParseAddr("198.51.100.7")},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("got %+v\nwant %+v", got, want)
	}
	if e := apiServerEndpoints(nil, nil, nil); len(e.AddrPorts)+len(e.Addrs) != 0 {
		t.Errorf("without a Service: %+v", e)
	}
}

// The connection check refuses every way of dialing the API server's port on
// this machine, with real connections: a broker name that resolves (here
// through --dev-resolve, as a rebinding DNS server would answer) to another
// loopback address, an IPv4-mapped one or the unspecified address is
// stopped before a byte is sent, and the listener never sees a connection.
func TestCheckConnStopsDialsToTheAPIServerPort(t *testing.T) {
	var accepted atomic.Int32
	api := httptest.NewUnstartedServer(http.NotFoundHandler())
	api.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			accepted.Add(1)
		}
	}
	// Listen on every address, as an API server does by default.
	ln, err := net.Listen("tcp", "0.0.0.0:0")
	if err != nil {
		t.Fatal(err)
	}
	api.Listener = ln
	api.Start()
	defer api.Close()
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	policy := &Policy{APIServer: "https://127.0.0.1:" + port}
	for _, to := range []string{"127.0.0.2", "127.0.0.1", "0.0.0.0", "[::ffff:127.0.0.1]", "[::ffff:127.0.0.3]"} {
		p := &brokerclient.Pool{Reader: fake.NewClientBuilder().Build(), CheckConn: policy.CheckConn,
			Resolve: map[string]string{"rebound.example:80": to + ":" + port}}
		c, err := p.Client(context.Background(), brokerclient.Broker{Key: "ServiceBroker/ns/rebound", Spec: &scv1beta1.CommonServiceBrokerSpec{URL: "http://rebound.example"}})
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.GetCatalog(context.Background())
		var ue *Error
		if !errors.As(err, &ue) || !strings.Contains(err.Error(), "Kubernetes API server") || !strings.Contains(err.Error(), port) {
			t.Errorf("rebound.example dialed as %s: %v, want the policy's refusal", to, err)
		}
		// Refused before connecting: the broker cannot have acted on it.
		if !osb.IsUnreachable(err) {
			t.Errorf("rebound.example dialed as %s: %v, want a failure that never reached anyone", to, err)
		}
	}
	if n := accepted.Load(); n != 0 {
		t.Errorf("the API server's port accepted %d connections", n)
	}
}

// With --broker-proxy every request goes to the proxy, which the admin
// trusts, and the policy is applied to each request's URL before it is sent:
// a URL at a refused address, or at a name the controller cannot resolve
// (the proxy might resolve it anywhere), never reaches the proxy.
func TestBrokerProxyChecksEachRequestsURL(t *testing.T) {
	broker := testbroker.Start(t, testbroker.Options{})
	target, _ := url.Parse(broker.URL())
	var mu sync.Mutex
	var proxied []string
	forward := httputil.NewSingleHostReverseProxy(target)
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		proxied = append(proxied, r.URL.Host)
		mu.Unlock()
		forward.ServeHTTP(w, r)
	}))
	defer proxy.Close()
	proxyURL, _ := url.Parse(proxy.URL)

	policy := &Policy{APIServer: "https://127.0.0.1:6443", RefuseLoopback: true, LookupIPAddr: fakeDNS(map[string][]string{
		"broker.remote.example": {"203.0.113.7"},
		"rebind.example":        {"169.254.169.254"},
	})}
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "osb", Name: "creds"},
		Data: map[string][]byte{"username": []byte(testbroker.DefaultUsername), "password": []byte(testbroker.DefaultPassword)}}
	p := &brokerclient.Pool{Reader: fake.NewClientBuilder().WithObjects(secret).Build(), CheckConn: policy.CheckConn,
		Proxy: proxyURL, CheckURL: policy.CheckProxied}
	catalog := func(brokerURL string) error {
		c, err := p.Client(context.Background(), brokerclient.Broker{Key: "ServiceBroker/ns/" + brokerURL,
			Spec: &scv1beta1.CommonServiceBrokerSpec{URL: brokerURL}, Basic: &types.NamespacedName{Namespace: "osb", Name: "creds"}})
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.GetCatalog(context.Background())
		return err
	}
	// The proxy is on loopback, which the policy refuses for brokers: it is
	// trusted, not checked.
	if err := catalog("http://broker.remote.example"); err != nil {
		t.Fatalf("through the proxy: %v", err)
	}
	for u, why := range map[string]string{
		"http://rebind.example":      "resolves to 169.254.169.254",
		"http://127.0.0.2:6443":      "Kubernetes API server",
		"http://0x7f000001:8090":     "a loopback address",
		"http://unknown.example":     "cannot resolve",
		"http://metadata.goog/v1/x":  "cloud metadata",
		"http://[::ffff:a9fe:a9fe]/": "link-local",
	} {
		err := catalog(u)
		var ue *Error
		if !errors.As(err, &ue) || !strings.Contains(err.Error(), why) || !osb.IsUnreachable(err) {
			t.Errorf("%s through the proxy: %v, want a refusal naming %q", u, err, why)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if fmt.Sprint(proxied) != "[broker.remote.example]" {
		t.Errorf("the proxy saw requests for %v, want only broker.remote.example", proxied)
	}
}

// --broker-proxy takes http and https proxy URLs; its error never repeats
// the value, which may carry the proxy's password.
func TestParseBrokerProxy(t *testing.T) {
	if u, err := ParseProxy("http://user:pw@egress.example:3128"); err != nil || u.Host != "egress.example:3128" {
		t.Errorf("a valid proxy URL: %v, %v", u, err)
	}
	for _, v := range []string{"egress.example:3128", "socks5://user:pw-secret@egress.example:1080", "http://", "%zz"} {
		_, err := ParseProxy(v)
		if err == nil || strings.Contains(err.Error(), "pw-secret") || !strings.Contains(err.Error(), "--broker-proxy") {
			t.Errorf("ParseProxy(%q) = %v, want an error naming the flag and not the value", v, err)
		}
	}
}

// The policy runs before every connection to a broker (and before every
// request through --broker-proxy): its cost with a realistic set of API
// server addresses.
func BenchmarkBrokerURLPolicyCheckConn(b *testing.B) {
	e := APIServerEndpoints{
		AddrPorts: []netip.AddrPort{netip.MustParseAddrPort("192.0.2.2:6443"), netip.MustParseAddrPort("192.0.2.3:6443"), netip.MustParseAddrPort("192.0.2.4:6443")},
		Addrs:     []netip.Addr{netip.MustParseAddr("10.96.0.1"), netip.MustParseAddr("fd00:96::1")},
		Local:     []netip.Addr{netip.MustParseAddr("10.244.1.7"), netip.MustParseAddr("127.0.0.1"), netip.MustParseAddr("::1"), netip.MustParseAddr("fe80::1")},
	}
	p := &Policy{APIServer: "https://10.96.0.1:443", RefuseLoopback: true, Allow: []string{"10.250.0.0/16"},
		APIServerEndpoints: func() APIServerEndpoints { return e }}
	addr := netip.MustParseAddrPort("10.1.2.3:8080")
	ctx := context.Background()
	for b.Loop() {
		if err := p.CheckConn(ctx, "broker.osb.svc.cluster.local", addr); err != nil {
			b.Fatal(err)
		}
	}
}
