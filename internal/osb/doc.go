// Package osb is svcat's client for the Open Service Broker API 2.17.
//
// It exists so the controllers speak OSB through one small, stdlib-only
// client whose failures are typed: callers decide what to do (retry, orphan
// mitigation, a condition for the user) with errors.As and the Is* helpers,
// never by matching strings. Every request carries a fresh request identity
// that is returned on the response or the error, so a log line can be
// matched with the broker's own logs. Nothing in this package logs or
// exports metrics itself; Config.Observer and Config.WrapTransport are the
// hooks for that, and no error message ever contains credentials.
package osb
