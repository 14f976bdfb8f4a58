// Package brokerclient hands out one OSB client per broker object, built
// from the broker's spec and the credentials in its Secret, and rebuilt only
// when either changes, so connections are reused across reconciles.
package brokerclient

import (
	"context"
	"crypto/sha256"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"sync"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	scv1beta1 "github.com/svcat-io/svcat/api/v1beta1"
	"github.com/svcat-io/svcat/internal/controller/metrics"
	"github.com/svcat-io/svcat/internal/osb"
)

// Broker is what a client is built from, the same for both broker kinds.
type Broker struct {
	// Key identifies the broker in metrics and logs:
	// "ClusterServiceBroker/name" or "ServiceBroker/namespace/name".
	Key  string
	Spec *scv1beta1.CommonServiceBrokerSpec
	// Basic and Bearer name the credentials Secret, at most one of them.
	Basic, Bearer *types.NamespacedName
}

// FromClusterBroker describes a ClusterServiceBroker.
func FromClusterBroker(b *scv1beta1.ClusterServiceBroker) Broker {
	out := Broker{Key: "ClusterServiceBroker/" + b.Name, Spec: &b.Spec.CommonServiceBrokerSpec}
	if a := b.Spec.AuthInfo; a != nil {
		if a.Basic != nil && a.Basic.SecretRef != nil {
			out.Basic = &types.NamespacedName{Namespace: a.Basic.SecretRef.Namespace, Name: a.Basic.SecretRef.Name}
		}
		if a.Bearer != nil && a.Bearer.SecretRef != nil {
			out.Bearer = &types.NamespacedName{Namespace: a.Bearer.SecretRef.Namespace, Name: a.Bearer.SecretRef.Name}
		}
	}
	return out
}

// FromBroker describes a namespaced ServiceBroker; its Secret is in its
// namespace.
func FromBroker(b *scv1beta1.ServiceBroker) Broker {
	out := Broker{Key: "ServiceBroker/" + b.Namespace + "/" + b.Name, Spec: &b.Spec.CommonServiceBrokerSpec}
	if a := b.Spec.AuthInfo; a != nil {
		if a.Basic != nil && a.Basic.SecretRef != nil {
			out.Basic = &types.NamespacedName{Namespace: b.Namespace, Name: a.Basic.SecretRef.Name}
		}
		if a.Bearer != nil && a.Bearer.SecretRef != nil {
			out.Bearer = &types.NamespacedName{Namespace: b.Namespace, Name: a.Bearer.SecretRef.Name}
		}
	}
	return out
}

// CredentialsError says why the broker's credentials could not be read. It
// names the Secret and key, never their values.
type CredentialsError struct {
	Secret types.NamespacedName
	Key    string
	Reason string
}

func (e *CredentialsError) Error() string {
	if e.Key == "" {
		return fmt.Sprintf("cannot read the broker's credentials from Secret %s: %s", e.Secret, e.Reason)
	}
	return fmt.Sprintf("cannot read the broker's credentials from Secret %s, key %q: %s", e.Secret, e.Key, e.Reason)
}

// Pool caches clients by broker key.
type Pool struct {
	// Reader reads credentials Secrets. The controller passes an uncached
	// reader: it must not cache every Secret of the cluster to find a few.
	Reader  client.Reader
	Timeout time.Duration
	// CredentialsTTL is how long credentials read from a Secret are used
	// before the Secret is read again; 0 means DefaultCredentialsTTL. A
	// broker answering 401 or 403 makes the next call read them at once, so
	// fixed or rotated credentials take effect on the next retry.
	CredentialsTTL time.Duration
	// Resolve maps "host:port" of broker URLs to the "address:port" to dial
	// instead, like curl --resolve: TLS and the Host header still use the
	// URL's host. It exists for development, where a manifest names a
	// broker by an in-cluster DNS name that only resolves in a cluster.
	Resolve map[string]string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// CheckConn, if set, is asked before every connection to a broker, with
	// the URL's host name and the address about to be dialed; an error
	// stops the connection before anything is sent.
	CheckConn func(ctx context.Context, urlHost string, addr netip.AddrPort) error
	// Proxy, if set, is the proxy every broker request goes through
	// (--broker-proxy). Connections then all go to the proxy, which the
	// admin who named it trusts, so CheckConn is not asked; CheckURL is
	// asked about each request's URL instead, before it is sent.
	Proxy *url.URL
	// CheckURL checks a request's URL when requests go through Proxy; an
	// error stops the request.
	CheckURL func(ctx context.Context, rawURL string) error
	// CatalogBudget, if set, is shared by every client's catalog reads.
	CatalogBudget *osb.CatalogBudget

	mu      sync.Mutex
	clients map[string]*entry
}

