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

	"github.com/svcat-io/svcat/internal/kafkabroker/catalog"
	"github.com/svcat-io/svcat/internal/kafkabroker/embedded"
	"github.com/svcat-io/svcat/internal/kafkabroker/server"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "kafka-broker:", err)
		os.Exit(1)
	}
}

func run() error {
	var (
		listen        = flag.String("listen", ":8080", "address for the OSB API and /healthz")
		tlsCert       = flag.String("tls-cert", "", "serve HTTPS with this certificate file (PEM)")
		tlsKey        = flag.String("tls-key", "", "key file for --tls-cert")
		user          = flag.String("username", "", "basic-auth user of the OSB API (or --username-file, or $BROKER_USERNAME)")
		userFile      = flag.String("username-file", "", "file holding the basic-auth user")
		pass          = flag.String("password", "", "basic-auth password of the OSB API (or --password-file, or $BROKER_PASSWORD)")
		passFile      = flag.String("password-file", "", "file holding the basic-auth password")
		devInsecure   = flag.Bool("dev-insecure-no-auth", false, "development only: serve the OSB API without authentication when no credentials are given")
		catalogFile   = flag.String("catalog", "", "catalog YAML file (default: the built-in catalog)")
		useEmbedded   = flag.Bool("embedded", false, "run an embedded Kafka (development, demos) instead of using --bootstrap-servers")
		dataDir       = flag.String("embedded-data-dir", "", "embedded Kafka: keep state here across restarts (default: memory only)")
		embeddedPort  = flag.Int("embedded-port", 9092, "embedded Kafka: port (0 picks one)")
		listenHost    = flag.String("embedded-listen-host", "127.0.0.1", "embedded Kafka: interface to bind")
		advertiseHost = flag.String("embedded-advertise-host", "", "embedded Kafka: host clients connect to (default: the listen host)")
		bootstrap     = flag.String("bootstrap-servers", "", "external Kafka: comma-separated host:port list")
		advertised    = flag.String("advertised-servers", "", "bootstrap servers handed to applications (default: --bootstrap-servers)")
		adminUser     = flag.String("kafka-admin-user", "", "external Kafka: SCRAM admin user (or --kafka-admin-user-file, or $KAFKA_ADMIN_USER)")
		adminUserFile = flag.String("kafka-admin-user-file", "", "file holding the Kafka admin user")
		adminPass     = flag.String("kafka-admin-password", "", "external Kafka: admin password (or --kafka-admin-password-file, or $KAFKA_ADMIN_PASSWORD)")
		adminPassFile = flag.String("kafka-admin-password-file", "", "file holding the Kafka admin password")
		adminMech     = flag.String("kafka-admin-mechanism", "SCRAM-SHA-512", "external Kafka: SASL mechanism of the admin user (SCRAM-SHA-512 or SCRAM-SHA-256)")
		caFile        = flag.String("kafka-ca-file", "", "external Kafka: CA certificate (PEM) to verify the cluster and hand to applications")
		plaintext     = flag.Bool("kafka-plaintext", false, "external Kafka: connect without TLS (SASL_PLAINTEXT)")
		stateTopic    = flag.String("state-topic", "__svcat_kafka_broker", "compacted topic holding the broker's records")
		prefixBase    = flag.String("topic-prefix-base", "svcat-", "prepended to every tenant's topic prefix and user name")
		provider      = flag.String("provider", "svcat", "servicebinding.io provider credential")
		asyncTopics   = flag.Int("async-deprovision-topics", 10, "deprovision in the background when an instance has more topics than this")
		opTimeout     = flag.Duration("operation-timeout", 2*time.Minute, "upper bound of one operation")
		logLevel      = flag.String("log-level", "info", "debug, info, warn or error")
	)
	flag.Parse()

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
		AsyncDeprovisionTopics: *asyncTopics,
		OperationTimeout:       *opTimeout,
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

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
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
