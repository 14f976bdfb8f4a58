// Package kafkaclients runs Kafka clients that this project did not write
// (kafkajs, Debian's kcat and kafka-python) against the embedded Kafka with
// a binding's credentials, as a user of another language would: the
// kafka-broker provisions and binds through its OSB API, and each client is
// configured only from the keys of the binding's Secret.
package kafkaclients

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/svcat-io/svcat/internal/kafkabroker/catalog"
	"github.com/svcat-io/svcat/internal/kafkabroker/embedded"
	"github.com/svcat-io/svcat/internal/kafkabroker/kafkatest"
	"github.com/svcat-io/svcat/internal/kafkabroker/server"
)

// world is one kafka-broker with its embedded Kafka, shared by the tests:
// an instance with a binding, a binding of it that was unbound, and another
// tenant's instance.
type world struct {
	bound, unbound map[string]string // credentials, as the Secret holds them
	otherTopic     string            // the other tenant's topic
	caFile         string
}

var (
	worldOnce sync.Once
	theWorld  *world
	worldErr  error
	stopWorld = func() {}
)

func TestMain(m *testing.M) {
	code := m.Run()
	stopWorld()
	os.Exit(code)
}

func getWorld(t *testing.T) *world {
	t.Helper()
	worldOnce.Do(func() { theWorld, worldErr = startWorld() })
	if worldErr != nil {
		t.Fatal(worldErr)
	}
	return theWorld
}

func startWorld() (*world, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	srv, err := server.New(ctx, server.Config{
		Username: "u", Password: "p", Catalog: catalog.Default(),
		Embedded: &embedded.Config{}, TopicPrefixBase: "svcat-",
	})
	if err != nil {
		return nil, err
	}
	hs := httptest.NewServer(srv.Handler())
	dir, err := os.MkdirTemp("", "kafkaclients")
	if err != nil {
		return nil, err
	}
	stopWorld = func() { hs.Close(); srv.Close(); os.RemoveAll(dir) }
	osb := kafkatest.NewOSB(hs.URL, "u", "p")
	var ft failT
	params := map[string]any{"topics": []any{map[string]any{"name": "default"}}}
	details := func(p any) map[string]any {
		return kafkatest.Details(catalog.DefaultServiceID, catalog.DefaultDuckID, p)
	}
	w := &world{}
	for _, id := range []string{"mine", "other"} {
		if r := osb.Do(&ft, "PUT", "/v2/service_instances/"+id, details(params)); r.Status != 201 {
			return nil, fmt.Errorf("provisioning %s: %d %s", id, r.Status, r.Raw)
		}
	}
	bind := func(inst, id string) (map[string]string, error) {
		r := osb.Do(&ft, "PUT", "/v2/service_instances/"+inst+"/service_bindings/"+id, details(nil))
		if r.Status != 201 {
			return nil, fmt.Errorf("binding %s: %d %s", id, r.Status, r.Raw)
		}
		return r.Credentials(), nil
	}
	if w.bound, err = bind("mine", "app"); err != nil {
		return nil, err
	}
	if w.unbound, err = bind("mine", "gone"); err != nil {
		return nil, err
	}
	path := "/v2/service_instances/mine/service_bindings/gone?service_id=" + catalog.DefaultServiceID + "&plan_id=" + catalog.DefaultDuckID
	if r := osb.Do(&ft, "DELETE", path, nil); r.Status != 200 {
		return nil, fmt.Errorf("unbinding: %d %s", r.Status, r.Raw)
	}
	other, err := bind("other", "app")
	if err != nil {
		return nil, err
	}
	w.otherTopic = other["topicPrefix"] + "default"
	w.caFile = filepath.Join(dir, "ca.crt")
	if err := os.WriteFile(w.caFile, []byte(w.bound["ca.crt"]), 0o600); err != nil {
		return nil, err
	}
	if ft.err != "" {
		return nil, fmt.Errorf("calling the broker: %s", ft.err)
	}
	return w, nil
}

// failT lets kafkatest.OSB run outside a test.
type failT struct {
	testing.TB
	err string
}

func (f *failT) Helper()                   {}
func (f *failT) Fatal(args ...any)         { f.err = fmt.Sprint(args...) }
func (f *failT) Fatalf(s string, a ...any) { f.err = fmt.Sprintf(s, a...) }

// clientEnv maps a binding's Secret keys to the settings every client
// script here reads, the way docs/kafka-broker.md tells users to.
func (w *world) clientEnv(creds map[string]string, action, topic, group, message string) []string {
	return append(os.Environ(),
		"KAFKA_BROKERS="+creds["bootstrap-servers"],
		"KAFKA_USERNAME="+creds["username"],
		"KAFKA_PASSWORD="+creds["password"],
		"KAFKA_SASL_MECHANISM="+creds["sasl.mechanism"],
		"KAFKA_SECURITY_PROTOCOL="+creds["security.protocol"],
		"KAFKA_CA_FILE="+w.caFile,
		"ACTION="+action, "TOPIC="+topic, "GROUP="+group, "MESSAGE="+message,
	)
}

// requireClient skips a test whose client is not installed, naming the
// command that installs it; under CI=true it fails instead, because .ci/run
// installs every client.
func requireClient(t *testing.T, name, install string, present func() error) {
	t.Helper()
	if err := present(); err != nil {
		msg := fmt.Sprintf("%s is not installed (%v); install it with: %s", name, err, install)
		if os.Getenv("CI") == "true" {
			t.Fatal(msg + " (.ci/run should have)")
		}
		t.Skip(msg)
	}
}

// run runs a client with a time bound (only against a hang: every answer
// here is immediate) and returns its combined output.
func run(t *testing.T, cmd *exec.Cmd) string {
	t.Helper()
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Logf("%s: %v", strings.Join(cmd.Args, " "), err)
	}
	return string(out)
}

// resultLine is the "OK …" or "ERROR …" line a client script prints.
func resultLine(out string) string {
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "OK ") || strings.HasPrefix(l, "ERROR ") {
			return l
		}
	}
	return ""
}
