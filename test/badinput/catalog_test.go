package badinput

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	scv1beta1 "github.com/svcat-io/svcat/api/v1beta1"
	"github.com/svcat-io/svcat/internal/controller/brokerurl"
	"github.com/svcat-io/svcat/internal/osb"
	"github.com/svcat-io/svcat/internal/testbroker"
)

// TestHostileCatalogs registers a broker with a good catalog, then makes it
// answer the next relist with each hostile catalog. The broker must turn
// Ready=False with a message that says what is wrong, and every class and
// plan must stay exactly as it was: not one write, nothing marked removed,
// nothing created.
func TestHostileCatalogs(t *testing.T) {
	env := controlPlane(t)
	deep := strings.Repeat(`{"a":`, 10001) + "1" + strings.Repeat("}", 10001)
	redirectHits := atomic.Int32{}
	elsewhere := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		redirectHits.Add(1)
	}))
	t.Cleanup(elsewhere.Close)

	tests := []struct {
		name string
		// damage makes the broker's next catalog answer hostile; p is the
		// row's ID prefix.
		damage      func(f *front, p string)
		wantReason  string
		wantMessage []string
	}{
		{
			name:        "malformed JSON (half an object)",
			damage:      func(f *front, _ string) { f.broker.On(testbroker.Rule{Operation: osb.OpGetCatalog, Malformed: true}) },
			wantReason:  scv1beta1.ReasonErrorFetchingCatalog,
			wantMessage: []string{"broker answered 200 with a malformed body", "invalid JSON at offset"},
		},
		{
			name: "10 MB catalog, over the client's 10 MiB cap",
			damage: func(f *front, _ string) {
				f.broker.On(testbroker.Rule{Operation: osb.OpGetCatalog, PadBytes: 10 << 20})
			},
			wantReason:  scv1beta1.ReasonErrorFetchingCatalog,
			wantMessage: []string{"the catalog is larger than 10485760 bytes", "--cluster-broker-catalog-limits=bytes=10485760"},
		},
		{
			name: "metadata nested 10001 levels deep",
			damage: func(f *front, p string) {
				f.broker.On(testbroker.Rule{Operation: osb.OpGetCatalog, Body: []byte(`{"services":[{"id":"` + p + `-svc","name":"x","description":"d","metadata":` + deep + `,"plans":[]}]}`)})
			},
			wantReason:  scv1beta1.ReasonErrorFetchingCatalog,
			wantMessage: []string{"the catalog nests more than 64 levels deep at services[0].metadata.a.a.a", "--cluster-broker-catalog-limits=depth=64"},
		},
		{
			name: "duplicate plan IDs across services",
			damage: func(f *front, p string) {
				c := catalog(p)
				c = append(c, osb.Service{ID: p + "-other", Name: p + "-other", Description: "d",
					Plans: []osb.Plan{{ID: p + "-small", Name: "copy", Description: "same ID as another plan"}}})
				if err := f.broker.SetCatalog(c); err != nil {
					panic(err)
				}
			},
			wantReason:  scv1beta1.ReasonErrorSyncingCatalog,
			wantMessage: []string{"The broker's catalog is invalid", `services[1].plans[0] (name "copy") has the same id`, "-small"},
		},
		{
			name: "duplicate service IDs",
			damage: func(f *front, p string) {
				c := catalog(p)
				c = append(c, osb.Service{ID: p + "-svc", Name: p + "-twin", Description: "d",
					Plans: []osb.Plan{{ID: p + "-twin-plan", Name: "p", Description: "d"}}})
				if err := f.broker.SetCatalog(c); err != nil {
					panic(err)
				}
			},
			wantReason:  scv1beta1.ReasonErrorSyncingCatalog,
			wantMessage: []string{`services[1] (name "`, `-twin") has the same id`},
		},
		{
			name: "metadata nested 5000 levels (found: under the decoder's limit, stored as is; now refused while read)",
			damage: func(f *front, p string) {
				d := strings.Repeat(`{"a":`, 5000) + "1" + strings.Repeat("}", 5000)
				f.broker.On(testbroker.Rule{Operation: osb.OpGetCatalog, Body: []byte(`{"services":[{"id":"` + p + `-new","name":"` + p + `-new",` +
					`"description":"d","metadata":` + d + `,"plans":[{"id":"` + p + `-np","name":"n","description":"d"}]}]}`)})
			},
			wantReason:  scv1beta1.ReasonErrorFetchingCatalog,
			wantMessage: []string{"the catalog nests more than 64 levels deep at services[0].metadata.a.a.a", "the rest was not read"},
		},
		{
			name: "a class too big for the API server (found: entries before it were applied)",
			damage: func(f *front, p string) {
				c := catalog(p)
				c = append(c, osb.Service{ID: p + "-new", Name: p + "-new", Description: "applied before the big one, before the fix",
					Plans: []osb.Plan{{ID: p + "-new-plan", Name: "p", Description: "d"}}})
				// A description, not metadata: metadata over 512 KiB is
				// refused while the catalog is read (object-bytes).
				c = append(c, osb.Service{ID: p + "-big", Name: p + "-big", Description: strings.Repeat("b", 3<<20),
					Plans: []osb.Plan{{ID: p + "-big-plan", Name: "p", Description: "d"}}})
				if err := f.broker.SetCatalog(c); err != nil {
					panic(err)
				}
			},
			wantReason:  scv1beta1.ReasonErrorSyncingCatalog,
			wantMessage: []string{`services[2] (name "`, `-big"): the class would take 3145`, "more than the 524288 allowed; its metadata and schemas must be smaller"},
		},
		{
			name:        "empty 200 body (found: read as an empty catalog, which retired every class)",
			damage:      func(f *front, _ string) { f.answerCatalog(raw(200, "application/json", "")) },
			wantReason:  scv1beta1.ReasonErrorFetchingCatalog,
			wantMessage: []string{"malformed body: empty body"},
		},
		{
			name:        "{} without services (found: same)",
			damage:      func(f *front, _ string) { f.answerCatalog(raw(200, "application/json", "{}")) },
			wantReason:  scv1beta1.ReasonErrorFetchingCatalog,
			wantMessage: []string{"the required field services is missing or null"},
		},
		{
			name: "HTML page with Content-Type text/html",
			damage: func(f *front, _ string) {
				f.answerCatalog(raw(200, "text/html; charset=utf-8", "<html><body>Please log in</body></html>"))
			},
			wantReason:  scv1beta1.ReasonErrorFetchingCatalog,
			wantMessage: []string{"invalid JSON", `Content-Type "text/html"`, "OSB answers must be JSON, application/json"},
		},
		{
			name: "truncated body (shorter than its Content-Length)",
			damage: func(f *front, _ string) {
				f.answerCatalog(func(w http.ResponseWriter, _ *http.Request) {
					w.Header().Set("Content-Length", "4096")
					w.WriteHeader(200)
					_, _ = w.Write([]byte(`{"services":[{"id":"x"`))
				})
			},
			wantReason:  scv1beta1.ReasonErrorFetchingCatalog,
			wantMessage: []string{"connection interrupted", "unexpected EOF"},
		},
		{
			name: "redirect to another host",
			damage: func(f *front, _ string) {
				f.answerCatalog(func(w http.ResponseWriter, r *http.Request) {
					http.Redirect(w, r, elsewhere.URL+"/v2/catalog", http.StatusTemporaryRedirect)
				})
			},
			wantReason:  scv1beta1.ReasonErrorFetchingCatalog,
			wantMessage: []string{"307", "redirects are not followed", strings.TrimPrefix(elsewhere.URL, "http://"), "set the broker URL to the final address"},
		},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := "bad-cat-" + string(rune('a'+i))
			f := newFront(t, catalog(p))
			registerBroker(t, env, p, f.URL())
			brokerReady(t, env.Client, p, scv1beta1.ConditionTrue, scv1beta1.ReasonFetchedCatalog)
			before := catalogState(t, env.Client, p)
			if len(before) != 3 {
				t.Fatalf("good catalog gave %v", before)
			}

			tt.damage(f, p)
			relist(t, env.Client, p)
			cond := brokerReady(t, env.Client, p, scv1beta1.ConditionFalse, tt.wantReason)
			contains(t, "Ready message", cond.Message, tt.wantMessage...)
			t.Logf("%s", cond.Message)
			// A few retries later, still nothing has changed.
			time.Sleep(time.Second)
			sameState(t, env.Client, p, before)
		})
	}
	if n := redirectHits.Load(); n != 0 {
		t.Errorf("the redirect target received %d requests", n)
	}
}

