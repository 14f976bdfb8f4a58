package testbroker

import (
	"crypto/tls"
	"encoding/json"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/svcat-io/svcat/internal/osb"
)

// Default basic-auth credentials, the seed broker's defaults.
const (
	DefaultUsername = "admin"
	DefaultPassword = "password"
)

// Auth is what the broker accepts: a bearer token when BearerToken is set,
// basic auth otherwise.
type Auth struct {
	Username    string
	Password    string
	BearerToken string
}

// Options configure a broker; the zero value serves the seed catalog over
// plain HTTP with the default basic-auth credentials.
type Options struct {
	Auth Auth
	// Catalog defaults to SeedCatalog().
	Catalog []osb.Service
	// TLS serves HTTPS with a certificate from a fresh CA (see CAPEM).
	TLS bool
	// Credentials makes a binding's credentials; default SeedCredentials.
	Credentials func(instanceID, bindingID string) map[string]any
	// DisableRecording keeps Requests empty, for long benchmarks.
	DisableRecording bool
	// Faults make the broker break rules of the spec (see Fault).
	Faults []Fault
	// BindingLifetime, when set, gives bindings' credentials that
	// lifetime: bind and GET binding answers carry metadata.expires_at.
	BindingLifetime time.Duration
}

// Broker is a running test broker. All methods are safe for concurrent use.
type Broker struct {
	opts Options

	mu      sync.Mutex
	auth    Auth
	catalog []osb.Service
	catJSON []byte
	rules   []*activeRule
	faults  map[Fault]bool
	state

	requests []RecordedRequest

	tlsConfig *tls.Config
	caPEM     []byte

	lifeMu sync.Mutex
	addr   string
	ln     net.Listener
	srv    *http.Server
	// stopped is closed when the server stops, to end hanging handlers.
	stopped chan struct{}
}

// New starts a broker on 127.0.0.1 with a free port.
func New(opts Options) (*Broker, error) {
	if opts.Auth == (Auth{}) {
		opts.Auth = Auth{Username: DefaultUsername, Password: DefaultPassword}
	}
	if opts.Catalog == nil {
		opts.Catalog = SeedCatalog()
	}
	if opts.Credentials == nil {
		opts.Credentials = SeedCredentials
	}
	b := &Broker{opts: opts, auth: opts.Auth, state: newState()}
	b.SetFaults(opts.Faults...)
	if err := b.SetCatalog(opts.Catalog); err != nil {
		return nil, err
	}
	if opts.TLS {
		var err error
		if b.tlsConfig, b.caPEM, err = newServerTLS(); err != nil {
			return nil, err
		}
	}
	if err := b.listen("127.0.0.1:0"); err != nil {
		return nil, err
	}
	return b, nil
}

// Start is New for tests: it fails t on error and closes the broker when
// the test ends.
func Start(t testing.TB, opts Options) *Broker {
	t.Helper()
	b, err := New(opts)
	if err != nil {
		t.Fatalf("testbroker: %v", err)
	}
	t.Cleanup(b.Close)
	return b
}

func (b *Broker) listen(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	if b.tlsConfig != nil {
		ln = tls.NewListener(ln, b.tlsConfig)
	}
	b.lifeMu.Lock()
	defer b.lifeMu.Unlock()
	b.addr, b.ln = ln.Addr().String(), ln
	b.stopped = make(chan struct{})
	// Handshake failures are expected in TLS tests; keep them out of the
	// test output.
	b.srv = &http.Server{Handler: b, ErrorLog: log.New(io.Discard, "", 0)}
	go b.srv.Serve(ln)
	return nil
}

// URL is the broker's base URL, e.g. http://127.0.0.1:41234.
func (b *Broker) URL() string {
	b.lifeMu.Lock()
	defer b.lifeMu.Unlock()
	if b.tlsConfig != nil {
		return "https://" + b.addr
	}
	return "http://" + b.addr
}

// CAPEM is the CA certificate that signed the broker's TLS certificate, for
// a caBundle; nil without TLS.
func (b *Broker) CAPEM() []byte { return b.caPEM }

// Stop closes the listener and every connection, so the broker becomes
// unreachable; its state and rules are kept for Restart.
func (b *Broker) Stop() {
	b.lifeMu.Lock()
	defer b.lifeMu.Unlock()
	if b.srv == nil {
		return
	}
	b.srv.Close()
	// Serve may not have started yet, in which case srv.Close does not know
	// the listener and a dial would still be accepted.
	b.ln.Close()
	close(b.stopped)
	b.srv = nil
}

// Restart serves again on the address the broker had before Stop.
func (b *Broker) Restart() error {
	b.lifeMu.Lock()
	running, addr := b.srv != nil, b.addr
	b.lifeMu.Unlock()
	if running {
		return errors.New("testbroker: already running")
	}
	return b.listen(addr)
}

// Close stops the broker for good.
func (b *Broker) Close() { b.Stop() }

// stopChan returns the channel closed when the current server stops.
func (b *Broker) stopChan() <-chan struct{} {
	b.lifeMu.Lock()
	defer b.lifeMu.Unlock()
	return b.stopped
}

// SetAuth changes the accepted credentials, e.g. to test credential rotation.
func (b *Broker) SetAuth(a Auth) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.auth = a
}

// SetCatalog replaces the catalog served from now on, for relist tests. It
// does not validate: serving an invalid catalog is a legitimate test.
func (b *Broker) SetCatalog(services []osb.Service) error {
	body, err := json.Marshal(map[string]any{"services": services})
	if err != nil {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.catalog, b.catJSON = services, body
	return nil
}

func (b *Broker) findPlan(serviceID, planID string) (*osb.Service, *osb.Plan) {
	for i := range b.catalog {
		s := &b.catalog[i]
		if s.ID != serviceID {
			continue
		}
		for j := range s.Plans {
			if s.Plans[j].ID == planID {
				return s, &s.Plans[j]
			}
		}
	}
	return nil, nil
}
