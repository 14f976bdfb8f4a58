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
	"sync"
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
	// Resolve maps "host:port" of broker URLs to the "address:port" to dial
	// instead, like curl --resolve: TLS and the Host header still use the
	// URL's host. It exists for development, where a manifest names a
	// broker by an in-cluster DNS name that only resolves in a cluster.
	Resolve map[string]string

	mu      sync.Mutex
	clients map[string]entry
}

type entry struct {
	fingerprint [32]byte
	client      *osb.Client
}

// Client returns a client for the broker, building a new one when its URL,
// TLS settings or credentials changed since the last call.
func (p *Pool) Client(ctx context.Context, b Broker) (*osb.Client, error) {
	cfg := osb.Config{
		URL:                   b.Spec.URL,
		CABundle:              b.Spec.CABundle,
		InsecureSkipTLSVerify: b.Spec.InsecureSkipTLSVerify,
		Timeout:               p.Timeout,
		Observer:              metrics.Observer(b.Key),
	}
	if len(p.Resolve) > 0 {
		cfg.WrapTransport = p.resolvingTransport
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
	fp := fingerprint(cfg)

	p.mu.Lock()
	defer p.mu.Unlock()
	if p.clients == nil {
		p.clients = map[string]entry{}
	}
	if e, ok := p.clients[b.Key]; ok {
		if e.fingerprint == fp {
			return e.client, nil
		}
		e.client.Close()
	}
	c, err := osb.New(cfg)
	if err != nil {
		return nil, err
	}
	p.clients[b.Key] = entry{fingerprint: fp, client: c}
	return c, nil
}

func (p *Pool) resolvingTransport(rt http.RoundTripper) http.RoundTripper {
	tr, ok := rt.(*http.Transport)
	if !ok {
		return rt
	}
	d := &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}
	tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		if to, ok := p.Resolve[addr]; ok {
			addr = to
		}
		return d.DialContext(ctx, network, addr)
	}
	return tr
}

// Forget closes and drops the client of a deleted broker.
func (p *Pool) Forget(key string) {
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

// fingerprint hashes everything a client is built from, so credentials are
// compared without being kept in a second place in memory.
func fingerprint(c osb.Config) [32]byte {
	h := sha256.New()
	fmt.Fprintf(h, "%q|%q|%q|%q|%t|%d|", c.URL, c.Username, c.Password, c.BearerToken, c.InsecureSkipTLSVerify, c.Timeout)
	h.Write(c.CABundle)
	var out [32]byte
	copy(out[:], h.Sum(nil))
	return out
}
