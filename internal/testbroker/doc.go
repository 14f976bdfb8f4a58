// Package testbroker is a scripted Open Service Broker for tests and
// benchmarks. It serves real HTTP (optionally TLS) on 127.0.0.1, keeps its
// own record of instances and bindings so tests can compare it with the
// cluster, records every request, and can be told per operation, service,
// plan, instance or binding to misbehave: fail with a status, fail N times,
// go asynchronous, hang, send Retry-After or a malformed body.
//
// It is written directly on net/http rather than on a broker library
// because a library would not let it break the protocol on purpose.
package testbroker
