package demo_test

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/svcat-io/svcat/internal/demo"
	"github.com/svcat-io/svcat/internal/kafkabroker/catalog"
	"github.com/svcat-io/svcat/internal/kafkabroker/embedded"
	"github.com/svcat-io/svcat/internal/kafkabroker/kafkatest"
	"github.com/svcat-io/svcat/internal/kafkabroker/server"
)

func writeBinding(t *testing.T, dir string, keys map[string]string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	for k, v := range keys {
		if err := os.WriteFile(filepath.Join(dir, k), []byte(v), 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

func noEnv(string) string { return "" }

func TestSourcePicksTheKafkaBindingAndFallsBackToEnv(t *testing.T) {
	root := t.TempDir()
	writeBinding(t, filepath.Join(root, "db"), map[string]string{"type": "postgresql", "username": "wrong"})
	writeBinding(t, filepath.Join(root, "events"), map[string]string{
		"type": "kafka", "brokers": "a:9093, b:9093", "username": "u",
		// A hand-written file ends with a newline; a Secret volume's does not.
		"password": "p\n", "sasl.mechanism": "SCRAM-SHA-256",
	})
	env := map[string]string{"KAFKA_TOPIC_PREFIX": "svcat-i.", "KAFKA_USERNAME": "ignored: the file wins"}
	c, err := demo.Source{Root: root, Getenv: func(k string) string { return env[k] }}.Load()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(c.Brokers, ",") != "a:9093,b:9093" || c.Username != "u" || c.Password != "p" ||
		c.TopicPrefix != "svcat-i." || c.Mechanism != "SCRAM-SHA-256" || c.Plaintext {
		t.Errorf("credentials %+v", c)
	}
	if c.Topic() != "svcat-i.default" || c.Group() != "svcat-i.consumer" {
		t.Errorf("topic %q group %q", c.Topic(), c.Group())
	}
	env["KAFKA_GROUP_PREFIX"] = "svcat-i.g."
	if c, err = (demo.Source{Root: root, Getenv: func(k string) string { return env[k] }}).Load(); err != nil || c.Group() != "svcat-i.g.consumer" {
		t.Errorf("with groupPrefix: group %q, %v", c.Group(), err)
	}
	if _, err := c.ClientOpts(); err != nil {
		t.Errorf("no ca means the system roots: %v", err)
	}
}

func TestSourceNamesEveryMissingKey(t *testing.T) {
	root := t.TempDir()
	writeBinding(t, filepath.Join(root, "b"), map[string]string{"username": "u"})
	_, err := demo.Source{Root: root, Getenv: noEnv}.Load()
	if err == nil {
		t.Fatal("loaded without brokers, password and topicPrefix")
	}
	for _, want := range []string{"brokers (" + filepath.Join(root, "b", "brokers") + " or $KAFKA_BROKERS)", "password (", "topicPrefix (", "$KAFKA_TOPIC_PREFIX"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %q", err, want)
		}
	}
	if strings.Contains(err.Error(), "username") {
		t.Errorf("error %q names a key that is there", err)
	}
	_, err = demo.Source{Getenv: noEnv}.Load()
	if err == nil || !strings.Contains(err.Error(), "brokers ($KAFKA_BROKERS)") {
		t.Errorf("without a binding root: %v", err)
	}
}

func TestSourceRefusals(t *testing.T) {
	full := map[string]string{"type": "kafka", "brokers": "a:1", "username": "u", "password": "p", "topicPrefix": "x."}
	root := t.TempDir()
	writeBinding(t, filepath.Join(root, "one"), full)
	writeBinding(t, filepath.Join(root, "two"), full)
	if _, err := (demo.Source{Root: root, Getenv: noEnv}).Load(); err == nil || !strings.Contains(err.Error(), "--binding") {
		t.Errorf("two kafka bindings and no name: %v", err)
	}
	if _, err := (demo.Source{Root: root, Name: "two", Getenv: noEnv}).Load(); err != nil {
		t.Errorf("named binding: %v", err)
	}
	if _, err := (demo.Source{Root: root, Name: "three", Getenv: noEnv}).Load(); err == nil {
		t.Error("a missing named binding loaded")
	}
	for key, val := range map[string]string{"sasl.mechanism": "PLAIN", "security.protocol": "SSL", "brokers": " , "} {
		dir := filepath.Join(t.TempDir(), "b")
		writeBinding(t, dir, full)
		writeBinding(t, dir, map[string]string{key: val})
		if _, err := (demo.Source{Root: filepath.Dir(dir), Getenv: noEnv}).Load(); err == nil {
			t.Errorf("%s=%q loaded", key, val)
		}
	}
	c, err := demo.Source{Getenv: func(k string) string {
		return map[string]string{"KAFKA_BROKERS": "a:1", "KAFKA_USERNAME": "u", "KAFKA_PASSWORD": "p", "KAFKA_TOPIC_PREFIX": "x.", "KAFKA_CA": "not a PEM"}[k]
	}}.Load()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.ClientOpts(); err == nil {
		t.Error("a ca without a certificate was accepted")
	}
}

func TestEvent(t *testing.T) {
	if got := demo.Event("Hello"); got != "data:Hello\n\n" {
		t.Errorf("%q", got)
	}
	// SSE ends a line at CRLF, at a lone CR and at LF; each must start a
	// new data line, or a browser shows only what comes before a lone CR.
	for _, msg := range []string{"a\r\nb\rc\nd", "a\nb\r\nc\rd"} {
		if got := demo.Event(msg); got != "data:a\ndata:b\ndata:c\ndata:d\n\n" {
			t.Errorf("multi-line %q: %q", msg, got)
		}
	}
	if got := demo.Event("a\r\rb"); got != "data:a\ndata:\ndata:b\n\n" {
		t.Errorf("two lone CRs: %q", got)
	}
}

func TestHelpIsNotAnError(t *testing.T) {
	err := demo.RunProducer(context.Background(), demo.Env{Args: []string{"-h"}, Getenv: noEnv, Stdout: io.Discard, Stderr: io.Discard})
	if !errors.Is(err, flag.ErrHelp) {
		t.Errorf("-h: %v", err)
	}
}

// tenant provisions an instance with a default topic on a broker with an
// embedded Kafka and binds it, returning the credentials as a Secret would
// hold them.
func tenant(t *testing.T) map[string]string {
	creds, _ := tenantAt(t)
	return creds
}

// tenantAt is tenant, and the broker's OSB API for what comes next.
func tenantAt(t *testing.T) (map[string]string, *kafkatest.OSB) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	srv, err := server.New(ctx, server.Config{
		Username: "u", Password: "p", Catalog: catalog.Default(),
		Embedded: &embedded.Config{}, TopicPrefixBase: "svcat-",
	})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(func() { hs.Close(); srv.Close() })
	osb := kafkatest.NewOSB(hs.URL, "u", "p")
	params := map[string]any{"topics": []any{map[string]any{"name": "default"}}}
	if r := osb.Do(t, "PUT", "/v2/service_instances/i1", kafkatest.Details(catalog.DefaultServiceID, catalog.DefaultDuckID, params)); r.Status != 201 {
		t.Fatalf("provision: %d %s", r.Status, r.Raw)
	}
	r := osb.Do(t, "PUT", "/v2/service_instances/i1/service_bindings/b1", kafkatest.Details(catalog.DefaultServiceID, catalog.DefaultDuckID, nil))
	if r.Status != 201 {
		t.Fatalf("bind: %d %s", r.Status, r.Raw)
	}
	return r.Credentials(), osb
}

// addrWriter hands the "listening on" line an app prints to the test.
type addrWriter struct {
	once sync.Once
	ch   chan string
}

func (w *addrWriter) Write(p []byte) (int, error) {
	if _, url, ok := strings.Cut(strings.TrimSpace(string(p)), " listening on "); ok {
		w.once.Do(func() { w.ch <- url })
	}
	return len(p), nil
}

func startApp(t *testing.T, run func(context.Context, demo.Env) error, root string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	out := &addrWriter{ch: make(chan string, 1)}
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, demo.Env{Args: []string{"--listen", "127.0.0.1:0"}, Getenv: func(k string) string {
			if k == "SERVICE_BINDING_ROOT" {
				return root
			}
			return ""
		}, Stdout: out, Stderr: io.Discard})
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("app stopped with %v", err)
		}
	})
	select {
	case url := <-out.ch:
		return url
	case err := <-done:
		t.Fatalf("app exited: %v", err)
	case <-time.After(time.Minute):
		t.Fatal("app did not listen within a minute")
	}
	return ""
}

