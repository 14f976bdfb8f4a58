// Package metrics holds the catalog-controller's own Prometheus metrics,
// registered with controller-runtime's registry so they are served on
// /metrics next to the reconcile metrics controller-runtime records.
//
// Their labels are bounded: a broker is user input (anyone who may create a
// ServiceBroker in a namespace names one and chooses what it answers), so
// status codes are recorded as classes, and a broker's series go when the
// broker does.
package metrics

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	ctrl "sigs.k8s.io/controller-runtime"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/svcat-io/svcat/internal/osb"
)

var (
	// OSBRequests counts requests to brokers by broker, operation and
	// status class (see CodeClass).
	OSBRequests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "svcat_osb_requests_total",
		Help: "OSB API requests sent to brokers, by broker, operation and HTTP status class (1xx..5xx, other; error or timeout when no answer arrived).",
	}, []string{"broker", "operation", "code"})

	// OSBRequestDuration observes request latency by the same labels.
	OSBRequestDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "svcat_osb_request_duration_seconds",
		Help:    "Latency of OSB API requests sent to brokers, by broker, operation and HTTP status class.",
		Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60},
	}, []string{"broker", "operation", "code"})

	// BrokerCallsInFlight and BrokerCallsQueued count the broker requests
	// running off the reconcile workers and those waiting for the limits.
	// Without labels: their size is bounded by the limits and the objects,
	// and a hanging broker shows in svcat_osb_request_duration_seconds.
	BrokerCallsInFlight = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "svcat_broker_calls_in_flight",
		Help: "Broker requests in flight (see --broker-calls-total, --broker-calls-per-broker, --broker-calls-per-namespace).",
	})
	BrokerCallsQueued = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "svcat_broker_calls_queued",
		Help: "Broker requests waiting for the in-flight limits.",
	})
	// ParameterSecretsWatched counts the Secrets named in instances'
	// parametersFrom that have a watch of their own (package paramwatch).
	ParameterSecretsWatched = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "svcat_parameter_secrets_watched",
		Help: "Secrets named in instances' parametersFrom watched for changes (at most --parameter-secret-watches, --parameter-secret-watches-per-namespace of one namespace).",
	})
	// ParameterSecretsUnwatched counts the Secrets named in parametersFrom
	// that a limit leaves without a watch: the signal to raise a limit or
	// look at the namespace whose instances say ParameterSecretsNotWatched.
	ParameterSecretsUnwatched = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "svcat_parameter_secrets_unwatched",
		Help: "Secrets named in instances' parametersFrom left unwatched by a watch limit; their changes reach the broker at the instance's next reconcile.",
	})
)

func init() {
	ctrlmetrics.Registry.MustRegister(OSBRequests, OSBRequestDuration, BrokerCallsInFlight, BrokerCallsQueued, ParameterSecretsWatched,
		ParameterSecretsUnwatched)
}

// CodeClass is the code label of a request: "2xx" and so on for an HTTP
// answer, "other" for a status outside 100-599 (a broker may send any three
// digits), "timeout" when the request timed out and "error" when no answer
// arrived for another reason.
func CodeClass(ri osb.RequestInfo) string {
	switch c := ri.StatusCode; {
	case c >= 100 && c <= 599:
		return string(rune('0'+c/100)) + "xx"
	case c != 0:
		return "other"
	case osb.IsTimeout(ri.Err):
		return "timeout"
	}
	return "error"
}

// brokers are the brokers that have series, each with a token that
// Forget marks: a request that finishes after its broker was forgotten
// must not bring the series back.
var brokers = struct {
	sync.Mutex
	live map[string]*liveBroker
}{live: map[string]*liveBroker{}}

type liveBroker struct {
	mu   sync.Mutex
	gone bool
}

// Observer returns an osb.Config observer that records each request of the
// named broker ("ClusterServiceBroker/name" or "ServiceBroker/ns/name") in
// the metrics and in the log, with the X-Broker-API-Request-Identity it
// carried so a request can be found in the broker's own logs. Failed
// requests are logged at info level, the others at debug level (-v=1,
// --zap-log-level=debug). Nothing here carries credentials: the OSB client
// keeps them out of its errors.
func Observer(broker string) func(osb.RequestInfo) {
	brokers.Lock()
	lb := brokers.live[broker]
	if lb == nil {
		lb = &liveBroker{}
		brokers.live[broker] = lb
	}
	brokers.Unlock()
	log := ctrl.Log.WithName("osb").WithValues("broker", broker)
	return func(ri osb.RequestInfo) {
		lb.record(broker, ri)
		kv := []any{"operation", string(ri.Operation), "code", ri.StatusCode, "duration", ri.Duration.String(), "requestIdentity", ri.RequestIdentity}
		if ri.Err != nil {
			log.Info("OSB request failed", append(kv, "error", ri.Err.Error())...)
			return
		}
		log.V(1).Info("OSB request", kv...)
	}
}

func (lb *liveBroker) record(broker string, ri osb.RequestInfo) {
	lb.mu.Lock()
	defer lb.mu.Unlock()
	if lb.gone {
		return
	}
	code := CodeClass(ri)
	OSBRequests.WithLabelValues(broker, string(ri.Operation), code).Inc()
	OSBRequestDuration.WithLabelValues(broker, string(ri.Operation), code).Observe(ri.Duration.Seconds())
}

// Forget removes every series of a deleted broker; requests of it still in
// flight are no longer recorded. A broker created again under the same name
// starts new series with its next Observer.
func Forget(broker string) {
	brokers.Lock()
	lb := brokers.live[broker]
	delete(brokers.live, broker)
	brokers.Unlock()
	if lb != nil {
		lb.mu.Lock()
		defer lb.mu.Unlock()
		lb.gone = true
	}
	OSBRequests.DeletePartialMatch(prometheus.Labels{"broker": broker})
	OSBRequestDuration.DeletePartialMatch(prometheus.Labels{"broker": broker})
}
