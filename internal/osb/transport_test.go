package osb_test

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/svcat-io/svcat/internal/osb"
	"github.com/svcat-io/svcat/internal/testbroker"
)

func TestTimeout(t *testing.T) {
	b := testbroker.Start(t, testbroker.Options{})
	// The hang outlasts any plausible scheduling delay; Close ends it.
	b.On(testbroker.Rule{Operation: osb.OpProvision, Hang: time.Minute})
	c := connect(t, b, func(c *osb.Config) { c.Timeout = 50 * time.Millisecond })
	_, err := c.ProvisionInstance(t.Context(), provisionReq("i1"))
	assertOnly(t, err, "Timeout")
	if osb.StatusCodeOf(err) != 0 {
		t.Errorf("status of a timeout = %d, want 0", osb.StatusCodeOf(err))
	}
}

func TestUnreachableThenReachable(t *testing.T) {
	b := testbroker.Start(t, testbroker.Options{})
	c := connect(t, b)
	b.Stop()
	_, err := c.GetCatalog(t.Context())
	assertOnly(t, err, "Unreachable")
	var op *net.OpError
	if !errors.As(err, &op) {
		t.Errorf("underlying *net.OpError not reachable through %v", err)
	}
	if err := b.Restart(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetCatalog(t.Context()); err != nil {
		t.Fatalf("after restart: %v", err)
	}
}

func TestCanceledByCaller(t *testing.T) {
	b := testbroker.Start(t, testbroker.Options{})
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := connect(t, b).GetCatalog(ctx)
	var te *osb.TransportError
	if !errors.As(err, &te) || te.Failure != osb.FailureCanceled || !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want a canceled TransportError wrapping context.Canceled", err)
	}
}

func TestTLS(t *testing.T) {
	b := testbroker.Start(t, testbroker.Options{TLS: true})
	tests := []struct {
		name string
		edit func(*osb.Config)
		want []string // nil: success
	}{
		{"caBundle", func(*osb.Config) {}, nil},
		{"no caBundle", func(c *osb.Config) { c.CABundle = nil }, []string{"TLSError"}},
		{"wrong caBundle", func(c *osb.Config) { c.CABundle = testbroker.Start(t, testbroker.Options{TLS: true}).CAPEM() }, []string{"TLSError"}},
		{"insecureSkipTLSVerify", func(c *osb.Config) { c.CABundle, c.InsecureSkipTLSVerify = nil, true }, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := connect(t, b, tt.edit).GetCatalog(t.Context())
			if tt.want == nil {
				if err != nil {
					t.Fatalf("GetCatalog: %v", err)
				}
				return
			}
			assertOnly(t, err, tt.want...)
			var verify *tls.CertificateVerificationError
			if !errors.As(err, &verify) {
				t.Errorf("underlying *tls.CertificateVerificationError not reachable through %v", err)
			}
		})
	}
}

// TestSchemeMismatch covers a broker URL whose scheme does not match what
// the broker serves, a common caBundle-era misconfiguration.
func TestSchemeMismatch(t *testing.T) {
	t.Run("https URL, plain broker", func(t *testing.T) {
		b := testbroker.Start(t, testbroker.Options{})
		c := connect(t, b, func(c *osb.Config) { c.URL = "https" + c.URL[len("http"):] })
		_, err := c.GetCatalog(t.Context())
		assertOnly(t, err, "TLSError")
	})
	t.Run("http URL, TLS broker", func(t *testing.T) {
		b := testbroker.Start(t, testbroker.Options{TLS: true})
		c := connect(t, b, func(c *osb.Config) { c.URL = "http" + c.URL[len("https"):] })
		_, err := c.GetCatalog(t.Context())
		// The TLS server answers plain HTTP with a 400 of its own.
		assertOnly(t, err, "BadRequest")
	})
}

