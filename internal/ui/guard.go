package ui

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net"
	"net/http"
	"net/url"
	"strings"
)

// Any page on the machine can send requests to 127.0.0.1, and a DNS name
// rebound to 127.0.0.1 makes them same-origin. The guard lets through only
// requests that carry the secret the terminal printed (first as ?token=,
// then as a cookie no other site can read or send), name this server in
// Host, and, for changes, carry the page's CSRF token.

const (
	cookieName = "svcat_ui"
	csrfField  = "csrf"
	tokenParam = "token"
)

// newSecret returns 32 random bytes, base64url without padding.
func newSecret() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return base64.RawURLEncoding.EncodeToString(b)
}

// guard holds the secrets of one server run.
type guard struct {
	token   string // printed in the URL
	session string // the cookie's value, never in a URL
	csrfKey []byte
	hosts   map[string]bool
}

func newGuard(addr net.Addr) *guard {
	g := &guard{token: newSecret(), session: newSecret(), csrfKey: []byte(newSecret()), hosts: map[string]bool{}}
	_, port, _ := net.SplitHostPort(addr.String())
	host, _, _ := net.SplitHostPort(addr.String())
	for _, h := range []string{host, "127.0.0.1", "localhost", "[::1]"} {
		if strings.Contains(h, ":") && !strings.HasPrefix(h, "[") {
			h = "[" + h + "]"
		}
		g.hosts[h+":"+port] = true
	}
	return g
}

// csrf is the token every form carries. It is derived from the session, so
// a page that cannot read the cookie cannot compute it.
func (g *guard) csrf() string {
	m := hmac.New(sha256.New, g.csrfKey)
	m.Write([]byte(g.session))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func equal(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }

// refusal says why a request is refused; "" lets it through.
type refusal struct {
	status int
	msg    string
}

// check decides on a request before any handler runs.
func (g *guard) check(r *http.Request) *refusal {
	if !g.hosts[strings.ToLower(r.Host)] {
		return &refusal{http.StatusMisdirectedRequest, "this server answers only to 127.0.0.1 and localhost: Host " + quoteHost(r.Host) + " is refused (a page may be trying DNS rebinding)"}
	}
	// Browsers send Origin on every POST; "null" comes from sandboxed
	// frames and local files, which are other pages too. A GET changes
	// nothing, and a cross-site one carries no cookie (SameSite=Strict),
	// so it is refused below with the hint to open the printed URL.
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		if o := r.Header.Get("Origin"); o != "" && !g.sameOrigin(o) {
			return &refusal{http.StatusForbidden, "requests from other sites are refused"}
		}
		if r.Header.Get("Sec-Fetch-Site") == "cross-site" {
			return &refusal{http.StatusForbidden, "requests from other sites are refused"}
		}
	}
	c, err := r.Cookie(cookieName)
	if err != nil || !equal(c.Value, g.session) {
		return &refusal{http.StatusUnauthorized, "open the URL that svcat ui printed in the terminal (it carries a one-run token)"}
	}
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		return nil
	case http.MethodPost:
		// The form has been parsed by the caller (bounded); PostFormValue
		// reads the body only, never the query.
		if !equal(r.PostFormValue(csrfField), g.csrf()) {
			return &refusal{http.StatusForbidden, "the form's CSRF token is missing or wrong: reload the page and try again"}
		}
		return nil
	}
	return &refusal{http.StatusMethodNotAllowed, "method " + r.Method + " is not allowed"}
}

func (g *guard) sameOrigin(origin string) bool {
	u, err := url.Parse(origin)
	return err == nil && u.Scheme == "http" && g.hosts[strings.ToLower(u.Host)]
}

// login exchanges a valid ?token= for the session cookie and redirects to
// the same page without the token, so it does not linger in the history or
// in Referer headers. It reports whether it handled the request.
func (g *guard) login(w http.ResponseWriter, r *http.Request) bool {
	t := r.URL.Query().Get(tokenParam)
	if t == "" || r.Method != http.MethodGet || !g.hosts[strings.ToLower(r.Host)] {
		return false
	}
	if !equal(t, g.token) {
		http.Error(w, "wrong token: open the URL that svcat ui printed in the terminal", http.StatusUnauthorized)
		return true
	}
	http.SetCookie(w, &http.Cookie{Name: cookieName, Value: g.session, Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode})
	q := r.URL.Query()
	q.Del(tokenParam)
	dest := r.URL.Path
	if len(q) > 0 {
		dest += "?" + q.Encode()
	}
	http.Redirect(w, r, dest, http.StatusSeeOther)
	return true
}

func quoteHost(h string) string {
	if len(h) > 100 {
		h = h[:100] + "…"
	}
	return "\"" + strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return '?'
		}
		return r
	}, h) + "\""
}

// contentSecurityPolicy allows only this server's own scripts and styles:
// no inline script, no eval, no frames, forms post only here.
const contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; " +
	"connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

func securityHeaders(h http.Header) {
	h.Set("Content-Security-Policy", contentSecurityPolicy)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	// Not no-referrer: under it browsers send "Origin: null" on the
	// page's own forms, which the guard must refuse. same-origin still
	// sends nothing to other sites.
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	h.Set("Cross-Origin-Resource-Policy", "same-origin")
	// Pages show the user's objects and, once, a Secret: nothing is kept.
	h.Set("Cache-Control", "no-store")
}
