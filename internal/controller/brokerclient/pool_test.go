package brokerclient

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	scv1beta1 "github.com/svcat-io/svcat/api/v1beta1"
	"github.com/svcat-io/svcat/internal/testbroker"
)

func secretReader(data map[string][]byte) *Pool {
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "osb", Name: "creds"}, Data: data}
	return &Pool{Reader: fake.NewClientBuilder().WithObjects(s).Build()}
}

// A broker URL with an in-cluster host name reaches a local broker through
// Resolve, the way the demo runs the seed's manifest unchanged.
func TestResolveSendsInClusterNamesToALocalBroker(t *testing.T) {
	broker := testbroker.Start(t, testbroker.Options{})
	local, _ := url.Parse(broker.URL())
	p := secretReader(map[string][]byte{"username": []byte(testbroker.DefaultUsername), "password": []byte(testbroker.DefaultPassword)})
	p.Resolve = map[string]string{"cloudkarafka-service-broker-service.osb.svc.cluster.local:80": local.Host}
	b := Broker{Key: "ClusterServiceBroker/x", Spec: &scv1beta1.CommonServiceBrokerSpec{URL: "http://cloudkarafka-service-broker-service.osb.svc.cluster.local"},
		Basic: &types.NamespacedName{Namespace: "osb", Name: "creds"}}
	c, err := p.Client(context.Background(), b)
	if err != nil {
		t.Fatal(err)
	}
	cat, err := c.GetCatalog(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if cat.Services[0].Name != "cloudkarafka" {
		t.Errorf("catalog %+v", cat.Services)
	}
}

func TestClientIsReusedUntilCredentialsChange(t *testing.T) {
	p := secretReader(map[string][]byte{"username": []byte("u"), "password": []byte("p")})
	b := Broker{Key: "k", Spec: &scv1beta1.CommonServiceBrokerSpec{URL: "http://127.0.0.1:1"}, Basic: &types.NamespacedName{Namespace: "osb", Name: "creds"}}
	c1, err := p.Client(context.Background(), b)
	if err != nil {
		t.Fatal(err)
	}
	c2, _ := p.Client(context.Background(), b)
	if c1 != c2 {
		t.Error("a new client was built although nothing changed")
	}
	b.Spec.URL = "http://127.0.0.1:2"
	if c3, _ := p.Client(context.Background(), b); c3 == c1 {
		t.Error("the client was reused after the URL changed")
	}
}

func TestCredentialsErrorsNameTheSecretNotTheValue(t *testing.T) {
	p := secretReader(map[string][]byte{"username": []byte("u"), "password": []byte("")})
	_, err := p.Client(context.Background(), Broker{Key: "k", Spec: &scv1beta1.CommonServiceBrokerSpec{URL: "http://x"}, Basic: &types.NamespacedName{Namespace: "osb", Name: "creds"}})
	var ce *CredentialsError
	if !errors.As(err, &ce) || !strings.Contains(err.Error(), `Secret osb/creds, key "password": the key is missing or empty`) {
		t.Errorf("got %v", err)
	}
	_, err = p.Client(context.Background(), Broker{Key: "k", Spec: &scv1beta1.CommonServiceBrokerSpec{URL: "http://x"}, Bearer: &types.NamespacedName{Namespace: "osb", Name: "nope"}})
	if !errors.As(err, &ce) || !strings.Contains(err.Error(), "Secret osb/nope: the Secret does not exist") {
		t.Errorf("got %v", err)
	}
}

// countingReader counts Secret reads.
type countingReader struct {
	client.Client
	reads int
}

func (r *countingReader) Get(ctx context.Context, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
	r.reads++
	return r.Client.Get(ctx, key, obj, opts...)
}

// Credentials are read once per TTL, not on every reconcile; a broker that
// refuses them makes the next call read them again, so a fixed Secret
// takes effect on the next retry.
func TestCredentialsAreReadOncePerTTLAndAgainAfterARefusal(t *testing.T) {
	broker := testbroker.Start(t, testbroker.Options{})
	ctx := context.Background()
	sec := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "osb", Name: "creds"},
		Data: map[string][]byte{"username": []byte(testbroker.DefaultUsername), "password": []byte("wrong")}}
	r := &countingReader{Client: fake.NewClientBuilder().WithObjects(sec).Build()}
	now := time.Unix(1000, 0)
	p := &Pool{Reader: r, CredentialsTTL: time.Minute, Now: func() time.Time { return now }}
	b := Broker{Key: "ClusterServiceBroker/x", Spec: &scv1beta1.CommonServiceBrokerSpec{URL: broker.URL()},
		Basic: &types.NamespacedName{Namespace: "osb", Name: "creds"}}

	for range 3 {
		if _, err := p.Client(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	if r.reads != 1 {
		t.Fatalf("three calls within the TTL read the Secret %d times, want 1", r.reads)
	}
	now = now.Add(time.Minute)
	c, err := p.Client(ctx, b)
	if err != nil {
		t.Fatal(err)
	}
	if r.reads != 2 {
		t.Fatalf("a call after the TTL read the Secret %d times in all, want 2", r.reads)
	}

	if _, err := c.GetCatalog(ctx); err == nil {
		t.Fatal("the broker accepted the wrong password")
	}
	sec.Data["password"] = []byte(testbroker.DefaultPassword)
	if err := r.Update(ctx, sec); err != nil {
		t.Fatal(err)
	}
	c, err = p.Client(ctx, b)
	if err != nil {
		t.Fatal(err)
	}
	if r.reads != 3 {
		t.Fatalf("after a 401 the Secret was read %d times in all, want 3", r.reads)
	}
	if _, err := c.GetCatalog(ctx); err != nil {
		t.Fatalf("with the fixed Secret: %v", err)
	}
}

// Pointing the broker at another Secret takes effect at once.
func TestAnotherSecretIsReadAtOnce(t *testing.T) {
	ctx := context.Background()
	a := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "osb", Name: "a"}, Data: map[string][]byte{"token": []byte("t1")}}
	b2 := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "osb", Name: "b"}, Data: map[string][]byte{"token": []byte("t2")}}
	r := &countingReader{Client: fake.NewClientBuilder().WithObjects(a, b2).Build()}
	p := &Pool{Reader: r}
	b := Broker{Key: "k", Spec: &scv1beta1.CommonServiceBrokerSpec{URL: "http://127.0.0.1:1"}, Bearer: &types.NamespacedName{Namespace: "osb", Name: "a"}}
	c1, err := p.Client(ctx, b)
	if err != nil {
		t.Fatal(err)
	}
	b.Bearer = &types.NamespacedName{Namespace: "osb", Name: "b"}
	c2, err := p.Client(ctx, b)
	if err != nil {
		t.Fatal(err)
	}
	if r.reads != 2 || c1 == c2 {
		t.Errorf("reads %d, same client %t: the second Secret was not used", r.reads, c1 == c2)
	}
}

