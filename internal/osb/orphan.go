package osb

import "net/http"

// Outcome is how an OSB request ended, reduced to what the orphan
// mitigation rules look at.
type Outcome struct {
	// StatusCode is the HTTP status, 0 when none arrived.
	StatusCode int
	// Malformed: a success status with a body that could not be parsed.
	Malformed bool
	// Timeout: no answer, and the broker may have acted on the request.
	Timeout bool
	// AsyncFailed: last_operation reported "failed" for this operation.
	AsyncFailed bool
}

// OutcomeOf derives the Outcome of a finished request from its error (nil
// for success, with statusCode from the response).
func OutcomeOf(statusCode int, err error) Outcome {
	if err == nil {
		return Outcome{StatusCode: statusCode}
	}
	// An interrupted connection is as ambiguous as a timeout: the broker may
	// have done the work.
	if IsTimeout(err) || IsInterrupted(err) {
		return Outcome{Timeout: true}
	}
	return Outcome{StatusCode: StatusCodeOf(err), Malformed: IsMalformedResponse(err)}
}

// OrphanMitigationRequired encodes the OSB 2.17 orphan mitigation table:
// whether the platform must delete what the broker may have created (or
// retry a delete) after this outcome of op. It returns false for
// OpUpdate always, and for a 422 ConcurrencyError like every other 4xx.
func OrphanMitigationRequired(op Operation, o Outcome) bool {
	creates := op == OpProvision || op == OpBind
	deletes := op == OpDeprovision || op == OpUnbind
	if !creates && !deletes {
		return false
	}
	code := o.StatusCode
	switch {
	case o.AsyncFailed:
		return true
	case o.Timeout:
		return creates
	case code >= 500 && code <= 599:
		return true
	case code == http.StatusOK:
		return false
	case code == http.StatusAccepted, creates && code == http.StatusCreated:
		// The request was accepted; only an unreadable answer leaves a
		// possibly created resource nobody tracks.
		return creates && o.Malformed
	case code >= 200 && code <= 299:
		return true
	}
	// 408 and every other 4xx: the broker must not have changed anything.
	return false
}
