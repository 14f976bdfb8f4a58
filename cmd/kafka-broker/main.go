// Command kafka-broker is an Open Service Broker (API 2.17) that sells
// tenants on a Kafka cluster: an external one, or an embedded one for
// development. See docs/kafka-broker.md.
package main

import (
	"context"
	"crypto/tls"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/svcat-io/svcat/internal/kafkabroker/broker"
	"github.com/svcat-io/svcat/internal/kafkabroker/catalog"
	"github.com/svcat-io/svcat/internal/kafkabroker/embedded"
	"github.com/svcat-io/svcat/internal/kafkabroker/server"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:])
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "kafka-broker:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("kafka-broker", flag.ContinueOnError)
	var (
		listen        = fs.String("listen", ":8080", "address for the OSB API and /healthz")
		tlsCert       = fs.String("tls-cert", "", "serve HTTPS with this certificate file (PEM)")
		tlsKey        = fs.String("tls-key", "", "key file for --tls-cert")
		user          = fs.String("username", "", "basic-auth user of the OSB API (or --username-file, or $BROKER_USERNAME)")
		userFile      = fs.String("username-file", "", "file holding the basic-auth user")
		pass          = fs.String("password", "", "basic-auth password of the OSB API (or --password-file, or $BROKER_PASSWORD)")
		passFile      = fs.String("password-file", "", "file holding the basic-auth password")
		devInsecure   = fs.Bool("dev-insecure-no-auth", false, "development only: serve the OSB API without authentication when no credentials are given")
		catalogFile   = fs.String("catalog", "", "catalog YAML file (default: the built-in catalog)")
		useEmbedded   = fs.Bool("embedded", false, "run an embedded Kafka (development, demos) instead of using --bootstrap-servers")
		dataDir       = fs.String("embedded-data-dir", "", "embedded Kafka: keep state here across restarts (default: memory only)")
		embeddedPort  = fs.Int("embedded-port", 9092, "embedded Kafka: port (0 picks one)")
		listenHost    = fs.String("embedded-listen-host", "127.0.0.1", "embedded Kafka: interface to bind")
		advertiseHost = fs.String("embedded-advertise-host", "", "embedded Kafka: host clients connect to (default: the listen host)")
		bootstrap     = fs.String("bootstrap-servers", "", "external Kafka: comma-separated host:port list")
		advertised    = fs.String("advertised-servers", "", "bootstrap servers handed to applications (default: --bootstrap-servers)")
		adminUser     = fs.String("kafka-admin-user", "", "external Kafka: SCRAM admin user (or --kafka-admin-user-file, or $KAFKA_ADMIN_USER)")
		adminUserFile = fs.String("kafka-admin-user-file", "", "file holding the Kafka admin user")
		adminPass     = fs.String("kafka-admin-password", "", "external Kafka: admin password (or --kafka-admin-password-file, or $KAFKA_ADMIN_PASSWORD)")
		adminPassFile = fs.String("kafka-admin-password-file", "", "file holding the Kafka admin password")
		adminMech     = fs.String("kafka-admin-mechanism", "SCRAM-SHA-512", "external Kafka: SASL mechanism of the admin user (SCRAM-SHA-512 or SCRAM-SHA-256)")
		caFile        = fs.String("kafka-ca-file", "", "external Kafka: CA certificate (PEM) to verify the cluster and hand to applications")
		plaintext     = fs.Bool("kafka-plaintext", false, "external Kafka: connect without TLS (SASL_PLAINTEXT)")
		stateTopic    = fs.String("state-topic", "__svcat_kafka_broker", "compacted topic holding the broker's records")
		prefixBase    = fs.String("topic-prefix-base", "svcat-", "prepended to every tenant's topic prefix and user name")
		provider      = fs.String("provider", "svcat", "servicebinding.io provider credential")
		dashboardURL  = fs.String("dashboard-url", "", "each instance's dashboard_url, for a Kafka UI: {instance_id} and {topic_prefix} are filled in (default: none)")
		asyncTopics   = fs.Int("async-deprovision-topics", 10, "deprovision in the background when an instance has more topics than this")
		opTimeout     = fs.Duration("operation-timeout", 2*time.Minute, "upper bound of one operation")
		expirySweep   = fs.Duration("expiry-sweep-interval", time.Minute, "how often the users of bindings whose credentials expired (plans with credentialLifetimeHours) are removed")
		logLevel      = fs.String("log-level", "info", "debug, info, warn or error")
	)
	if err := fs.Parse(args); err != nil {
		return err
	}

	if err := broker.CheckDashboardTemplate(*dashboardURL); err != nil {
		return err
	}
	if *expirySweep < time.Second {
		return fmt.Errorf("--expiry-sweep-interval %s is too short: at least 1s (expired credentials must not stay usable for long, and each sweep reads every binding)", *expirySweep)
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		return err
	}
	logger := slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: level}))

	cfg := server.Config{
		Insecure:               *devInsecure,
		StateTopic:             *stateTopic,
		TopicPrefixBase:        *prefixBase,
		Provider:               *provider,
		DashboardURL:           *dashboardURL,
		AsyncDeprovisionTopics: *asyncTopics,
		OperationTimeout:       *opTimeout,
		ExpirySweepInterval:    *expirySweep,
		Logger:                 logger,
	}
	var err error
	if cfg.Username, err = server.Secret(*user, *userFile, "BROKER_USERNAME"); err != nil {
		return err
	}
	if cfg.Password, err = server.Secret(*pass, *passFile, "BROKER_PASSWORD"); err != nil {
		return err
	}
	if (cfg.Username == "") != (cfg.Password == "") {
		return fmt.Errorf("give both a broker username and a password, or neither")
	}
	if cfg.Username == "" && cfg.Insecure {
		logger.Warn("serving the OSB API WITHOUT authentication (--dev-insecure-no-auth)")
	}
	if *catalogFile != "" {
		if cfg.Catalog, err = catalog.Load(*catalogFile); err != nil {
			return err
		}
	}
	if *useEmbedded {
		cfg.Embedded = &embedded.Config{DataDir: *dataDir, Port: *embeddedPort, ListenHost: *listenHost, AdvertiseHost: *advertiseHost}
	} else {
		k := server.Kafka{BootstrapServers: splitList(*bootstrap), AdvertisedServers: splitList(*advertised), AdminMechanism: *adminMech, Plaintext: *plaintext}
		if k.AdminUser, err = server.Secret(*adminUser, *adminUserFile, "KAFKA_ADMIN_USER"); err != nil {
			return err
		}
		if k.AdminPassword, err = server.Secret(*adminPass, *adminPassFile, "KAFKA_ADMIN_PASSWORD"); err != nil {
			return err
		}
		if *caFile != "" {
			if k.CAPEM, err = os.ReadFile(*caFile); err != nil {
				return err
			}
		}
		cfg.Kafka = k
	}
	var cert *tls.Certificate
	if *tlsCert != "" || *tlsKey != "" {
		c, err := tls.LoadX509KeyPair(*tlsCert, *tlsKey)
		if err != nil {
			return fmt.Errorf("loading serving certificate: %w", err)
		}
		cert = &c
	}

	srv, err := server.New(ctx, cfg)
	if err != nil {
		return err
	}
	defer srv.Close()
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return err
	}
	logger.Info("kafka-broker listening", slog.String("addr", ln.Addr().String()), slog.Bool("https", cert != nil))
	return srv.Serve(ctx, ln, cert)
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
