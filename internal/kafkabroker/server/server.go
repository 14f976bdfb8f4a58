// Package server wires the kafka-broker together: the Kafka backend
// (embedded or external), the state store, the broker and its HTTP handler.
package server

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"code.cloudfoundry.org/brokerapi/v13"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl/scram"

	"github.com/svcat-io/svcat/internal/kafkabroker/broker"
	"github.com/svcat-io/svcat/internal/kafkabroker/catalog"
	"github.com/svcat-io/svcat/internal/kafkabroker/embedded"
	"github.com/svcat-io/svcat/internal/kafkabroker/store"
	"github.com/svcat-io/svcat/internal/kafkabroker/tenant"
)

// Kafka is how the broker reaches an external cluster.
type Kafka struct {
	BootstrapServers []string
	// AdvertisedServers are handed to applications; empty means BootstrapServers.
	AdvertisedServers []string
	AdminUser         string
	AdminPassword     string
	// AdminMechanism is SCRAM-SHA-512 (default) or SCRAM-SHA-256.
	AdminMechanism string
	// CAPEM verifies the cluster's certificates and is handed to
	// applications as `ca`; empty uses the system roots.
	CAPEM []byte
	// Plaintext turns TLS off (SASL_PLAINTEXT), for clusters without it.
	Plaintext bool
}

// Config is everything the broker needs to run.
type Config struct {
	// Username and Password protect the OSB API with basic auth. Both empty
	// is refused unless Insecure is set.
	Username, Password string
	Insecure           bool

	Catalog *catalog.Catalog

	// Embedded, when non-nil, starts an in-process Kafka and ignores Kafka.
	Embedded *embedded.Config
	Kafka    Kafka

	StateTopic      string
	TopicPrefixBase string
	Provider        string
	// DashboardURL is the instances' dashboard_url template (see
	// broker.CheckDashboardTemplate); empty: none.
	DashboardURL           string
	AsyncDeprovisionTopics int
	OperationTimeout       time.Duration
	// MinAsyncDuration is broker.Config.MinAsyncDuration, for tests only.
	MinAsyncDuration time.Duration
	// ExpirySweepInterval is how often users of expired bindings are
	// removed (broker.Config.ExpirySweepInterval); 0: every minute, <0: never.
	ExpirySweepInterval time.Duration
	Logger              *slog.Logger
}

// Server is a running broker without its listener.
type Server struct {
	cfg     Config
	cluster *embedded.Cluster
	admin   *kgo.Client
	store   *store.Store
	broker  *broker.Broker
	handler http.Handler
}

// New connects to Kafka (starting the embedded one if asked) and builds the
// HTTP handler.
func New(ctx context.Context, cfg Config) (_ *Server, err error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	cfg.Logger = redacting(cfg.Logger)
	if (cfg.Username == "" || cfg.Password == "") && !cfg.Insecure {
		return nil, errors.New("broker credentials are required (or explicitly allow an unauthenticated broker for development)")
	}
	if cfg.Catalog == nil {
		cfg.Catalog = catalog.Default()
	}
	if cfg.StateTopic == "" {
		cfg.StateTopic = "__svcat_kafka_broker"
	}
	s := &Server{cfg: cfg}
	defer func() {
		if err != nil {
			s.Close()
		}
	}()

	kafka := cfg.Kafka
	var opts []kgo.Opt
	if cfg.Embedded != nil {
		s.cluster, err = embedded.Start(*cfg.Embedded)
		if err != nil {
			return nil, err
		}
		kafka = Kafka{
			BootstrapServers: s.cluster.Addrs(),
			AdminUser:        s.cluster.AdminUser(),
			AdminPassword:    s.cluster.AdminPassword(),
			CAPEM:            s.cluster.CAPEM(),
		}
		cfg.Logger.Info("embedded kafka started", slog.Any("addrs", s.cluster.Addrs()), slog.String("dataDir", cfg.Embedded.DataDir))
		opts = s.cluster.AdminOpts()
	} else if opts, err = adminOpts(kafka); err != nil {
		return nil, err
	}
	s.admin, err = kgo.NewClient(opts...)
	if err != nil {
		return nil, fmt.Errorf("kafka admin client: %w", err)
	}
	pingCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := s.admin.Ping(pingCtx); err != nil {
		return nil, fmt.Errorf("reaching kafka at %v: %w", kafka.BootstrapServers, err)
	}
	s.store, err = store.Open(pingCtx, cfg.StateTopic, opts...)
	if err != nil {
		return nil, err
	}
	advertised := kafka.AdvertisedServers
	if len(advertised) == 0 {
		advertised = kafka.BootstrapServers
	}
	sweep := cfg.ExpirySweepInterval
	switch {
	case sweep == 0:
		sweep = time.Minute
	case sweep < 0:
		sweep = 0
	}
	s.broker = broker.New(broker.Config{
		Catalog: cfg.Catalog,
		Store:   s.store,
		Admin:   tenant.NewAdmin(s.admin),
		Names:   tenant.Names{Base: cfg.TopicPrefixBase},
		Kafka: broker.Kafka{
			BootstrapServers: advertised,
			CAPEM:            string(kafka.CAPEM),
			TLS:              !kafka.Plaintext,
		},
		Provider:               cfg.Provider,
		DashboardURL:           cfg.DashboardURL,
		AsyncDeprovisionTopics: cfg.AsyncDeprovisionTopics,
		OperationTimeout:       cfg.OperationTimeout,
		MinAsyncDuration:       cfg.MinAsyncDuration,
		ExpirySweepInterval:    sweep,
		Logger:                 cfg.Logger,
	})
	s.handler = s.routes()
	return s, nil
}

