package osb

import (
	"errors"
	"net/http"
)

// StatusCodeOf returns the HTTP status of the broker answer behind err, or 0
// when no answer arrived or err did not come from this package.
func StatusCodeOf(err error) int {
	var h *HTTPError
	var m *MalformedResponseError
	var l *ResponseTooLargeError
	switch {
	case errors.As(err, &h):
		return h.StatusCode
	case errors.As(err, &m):
		return m.StatusCode
	case errors.As(err, &l):
		return l.StatusCode
	}
	return 0
}

func hasStatus(err error, code int) bool {
	var h *HTTPError
	return errors.As(err, &h) && h.StatusCode == code
}

func hasErrorCode(err error, code string) bool {
	var h *HTTPError
	return errors.As(err, &h) && h.StatusCode == http.StatusUnprocessableEntity && h.ErrorCode == code
}

func hasFailure(err error, f TransportFailure) bool {
	var t *TransportError
	return errors.As(err, &t) && t.Failure == f
}

// IsBadRequest reports a 400: the request (parameters, IDs) was rejected.
func IsBadRequest(err error) bool { return hasStatus(err, http.StatusBadRequest) }

// IsUnauthorized reports a 401: the broker rejected our credentials.
func IsUnauthorized(err error) bool { return hasStatus(err, http.StatusUnauthorized) }

// IsNotFound reports a 404 (GET of something missing or not ready yet).
func IsNotFound(err error) bool { return hasStatus(err, http.StatusNotFound) }

// IsConflict reports a 409: the resource exists with different attributes.
func IsConflict(err error) bool { return hasStatus(err, http.StatusConflict) }

// IsGone reports a 410: on DELETE and on a delete's last_operation it means
// the resource is already gone, which callers treat as success.
func IsGone(err error) bool { return hasStatus(err, http.StatusGone) }

// IsPreconditionFailed reports a 412: the broker does not support our
// X-Broker-API-Version.
func IsPreconditionFailed(err error) bool { return hasStatus(err, http.StatusPreconditionFailed) }

// IsUnprocessableEntity reports any 422, whatever its error code.
func IsUnprocessableEntity(err error) bool { return hasStatus(err, http.StatusUnprocessableEntity) }

// IsAsyncRequired reports 422 AsyncRequired: retry with accepts_incomplete.
func IsAsyncRequired(err error) bool { return hasErrorCode(err, ErrorCodeAsyncRequired) }

// IsConcurrencyError reports 422 ConcurrencyError: another operation is in
// progress; retry later and never start orphan mitigation.
func IsConcurrencyError(err error) bool { return hasErrorCode(err, ErrorCodeConcurrencyError) }

// IsRequiresApp reports 422 RequiresApp: the binding needs an app_guid.
func IsRequiresApp(err error) bool { return hasErrorCode(err, ErrorCodeRequiresApp) }

// IsMaintenanceInfoConflict reports 422 MaintenanceInfoConflict: our
// maintenance_info.version differs from the broker's catalog; relist.
func IsMaintenanceInfoConflict(err error) bool {
	return hasErrorCode(err, ErrorCodeMaintenanceInfoConflict)
}

// IsServerError reports any 5xx.
func IsServerError(err error) bool {
	var h *HTTPError
	return errors.As(err, &h) && h.StatusCode >= 500 && h.StatusCode <= 599
}

// IsUnexpectedSuccess reports a 2xx the operation does not allow (e.g. 204 on
// provision); the broker may have acted, so orphan mitigation applies.
func IsUnexpectedSuccess(err error) bool {
	var h *HTTPError
	return errors.As(err, &h) && h.StatusCode >= 200 && h.StatusCode <= 299
}

// IsMalformedResponse reports a success status with an unparsable body.
func IsMalformedResponse(err error) bool {
	var m *MalformedResponseError
	return errors.As(err, &m)
}

// IsResponseTooLarge reports a body over Config.MaxResponseBytes.
func IsResponseTooLarge(err error) bool {
	var l *ResponseTooLargeError
	return errors.As(err, &l)
}

// IsCatalogLimit reports a catalog refused for passing its CatalogLimits.
func IsCatalogLimit(err error) bool {
	var l *CatalogLimitError
	return errors.As(err, &l)
}

// IsTimeout reports that the request timed out after it may have reached the
// broker.
func IsTimeout(err error) bool { return hasFailure(err, FailureTimeout) }

// IsUnreachable reports that no connection to the broker could be made.
func IsUnreachable(err error) bool { return hasFailure(err, FailureUnreachable) }

// IsTLSError reports a failed TLS handshake, typically an untrusted or
// mismatched broker certificate.
func IsTLSError(err error) bool { return hasFailure(err, FailureTLS) }

// IsInterrupted reports a connection that broke after the request was sent.
func IsInterrupted(err error) bool { return hasFailure(err, FailureInterrupted) }
