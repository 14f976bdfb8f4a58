package demo

import (
	"context"
	"errors"
	"log/slog"
	"sync"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Conn is a Kafka client that follows a rotated binding: when Kafka refuses
// the credentials it holds (the old user was removed, or its ACLs were),
// it reads the binding again and, if the credentials changed, reconnects
// with the new ones. A Secret mounted as a volume is updated in place on
// rotation, so the app never needs a restart or a new Secret name.
type Conn struct {
	load func() (Credentials, error)
	opts []kgo.Opt
	log  *slog.Logger

	mu    sync.Mutex
	creds Credentials
	cl    *kgo.Client
}

// NewConn connects with the credentials load gives and checks them once.
// extra options are added to every client it makes.
func NewConn(ctx context.Context, load func() (Credentials, error), log *slog.Logger, extra ...kgo.Opt) (*Conn, error) {
	creds, err := load()
	if err != nil {
		return nil, err
	}
	cl, err := connect(ctx, creds, extra...)
	if err != nil {
		return nil, err
	}
	return &Conn{load: load, opts: extra, log: log, creds: creds, cl: cl}, nil
}

// Client is the current client.
func (c *Conn) Client() *kgo.Client {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.cl
}

// Credentials are the current credentials.
func (c *Conn) Credentials() Credentials {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.creds
}

// Do runs fn with the current client, and once more with a new one when
// fn failed because Kafka refused the credentials and the binding now
// holds others.
func (c *Conn) Do(ctx context.Context, fn func(*kgo.Client) error) error {
	cl := c.Client()
	err := fn(cl)
	if !Refused(err) {
		return err
	}
	next, changed := c.Renew(ctx, cl)
	if !changed {
		return err
	}
	return fn(next)
}

// Renew reads the binding again after the client seen was refused; it
// reconnects when the credentials changed and returns the client to use.
// Concurrent callers that saw the same client reconnect once.
func (c *Conn) Renew(ctx context.Context, seen *kgo.Client) (*kgo.Client, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cl != seen { // another caller already reconnected
		return c.cl, true
	}
	creds, err := c.load()
	if err != nil {
		c.log.Warn("reading the binding again", slog.Any("err", err))
		return c.cl, false
	}
	if creds.SameLogin(c.creds) {
		return c.cl, false
	}
	cl, err := connect(ctx, creds, c.opts...)
	if err != nil {
		c.log.Warn("connecting with the binding's new credentials", slog.String("user", creds.Username), slog.Any("err", err))
		return c.cl, false
	}
	c.log.Info("credentials rotated: reconnected", slog.String("from", c.creds.Username), slog.String("to", creds.Username))
	c.cl.Close()
	c.cl, c.creds = cl, creds
	return cl, true
}

// Close closes the current client.
func (c *Conn) Close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.cl.Close()
}

// Refused says whether Kafka refused the credentials: a failed login, or a
// request its user is no longer allowed (a removed user's ACLs go with it).
func Refused(err error) bool {
	for _, e := range []error{kerr.SaslAuthenticationFailed, kerr.TopicAuthorizationFailed,
		kerr.GroupAuthorizationFailed, kerr.ClusterAuthorizationFailed, kerr.TransactionalIDAuthorizationFailed} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}
