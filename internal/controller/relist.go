package controller

import (
	"time"

	scv1beta1 "github.com/svcat-io/svcat/api/v1beta1"
)

// relistDue decides whether a broker's catalog must be fetched now and, if
// not, how long until it must. It is a pure function of the broker's spec
// and status so the rules are tested without a cluster:
//   - a spec change (new generation, including a relistRequests bump), a
//     broker never fetched, or one whose last fetch failed: now;
//   - Manual: never again on its own;
//   - Duration: when relistDuration (or the controller's default) has passed
//     since the last successful fetch.
func relistDue(generation int64, spec *scv1beta1.CommonServiceBrokerSpec, status *scv1beta1.CommonServiceBrokerStatus, defaultInterval time.Duration, now time.Time) (bool, time.Duration) {
	ready := status.GetCondition(scv1beta1.ServiceBrokerConditionReady)
	if status.ReconciledGeneration != generation || ready == nil || ready.Status != scv1beta1.ConditionTrue || status.LastCatalogRetrievalTime == nil {
		return true, 0
	}
	if spec.RelistBehavior == scv1beta1.ServiceBrokerRelistBehaviorManual {
		return false, 0
	}
	next := status.LastCatalogRetrievalTime.Add(relistInterval(spec, defaultInterval))
	if !now.Before(next) {
		return true, 0
	}
	return false, next.Sub(now)
}

func relistInterval(spec *scv1beta1.CommonServiceBrokerSpec, defaultInterval time.Duration) time.Duration {
	if spec.RelistDuration != nil && spec.RelistDuration.Duration > 0 {
		return spec.RelistDuration.Duration
	}
	return defaultInterval
}