func adminOpts(k Kafka) ([]kgo.Opt, error) {
	if len(k.BootstrapServers) == 0 {
		return nil, errors.New("no Kafka bootstrap servers configured")
	}
	if k.AdminUser == "" || k.AdminPassword == "" {
		return nil, errors.New("Kafka admin user and password are required")
	}
	auth := scram.Auth{User: k.AdminUser, Pass: k.AdminPassword}
	opts := []kgo.Opt{kgo.SeedBrokers(k.BootstrapServers...)}
	switch k.AdminMechanism {
	case "", "SCRAM-SHA-512":
		opts = append(opts, kgo.SASL(auth.AsSha512Mechanism()))
	case "SCRAM-SHA-256":
		opts = append(opts, kgo.SASL(auth.AsSha256Mechanism()))
	default:
		return nil, fmt.Errorf("unsupported admin SASL mechanism %q", k.AdminMechanism)
	}
	if k.Plaintext {
		return opts, nil
	}
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	if len(k.CAPEM) > 0 {
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(k.CAPEM) {
			return nil, errors.New("the Kafka CA holds no PEM certificate")
		}
		tc.RootCAs = pool
	}
	return append(opts, kgo.DialTLSConfig(tc)), nil
}

func (s *Server) routes() http.Handler {
	var osb http.Handler
	opts := []brokerapi.Option{
		brokerapi.WithAdditionalMiddleware(requireJSONObject),
		brokerapi.WithAdditionalMiddleware(retryAfter),
		brokerapi.WithAdditionalMiddleware(s.broker.Extensions),
	}
	if s.cfg.Insecure && s.cfg.Username == "" {
		osb = brokerapi.NewWithOptions(s.broker, s.cfg.Logger, opts...)
	} else {
		osb = brokerapi.New(s.broker, s.cfg.Logger, brokerapi.BrokerCredentials{Username: s.cfg.Username, Password: s.cfg.Password}, opts...)
	}
	mux := http.NewServeMux()
	mux.Handle("/v2/", outerHeaders(osb))
	mux.HandleFunc("GET /healthz", s.healthz)
	return mux
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
	defer cancel()
	// /healthz needs no credentials, so the answer names only the part
	// that failed; the error, with addresses and topic names, is logged.
	part, err := "the state topic", s.store.Healthy(ctx)
	if err == nil {
		part, err = "Kafka", s.admin.Ping(ctx)
	}
	if err != nil {
		s.cfg.Logger.Warn("unhealthy", slog.String("part", part), slog.Any("error", err))
		http.Error(w, "unhealthy: "+part+" cannot be reached", http.StatusServiceUnavailable)
		return
	}
	_, _ = w.Write([]byte("ok\n"))
}

// Handler serves the OSB API under /v2 and /healthz.
func (s *Server) Handler() http.Handler { return s.handler }

// Cluster is the embedded cluster, or nil with an external one.
func (s *Server) Cluster() *embedded.Cluster { return s.cluster }

// Serve answers on ln until ctx ends, then shuts down gracefully. With a
// certificate it serves HTTPS.
func (s *Server) Serve(ctx context.Context, ln net.Listener, cert *tls.Certificate) error {
	srv := &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(s.cfg.Logger.Handler(), slog.LevelWarn),
	}
	if cert != nil {
		srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{*cert}, MinVersion: tls.VersionTLS12}
		ln = tls.NewListener(ln, srv.TLSConfig)
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	return srv.Shutdown(shutdownCtx)
}

// Close stops the broker's background work and disconnects; the embedded
// cluster, if any, is stopped last.
func (s *Server) Close() {
	if s.broker != nil {
		s.broker.Close()
	}
	if s.store != nil {
		s.store.Close()
	}
	if s.admin != nil {
		s.admin.Close()
	}
	if s.cluster != nil {
		s.cluster.Close()
	}
}