func TestResponseTooLarge(t *testing.T) {
	tests := []struct {
		name string
		pad  int
	}{
		{"content-length known", 1500},
		{"chunked", 200 << 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := testbroker.Start(t, testbroker.Options{})
			b.On(testbroker.Rule{Operation: osb.OpProvision, PadBytes: tt.pad})
			c := connect(t, b, func(c *osb.Config) { c.MaxResponseBytes = 1024 })
			_, err := c.ProvisionInstance(t.Context(), provisionReq("i1"))
			assertOnly(t, err, "ResponseTooLarge")
			var l *osb.ResponseTooLargeError
			if errors.As(err, &l); l.Limit != 1024 || l.StatusCode != 201 {
				t.Errorf("ResponseTooLargeError = %+v", l)
			}
		})
		// The catalog has its own size limit, CatalogLimits.MaxBytes.
		t.Run(tt.name+", catalog", func(t *testing.T) {
			b := testbroker.Start(t, testbroker.Options{})
			b.On(testbroker.Rule{Operation: osb.OpGetCatalog, PadBytes: tt.pad})
			_, err := connect(t, b).GetCatalogWithin(t.Context(), osb.CatalogLimits{MaxBytes: 1024})
			var l *osb.CatalogLimitError
			if !errors.As(err, &l) || l.Limit != osb.LimitBytes || l.Max != 1024 {
				t.Errorf("err = %v, want a CatalogLimitError for 1024 bytes", err)
			}
		})
	}
	t.Run("default limit allows padding", func(t *testing.T) {
		b := testbroker.Start(t, testbroker.Options{})
		b.On(testbroker.Rule{Operation: osb.OpGetCatalog, PadBytes: 200 << 10})
		if _, err := connect(t, b).GetCatalog(t.Context()); err != nil {
			t.Fatal(err)
		}
	})
}

func TestObserverAndWrapTransport(t *testing.T) {
	b := testbroker.Start(t, testbroker.Options{})
	var seen []osb.RequestInfo
	var wrapped atomic.Int32
	c := connect(t, b, func(c *osb.Config) {
		c.Observer = func(i osb.RequestInfo) { seen = append(seen, i) }
		c.WrapTransport = func(rt http.RoundTripper) http.RoundTripper {
			return roundTripFunc(func(r *http.Request) (*http.Response, error) {
				wrapped.Add(1)
				return rt.RoundTrip(r)
			})
		}
	})
	cat, err := c.GetCatalog(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	_, perr := c.DeprovisionInstance(t.Context(), deprovisionReq("missing"))
	b.Stop()
	_, uerr := c.GetCatalog(t.Context())

	want := []osb.RequestInfo{
		{Operation: osb.OpGetCatalog, StatusCode: 200, RequestIdentity: cat.RequestIdentity},
		{Operation: osb.OpDeprovision, StatusCode: 410, RequestIdentity: osb.RequestIdentityOf(perr), Err: perr},
		{Operation: osb.OpGetCatalog, StatusCode: 0, RequestIdentity: osb.RequestIdentityOf(uerr), Err: uerr},
	}
	if len(seen) != len(want) {
		t.Fatalf("observer saw %d requests, want %d", len(seen), len(want))
	}
	for i, w := range want {
		got := seen[i]
		if got.Operation != w.Operation || got.StatusCode != w.StatusCode || got.RequestIdentity != w.RequestIdentity || got.Err != w.Err || got.Duration <= 0 {
			t.Errorf("request %d: observer got %+v, want %+v", i, got, w)
		}
	}
	if wrapped.Load() != 3 {
		t.Errorf("wrapped transport saw %d requests, want 3", wrapped.Load())
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestConfigValidation(t *testing.T) {
	tests := []struct {
		name string
		cfg  osb.Config
	}{
		{"no scheme", osb.Config{URL: "broker.example.com"}},
		{"ftp", osb.Config{URL: "ftp://broker.example.com"}},
		{"user info", osb.Config{URL: "https://admin:hunter2@broker.example.com"}},
		{"basic and bearer", osb.Config{URL: "https://b", Username: "u", BearerToken: "hunter2"}},
		{"bad caBundle", osb.Config{URL: "https://b", CABundle: []byte("hunter2")}},
		{"negative timeout", osb.Config{URL: "https://b", Timeout: -1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := osb.New(tt.cfg)
			if err == nil {
				t.Fatal("New accepted an invalid config")
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("error %q repeats a secret", err)
			}
		})
	}
}

func TestInterrupted(t *testing.T) {
	b := testbroker.Start(t, testbroker.Options{})
	b.On(testbroker.Rule{Operation: osb.OpProvision, Drop: true})
	c := connect(t, b)
	_, err := c.ProvisionInstance(t.Context(), provisionReq("i1"))
	assertOnly(t, err, "Interrupted")
	if !osb.OrphanMitigationRequired(osb.OpProvision, osb.OutcomeOf(0, err)) {
		t.Error("an interrupted provision must require orphan mitigation")
	}
	if b.ProvisionCount("i1") != 1 {
		t.Error("the dropping broker did not do the work")
	}
}