// raw answers with exactly the status, Content-Type and body.
func raw(status int, contentType, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", contentType)
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}
}

// TestRefusedBrokerURLs registers brokers whose URL points where the
// controller must not send requests and credentials. Each is refused before
// any request with ErrorBrokerURLNotAllowed, naming the host and the flag
// value that would allow it, and gets no classes or plans.
func TestRefusedBrokerURLs(t *testing.T) {
	env := controlPlane(t)
	var hits atomic.Int32
	loopback := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	t.Cleanup(loopback.Close)
	tests := []struct {
		name, url, host, why string
	}{
		{"cloud metadata address", "http://169.254.169.254/latest/meta-data", "169.254.169.254", "a link-local address"},
		{"other link-local address", "http://169.254.10.20:8080", "169.254.10.20", "a link-local address"},
		{"IPv6 link-local", "http://[fe80::1]:8080", "fe80::1", "a link-local address"},
		{"GCP metadata name", "http://metadata.google.internal/computeMetadata/v1", "metadata.google.internal", "a cloud metadata service's name"},
		{"the API server itself", env.Config.Host, strings.Split(strings.TrimPrefix(env.Config.Host, "https://"), ":")[0], "the Kubernetes API server"},
		{"in-cluster API server name", "https://kubernetes.default.svc.cluster.local", "kubernetes.default.svc.cluster.local", "the Kubernetes API server"},
		{"loopback, refused by --refuse-loopback-broker-urls", loopback.URL, "127.0.0.1", "a loopback address"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			name := "bad-url-" + string(rune('a'+i))
			registerBroker(t, env, name, tt.url)
			cond := brokerReady(t, env.Client, name, scv1beta1.ConditionFalse, scv1beta1.ReasonErrorBrokerURLNotAllowed)
			contains(t, "Ready message", cond.Message, `host "`+tt.host+`"`, tt.why, "169.254.0.0/16, fe80::/10",
				brokerurl.AllowHostsFlag+"="+tt.host)
			t.Logf("%s", cond.Message)
			if s := catalogState(t, env.Client, name); len(s) != 0 {
				t.Errorf("a refused broker has catalog objects: %v", s)
			}
		})
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("the refused loopback broker received %d requests", n)
	}
}
