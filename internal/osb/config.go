package osb

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// APIVersion is the OSB API version this client speaks.
const APIVersion = "2.17"

const (
	DefaultTimeout          = 60 * time.Second
	DefaultMaxResponseBytes = 10 << 20
)

// Config describes one broker endpoint. At most one of basic auth
// (Username/Password) and BearerToken may be set.
type Config struct {
	// URL is the broker's base URL; requests go to URL + "/v2/...".
	URL string

	Username    string
	Password    string
	BearerToken string

	// CABundle holds PEM certificates; when set, only they are trusted for
	// the broker, as Kubernetes does for caBundle fields.
	CABundle              []byte
	InsecureSkipTLSVerify bool

	// Timeout bounds each request including reading the body; default
	// DefaultTimeout.
	Timeout time.Duration
	// MaxResponseBytes caps a response body; default DefaultMaxResponseBytes.
	// A catalog is bounded by its CatalogLimits instead.
	MaxResponseBytes int64

	// CatalogBudget, if set, is charged the memory of this client's
	// catalog reads while they run; clients of one process share it so
	// that their reads together stay within it. See CatalogBudget.
	CatalogBudget *CatalogBudget

	// Proxy, if set, is the HTTP proxy every request goes through. Without
	// it requests go directly to the broker: HTTP_PROXY and friends are
	// never used (see httpClient).
	Proxy *url.URL

	// WrapTransport, if set, wraps the client's transport, e.g. to
	// instrument it. It is called once, in New.
	WrapTransport func(http.RoundTripper) http.RoundTripper
	// Observer, if set, is called once per request after it finished, from
	// the goroutine that made it.
	Observer func(RequestInfo)
}

// RequestInfo describes one finished request for Config.Observer.
type RequestInfo struct {
	Operation Operation
	// StatusCode is 0 when no HTTP answer arrived.
	StatusCode      int
	Duration        time.Duration
	RequestIdentity string
	// Err is the error the operation returns, nil on success.
	Err error
}

func (c *Config) validate() (*url.URL, error) {
	u, err := url.Parse(c.URL)
	if err != nil {
		// url.Parse's message repeats the URL, which may hold a password.
		return nil, errors.New("osb: broker URL is not a valid URL")
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("osb: broker URL scheme must be http or https, not %q", u.Scheme)
	}
	if u.Host == "" {
		return nil, errors.New("osb: broker URL has no host")
	}
	if u.User != nil {
		return nil, errors.New("osb: broker URL must not contain user info; use basic auth instead")
	}
	if c.BearerToken != "" && (c.Username != "" || c.Password != "") {
		return nil, errors.New("osb: set either basic auth or a bearer token, not both")
	}
	if c.Timeout < 0 || c.MaxResponseBytes < 0 {
		return nil, errors.New("osb: timeout and response size limit must not be negative")
	}
	u.Path = strings.TrimRight(u.Path, "/")
	u.RawPath = ""
	u.RawQuery, u.Fragment = "", ""
	return u, nil
}

func (c *Config) tlsConfig() (*tls.Config, error) {
	tc := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: c.InsecureSkipTLSVerify}
	if len(c.CABundle) > 0 {
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(c.CABundle) {
			return nil, errors.New("osb: caBundle contains no PEM certificate")
		}
		tc.RootCAs = pool
	}
	return tc, nil
}

func (c *Config) httpClient() (*http.Client, *http.Transport, error) {
	tc, err := c.tlsConfig()
	if err != nil {
		return nil, nil, err
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = tc
	// Never a proxy from HTTP_PROXY and friends: the caller's checks of
	// where a connection goes (the controller's broker URL policy) would
	// see only the proxy, which then reaches whatever the URL names.
	tr.Proxy = nil
	if c.Proxy != nil {
		tr.Proxy = http.ProxyURL(c.Proxy)
	}
	var rt http.RoundTripper = tr
	if c.WrapTransport != nil {
		rt = c.WrapTransport(rt)
	}
	return &http.Client{
		Transport: rt,
		// A redirect would resend credentials and bodies to wherever the
		// broker points; OSB has no redirects, so surface them as errors.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}, tr, nil
}
