// Package badinput feeds the catalog-controller hostile and broken input on
// a real API server: catalogs, broker answers, broker URLs, credentials,
// secret transforms and parametersFrom Secrets. Every row states the input,
// the error the user must see (what is wrong, with which value, what is
// allowed) and checks that nothing changed because of it.
package badinput

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	scv1beta1 "github.com/svcat-io/svcat/api/v1beta1"
	"github.com/svcat-io/svcat/internal/controllermanager/testcontroller"
	"github.com/svcat-io/svcat/internal/localcluster"
	"github.com/svcat-io/svcat/internal/osb"
	"github.com/svcat-io/svcat/internal/testbroker"
)

func TestMain(m *testing.M) { localcluster.Main(m) }

var startOnce sync.Once

// controlPlane returns the package's API server with one catalog-controller
// running against it. The controller refuses loopback broker URLs except
// the name "localhost": so every broker of these tests is registered as
// http://localhost:PORT, and the same broker as http://127.0.0.1:PORT
// proves that --refuse-loopback-broker-urls and --allow-broker-url-hosts
// work in the real controller.
func controlPlane(t *testing.T) *localcluster.Env {
	t.Helper()
	env := localcluster.Get(t)
	startOnce.Do(func() {
		o := testcontroller.Options()
		o.Controller.ClusterID = "badinput-cluster"
		o.Controller.RefuseLoopbackBrokerURLs = true
		o.Controller.AllowBrokerURLHosts = []string{"localhost"}
		testcontroller.StartShared(env, o)
	})
	return env
}

// eventually is localcluster.Eventually.
var eventually = localcluster.Eventually

// front is a test broker behind a server whose answers a row can replace,
// for damage the test broker cannot do itself (Content-Type, lying
// Content-Length, redirects). URL uses the name localhost (see controlPlane).
type front struct {
	broker   *testbroker.Broker
	srv      *httptest.Server
	override atomic.Pointer[http.HandlerFunc]
}

func newFront(t *testing.T, catalog []osb.Service) *front {
	t.Helper()
	f := &front{broker: testbroker.Start(t, testbroker.Options{Catalog: catalog})}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if h := f.override.Load(); h != nil && r.URL.Path == "/v2/catalog" {
			(*h)(w, r)
			return
		}
		f.broker.ServeHTTP(w, r)
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *front) URL() string { return strings.Replace(f.srv.URL, "127.0.0.1", "localhost", 1) }

// answerCatalog replaces the catalog answer; nil restores the broker's.
func (f *front) answerCatalog(h http.HandlerFunc) {
	if h == nil {
		f.override.Store(nil)
		return
	}
	f.override.Store(&h)
}

// catalog is a small catalog with IDs unique to the test.
func catalog(p string) []osb.Service {
	return []osb.Service{{
		ID: p + "-svc", Name: p + "-svc", Description: "Service of " + p, Bindable: true, BindingsRetrievable: false,
		Plans: []osb.Plan{
			{ID: p + "-small", Name: "small", Description: "Small"},
			{ID: p + "-large", Name: "large", Description: "Large"},
		},
	}}
}

// registerBroker creates a ClusterServiceBroker with basic auth and relists
// only on request, and deletes it when the test ends.
func registerBroker(t *testing.T, env *localcluster.Env, name, url string) {
	t.Helper()
	ctx := context.Background()
	ns := env.Namespace(t)
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "broker-creds"},
		Data: map[string][]byte{"username": []byte(testbroker.DefaultUsername), "password": []byte(testbroker.DefaultPassword)}}
	if err := env.Client.Create(ctx, s); err != nil {
		t.Fatal(err)
	}
	b := &scv1beta1.ClusterServiceBroker{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: scv1beta1.ClusterServiceBrokerSpec{
		CommonServiceBrokerSpec: scv1beta1.CommonServiceBrokerSpec{URL: url, RelistBehavior: scv1beta1.ServiceBrokerRelistBehaviorManual},
		AuthInfo: &scv1beta1.ClusterServiceBrokerAuthInfo{Basic: &scv1beta1.ClusterBasicAuthConfig{
			SecretRef: &scv1beta1.ObjectReference{Namespace: ns, Name: "broker-creds"}}},
	}}
	if err := env.Client.Create(ctx, b); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := env.Client.Delete(ctx, b); client.IgnoreNotFound(err) != nil {
			t.Errorf("deleting broker %s: %v", name, err)
			return
		}
		eventually(t, 30*time.Second, "broker "+name+" deleted", func() error {
			if err := env.Client.Get(ctx, client.ObjectKeyFromObject(b), b); err == nil {
				return fmt.Errorf("still there")
			}
			return nil
		})
	})
}

