// Package demo holds the two sample applications of the walkthrough, a Kafka
// producer and a Kafka consumer, written the way the seed's Spring apps
// behave (POST /messages produces, GET /messages streams Server-Sent Events)
// but reading the credentials a ServiceBinding hands out: from a
// servicebinding.io directory (the binding Secret mounted as files) or from
// environment variables.
package demo

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl"
	"github.com/twmb/franz-go/pkg/sasl/scram"
)

// Credentials are the binding keys the apps use. The key names are the
// seed's (CloudKarafka's) plus the servicebinding.io ones our kafka-broker
// adds.
type Credentials struct {
	Brokers     []string
	Username    string
	Password    string
	TopicPrefix string
	// GroupPrefix is what consumer group names must start with; bindings
	// from brokers that do not send it (the seed's) use TopicPrefix.
	GroupPrefix string
	// CA is PEM; empty trusts the system roots (a cluster with a public
	// certificate hands out no ca).
	CA string
	// Mechanism is SCRAM-SHA-512 or SCRAM-SHA-256.
	Mechanism string
	// Plaintext is true only when security.protocol says SASL_PLAINTEXT.
	Plaintext bool
}

// key is one credential: its file name in the binding directory and the
// environment variable that can stand in for it.
type key struct {
	file, env string
	required  bool
}

var keys = []key{
	{"brokers", "KAFKA_BROKERS", true},
	{"username", "KAFKA_USERNAME", true},
	{"password", "KAFKA_PASSWORD", true},
	{"topicPrefix", "KAFKA_TOPIC_PREFIX", true},
	{"groupPrefix", "KAFKA_GROUP_PREFIX", false},
	{"ca", "KAFKA_CA", false},
	{"sasl.mechanism", "KAFKA_SASL_MECHANISM", false},
	{"security.protocol", "KAFKA_SECURITY_PROTOCOL", false},
}

// Source says where to find the credentials.
type Source struct {
	// Root is $SERVICE_BINDING_ROOT; empty means environment variables only.
	Root string
	// Name is the binding's directory under Root. Empty picks the one
	// directory whose `type` file says kafka, or the only directory.
	Name string
	// Getenv reads environment variables (os.Getenv outside tests).
	Getenv func(string) string
}

// Load reads the credentials. A file wins over an environment variable, so
// a mounted Secret is what counts when both are there. The error names every
// missing key and where it was looked for, so a wrong mount is fixed in one
// go.
func (s Source) Load() (Credentials, error) {
	getenv := s.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	dir := ""
	if s.Root != "" {
		var err error
		if dir, err = bindingDir(s.Root, s.Name); err != nil {
			return Credentials{}, err
		}
	}
	vals := map[string]string{}
	var missing []string
	for _, k := range keys {
		v := ""
		if dir != "" {
			b, err := os.ReadFile(filepath.Join(dir, k.file))
			switch {
			case err == nil:
				// A Secret mounted as files has no trailing newline, but a
				// hand-written file usually has one.
				v = strings.TrimRight(string(b), "\r\n")
			case !errors.Is(err, os.ErrNotExist):
				return Credentials{}, fmt.Errorf("reading credential %s: %w", k.file, err)
			}
		}
		if v == "" {
			v = getenv(k.env)
		}
		if v == "" && k.required {
			where := "$" + k.env
			if dir != "" {
				where = filepath.Join(dir, k.file) + " or " + where
			}
			missing = append(missing, fmt.Sprintf("%s (%s)", k.file, where))
		}
		vals[k.file] = v
	}
	if len(missing) > 0 {
		return Credentials{}, fmt.Errorf("missing Kafka credentials: %s", strings.Join(missing, ", "))
	}
	c := Credentials{
		Username:    vals["username"],
		Password:    vals["password"],
		TopicPrefix: vals["topicPrefix"],
		GroupPrefix: vals["groupPrefix"],
		CA:          vals["ca"],
		Mechanism:   vals["sasl.mechanism"],
	}
	for _, b := range strings.Split(vals["brokers"], ",") {
		if b = strings.TrimSpace(b); b != "" {
			c.Brokers = append(c.Brokers, b)
		}
	}
	if len(c.Brokers) == 0 {
		return Credentials{}, errors.New("credential brokers lists no host:port")
	}
	switch c.Mechanism {
	case "":
		// Our kafka-broker's users are SCRAM-SHA-512; it says so in
		// sasl.mechanism, which older brokers (the seed's) do not send.
		c.Mechanism = "SCRAM-SHA-512"
	case "SCRAM-SHA-512", "SCRAM-SHA-256":
	default:
		return Credentials{}, fmt.Errorf("credential sasl.mechanism %q: only SCRAM-SHA-512 and SCRAM-SHA-256 are supported", c.Mechanism)
	}
	switch p := vals["security.protocol"]; p {
	case "", "SASL_SSL":
	case "SASL_PLAINTEXT":
		c.Plaintext = true
	default:
		return Credentials{}, fmt.Errorf("credential security.protocol %q: only SASL_SSL and SASL_PLAINTEXT are supported", p)
	}
	return c, nil
}

