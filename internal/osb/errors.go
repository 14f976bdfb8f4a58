package osb

import (
	"errors"
	"fmt"
	"net/http"
	"time"
)

// OSB error codes a broker puts in the "error" field of a 422 response.
const (
	ErrorCodeAsyncRequired           = "AsyncRequired"
	ErrorCodeConcurrencyError        = "ConcurrencyError"
	ErrorCodeRequiresApp             = "RequiresApp"
	ErrorCodeMaintenanceInfoConflict = "MaintenanceInfoConflict"
)

// maxErrorCode bounds a broker's "error" field; the codes OSB defines are
// short words.
const maxErrorCode = 64

// HTTPError is a broker answer with a status code the operation does not
// accept as success: every 4xx and 5xx, and a 2xx the spec does not allow for
// the operation (which orphan mitigation treats differently from 4xx).
type HTTPError struct {
	Operation        Operation
	StatusCode       int
	ErrorCode        string // the body's "error" field, e.g. ErrorCodeAsyncRequired
	Description      string
	InstanceUsable   *bool
	UpdateRepeatable *bool
	// RetryAfter is the broker's Retry-After hint, zero when absent.
	RetryAfter      time.Duration
	RequestIdentity string
	// RedirectHost is where a 3xx answer pointed (host only). Redirects are
	// never followed: they would resend credentials and request bodies to
	// wherever the broker, or whoever answers in its place, chooses.
	RedirectHost string
}

func (e *HTTPError) Error() string {
	msg := fmt.Sprintf("osb %s: broker answered %d %s", e.Operation, e.StatusCode, http.StatusText(e.StatusCode))
	if e.ErrorCode != "" {
		msg += " (" + e.ErrorCode + ")"
	}
	if e.Description != "" {
		msg += ": " + e.Description // bounded and cleaned by decode
	}
	if e.StatusCode >= 300 && e.StatusCode < 400 {
		msg += "; redirects are not followed"
		if e.RedirectHost != "" {
			msg += fmt.Sprintf(" (it pointed to host %q): set the broker URL to the final address", e.RedirectHost)
		}
	}
	return msg
}

// MalformedResponseError means the broker answered with a success status but
// a body that is not the JSON the spec requires. StatusCode is kept because
// orphan mitigation depends on it (a malformed 201 needs it, a malformed 200
// does not). The body itself is never kept: it may hold credentials.
type MalformedResponseError struct {
	Operation       Operation
	StatusCode      int
	RequestIdentity string
	Err             error
	// ContentType is the answer's media type when it is not JSON, else "".
	ContentType string
}

func (e *MalformedResponseError) Error() string {
	msg := fmt.Sprintf("osb %s: broker answered %d with a malformed body: %v", e.Operation, e.StatusCode, e.Err)
	if e.ContentType != "" {
		msg += fmt.Sprintf(" (Content-Type %q; OSB answers must be JSON, application/json)", e.ContentType)
	}
	return msg
}

func (e *MalformedResponseError) Unwrap() error { return e.Err }

// ResponseTooLargeError means the body exceeded Config.MaxResponseBytes; the
// rest of it was not read.
type ResponseTooLargeError struct {
	Operation       Operation
	StatusCode      int
	Limit           int64
	RequestIdentity string
}

func (e *ResponseTooLargeError) Error() string {
	return fmt.Sprintf("osb %s: broker answered %d with a body larger than %d bytes", e.Operation, e.StatusCode, e.Limit)
}

// TransportFailure classifies why no complete HTTP answer arrived, because the
// right reaction differs: an unreachable broker never saw the request, a
// timed-out or interrupted one may have acted on it.
type TransportFailure int

const (
	// FailureTimeout: Config.Timeout or the caller's deadline passed after
	// the request may have reached the broker.
	FailureTimeout TransportFailure = iota + 1
	// FailureUnreachable: no connection could be made (refused, DNS, no
	// route, dial timeout), so the broker cannot have seen the request.
	FailureUnreachable
	// FailureTLS: the TLS handshake failed, usually certificate
	// verification (wrong or missing caBundle).
	FailureTLS
	// FailureInterrupted: the connection broke after the request was sent.
	FailureInterrupted
	// FailureCanceled: the caller's context was canceled.
	FailureCanceled
)

func (f TransportFailure) String() string {
	switch f {
	case FailureTimeout:
		return "timed out"
	case FailureUnreachable:
		return "broker unreachable"
	case FailureTLS:
		return "TLS handshake failed"
	case FailureInterrupted:
		return "connection interrupted"
	case FailureCanceled:
		return "canceled"
	}
	return "transport failure"
}

// TransportError is a request that got no complete HTTP answer. Err is the
// underlying error with the request URL stripped, so errors.As still finds
// e.g. *tls.CertificateVerificationError or *net.OpError.
type TransportError struct {
	Operation       Operation
	Failure         TransportFailure
	RequestIdentity string
	Err             error
}

func (e *TransportError) Error() string {
	return fmt.Sprintf("osb %s: %s: %v", e.Operation, e.Failure, e.Err)
}

func (e *TransportError) Unwrap() error { return e.Err }

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// RequestIdentityOf returns the X-Broker-API-Request-Identity of the request
// that produced err, or "" if err did not come from this package.
func RequestIdentityOf(err error) string {
	var h *HTTPError
	var m *MalformedResponseError
	var l *ResponseTooLargeError
	var t *TransportError
	var c *CatalogLimitError
	switch {
	case errors.As(err, &h):
		return h.RequestIdentity
	case errors.As(err, &m):
		return m.RequestIdentity
	case errors.As(err, &l):
		return l.RequestIdentity
	case errors.As(err, &t):
		return t.RequestIdentity
	case errors.As(err, &c):
		return c.RequestIdentity
	}
	return ""
}
