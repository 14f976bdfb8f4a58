package controller_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sort"
	"sync/atomic"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"

	scv1beta1 "github.com/svcat-io/svcat/api/v1beta1"
	"github.com/svcat-io/svcat/internal/testbroker"
)

// brokerSeries lists the OSB metric series of a broker as
// "metric/operation/code", as /metrics serves them.
func brokerSeries(t *testing.T, broker string) []string {
	t.Helper()
	families, err := ctrlmetrics.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, f := range families {
		for _, m := range f.GetMetric() {
			if labelValue(m, "broker") == broker {
				out = append(out, f.GetName()+"/"+labelValue(m, "operation")+"/"+labelValue(m, "code"))
			}
		}
	}
	sort.Strings(out)
	return out
}

// A hostile broker answering any status code it likes adds no series beyond
// the status classes, two namespaces' brokers of the same name have series
// of their own, and deleting a broker removes its series.
func TestOSBMetricsAreBounded(t *testing.T) {
	env := controlPlane(t)
	ctx := context.Background()
	nsA, nsB := env.Namespace(t), env.Namespace(t)

	codes := []int{418, 299, 599, 700, 999, 451, 207, 511}
	var served atomic.Int32
	hostile := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := served.Add(1)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(codes[int(n-1)%len(codes)])
		_, _ = w.Write([]byte(`{"description":"no"}`))
	}))
	t.Cleanup(hostile.Close)
	good := testbroker.Start(t, testbroker.Options{Catalog: uniqueCatalog("metrics-bounded")})

	basicSecret(t, env.Client, nsA, "creds", testbroker.DefaultUsername, testbroker.DefaultPassword)
	basicSecret(t, env.Client, nsB, "creds", testbroker.DefaultUsername, testbroker.DefaultPassword)
	namespacedBroker(t, env.Client, nsA, "shared-name", hostile.URL)
	namespacedBroker(t, env.Client, nsB, "shared-name", good.URL())
	keyA, keyB := "ServiceBroker/"+nsA+"/shared-name", "ServiceBroker/"+nsB+"/shared-name"

	// Failed fetches are retried with backoff: every code gets its turn.
	eventually(t, 60*time.Second, "the hostile broker answered every code twice", func() error {
		if n := served.Load(); n < int32(2*len(codes)) {
			return fmt.Errorf("%d answers", n)
		}
		return nil
	})
	eventually(t, 30*time.Second, "the other namespace's broker Ready", func() error {
		_, err := namespacedBrokerReady(env.Client, nsB, "shared-name", scv1beta1.ConditionTrue, scv1beta1.ReasonFetchedCatalog)
		return err
	})

	allowed := map[string]bool{}
	for _, m := range []string{"svcat_osb_requests_total", "svcat_osb_request_duration_seconds"} {
		for _, c := range []string{"2xx", "4xx", "5xx", "other"} {
			allowed[m+"/get_catalog/"+c] = true
		}
	}
	a := brokerSeries(t, keyA)
	for _, s := range a {
		if !allowed[s] {
			t.Errorf("series %s of the hostile broker: codes must be classes", s)
		}
	}
	if len(a) != len(allowed) {
		t.Errorf("hostile broker's series: %v, want one per class: %d", a, len(allowed))
	}
	if b := brokerSeries(t, keyB); fmt.Sprint(b) != "[svcat_osb_request_duration_seconds/get_catalog/2xx svcat_osb_requests_total/get_catalog/2xx]" {
		t.Errorf("the other namespace's broker of the same name has series %v", b)
	}

	for _, ns := range []string{nsA, nsB} {
		if err := env.Client.Delete(ctx, &scv1beta1.ServiceBroker{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "shared-name"}}); err != nil {
			t.Fatal(err)
		}
		key := "ServiceBroker/" + ns + "/shared-name"
		eventually(t, 30*time.Second, "the series of deleted broker "+key+" removed", func() error {
			if s := brokerSeries(t, key); len(s) != 0 {
				return fmt.Errorf("series remain: %v", s)
			}
			return nil
		})
	}
}