// bindingDir finds the binding's directory the way servicebinding.io
// suggests: by name when given, otherwise by its type.
func bindingDir(root, name string) (string, error) {
	if name != "" {
		dir := filepath.Join(root, name)
		if _, err := os.Stat(dir); err != nil {
			return "", fmt.Errorf("binding %q: %w", name, err)
		}
		return dir, nil
	}
	entries, err := os.ReadDir(root)
	if err != nil {
		return "", fmt.Errorf("SERVICE_BINDING_ROOT: %w", err)
	}
	var dirs, kafka []string
	for _, e := range entries {
		// Kubernetes mounts Secrets through symlinked ..data directories;
		// hidden entries are never bindings.
		if strings.HasPrefix(e.Name(), ".") {
			continue
		}
		dir := filepath.Join(root, e.Name())
		if st, err := os.Stat(dir); err != nil || !st.IsDir() {
			continue
		}
		dirs = append(dirs, e.Name())
		if t, err := os.ReadFile(filepath.Join(dir, "type")); err == nil && strings.TrimSpace(string(t)) == "kafka" {
			kafka = append(kafka, e.Name())
		}
	}
	sort.Strings(dirs)
	switch {
	case len(kafka) == 1:
		return filepath.Join(root, kafka[0]), nil
	case len(kafka) == 0 && len(dirs) == 1:
		return filepath.Join(root, dirs[0]), nil
	case len(dirs) == 0:
		return "", fmt.Errorf("SERVICE_BINDING_ROOT %s holds no binding directory", root)
	default:
		return "", fmt.Errorf("SERVICE_BINDING_ROOT %s holds several bindings (%s); name one with --binding", root, strings.Join(dirs, ", "))
	}
}

// Topic is the topic both apps use, named like the seed's
// `${username}-default` but under the tenant's prefix, the only place the
// binding may write.
func (c Credentials) Topic() string { return c.TopicPrefix + "default" }

// Group is the consumer's group; groups are only allowed under the group
// prefix, which is the topic prefix where the binding does not name one.
func (c Credentials) Group() string {
	if c.GroupPrefix != "" {
		return c.GroupPrefix + "consumer"
	}
	return c.TopicPrefix + "consumer"
}

// SameLogin says whether o logs in as c does: a rotation changes the user
// or its password, nothing else a client must reconnect for.
func (c Credentials) SameLogin(o Credentials) bool {
	return c.Username == o.Username && c.Password == o.Password
}

// ClientOpts connect a franz-go client with SASL/SCRAM over TLS, trusting the
// ca credential.
func (c Credentials) ClientOpts() ([]kgo.Opt, error) {
	auth := scram.Auth{User: c.Username, Pass: c.Password}
	var mech sasl.Mechanism = auth.AsSha512Mechanism()
	if c.Mechanism == "SCRAM-SHA-256" {
		mech = auth.AsSha256Mechanism()
	}
	opts := []kgo.Opt{kgo.SeedBrokers(c.Brokers...), kgo.SASL(mech)}
	if c.Plaintext {
		return opts, nil
	}
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	if c.CA != "" {
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM([]byte(c.CA)) {
			return nil, errors.New("credential ca holds no PEM certificate")
		}
		tc.RootCAs = pool
	}
	return append(opts, kgo.DialTLSConfig(tc)), nil
}
