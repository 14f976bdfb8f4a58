// Package metrics holds the catalog-controller's own Prometheus metrics,
// registered with controller-runtime's registry so they are served on
// /metrics next to the reconcile metrics controller-runtime records.
package metrics

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
	ctrl "sigs.k8s.io/controller-runtime"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/svcat-io/svcat/internal/osb"
)

var (
	// OSBRequests counts requests to brokers by broker, operation and HTTP
	// status code ("0" when no answer arrived).
	OSBRequests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "svcat_osb_requests_total",
		Help: "OSB API requests sent to brokers, by broker, operation and HTTP status code (0: no answer).",
	}, []string{"broker", "operation", "code"})

	// OSBRequestDuration observes request latency by the same labels.
	OSBRequestDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "svcat_osb_request_duration_seconds",
		Help:    "Latency of OSB API requests sent to brokers, by broker, operation and HTTP status code.",
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
)

func init() {
	ctrlmetrics.Registry.MustRegister(OSBRequests, OSBRequestDuration, BrokerCallsInFlight, BrokerCallsQueued)
}

// Observer returns an osb.Config observer that records each request of the
// named broker ("ClusterServiceBroker/name" or "ServiceBroker/ns/name") in
// the metrics and in the log, with the X-Broker-API-Request-Identity it
// carried so a request can be found in the broker's own logs. Failed
// requests are logged at info level, the others at debug level (-v=1,
// --zap-log-level=debug). Nothing here carries credentials: the OSB client
// keeps them out of its errors.
func Observer(broker string) func(osb.RequestInfo) {
	log := ctrl.Log.WithName("osb").WithValues("broker", broker)
	return func(ri osb.RequestInfo) {
		code := strconv.Itoa(ri.StatusCode)
		OSBRequests.WithLabelValues(broker, string(ri.Operation), code).Inc()
		OSBRequestDuration.WithLabelValues(broker, string(ri.Operation), code).Observe(ri.Duration.Seconds())
		kv := []any{"operation", string(ri.Operation), "code", ri.StatusCode, "duration", ri.Duration.String(), "requestIdentity", ri.RequestIdentity}
		if ri.Err != nil {
			log.Info("OSB request failed", append(kv, "error", ri.Err.Error())...)
			return
		}
		log.V(1).Info("OSB request", kv...)
	}
}
