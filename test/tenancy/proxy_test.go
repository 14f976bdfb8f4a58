package tenancy

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	scv1beta1 "github.com/svcat-io/svcat/api/v1beta1"
)

// connectProxy is an HTTP CONNECT proxy on 127.0.0.1 standing for a
// cluster's egress proxy: it resolves names in its own network, where
// internalName is the API server.
type connectProxy struct {
	internalName string
	apiServer    string
	// toAPIServer counts tunnels it opened to the API server.
	toAPIServer atomic.Int64
	mu          sync.Mutex
	connects    []string
}

func (p *connectProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodConnect {
		http.Error(w, "CONNECT only", http.StatusMethodNotAllowed)
		return
	}
	p.mu.Lock()
	p.connects = append(p.connects, r.Host)
	p.mu.Unlock()
	host, _, err := net.SplitHostPort(r.Host)
	if err != nil || host != p.internalName {
		// Only the one internal name is served: nothing leaves loopback.
		http.Error(w, "unknown host", http.StatusBadGateway)
		return
	}
	up, err := net.Dial("tcp", p.apiServer)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	p.toAPIServer.Add(1)
	hj, ok := w.(http.Hijacker)
	if !ok {
		up.Close()
		return
	}
	w.WriteHeader(http.StatusOK)
	conn, _, err := hj.Hijack()
	if err != nil {
		up.Close()
		return
	}
	go func() { _, _ = io.Copy(up, conn); up.Close() }()
	go func() { _, _ = io.Copy(conn, up); conn.Close() }()
}

// Issue 14, item 5, proxies: the controller runs with HTTPS_PROXY set, as
// in a cluster with an egress proxy. A tenant's broker names a host only
// the proxy's network resolves, to the API server. The URL policy cannot
// see where the proxy connects; the request must still never reach the
// API server (proxies not used for broker traffic, or the destination
// checked where it is known).
func TestBrokerURLPolicyHoldsBehindAProxy(t *testing.T) {
	c := setup(t)
	ctx := context.Background()
	api, err := url.Parse(c.env.Config.Host)
	must(t, err)
	p := &connectProxy{internalName: "apiserver.svcat-proxy.invalid", apiServer: api.Host}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	hs := &http.Server{Handler: p}
	go func() { _ = hs.Serve(ln) }()
	t.Cleanup(func() { _ = hs.Close() })
	proxyURL := "http://" + ln.Addr().String()
	t.Setenv("HTTPS_PROXY", proxyURL)
	t.Setenv("HTTP_PROXY", proxyURL)
	t.Setenv("NO_PROXY", "")
	c.startController(t, 0)

	trudy := c.newTenant(t, "trudy")
	must(t, trudy.c.Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: trudy.ns, Name: "token"},
		Data: map[string][]byte{"token": []byte("trudy-broker-token")}}))
	must(t, trudy.c.Create(ctx, &scv1beta1.ServiceBroker{ObjectMeta: metav1.ObjectMeta{Namespace: trudy.ns, Name: "via-proxy"}, Spec: scv1beta1.ServiceBrokerSpec{
		CommonServiceBrokerSpec: scv1beta1.CommonServiceBrokerSpec{URL: "https://" + p.internalName + ":" + api.Port(), InsecureSkipTLSVerify: true,
			RelistBehavior: scv1beta1.ServiceBrokerRelistBehaviorManual},
		AuthInfo: &scv1beta1.ServiceBrokerAuthInfo{Bearer: &scv1beta1.BearerTokenAuthConfig{SecretRef: &scv1beta1.LocalObjectReference{Name: "token"}}}}}))
	var cond *scv1beta1.ServiceBrokerCondition
	waitFor(t, time.Minute, "the broker's Ready condition", func() error {
		var err error
		cond, err = brokerReady(ctx, trudy.c, trudy.ns, "via-proxy")
		if err == nil && (cond == nil || cond.Reason == "") {
			return errNotYet
		}
		return err
	})
	// A retry could still be on its way; give it the time of one.
	time.Sleep(2 * time.Second)
	p.mu.Lock()
	connects := append([]string(nil), p.connects...)
	p.mu.Unlock()
	t.Logf("broker condition: %s; CONNECTs the proxy received: %v", describeBrokerCond(cond), connects)
	if n := p.toAPIServer.Load(); n > 0 {
		t.Errorf("the proxy opened %d tunnels to the API server for a tenant's broker (condition: %s)", n, describeBrokerCond(cond))
	}
	if cond != nil && cond.Status == scv1beta1.ConditionTrue {
		t.Errorf("the broker behind the proxy is Ready")
	}
}

var errNotYet = errorString("not yet")

type errorString string

func (e errorString) Error() string { return string(e) }
