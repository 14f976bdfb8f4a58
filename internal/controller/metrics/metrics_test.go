package metrics

import (
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr/funcr"
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
	if err := OSBRequests.WithLabelValues("ClusterServiceBroker/test-observer", "provision", "500").Write(m); err != nil {
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
