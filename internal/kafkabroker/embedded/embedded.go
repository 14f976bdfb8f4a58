// Package embedded runs an in-process Kafka-protocol server (franz-go's
// kfake) for development and demos: SASL/SCRAM, enforced ACLs, TLS from a
// CA of its own and, with a data directory, state that survives restarts.
package embedded

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl/scram"
)

// Config selects how the embedded cluster listens and where it keeps data.
type Config struct {
	// DataDir keeps topics, users, ACLs, the CA and the admin password
	// across restarts; empty keeps everything in memory.
	DataDir string
	// Port to listen on; 0 picks a free one.
	Port int
	// ListenHost is the interface to bind; empty means 127.0.0.1.
	ListenHost string
	// AdvertiseHost is the host clients are told to connect to; empty
	// means the listen host. Set it when Kafka clients run elsewhere
	// (another pod), and bind a ListenHost they can reach.
	AdvertiseHost string
	// AdminUser is the superuser the broker uses; empty means "admin".
	AdminUser string
	// IdleTimeout closes a connection that sends nothing for this long;
	// 0 means Kafka's connections.max.idle.ms default, 10 minutes.
	IdleTimeout time.Duration
}

// Cluster is a running embedded Kafka.
type Cluster struct {
	kf            *kfake.Cluster
	caPEM         []byte
	pool          *x509.CertPool
	adminUser     string
	adminPassword string
	localHost     string // where this process reaches the listener
}

// Start starts the cluster.
func Start(cfg Config) (*Cluster, error) {
	if cfg.ListenHost == "" {
		cfg.ListenHost = "127.0.0.1"
	}
	if cfg.AdvertiseHost == "" {
		cfg.AdvertiseHost = cfg.ListenHost
	}
	if cfg.AdminUser == "" {
		cfg.AdminUser = "admin"
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = kafkaIdleTimeout
	}
	ca, err := loadOrCreateCA(cfg.DataDir)
	if err != nil {
		return nil, err
	}
	hosts := []string{"127.0.0.1", "localhost", cfg.ListenHost, cfg.AdvertiseHost}
	serverCert, err := ca.issueServer(hosts)
	if err != nil {
		return nil, err
	}
	password, err := adminPassword(cfg.DataDir)
	if err != nil {
		return nil, err
	}
	opts := []kfake.Opt{
		kfake.NumBrokers(1),
		kfake.Ports(cfg.Port),
		kfake.EnableSASL(),
		kfake.EnableACLs(),
		kfake.Superuser("SCRAM-SHA-512", cfg.AdminUser, password),
		// TLS is ours, not kfake's: see frontListener.
		kfake.ListenFn(func(network, address string) (net.Listener, error) {
			_, port, err := net.SplitHostPort(address)
			if err != nil {
				return nil, err
			}
			ln, err := net.Listen(network, net.JoinHostPort(cfg.ListenHost, port))
			if err != nil {
				return nil, err
			}
			return frontListener{
				Listener: advertisedListener{Listener: ln, host: cfg.AdvertiseHost},
				tls:      &tls.Config{Certificates: []tls.Certificate{serverCert}, MinVersion: tls.VersionTLS12},
				idle:     cfg.IdleTimeout,
			}, nil
		}),
	}
	if cfg.DataDir != "" {
		opts = append(opts, kfake.DataDir(filepath.Join(cfg.DataDir, "kafka")))
	}
	kf, err := kfake.NewCluster(opts...)
	if err != nil {
		return nil, fmt.Errorf("starting embedded kafka: %w", err)
	}
	local := cfg.ListenHost
	if ip := net.ParseIP(local); ip != nil && ip.IsUnspecified() {
		local = "127.0.0.1"
	}
	return &Cluster{kf: kf, caPEM: ca.certPEM, pool: ca.pool(), adminUser: cfg.AdminUser, adminPassword: password, localHost: local}, nil
}

