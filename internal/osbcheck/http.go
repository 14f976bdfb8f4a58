package osbcheck

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
)

// maxAnswer bounds every answer the checker reads: a broker under test is
// untrusted.
const maxAnswer = 10 << 20

type authMode int

const (
	authGood authMode = iota
	authNone
	authWrong
)

// request is one raw request: the checker must be able to send what a
// well-behaved client never would.
type request struct {
	method string
	path   string
	query  url.Values
	// body is sent verbatim when raw is set, else JSON-encoded when non-nil.
	body any
	raw  []byte
	auth authMode
	// version overrides X-Broker-API-Version; "-" leaves it out.
	version     string
	originating bool
}

type response struct {
	status    int
	header    http.Header
	body      []byte
	requestID string
}

func (r *response) String() string {
	return fmt.Sprintf("%d %s", r.status, truncate(strings.TrimSpace(string(r.body)), 300))
}

// object decodes a JSON-object body; nil if the body is not one.
func (r *response) object() map[string]any {
	var m map[string]any
	if json.Unmarshal(r.body, &m) != nil {
		return nil
	}
	return m
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

func newHTTPClient(cfg *Config) (*http.Client, error) {
	tc := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: cfg.Insecure} //nolint:gosec // --insecure is the user's explicit choice
	if len(cfg.CABundle) > 0 {
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(cfg.CABundle) {
			return nil, errors.New("the CA file holds no PEM certificate")
		}
		tc.RootCAs = pool
	}
	tr := &http.Transport{TLSClientConfig: tc, Proxy: nil, MaxIdleConnsPerHost: 4}
	return &http.Client{
		Transport: tr,
		// A broker that redirects is answering wrongly; show the 3xx.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}, nil
}

// send performs rq and observes the answer for the checks every answer is
// subject to (request identity, error bodies).
func (r *runner) send(ctx context.Context, rq request) (*response, error) {
	ctx, cancel := context.WithTimeout(ctx, r.cfg.Timeout)
	defer cancel()
	u := strings.TrimRight(r.cfg.URL, "/") + rq.path
	if len(rq.query) > 0 {
		u += "?" + rq.query.Encode()
	}
	var body io.Reader
	switch {
	case rq.raw != nil:
		body = bytes.NewReader(rq.raw)
	case rq.body != nil:
		b, err := json.Marshal(rq.body)
		if err != nil {
			return nil, err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, rq.method, u, body)
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	switch rq.version {
	case "":
		req.Header.Set("X-Broker-API-Version", r.cfg.APIVersion)
	case "-":
	default:
		req.Header.Set("X-Broker-API-Version", rq.version)
	}
	id := uuid.NewString()
	req.Header.Set("X-Broker-API-Request-Identity", id)
	if rq.originating {
		user, _ := json.Marshal(map[string]any{"username": "osb-check", "uid": "osb-check-uid", "groups": []string{"osb-check"}})
		req.Header.Set("X-Broker-API-Originating-Identity", "kubernetes "+base64.StdEncoding.EncodeToString(user))
	}
	r.setAuth(req, rq.auth)
	resp, err := r.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", rq.method, rq.path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer+1))
	if err != nil {
		return nil, fmt.Errorf("%s %s: reading the answer: %w", rq.method, rq.path, err)
	}
	if len(b) > maxAnswer {
		return nil, fmt.Errorf("%s %s: the answer exceeds %d bytes", rq.method, rq.path, maxAnswer)
	}
	out := &response{status: resp.StatusCode, header: resp.Header, body: b, requestID: id}
	r.observe(rq, out)
	return out, nil
}

func (r *runner) setAuth(req *http.Request, m authMode) {
	switch {
	case m == authNone:
	case r.cfg.Token != "":
		tok := r.cfg.Token
		if m == authWrong {
			tok += "-wrong"
		}
		req.Header.Set("Authorization", "Bearer "+tok)
	case r.cfg.Username != "" || r.cfg.Password != "":
		pass := r.cfg.Password
		if m == authWrong {
			pass += "-wrong"
		}
		req.SetBasicAuth(r.cfg.Username, pass)
	}
}

// observe applies the checks every answer is subject to; each records its
// first failure only, and passes at the end of the run if none.
func (r *runner) observe(rq request, resp *response) {
	if got := resp.header.Get("X-Broker-API-Request-Identity"); got != resp.requestID {
		r.global("identity.request-echo", fmt.Sprintf("%s %s answered %d with X-Broker-API-Request-Identity %q, sent %q", rq.method, rq.path, resp.status, got, resp.requestID))
	}
	if resp.status >= 400 && resp.status != http.StatusUnauthorized {
		if problem := errorBodyProblem(resp.body); problem != "" {
			r.global("errors.body", fmt.Sprintf("%s %s answered %d: %s", rq.method, rq.path, resp.status, problem))
		}
	}
}

// errorCode is the form the spec gives error codes: one CamelCase word.
var errorCode = regexp.MustCompile(`^[A-Z][A-Za-z0-9]*$`)

// errorBodyProblem is what is wrong with an error answer's body, or "".
func errorBodyProblem(body []byte) string {
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil || m == nil {
		return fmt.Sprintf("the body %q is not a JSON object", truncate(string(body), 100))
	}
	for _, k := range []string{"error", "description"} {
		if v, ok := m[k]; ok {
			if _, isString := v.(string); !isString {
				return fmt.Sprintf("%s is %T, not a string", k, v)
			}
		}
	}
	if code, ok := m["error"].(string); ok && !errorCode.MatchString(code) {
		return fmt.Sprintf("error %q is not a single CamelCase word; the message belongs in description", truncate(code, 60))
	}
	if _, ok := m["description"]; !ok {
		for _, k := range []string{"message", "msg", "detail", "error_description", "reason"} {
			if _, found := m[k]; found {
				return fmt.Sprintf("the message is under %q, which the spec does not define; it names description", k)
			}
		}
	}
	return ""
}

// retryAfter parses Retry-After as seconds or an HTTP date; ok is false for
// anything else.
func retryAfter(v string, now time.Time) (time.Duration, bool) {
	if v == "" {
		return 0, true
	}
	if s, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && s >= 0 {
		return time.Duration(s) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0), true
	}
	return 0, false
}
