package ui_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/svcat-io/svcat/api/v1beta1"
	"github.com/svcat-io/svcat/internal/localcluster"
)

// TestGuardRefusesForgedRequests plays the other pages on the machine: no
// token, a wrong token, a rebound host name, a cross-site form, a missing
// CSRF token. Each is refused and changes nothing.
func TestGuardRefusesForgedRequests(t *testing.T) {
	env := localcluster.Get(t)
	ns := env.Namespace(t)
	in := &v1beta1.ServiceInstance{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "target"}}
	in.Spec.ClusterServiceClassExternalName, in.Spec.ClusterServicePlanExternalName = "cloudkarafka", "duck"
	if err := env.Client.Create(context.Background(), in); err != nil {
		t.Fatal(err)
	}
	u := startUI(t, env.Config, ns)
	csrf := u.csrf()
	deprovision := url.Values{"csrf": {csrf}, "confirm": {"yes"}}

	raw := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	send := func(method, path, host string, body url.Values, header map[string]string, withCookie bool) (*http.Response, string) {
		t.Helper()
		var req *http.Request
		if body != nil {
			req, _ = http.NewRequest(method, u.base+path, strings.NewReader(body.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		} else {
			req, _ = http.NewRequest(method, u.base+path, nil)
		}
		if host != "" {
			req.Host = host
		}
		for k, v := range header {
			req.Header.Set(k, v)
		}
		if withCookie {
			base, _ := url.Parse(u.base)
			for _, c := range u.http.Jar.Cookies(base) {
				req.AddCookie(c)
			}
		}
		resp, err := raw.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b := new(strings.Builder)
		_, _ = io.Copy(b, resp.Body)
		return resp, b.String()
	}

	cases := []struct {
		name       string
		method     string
		path, host string
		body       url.Values
		header     map[string]string
		cookie     bool
		status     int
		says       string
	}{
		{"no cookie", "GET", "/instances", "", nil, nil, false, 401, "open the URL that svcat ui printed"},
		{"wrong token", "GET", "/instances?token=guess", "", nil, nil, false, 401, "wrong token"},
		{"rebound host", "GET", "/instances", "attacker.example:80", nil, nil, true, 421, `Host "attacker.example:80" is refused`},
		{"rebound host with token", "GET", "/?token=" + u.srv.Token(), "attacker.example", nil, nil, false, 421, "DNS rebinding"},
		{"post without csrf", "POST", "/instances/target/deprovision", "", url.Values{"confirm": {"yes"}}, nil, true, 403, "CSRF token is missing or wrong"},
		{"post with a wrong csrf", "POST", "/instances/target/deprovision", "", url.Values{"confirm": {"yes"}, "csrf": {"x" + csrf}}, nil, true, 403, "CSRF"},
		{"csrf in the query only", "POST", "/instances/target/deprovision?csrf=" + csrf, "", url.Values{"confirm": {"yes"}}, nil, true, 403, "CSRF"},
		{"cross-site form", "POST", "/instances/target/deprovision", "", deprovision, map[string]string{"Origin": "http://evil.example"}, true, 403, "other sites"},
		{"sandboxed frame", "POST", "/instances/target/deprovision", "", deprovision, map[string]string{"Origin": "null"}, true, 403, "other sites"},
		{"cross-site fetch", "POST", "/instances/target/deprovision", "", deprovision, map[string]string{"Sec-Fetch-Site": "cross-site"}, true, 403, "other sites"},
		{"no cookie but csrf", "POST", "/instances/target/deprovision", "", deprovision, nil, false, 401, "open the URL"},
		{"preflight", "OPTIONS", "/instances/target/deprovision", "", nil, map[string]string{"Origin": "http://evil.example", "Access-Control-Request-Method": "POST"}, true, 403, "other sites"},
		{"other method", "DELETE", "/instances/target", "", nil, nil, true, 405, "not allowed"},
		{"not a name", "GET", "/instances/a%3Fb", "", nil, nil, true, 404, "no object can be named"},
		{"too large", "POST", "/provision", "", url.Values{"csrf": {csrf}, "json": {strings.Repeat("x", 2<<20)}}, nil, true, 413, "larger than"},
	}
	for _, c := range cases {
		resp, body := send(c.method, c.path, c.host, c.body, c.header, c.cookie)
		if resp.StatusCode != c.status || !strings.Contains(body, c.says) {
			t.Errorf("%s: %d %q, want %d and %q", c.name, resp.StatusCode, body, c.status, c.says)
		}
		if v := resp.Header.Get("Access-Control-Allow-Origin"); v != "" {
			t.Errorf("%s: Access-Control-Allow-Origin %q", c.name, v)
		}
	}
	if got, err := getInstance(env, ns, "target"); err != nil || got.DeletionTimestamp != nil {
		t.Fatalf("a forged request deleted the instance (err %v)", err)
	}

	// The real page's headers and cookie.
	resp, _ := send("GET", "/?token="+u.srv.Token(), "", nil, nil, false)
	cookie := resp.Header.Get("Set-Cookie")
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/" ||
		!strings.Contains(cookie, "HttpOnly") || !strings.Contains(cookie, "SameSite=Strict") || strings.Contains(cookie, u.srv.Token()) {
		t.Errorf("login: %d, Location %q, Set-Cookie %q", resp.StatusCode, resp.Header.Get("Location"), cookie)
	}
	resp, _ = send("GET", "/instances", "", nil, nil, true)
	csp := resp.Header.Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'none'", "script-src 'self'", "form-action 'self'", "frame-ancestors 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	if resp.Header.Get("Cache-Control") != "no-store" || resp.Header.Get("X-Frame-Options") != "DENY" {
		t.Errorf("headers: %v", resp.Header)
	}
	// localhost names the same server.
	if resp, body := send("GET", "/instances", "localhost:"+u.port(), nil, nil, true); resp.StatusCode != 200 {
		t.Errorf("Host localhost: %d %s", resp.StatusCode, body)
	}
	// And the real form, with its token, goes through.
	if resp, body := send("POST", "/instances/target/deprovision", "", deprovision, map[string]string{"Origin": u.base, "Sec-Fetch-Site": "same-origin"}, true); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("the page's own deprovision: %d %s", resp.StatusCode, body)
	}
}

func (u *uiServer) port() string {
	_, p, _ := net.SplitHostPort(u.ln.Addr().String())
	return p
}
