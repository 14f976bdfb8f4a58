package osb_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/svcat-io/svcat/internal/osb"
)

// rawBroker answers every request with the handler, for answers the test
// broker cannot produce (wrong Content-Type, lying Content-Length).
func rawBroker(t *testing.T, h http.HandlerFunc) *osb.Client {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	c, err := osb.New(osb.Config{URL: srv.URL, Username: "u", Password: "p"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

func answer(status int, contentType, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		if contentType != "" {
			w.Header().Set("Content-Type", contentType)
		}
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}
}

const oneService = `{"services":[{"id":"s","name":"n","description":"d","plans":[{"id":"p","name":"q","description":"d"}]}]}`

// Hostile and broken catalog answers: each must fail with an error that
// says what was wrong, and never as an empty catalog (which would retire
// every class and plan).
func TestCatalogBadInput(t *testing.T) {
	deep := strings.Repeat(`{"a":`, 10001) + "1" + strings.Repeat("}", 10001)
	tests := []struct {
		name        string
		handler     http.HandlerFunc
		is          func(error) bool
		wantMessage []string // substrings of the error
	}{
		{"empty 200", answer(200, "application/json", ""), osb.IsMalformedResponse, []string{"empty body"}},
		{"empty object", answer(200, "application/json", "{}"), osb.IsMalformedResponse, []string{"services is missing or null"}},
		{"services null", answer(200, "application/json", `{"services":null}`), osb.IsMalformedResponse, []string{"services is missing"}},
		{"services a string", answer(200, "application/json", `{"services":"all"}`), osb.IsMalformedResponse, []string{"field services has JSON type string"}},
		{"truncated JSON", answer(200, "application/json", oneService[:40]), osb.IsMalformedResponse, []string{"invalid JSON"}},
		{"HTML error page from a proxy", answer(200, "text/html; charset=utf-8", "<html><body>Login</body></html>"), osb.IsMalformedResponse,
			[]string{"invalid JSON", `Content-Type "text/html"`, "application/json"}},
		{"nested deeper than the limit", answer(200, "application/json", `{"services":[{"metadata":`+deep+`}]}`), osb.IsCatalogLimit,
			[]string{"nests more than 64 levels deep at services[0].metadata.a.a.a"}},
		{"over the size cap", answer(200, "application/json", `{"services":[],"pad":"`+strings.Repeat("x", osb.DefaultMaxResponseBytes)+`"}`),
			osb.IsCatalogLimit, []string{"the catalog is larger than 10485760 bytes"}},
		{"body shorter than its Content-Length", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Length", "1000")
			w.WriteHeader(200)
			_, _ = w.Write([]byte(oneService[:30]))
		}, osb.IsInterrupted, []string{"connection interrupted"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cat, err := rawBroker(t, tt.handler).GetCatalog(t.Context())
			if err == nil {
				t.Fatalf("accepted as a catalog of %d services", len(cat.Services))
			}
			if !tt.is(err) {
				t.Errorf("wrong error kind: %v", err)
			}
			for _, want := range tt.wantMessage {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not say %q", err, want)
				}
			}
			if len(err.Error()) > 2048 {
				t.Errorf("error of %d bytes", len(err.Error()))
			}
		})
	}
}

// What is fine must stay fine: an empty list is a real empty catalog, and
// JSON under another Content-Type is still JSON.
func TestCatalogTolerated(t *testing.T) {
	for name, h := range map[string]http.HandlerFunc{
		"empty list":           answer(200, "application/json", `{"services":[]}`),
		"text/plain JSON":      answer(200, "text/plain", oneService),
		"no Content-Type":      answer(200, "", oneService),
		"problem+json variant": answer(200, "application/vnd.broker+json", oneService),
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := rawBroker(t, h).GetCatalog(t.Context()); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// A redirect is refused, the other host gets nothing (least of all the
// broker's credentials), and the error says where it pointed.
func TestRedirectToAnotherHostRefused(t *testing.T) {
	var hits atomic.Int32
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		_, _ = w.Write([]byte(oneService))
	}))
	t.Cleanup(other.Close)
	for _, status := range []int{301, 302, 307, 308} {
		c := rawBroker(t, func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, other.URL+"/v2/catalog?token=s3cr3t-token", status)
		})
		_, err := c.GetCatalog(t.Context())
		var he *osb.HTTPError
		if !errors.As(err, &he) || he.StatusCode != status {
			t.Fatalf("%d: err = %v, want an HTTPError with the redirect status", status, err)
		}
		host := strings.TrimPrefix(other.URL, "http://")
		for _, want := range []string{"redirects are not followed", host} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("%d: error %q does not say %q", status, err, want)
			}
		}
		if strings.Contains(err.Error(), "s3cr3t-token") {
			t.Errorf("%d: error quotes the Location's query: %v", status, err)
		}
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("the redirect target got %d requests", n)
	}
}

// Credentials must be a JSON object; a string or an array is a malformed
// answer whose error does not quote it.
func TestBindCredentialsNotAnObject(t *testing.T) {
	for name, body := range map[string]string{
		"string": `{"credentials":"password=hunter2-very-secret"}`,
		"array":  `{"credentials":["hunter2-very-secret"]}`,
		"number": `{"credentials":42}`,
	} {
		t.Run(name, func(t *testing.T) {
			c := rawBroker(t, answer(201, "application/json", body))
			_, err := c.Bind(t.Context(), bindReq("i", "b"))
			if !osb.IsMalformedResponse(err) || osb.StatusCodeOf(err) != 201 {
				t.Fatalf("err = %v, want a malformed 201", err)
			}
			if !strings.Contains(err.Error(), "field credentials has JSON type") {
				t.Errorf("error does not name the field: %v", err)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("error quotes the credentials: %v", err)
			}
		})
	}
}
