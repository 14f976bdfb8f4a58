package ui_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/svcat-io/svcat/api/v1beta1"
	"github.com/svcat-io/svcat/internal/cli/apiview"
	"github.com/svcat-io/svcat/internal/controllermanager/testcontroller"
	"github.com/svcat-io/svcat/internal/localcluster"
	"github.com/svcat-io/svcat/internal/osb"
	"github.com/svcat-io/svcat/internal/testbroker"
	"github.com/svcat-io/svcat/internal/ui"
)

func TestMain(m *testing.M) {
	ctrllog.SetLogger(logr.Discard())
	localcluster.Main(m)
}

// duckSchema is the instance-create schema the tests give the seed's duck
// plan (the seed's broker sent none), so the form has every kind of input.
const duckSchema = `{
  "type": "object",
  "required": ["topicPrefix", "retentionDays"],
  "properties": {
    "topicPrefix": {"type": "string", "title": "Topic prefix", "description": "Prefix of the instance's topics.", "pattern": "^[a-z][a-z0-9-]*$", "maxLength": 20},
    "retentionDays": {"type": "integer", "minimum": 1, "maximum": 28, "default": 7},
    "region": {"type": "string", "enum": ["eu-west-1", "us-east-1"], "default": "eu-west-1"},
    "compressed": {"type": "boolean"},
    "topics": {"type": "array", "items": {"type": "string"}},
    "limits": {"type": "object", "properties": {"maxTopics": {"type": "integer", "maximum": 5}, "maxMessageBytes": {"type": "integer"}}}
  }
}`

func testCatalog() []osb.Service {
	c := testbroker.SeedCatalog()
	var schema map[string]any
	if err := json.Unmarshal([]byte(duckSchema), &schema); err != nil {
		panic(err)
	}
	c[0].Plans[0].Schemas = &osb.Schemas{ServiceInstance: &osb.ServiceInstanceSchema{Create: &osb.InputParametersSchema{Parameters: schema}}}
	return c
}

var (
	fixtureOnce sync.Once
	fixtureErr  error
	// fixtureBroker is the package's test broker, for tests that script it.
	fixtureBroker *testbroker.Broker
)

// catalogFixture starts, once for the package, the test broker with the
// seed's catalog, the real controller, and registers the broker as
// cloudkarafka; it returns once the controller has listed its classes.
func catalogFixture(t *testing.T, env *localcluster.Env) {
	t.Helper()
	fixtureOnce.Do(func() { fixtureErr = startFixture(env) })
	if fixtureErr != nil {
		t.Fatalf("catalog fixture: %v", fixtureErr)
	}
}

func startFixture(env *localcluster.Env) error {
	ctx := context.Background()
	b, err := testbroker.New(testbroker.Options{Catalog: testCatalog()})
	if err != nil {
		return err
	}
	localcluster.BeforeStop(b.Close)
	fixtureBroker = b
	testcontroller.StartShared(env, testcontroller.Options())
	if err := env.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "brokers"}}); err != nil {
		return err
	}
	auth := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "brokers", Name: "cloudkarafka-auth"},
		StringData: map[string]string{"username": testbroker.DefaultUsername, "password": testbroker.DefaultPassword}}
	if err := env.Client.Create(ctx, auth); err != nil {
		return err
	}
	br := &v1beta1.ClusterServiceBroker{ObjectMeta: metav1.ObjectMeta{Name: "cloudkarafka"}}
	br.Spec.URL = b.URL()
	br.Spec.RelistBehavior = v1beta1.ServiceBrokerRelistBehaviorManual
	br.Spec.AuthInfo = &v1beta1.ClusterServiceBrokerAuthInfo{Basic: &v1beta1.ClusterBasicAuthConfig{
		SecretRef: &v1beta1.ObjectReference{Namespace: "brokers", Name: "cloudkarafka-auth"}}}
	if err := env.Client.Create(ctx, br); err != nil {
		return err
	}
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		var plans v1beta1.ClusterServicePlanList
		if err := env.Client.List(ctx, &plans); err == nil && len(plans.Items) > 0 {
			return nil
		}
	}
	return fmt.Errorf("the controller did not list the broker's plans within a minute")
}

// uiServer is a running svcat ui and a browser-like client logged in to it.
type uiServer struct {
	t    *testing.T
	base string
	srv  *ui.Server
	ln   net.Listener
	http *http.Client
}

// startUI serves the UI for namespace ns as the user cfg until the test
// ends, and logs a cookie-keeping client in.
func startUI(t *testing.T, cfg *rest.Config, ns string) *uiServer {
	t.Helper()
	return startUIScope(t, cfg, ns, apiview.AllScope)
}

