package controller

import (
	scv1beta1 "github.com/svcat-io/svcat/api/v1beta1"
	"github.com/svcat-io/svcat/internal/controller/osbrequest"
)

// updateAttempt is what decides the broker's answer to an update carrying
// props for generation gen: the plan, the parameters' checksum and the
// maintenance version.
func updateAttempt(props *scv1beta1.ServiceInstancePropertiesState, gen int64) *scv1beta1.ServiceInstanceFailedUpdate {
	if props == nil {
		return nil
	}
	return &scv1beta1.ServiceInstanceFailedUpdate{
		PlanExternalID:         osbrequest.PlanExternalID(props),
		ParameterChecksum:      props.ParameterChecksum,
		MaintenanceInfoVersion: props.MaintenanceInfoVersion,
		Generation:             gen,
	}
}

// failedUpdateDecision is what to do with an instance whose last update
// failed for good.
type failedUpdateDecision int

const (
	// failedNotYet: no Failed condition, or it needs the attempt to be
	// known before it can be decided.
	failedNotYet failedUpdateDecision = iota
	// failedStays: the same request would be sent again; nothing is sent.
	failedStays
	// failedRetry: the spec or what it reads changed; the Failed
	// condition goes and the update is sent.
	failedRetry
)

// afterFailedUpdate decides whether an instance whose last update failed
// for good (a 4xx, or a failed asynchronous update) gets a new one. A spec
// change always sends it, as in v0.3. Without one, only a request that
// differs from the refused one does: a Secret in parametersFrom changed,
// or the catalog moved the maintenance version. next is nil while the
// parameters are not built yet: instances that failed before svcat
// recorded the attempt (LastFailedUpdate nil) keep v0.3's rule and stay
// without building them.
func afterFailedUpdate(failed bool, gen int64, st *scv1beta1.ServiceInstanceStatus, next *scv1beta1.ServiceInstanceFailedUpdate) failedUpdateDecision {
	switch {
	case !failed:
		return failedNotYet
	case st.ObservedGeneration != gen:
		return failedRetry
	case st.LastFailedUpdate == nil:
		return failedStays
	case next == nil:
		return failedNotYet
	case sameUpdate(*st.LastFailedUpdate, *next):
		return failedStays
	}
	return failedRetry
}

// sameUpdate compares two attempts by what the broker sees.
func sameUpdate(a, b scv1beta1.ServiceInstanceFailedUpdate) bool {
	a.Generation, b.Generation = 0, 0
	return a == b
}

// recordFailedUpdate keeps what the refused update in flight carried,
// before endOperation drops it.
func recordFailedUpdate(s *instanceStep) {
	st := &s.inst.Status
	if a := updateAttempt(st.InProgressProperties, s.gen); a != nil {
		st.LastFailedUpdate = a
	}
}
