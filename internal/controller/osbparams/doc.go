// Package osbparams turns the parameters of an instance or a binding
// (spec.parameters plus spec.parametersFrom) into what is sent to the broker,
// what may be shown in the status, and a checksum that detects changes
// (internal/planschema checks them against a plan's JSON schema). It does no
// I/O: Secrets are read through a function the caller passes.
//
// Nothing here ever puts a Secret's value in an error message, because
// errors end up in conditions and events that any reader of the object sees.
package osbparams
