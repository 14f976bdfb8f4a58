package kafkaclients

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// client is one third-party Kafka client and what it says when Kafka
// refuses it.
type client struct {
	name    string
	install string
	present func() error
	// command runs one action (produce or consume) with the environment
	// from world.clientEnv.
	command func(ctx context.Context, action string) *exec.Cmd
	// What its output (result line and log) holds for each refusal, in the
	// client's own words; all of each list must be there.
	topicDenied, groupDenied, authFailed []string
}

// kafkajsDir holds package.json and package-lock.json; .ci/run installs
// kafkajs there with npm ci.
var kafkajsDir = filepath.Join("testdata", "node")

var kafkajs = client{
	name:    "kafkajs 2.2.4",
	install: "npm ci --prefix test/kafkaclients/testdata/node",
	present: func() error {
		if _, err := exec.LookPath("node"); err != nil {
			return err
		}
		_, err := os.Stat(filepath.Join(kafkajsDir, "node_modules", "kafkajs", "package.json"))
		return err
	},
	command: func(ctx context.Context, _ string) *exec.Cmd {
		return exec.CommandContext(ctx, "node", filepath.Join(kafkajsDir, "client.js"))
	},
	topicDenied: []string{"Not authorized to access topics: [Topic authorization failed]"},
	// kafkajs tries the next broker when FindCoordinator is refused, and
	// reports only that none answered; its log has the broker's error.
	groupDenied: []string{"ERROR KafkaJSGroupCoordinatorNotFound", "Not authorized to access group: Group authorization failed"},
	authFailed:  []string{"ERROR KafkaJSSASLAuthenticationError: SASL SCRAM SHA512 authentication failed: Authentication failed during authentication due to invalid credentials with SASL mechanism SCRAM-SHA-512"},
}

// debianPython is Debian's interpreter, which python3-kafka installs for;
// a python3 earlier in PATH (pyenv, a virtualenv) may not see it.
const debianPython = "/usr/bin/python3"

var kafkaPython = client{
	name:    "kafka-python (Debian python3-kafka)",
	install: "apt-get install -y --no-install-recommends python3-kafka",
	present: func() error {
		out, err := exec.Command(debianPython, "-c", "import kafka").CombinedOutput()
		if err != nil {
			return errors.New(strings.TrimSpace(string(out)))
		}
		return nil
	},
	command: func(ctx context.Context, _ string) *exec.Cmd {
		return exec.CommandContext(ctx, debianPython, filepath.Join("testdata", "kafka_python_client.py"))
	},
	// kafka-python 2.0 fails a metadata update that names one topic with
	// an error, without marking the topic unauthorized, so the producer
	// waits out max_block_ms; it does so against Kafka too.
	topicDenied: []string{"ERROR KafkaTimeoutError: KafkaTimeoutError: Failed to update metadata after 5.0 secs."},
	groupDenied: []string{"ERROR GroupAuthorizationFailedError"},
	// kafka-python 2.0 uses SaslHandshake v0, whose bare SASL exchange has
	// no way to carry an error: Kafka closes the connection, and
	// kafka-python logs that it did so while authenticating.
	authFailed: []string{"<authenticating>", "Error receiving reply from server", "ERROR NoBrokersAvailable"},
}

var kcat = client{
	name:    "kcat (Debian, librdkafka 2.0.2)",
	install: "apt-get install -y --no-install-recommends kcat",
	present: func() error {
		_, err := exec.LookPath("kcat")
		return err
	},
	command: func(ctx context.Context, _ string) *exec.Cmd {
		return exec.CommandContext(ctx, "sh", filepath.Join("testdata", "kcat.sh"))
	},
	topicDenied: []string{"ERROR % Delivery failed for message: Broker: Topic authorization failed"},
	groupDenied: []string{"ERROR % ERROR: Consumer error: FindCoordinator response error: Broker: Group authorization failed"},
	authFailed:  []string{"ERROR % ERROR: Local: Authentication failure: ", "SASL authentication error: Authentication failed during authentication due to invalid credentials with SASL mechanism SCRAM-SHA-512"},
}

func TestKcat(t *testing.T)        { testClient(t, kcat) }
func TestKafkajs(t *testing.T)     { testClient(t, kafkajs) }
func TestKafkaPython(t *testing.T) { testClient(t, kafkaPython) }

func testClient(t *testing.T, c client) {
	requireClient(t, c.name, c.install, c.present)
	w := getWorld(t)
	short := strings.Fields(c.name)[0]
	topic := w.bound["topicPrefix"] + "default"
	do := func(creds map[string]string, action, topic, group, message string) (string, string) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		cmd := c.command(ctx, action)
		cmd.Env = w.clientEnv(creds, action, topic, group, message)
		out := run(t, cmd)
		if os.Getenv("KAFKACLIENTS_DEBUG") != "" {
			t.Logf("%s %s:\n%s", c.name, action, out)
		}
		line := resultLine(out)
		if line == "" {
			t.Fatalf("%s %s printed no result:\n%s", c.name, action, out)
		}
		return line, out
	}
	refused := func(t *testing.T, what string, want []string, line, out string) {
		t.Helper()
		for _, w := range want {
			if !strings.Contains(out, w) {
				t.Fatalf("%s: result %q; want %q in the output:\n%s", what, line, w, out)
			}
		}
	}
	t.Run("produce and consume in a prefixed group", func(t *testing.T) {
		msg := "hello from " + short
		if got, out := do(w.bound, "produce", topic, "", msg); got != "OK produced" {
			t.Fatalf("produce to %s: %s\n%s", topic, got, out)
		}
		group := w.bound["groupPrefix"] + short
		if got, out := do(w.bound, "consume", topic, group, msg); got != "OK consumed "+msg {
			t.Fatalf("consume %s in group %s: %s\n%s", topic, group, got, out)
		}
	})
	t.Run("another tenant's topic is refused", func(t *testing.T) {
		line, out := do(w.bound, "produce", w.otherTopic, "", "intruder")
		refused(t, "produce to "+w.otherTopic, c.topicDenied, line, out)
	})
	t.Run("a group outside the prefix is refused", func(t *testing.T) {
		line, out := do(w.bound, "consume", topic, "outside-"+short, "x")
		refused(t, "consume in group outside-"+short, c.groupDenied, line, out)
	})
	t.Run("unbound credentials are refused at login", func(t *testing.T) {
		line, out := do(w.unbound, "produce", topic, "", "after unbind")
		refused(t, "produce with unbound credentials", c.authFailed, line, out)
	})
}