// startUIScope is startUI with the marketplace limited to a scope.
func startUIScope(t *testing.T, cfg *rest.Config, ns string, scope apiview.Scope) *uiServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s, err := ui.New(ui.Options{Config: cfg, Namespace: ns, Scope: scope, Context: "test"}, ln)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = s.Serve(ctx, ln) }()
	t.Cleanup(func() { cancel(); <-done })
	jar, _ := cookiejar.New(nil)
	u := &uiServer{t: t, base: "http://" + ln.Addr().String(), srv: s, ln: ln,
		http: &http.Client{Jar: jar, Timeout: 30 * time.Second}}
	// A confirmation page needs no API call, so any user gets it.
	if status, body := u.get("/bindings/x/unbind?token=" + url.QueryEscape(s.Token())); status != http.StatusOK {
		t.Fatalf("logging in: %d\n%s", status, body)
	}
	return u
}

func (u *uiServer) do(req *http.Request) (int, string) {
	u.t.Helper()
	resp, err := u.http.Do(req)
	if err != nil {
		u.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func (u *uiServer) get(path string) (int, string) {
	u.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, u.base+path, nil)
	return u.do(req)
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// csrf reads the CSRF token from a page, as the browser's form would (a
// confirmation page always has a form).
func (u *uiServer) csrf() string {
	u.t.Helper()
	_, body := u.get("/bindings/x/unbind")
	m := csrfRE.FindStringSubmatch(body)
	if m == nil {
		u.t.Fatalf("no CSRF token in the confirmation page:\n%s", body)
	}
	return m[1]
}

// post sends a form with the page's CSRF token, following the redirect.
func (u *uiServer) post(path string, form url.Values) (int, string) {
	u.t.Helper()
	if form.Get("csrf") == "" {
		form.Set("csrf", u.csrf())
	}
	req, _ := http.NewRequest(http.MethodPost, u.base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return u.do(req)
}

// waitLive reads the live stream of a view until a rendering contains
// want; it fails the test after timeout.
func (u *uiServer) waitLive(query, want string, timeout time.Duration) string {
	u.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, u.base+"/live?"+query, nil)
	resp, err := u.http.Do(req)
	if err != nil {
		u.t.Fatalf("live %s: %v", query, err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		u.t.Fatalf("live %s: Content-Type %q", query, ct)
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	var event, last strings.Builder
	for sc.Scan() {
		line := sc.Text()
		if d, ok := strings.CutPrefix(line, "data: "); ok {
			event.WriteString(d + "\n")
			continue
		}
		if line == "" && event.Len() > 0 {
			last.Reset()
			last.WriteString(event.String())
			if strings.Contains(event.String(), want) {
				return event.String()
			}
			event.Reset()
		}
	}
	u.t.Fatalf("live %s: no rendering with %q within %s; last:\n%s", query, want, timeout, last.String())
	return ""
}

func eventually(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(timeout); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out after %s waiting for %s", timeout, what)
}

func getInstance(env *localcluster.Env, ns, name string) (*v1beta1.ServiceInstance, error) {
	var in v1beta1.ServiceInstance
	err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, &in)
	return &in, err
}

// namespacedBroker registers a test broker with catalog as the ServiceBroker
// name in ns, and returns once the controller has listed its plans; the
// objects are returned for tests that change them.
func namespacedBroker(t *testing.T, env *localcluster.Env, ns, name string, catalog []osb.Service) (*testbroker.Broker, *v1beta1.ServiceBroker) {
	t.Helper()
	b := testbroker.Start(t, testbroker.Options{Catalog: catalog})
	auth := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name + "-auth"},
		StringData: map[string]string{"username": testbroker.DefaultUsername, "password": testbroker.DefaultPassword}}
	br := &v1beta1.ServiceBroker{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
	br.Spec.URL = b.URL()
	br.Spec.RelistBehavior = v1beta1.ServiceBrokerRelistBehaviorManual
	br.Spec.AuthInfo = &v1beta1.ServiceBrokerAuthInfo{Basic: &v1beta1.BasicAuthConfig{SecretRef: &v1beta1.LocalObjectReference{Name: auth.Name}}}
	for _, o := range []client.Object{auth, br} {
		if err := env.Client.Create(context.Background(), o); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, time.Minute, "the plans of broker "+name, func() bool {
		var plans v1beta1.ServicePlanList
		return env.Client.List(context.Background(), &plans, client.InNamespace(ns)) == nil && len(plans.Items) > 0
	})
	return b, br
}