// CheckConn sees the address actually dialed, after name resolution, and
// its refusal stops the request before a connection is made: a broker name
// that resolved to an allowed address when the broker was checked cannot
// later send the controller's requests somewhere else.
func TestCheckConnRefusesTheDialedAddress(t *testing.T) {
	broker := testbroker.Start(t, testbroker.Options{})
	local, _ := url.Parse(broker.URL())
	var seen []string
	p := secretReader(map[string][]byte{"username": []byte(testbroker.DefaultUsername), "password": []byte(testbroker.DefaultPassword)})
	p.Resolve = map[string]string{"rebound.example:80": "169.254.169.254:80", "good.example:80": local.Host}
	p.CheckConn = func(_ context.Context, host string, addr netip.AddrPort) error {
		seen = append(seen, host+"->"+addr.String())
		if addr.Addr().IsLinkLocalUnicast() {
			return &refusal{addr}
		}
		return nil
	}
	creds := &types.NamespacedName{Namespace: "osb", Name: "creds"}
	c, err := p.Client(context.Background(), Broker{Key: "a", Spec: &scv1beta1.CommonServiceBrokerSpec{URL: "http://rebound.example"}, Basic: creds})
	if err != nil {
		t.Fatal(err)
	}
	// The policy's error reaches the caller as itself, so the controller
	// can report it as a refused URL rather than an unreachable broker.
	var r *refusal
	if _, err := c.GetCatalog(context.Background()); !errors.As(err, &r) || !strings.Contains(err.Error(), "refused: 169.254.169.254:80") {
		t.Errorf("a request to a link-local address got %v", err)
	}
	c, err = p.Client(context.Background(), Broker{Key: "b", Spec: &scv1beta1.CommonServiceBrokerSpec{URL: "http://good.example"}, Basic: creds})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetCatalog(context.Background()); err != nil {
		t.Errorf("an allowed address: %v", err)
	}
	if want := []string{"rebound.example->169.254.169.254:80", "good.example->" + local.Host}; strings.Join(seen, " ") != strings.Join(want, " ") {
		t.Errorf("CheckConn saw %v, want %v", seen, want)
	}
}

type refusal struct{ addr netip.AddrPort }

func (r *refusal) Error() string { return "refused: " + r.addr.String() }

// Broker requests never go through a proxy named by HTTP_PROXY: the broker
// URL policy checks where each connection goes, and through a proxy it
// would see only the proxy. net/http reads the proxy variables once per
// process, so the test runs itself again in a fresh process with them set.
func TestProxyEnvironmentIsIgnored(t *testing.T) {
	if os.Getenv("SVCAT_PROXY_CHILD") == "" {
		cmd := exec.Command(os.Args[0], "-test.run=^TestProxyEnvironmentIsIgnored$", "-test.count=1", "-test.v")
		cmd.Env = append(os.Environ(), "SVCAT_PROXY_CHILD=1")
		out, err := cmd.CombinedOutput()
		if err != nil || !strings.Contains(string(out), "--- PASS") {
			t.Fatalf("in a process with HTTP_PROXY set: %v\n%s", err, out)
		}
		return
	}
	var proxied atomic.Int32
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		proxied.Add(1)
		http.Error(w, "answered by the proxy", http.StatusBadGateway)
	}))
	defer proxy.Close()
	for _, v := range []string{"HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"} {
		t.Setenv(v, proxy.URL)
	}
	t.Setenv("NO_PROXY", "")
	t.Setenv("no_proxy", "")

	broker := testbroker.Start(t, testbroker.Options{})
	local, _ := url.Parse(broker.URL())
	p := secretReader(map[string][]byte{"username": []byte(testbroker.DefaultUsername), "password": []byte(testbroker.DefaultPassword)})
	// net/http never proxies requests to loopback names and addresses, so
	// the broker is named as a remote host and dialed locally.
	p.Resolve = map[string]string{"broker.remote.example:80": local.Host}
	c, err := p.Client(context.Background(), Broker{Key: "proxy", Spec: &scv1beta1.CommonServiceBrokerSpec{URL: "http://broker.remote.example"},
		Basic: &types.NamespacedName{Namespace: "osb", Name: "creds"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetCatalog(context.Background()); err != nil {
		t.Errorf("GetCatalog: %v", err)
	}
	if n := proxied.Load(); n != 0 {
		t.Errorf("%d broker requests went through the HTTP_PROXY", n)
	}
}
