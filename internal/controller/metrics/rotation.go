package metrics

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"
)

// Label values of svcat_binding_rotations_total. Both labels take only
// these values (a trigger the controller does not know, from a status
// someone else wrote, is "other"), so the counter has at most twelve
// series however many bindings rotate.
const (
	TriggerRequest  = "request"
	TriggerSchedule = "schedule"
	TriggerExpiry   = "expiry"
	TriggerOther    = "other"

	OutcomeSucceeded = "succeeded"
	OutcomeRefused   = "refused"
	OutcomeFailed    = "failed"
)

var (
	// BindingRotations counts rotations that ended, by what started them
	// and how they ended.
	BindingRotations = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "svcat_binding_rotations_total",
		Help: "Credential rotations of ServiceBindings that ended, by trigger (request, schedule, expiry) and outcome (succeeded; refused: the broker answered 4xx; failed: given up otherwise).",
	}, []string{"trigger", "outcome"})

	// RetiringBindings is the number of old broker bindings waiting for
	// their unbind, all bindings together.
	RetiringBindings = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "svcat_binding_rotations_retiring",
		Help: "Old broker bindings of rotated ServiceBindings waiting for their unbind (status.rotation.retiring of every binding).",
	})
)

func init() {
	ctrlmetrics.Registry.MustRegister(BindingRotations, RetiringBindings)
	// Every series from the start: a rate over a counter that appears
	// with its first increment misses that increment.
	for _, t := range []string{TriggerRequest, TriggerSchedule, TriggerExpiry} {
		for _, o := range []string{OutcomeSucceeded, OutcomeRefused, OutcomeFailed} {
			BindingRotations.WithLabelValues(t, o)
		}
	}
}

// retiring holds the count of each binding that has old broker bindings
// waiting, so that the gauge is their sum: a binding that is gone or has
// none left takes its share with it, and nothing else is kept per
// binding.
var retiring = struct {
	sync.Mutex
	by  map[string]int
	sum int
}{by: map[string]int{}}

// SetRetiring records that the binding key (namespace/name) has n old
// broker bindings waiting for their unbind; 0 forgets it.
func SetRetiring(key string, n int) {
	retiring.Lock()
	defer retiring.Unlock()
	retiring.sum += n - retiring.by[key]
	if n > 0 {
		retiring.by[key] = n
	} else {
		delete(retiring.by, key)
	}
	RetiringBindings.Set(float64(retiring.sum))
}
