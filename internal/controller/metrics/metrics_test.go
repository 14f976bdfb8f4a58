package metrics

import (
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr/funcr"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/svcat-io/svcat/internal/osb"
)

// Each request is counted and logged with its request identity, so it can
// be found in the broker's logs; failures at info level.
func TestObserverCountsAndLogs(t *testing.T) {
	var mu sync.Mutex
	var lines []string
	ctrl.SetLogger(funcr.New(func(prefix, args string) {
		mu.Lock()
		defer mu.Unlock()
		lines = append(lines, prefix+" "+args)
	}, funcr.Options{Verbosity: 0}))

	obs := Observer("ClusterServiceBroker/test-observer")
	obs(osb.RequestInfo{Operation: osb.OpProvision, StatusCode: 201, Duration: 3 * time.Millisecond, RequestIdentity: "ok-id"})
	obs(osb.RequestInfo{Operation: osb.OpProvision, StatusCode: 500, Duration: 5 * time.Millisecond, RequestIdentity: "failed-id", Err: errors.New("osb provision: broker answered 500")})

	m := &dto.Metric{}
	if err := OSBRequests.WithLabelValues("ClusterServiceBroker/test-observer", "provision", "5xx").Write(m); err != nil {
		t.Fatal(err)
	}
	if n := m.GetCounter().GetValue(); n != 1 {
		t.Errorf("500s counted %v times", n)
	}
	mu.Lock()
	defer mu.Unlock()
	all := strings.Join(lines, "\n")
	if !strings.Contains(all, `"requestIdentity"="failed-id"`) || !strings.Contains(all, "OSB request failed") {
		t.Errorf("the failed request is not logged with its identity:\n%s", all)
	}
	if strings.Contains(all, "ok-id") {
		t.Errorf("a successful request was logged at info level:\n%s", all)
	}
}

func TestCodeClass(t *testing.T) {
	timeout := &osb.TransportError{Failure: osb.FailureTimeout}
	unreachable := &osb.TransportError{Failure: osb.FailureUnreachable}
	for _, tc := range []struct {
		ri   osb.RequestInfo
		want string
	}{
		{osb.RequestInfo{StatusCode: 200}, "2xx"},
		{osb.RequestInfo{StatusCode: 299}, "2xx"},
		{osb.RequestInfo{StatusCode: 302}, "3xx"},
		{osb.RequestInfo{StatusCode: 418}, "4xx"},
		{osb.RequestInfo{StatusCode: 599}, "5xx"},
		{osb.RequestInfo{StatusCode: 100}, "1xx"},
		{osb.RequestInfo{StatusCode: 600}, "other"},
		{osb.RequestInfo{StatusCode: 999}, "other"},
		{osb.RequestInfo{Err: timeout}, "timeout"},
		{osb.RequestInfo{Err: unreachable}, "error"},
		{osb.RequestInfo{Err: errors.New("anything")}, "error"},
	} {
		if got := CodeClass(tc.ri); got != tc.want {
			t.Errorf("CodeClass(%d, %v) = %q, want %q", tc.ri.StatusCode, tc.ri.Err, got, tc.want)
		}
	}
}

// Forget removes every series of the broker, and a request that finishes
// afterwards does not bring them back; other brokers keep theirs.
func TestForget(t *testing.T) {
	gone, kept := Observer("ServiceBroker/a/same"), Observer("ServiceBroker/b/same")
	gone(osb.RequestInfo{Operation: osb.OpGetCatalog, StatusCode: 200})
	kept(osb.RequestInfo{Operation: osb.OpGetCatalog, StatusCode: 200})
	Forget("ServiceBroker/a/same")
	gone(osb.RequestInfo{Operation: osb.OpGetCatalog, StatusCode: 500})
	if n := seriesOf(t, "ServiceBroker/a/same"); n != 0 {
		t.Errorf("%d series remain for the forgotten broker", n)
	}
	if n := seriesOf(t, "ServiceBroker/b/same"); n != 2 {
		t.Errorf("%d series for the other namespace's broker of the same name, want 2", n)
	}
	again := Observer("ServiceBroker/a/same")
	again(osb.RequestInfo{Operation: osb.OpGetCatalog, StatusCode: 200})
	if n := seriesOf(t, "ServiceBroker/a/same"); n != 2 {
		t.Errorf("%d series for a broker created again, want 2", n)
	}
	Forget("ServiceBroker/a/same")
	Forget("ServiceBroker/b/same")
}

// seriesOf counts the series labelled with the broker.
func seriesOf(t *testing.T, broker string) int {
	t.Helper()
	n := 0
	for _, c := range []prometheus.Collector{OSBRequests, OSBRequestDuration} {
		ch := make(chan prometheus.Metric, 100)
		c.Collect(ch)
		close(ch)
		for m := range ch {
			d := &dto.Metric{}
			if err := m.Write(d); err != nil {
				t.Fatal(err)
			}
			for _, l := range d.GetLabel() {
				if l.GetName() == "broker" && l.GetValue() == broker {
					n++
				}
			}
		}
	}
	return n
}