// advertisedListener reports the advertised host as its address because
// kfake tells clients to connect to its listener's address.
type advertisedListener struct {
	net.Listener
	host string
}

func (l advertisedListener) Addr() net.Addr {
	return advertisedAddr{l.Listener.Addr(), l.host}
}

type advertisedAddr struct {
	net.Addr
	host string
}

func (a advertisedAddr) String() string {
	_, port, err := net.SplitHostPort(a.Addr.String())
	if err != nil {
		return a.Addr.String()
	}
	return net.JoinHostPort(a.host, port)
}

// adminPassword is random per cluster; with a data directory it is kept
// there (0600) because the persisted cluster remembers the superuser.
func adminPassword(dir string) (string, error) {
	var path string
	if dir != "" {
		path = filepath.Join(dir, "admin-password")
		b, err := os.ReadFile(path)
		if err == nil {
			return strings.TrimSpace(string(b)), nil
		}
		if !errors.Is(err, os.ErrNotExist) {
			return "", err
		}
	}
	buf := make([]byte, 32)
	if _, err := rand.Read(buf); err != nil {
		return "", err
	}
	pw := hex.EncodeToString(buf)
	if path != "" {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return "", err
		}
		if err := os.WriteFile(path, []byte(pw), 0o600); err != nil {
			return "", err
		}
	}
	return pw, nil
}

// Addrs are the bootstrap addresses clients should use.
func (c *Cluster) Addrs() []string { return c.kf.ListenAddrs() }

// CAPEM is the PEM certificate of the CA that signed the server certificate.
func (c *Cluster) CAPEM() []byte { return c.caPEM }

// Port is the port the cluster listens on.
func (c *Cluster) Port() int {
	addrs := c.Addrs()
	if len(addrs) == 0 {
		return 0
	}
	_, p, _ := net.SplitHostPort(addrs[0])
	n, _ := strconv.Atoi(p)
	return n
}

// AdminUser and AdminPassword are the superuser's credentials.
func (c *Cluster) AdminUser() string     { return c.adminUser }
func (c *Cluster) AdminPassword() string { return c.adminPassword }

// TLSConfig trusts the cluster's CA.
func (c *Cluster) TLSConfig() *tls.Config {
	return &tls.Config{RootCAs: c.pool, MinVersion: tls.VersionTLS12}
}

// ClientOpts connects a franz-go client as the given SCRAM-SHA-512 user.
func (c *Cluster) ClientOpts(user, password string) []kgo.Opt {
	return []kgo.Opt{
		kgo.SeedBrokers(c.Addrs()...),
		kgo.DialTLSConfig(c.TLSConfig()),
		kgo.SASL(scram.Auth{User: user, Pass: password}.AsSha512Mechanism()),
	}
}

// AdminOpts connects a franz-go client as the superuser. It always dials
// the listener directly: the advertised host may be a Kubernetes Service
// that does not route to this pod until it is ready, and it cannot be
// ready before it reaches its own Kafka.
func (c *Cluster) AdminOpts() []kgo.Opt {
	tc := c.TLSConfig()
	tc.ServerName = c.localHost // the server certificate names it
	local := net.JoinHostPort(c.localHost, strconv.Itoa(c.Port()))
	return []kgo.Opt{
		kgo.SeedBrokers(local),
		kgo.Dialer(func(ctx context.Context, network, _ string) (net.Conn, error) {
			return (&tls.Dialer{Config: tc}).DialContext(ctx, network, local)
		}),
		kgo.SASL(scram.Auth{User: c.adminUser, Pass: c.adminPassword}.AsSha512Mechanism()),
	}
}

// Close stops the cluster; with a data directory its state is flushed there.
func (c *Cluster) Close() { c.kf.Close() }

// Fake is the underlying kfake cluster, for tests that inject faults with
// its control functions.
func (c *Cluster) Fake() *kfake.Cluster { return c.kf }
