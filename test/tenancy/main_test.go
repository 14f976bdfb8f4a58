// Package tenancy is the tenant-security suite (issue 14, docs/security.md):
// attacks a namespace-scoped tenant can make, tried as that tenant would,
// against the real system. A real kube-apiserver with RBAC, tenant users
// with rights in their own namespace only, the catalog-controller as a
// separate process authenticated by its own ServiceAccount's token and bound
// to exactly the RBAC the kustomize tree ships, hostile brokers written for
// the tests (real HTTP servers on 127.0.0.1) and the real kafka-broker with
// an embedded Kafka.
//
// Each test asserts what a tenant or an operator would see: conditions,
// API errors, Secrets, the headers a broker received, the controller's
// /metrics and its peak RSS. make test runs it at a small size; these
// variables make it bigger:
//
//	SVCAT_TENANT_CATALOG_MIB=4     size of each hostile catalog
//	SVCAT_TENANT_HOSTILE_BROKERS=6 brokers serving hostile catalogs
//	SVCAT_TENANT_HANGING_INSTANCES=20, SVCAT_TENANT_HANGING_BROKERS=10
//	SVCAT_TENANT_ODD_CODES=12      distinct status codes of the metrics test
//
// SVCAT_TENANT_KEEP_LOGS keeps the controller's log file even when a test
// passes (it is always kept when one fails).
package tenancy

import (
	"net"
	"testing"

	"github.com/go-logr/logr"
	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/svcat-io/svcat/internal/localcluster"
)

func TestMain(m *testing.M) {
	// The suite's own clients log nothing worth reading; the controller's
	// log is its process's.
	ctrl.SetLogger(logr.Discard())
	localcluster.MainWith(m, localcluster.Options{APIServerArgs: apiServerArgs()})
}

// apiServerArgs make the API server listen on every address, as a
// cluster's does, so every loopback and unspecified address in any notation
// reaches it, not only the one in the controller's kubeconfig. It is not
// advertised on this machine's own address: tests send nothing there (the
// EndpointSlice rule of the broker URL policy is checked without dialing by
// internal/controller's TestBrokerURLRefusesAPIServerEndpointSlices).
func apiServerArgs() map[string]string {
	bind := "0.0.0.0"
	if ln, err := net.Listen("tcp", "[::1]:0"); err == nil {
		ln.Close()
		bind = "::"
	}
	// Left unset, the advertised address would be taken from this machine's
	// default route and published in the kubernetes Service's EndpointSlice;
	// loopback cannot be published, so nothing is.
	return map[string]string{"bind-address": bind, "advertise-address": "127.0.0.1", "endpoint-reconciler-type": "none"}
}