// DefaultCredentialsTTL bounds how long a changed credentials Secret can go
// unnoticed while the broker still accepts the old credentials.
const DefaultCredentialsTTL = 30 * time.Second

type entry struct {
	// spec hashes what the client is built from except the credentials;
	// fingerprint hashes all of it.
	spec, fingerprint [32]byte
	client            *osb.Client
	// read is when the credentials were last read; zero after the broker
	// refused them.
	read time.Time
}

// Client returns a client for the broker, building a new one when its URL,
// TLS settings or credentials changed since the last call. Credentials are
// read from their Secret at most once per CredentialsTTL per broker: without
// that, every instance and binding reconcile would cost an API request.
func (p *Pool) Client(ctx context.Context, b Broker) (*osb.Client, error) {
	obs := metrics.Observer(b.Key)
	cfg := osb.Config{
		URL:                   b.Spec.URL,
		CABundle:              b.Spec.CABundle,
		InsecureSkipTLSVerify: b.Spec.InsecureSkipTLSVerify,
		Timeout:               p.Timeout,
		Proxy:                 p.Proxy,
		CatalogBudget:         p.CatalogBudget,
		Observer: func(ri osb.RequestInfo) {
			obs(ri)
			if ri.StatusCode == http.StatusUnauthorized || ri.StatusCode == http.StatusForbidden {
				p.expire(b.Key)
			}
		},
	}
	switch {
	case p.Proxy != nil:
		cfg.WrapTransport = p.checkingTransport
	case len(p.Resolve) > 0 || p.CheckConn != nil:
		cfg.WrapTransport = p.dialingTransport
	}
	spec := fingerprint(cfg, b.Basic, b.Bearer)
	if c := p.cached(b.Key, spec); c != nil {
		return c, nil
	}
	var err error
	switch {
	case b.Basic != nil:
		var v []string
		if v, err = p.secretValues(ctx, *b.Basic, scv1beta1.BasicAuthUsernameKey, scv1beta1.BasicAuthPasswordKey); err != nil {
			return nil, err
		}
		cfg.Username, cfg.Password = v[0], v[1]
	case b.Bearer != nil:
		var v []string
		if v, err = p.secretValues(ctx, *b.Bearer, scv1beta1.BearerTokenKey); err != nil {
			return nil, err
		}
		cfg.BearerToken = v[0]
	}
	fp := fingerprint(cfg, b.Basic, b.Bearer)

	p.mu.Lock()
	defer p.mu.Unlock()
	if p.clients == nil {
		p.clients = map[string]*entry{}
	}
	if e, ok := p.clients[b.Key]; ok {
		if e.fingerprint == fp {
			e.spec, e.read = spec, p.now()
			return e.client, nil
		}
		e.client.Close()
	}
	c, err := osb.New(cfg)
	if err != nil {
		return nil, err
	}
	p.clients[b.Key] = &entry{spec: spec, fingerprint: fp, client: c, read: p.now()}
	return c, nil
}