// brokerReady waits for the broker's Ready condition to have the status and
// reason, and returns the condition.
func brokerReady(t *testing.T, c client.Client, name string, status scv1beta1.ConditionStatus, reason string) scv1beta1.ServiceBrokerCondition {
	t.Helper()
	var got scv1beta1.ServiceBrokerCondition
	eventually(t, 45*time.Second, fmt.Sprintf("broker %s Ready=%s/%s", name, status, reason), func() error {
		b := &scv1beta1.ClusterServiceBroker{}
		if err := c.Get(context.Background(), client.ObjectKey{Name: name}, b); err != nil {
			return err
		}
		cond := b.Status.GetCondition(scv1beta1.ServiceBrokerConditionReady)
		if cond == nil || cond.Status != status || cond.Reason != reason {
			return fmt.Errorf("conditions: %+v", b.Status.Conditions)
		}
		got = *cond
		return nil
	})
	return got
}

// relist bumps relistRequests so the broker's catalog is fetched again.
func relist(t *testing.T, c client.Client, name string) {
	t.Helper()
	eventually(t, 10*time.Second, "relist "+name, func() error {
		b := &scv1beta1.ClusterServiceBroker{}
		if err := c.Get(context.Background(), client.ObjectKey{Name: name}, b); err != nil {
			return err
		}
		b.Spec.RelistRequests++
		return c.Update(context.Background(), b)
	})
}

// catalogState is what the cluster holds for a broker's catalog: every
// class and plan by name with its resourceVersion (any write changes it)
// and whether it is marked removed.
func catalogState(t *testing.T, c client.Client, broker string) map[string]string {
	t.Helper()
	ctx := context.Background()
	classes, plans := &scv1beta1.ClusterServiceClassList{}, &scv1beta1.ClusterServicePlanList{}
	if err := c.List(ctx, classes); err != nil {
		t.Fatal(err)
	}
	if err := c.List(ctx, plans); err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, o := range classes.Items {
		if o.Spec.ClusterServiceBrokerName == broker {
			out["class/"+o.Name] = fmt.Sprintf("rv=%s removed=%t", o.ResourceVersion, o.Status.RemovedFromBrokerCatalog)
		}
	}
	for _, o := range plans.Items {
		if o.Spec.ClusterServiceBrokerName == broker {
			out["plan/"+o.Name] = fmt.Sprintf("rv=%s removed=%t", o.ResourceVersion, o.Status.RemovedFromBrokerCatalog)
		}
	}
	return out
}

// sameState fails unless the cluster still holds exactly before.
func sameState(t *testing.T, c client.Client, broker string, before map[string]string) {
	t.Helper()
	after := catalogState(t, c, broker)
	for k, v := range before {
		if after[k] != v {
			t.Errorf("%s changed: %s -> %q", k, v, after[k])
		}
	}
	for k := range after {
		if _, ok := before[k]; !ok {
			t.Errorf("%s was created", k)
		}
	}
}

// contains fails for each want that msg lacks.
func contains(t *testing.T, what, msg string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(msg, w) {
			t.Errorf("%s %q does not say %q", what, msg, w)
		}
	}
}

// eventTexts are the reasons and notes of the events in ns about name.
func eventTexts(t *testing.T, c client.Client, ns, name string) []string {
	t.Helper()
	var out []string
	ev := &eventsv1.EventList{}
	if err := c.List(context.Background(), ev, client.InNamespace(ns)); err != nil {
		t.Fatal(err)
	}
	for _, e := range ev.Items {
		if e.Regarding.Name == name {
			out = append(out, e.Reason+": "+e.Note)
		}
	}
	return out
}

var _ = scv1beta1.ReasonFetchedCatalog