// events reads SSE data lines from a stream into a channel.
func events(t *testing.T, url string) <-chan string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("GET %s: %s %s", url, resp.Status, resp.Header.Get("Content-Type"))
	}
	ch := make(chan string, 16)
	go func() {
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			if d, ok := strings.CutPrefix(sc.Text(), "data:"); ok {
				ch <- d
			}
		}
		close(ch)
	}()
	return ch
}

func post(t *testing.T, url, body string) *http.Response {
	t.Helper()
	resp, err := http.Post(url, "text/plain", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}

// The apps against a real (embedded) Kafka with a binding's credentials:
// every open stream gets every message, in order.
func TestProducerAndConsumer(t *testing.T) {
	root := t.TempDir()
	creds := tenant(t)
	writeBinding(t, filepath.Join(root, "demo-kafka-binding"), creds)
	consumer := startApp(t, demo.RunConsumer, root)
	producer := startApp(t, demo.RunProducer, root)

	for _, u := range []string{consumer, producer} {
		if resp, err := http.Get(u + "/healthz"); err != nil || resp.StatusCode != 200 {
			t.Errorf("%s/healthz: %v %v", u, resp, err)
		}
	}
	a, b := events(t, consumer+"/messages"), events(t, consumer+"/messages")
	for _, m := range []string{"Hello", "Hello2"} {
		if resp := post(t, producer+"/messages", m); resp.StatusCode != 200 {
			t.Fatalf("POST %s: %s", m, resp.Status)
		}
	}
	if resp := post(t, producer+"/messages", ""); resp.StatusCode != 400 {
		t.Errorf("empty POST: %s", resp.Status)
	}
	for name, ch := range map[string]<-chan string{"first": a, "second": b} {
		for _, want := range []string{"Hello", "Hello2"} {
			select {
			case got := <-ch:
				if got != want {
					t.Errorf("%s stream: %q, want %q", name, got, want)
				}
			case <-time.After(time.Minute):
				t.Fatalf("%s stream: no %q within a minute", name, want)
			}
		}
	}
}

// A rotation as the controller makes it: a new broker binding with
// predecessor_binding_id, its credentials written over the same Secret's
// files, then the old binding unbound (its user and ACLs removed). The
// running apps are refused with the old user and carry on with the new one,
// without a restart.
func TestAppsFollowARotatedBinding(t *testing.T) {
	root := t.TempDir()
	creds, osb := tenantAt(t)
	dir := filepath.Join(root, "demo-kafka-binding")
	writeBinding(t, dir, creds)
	consumer := startApp(t, demo.RunConsumer, root)
	producer := startApp(t, demo.RunProducer, root)
	stream := events(t, consumer+"/messages")
	expect := func(want string) {
		t.Helper()
		t0 := time.Now()
		defer func() { t.Logf("%q took %s", want, time.Since(t0)) }()
		if resp := post(t, producer+"/messages", want); resp.StatusCode != 200 {
			t.Fatalf("POST %s: %s", want, resp.Status)
		}
		t.Logf("%q sent after %s", want, time.Since(t0))
		for {
			select {
			case got, ok := <-stream:
				if !ok {
					t.Fatalf("stream closed before %q", want)
				}
				if got == want {
					return
				}
			case <-time.After(time.Minute):
				t.Fatalf("no %q within a minute", want)
			}
		}
	}
	expect("before")

	// As the controller rotates: the new credentials in the Secret, the
	// old binding unbound after a grace period, in which the apps switch.
	user := rotateBinding(t, osb, dir, "b1", "b2", creds["username"])
	time.Sleep(demo.RereadEvery + time.Second)
	unbind(t, osb, "b1")
	expect("after a rotation with a grace period")

	// The old credentials revoked at once: the apps are refused, read the
	// binding again and carry on.
	rotateBinding(t, osb, dir, "b2", "b3", user)
	unbind(t, osb, "b2")
	expect("after a rotation without one")
}

// rotateBinding binds next with predecessor_binding_id prev and writes its
// credentials over the binding's files, as the kubelet updates a mounted
// Secret; it returns the new user.
func rotateBinding(t *testing.T, osb *kafkatest.OSB, dir, prev, next, prevUser string) string {
	t.Helper()
	rotate := kafkatest.Details(catalog.DefaultServiceID, catalog.DefaultDuckID, nil)
	rotate["predecessor_binding_id"] = prev
	r := osb.Do(t, "PUT", "/v2/service_instances/i1/service_bindings/"+next, rotate)
	if r.Status != 201 {
		t.Fatalf("rotating bind: %d %s", r.Status, r.Raw)
	}
	creds := r.Credentials()
	if creds["username"] == prevUser {
		t.Fatalf("the rotation kept user %s", prevUser)
	}
	writeBinding(t, dir, creds)
	return creds["username"]
}

func unbind(t *testing.T, osb *kafkatest.OSB, id string) {
	t.Helper()
	if r := osb.Do(t, "DELETE", "/v2/service_instances/i1/service_bindings/"+id+"?service_id="+catalog.DefaultServiceID+"&plan_id="+catalog.DefaultDuckID, nil); r.Status != 200 {
		t.Fatalf("unbinding %s: %d %s", id, r.Status, r.Raw)
	}
}