// cached is the broker's client when its spec is unchanged and its
// credentials were read recently enough.
func (p *Pool) cached(key string, spec [32]byte) *osb.Client {
	ttl := p.CredentialsTTL
	if ttl <= 0 {
		ttl = DefaultCredentialsTTL
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	e, ok := p.clients[key]
	if !ok || e.spec != spec || e.read.IsZero() || p.now().Sub(e.read) >= ttl {
		return nil
	}
	return e.client
}

// expire makes the next call for the broker read its credentials again.
func (p *Pool) expire(key string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if e, ok := p.clients[key]; ok {
		e.read = time.Time{}
	}
}

func (p *Pool) now() time.Time {
	if p.Now != nil {
		return p.Now()
	}
	return time.Now()
}

// dialingTransport dials through Resolve and asks CheckConn about each
// address before connecting.
func (p *Pool) dialingTransport(rt http.RoundTripper) http.RoundTripper {
	tr, ok := rt.(*http.Transport)
	if !ok {
		return rt
	}
	tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		urlHost, _, err := net.SplitHostPort(addr)
		if err != nil {
			return nil, err
		}
		if to, ok := p.Resolve[addr]; ok {
			addr = to
		}
		d := &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}
		if p.CheckConn != nil {
			// Control runs for each address tried, possibly at once (IPv4
			// and IPv6); the first refusal is kept for the error message.
			var mu sync.Mutex
			var refused error
			d.ControlContext = func(ctx context.Context, _, address string, _ syscall.RawConn) error {
				ap, err := netip.ParseAddrPort(address)
				if err == nil {
					err = p.CheckConn(ctx, urlHost, ap)
				}
				if err != nil {
					mu.Lock()
					if refused == nil {
						refused = err
					}
					mu.Unlock()
				}
				return err
			}
			conn, err := d.DialContext(ctx, network, addr)
			mu.Lock()
			defer mu.Unlock()
			if err != nil && refused != nil {
				// The policy's own words, in a dial error so the request
				// counts as one that never reached anyone: a refused
				// provision must not be taken for one the broker may
				// have acted on (orphan mitigation).
				return nil, &net.OpError{Op: "dial", Net: network, Err: refused}
			}
			return conn, err
		}
		return d.DialContext(ctx, network, addr)
	}
	return tr
}

// checkingTransport asks CheckURL about each request before it goes to the
// proxy: the proxy dials the final destination, so this is the last place
// the controller sees it.
func (p *Pool) checkingTransport(rt http.RoundTripper) http.RoundTripper {
	if p.CheckURL == nil {
		return rt
	}
	return roundTripperFunc(func(req *http.Request) (*http.Response, error) {
		if err := p.CheckURL(req.Context(), req.URL.String()); err != nil {
			// A dial error, like a refused connection: nothing was sent.
			return nil, &net.OpError{Op: "dial", Net: "tcp", Err: err}
		}
		return rt.RoundTrip(req)
	})
}

type roundTripperFunc func(*http.Request) (*http.Response, error)

func (f roundTripperFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// Forget closes and drops the client of a deleted broker, and its metrics.
func (p *Pool) Forget(key string) {
	metrics.Forget(key)
	p.mu.Lock()
	defer p.mu.Unlock()
	if e, ok := p.clients[key]; ok {
		e.client.Close()
		delete(p.clients, key)
	}
}

// secretValues reads the keys of one Secret, with one request.
func (p *Pool) secretValues(ctx context.Context, name types.NamespacedName, keys ...string) ([]string, error) {
	s := &corev1.Secret{}
	if err := p.Reader.Get(ctx, name, s); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, &CredentialsError{Secret: name, Reason: "the Secret does not exist"}
		}
		return nil, &CredentialsError{Secret: name, Reason: err.Error()}
	}
	out := make([]string, len(keys))
	for i, key := range keys {
		v, ok := s.Data[key]
		if !ok || len(v) == 0 {
			return nil, &CredentialsError{Secret: name, Key: key, Reason: "the key is missing or empty"}
		}
		out[i] = string(v)
	}
	return out, nil
}

// fingerprint hashes everything a client is built from, including which
// Secrets hold its credentials, so credentials are compared without being
// kept in a second place in memory.
func fingerprint(c osb.Config, basic, bearer *types.NamespacedName) [32]byte {
	h := sha256.New()
	fmt.Fprintf(h, "%q|%q|%q|%q|%t|%d|%v|%v|", c.URL, c.Username, c.Password, c.BearerToken, c.InsecureSkipTLSVerify, c.Timeout, basic, bearer)
	h.Write(c.CABundle)
	var out [32]byte
	copy(out[:], h.Sum(nil))
	return out
}
