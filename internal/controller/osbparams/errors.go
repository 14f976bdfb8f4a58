package osbparams

import (
	"errors"
	"fmt"
)

// ErrSecretNotFound and ErrKeyNotFound are what the secretValue function
// passed to Build returns (possibly wrapped) when the Secret, or the key in
// it, does not exist. A Kubernetes NotFound API error is understood as
// ErrSecretNotFound too, so a caller may pass the client's error through.
var (
	ErrSecretNotFound = errors.New("secret not found")
	ErrKeyNotFound    = errors.New("key not found in secret")
)

// Reason says what is wrong with the parameters; it is CamelCase so a
// reconciler can use it as a condition reason.
type Reason string

const (
	// ReasonParametersNotObject: spec.parameters is not a JSON object.
	ReasonParametersNotObject Reason = "ParametersNotObject"
	// ReasonMissingSecretKeyRef: a parametersFrom entry names no Secret.
	ReasonMissingSecretKeyRef Reason = "MissingSecretKeyRef"
	// ReasonSecretNotFound: a Secret named in parametersFrom does not exist.
	ReasonSecretNotFound Reason = "SecretNotFound"
	// ReasonSecretKeyNotFound: the Secret exists but has no such key.
	ReasonSecretKeyNotFound Reason = "SecretKeyNotFound"
	// ReasonSecretUnreadable: reading the Secret failed for another reason
	// (API server unavailable, RBAC).
	ReasonSecretUnreadable Reason = "SecretUnreadable"
	// ReasonSecretValueNotObject: the Secret's value is not a JSON object.
	ReasonSecretValueNotObject Reason = "SecretValueNotObject"
	// ReasonDuplicateKey: a top-level key appears in two sources.
	ReasonDuplicateKey Reason = "DuplicateParameter"
	// ReasonTooLarge: the sources together exceed MaxParametersBytes.
	ReasonTooLarge Reason = "ParametersTooLarge"
)

// Error is a problem building the parameters. Its message names the field,
// the Secret and the key, never a Secret's value.
type Error struct {
	Reason Reason
	// Field is the path of the source, e.g. "spec.parameters" or
	// "spec.parametersFrom[1].secretKeyRef".
	Field string
	// Secret and Key are set when the source is a Secret.
	Secret, Key string
	// Parameter and OtherField are set for ReasonDuplicateKey: the key and
	// the earlier source that already had it.
	Parameter, OtherField string
	// Detail is a short, value-free explanation (e.g. the JSON type found).
	Detail string
	// Err is the underlying error, if any; it never carries a Secret value.
	Err error
}

func (e *Error) Error() string {
	switch e.Reason {
	case ReasonParametersNotObject:
		return fmt.Sprintf("%s: %s", e.Field, e.Detail)
	case ReasonMissingSecretKeyRef:
		return fmt.Sprintf("%s: secretKeyRef is required", e.Field)
	case ReasonSecretNotFound:
		return fmt.Sprintf("%s: Secret %q does not exist", e.Field, e.Secret)
	case ReasonSecretKeyNotFound:
		return fmt.Sprintf("%s: Secret %q has no key %q", e.Field, e.Secret, e.Key)
	case ReasonSecretUnreadable:
		return fmt.Sprintf("%s: cannot read key %q of Secret %q: %v", e.Field, e.Key, e.Secret, e.Err)
	case ReasonSecretValueNotObject:
		return fmt.Sprintf("%s: the value of key %q in Secret %q is not a JSON object (%s)", e.Field, e.Key, e.Secret, e.Detail)
	case ReasonDuplicateKey:
		return fmt.Sprintf("top-level key %q appears in both %s and %s", e.Parameter, e.OtherField, e.Field)
	case ReasonTooLarge:
		if e.Secret != "" {
			return fmt.Sprintf("%s: the value of key %q in Secret %q %s", e.Field, e.Key, e.Secret, e.Detail)
		}
		return fmt.Sprintf("%s: %s", e.Field, e.Detail)
	}
	return fmt.Sprintf("%s: %s", e.Field, e.Reason)
}

func (e *Error) Unwrap() error { return e.Err }

// Retryable reports whether trying again later, with no change to the spec,
// may succeed: the Secret or key may be created, the API server may come
// back. The other errors are about content (the spec, or what the Secret
// holds): the reconciler should report them and wait for a change rather
// than retry with backoff.
func (e *Error) Retryable() bool {
	switch e.Reason {
	case ReasonSecretNotFound, ReasonSecretKeyNotFound, ReasonSecretUnreadable:
		return true
	}
	return false
}
