package doctor

import (
	"crypto/x509"
	"time"
)

// Evidence is what Gather read from the cluster, reduced to what the checks
// need so that tests can write it by hand. An Err field set means that part
// could not be read; a nil pointer with no error means the object does not
// exist.
type Evidence struct {
	Now         time.Time
	CRDs        CRDEvidence
	Controller  ControllerEvidence
	Brokers     BrokerEvidence
	Operations  OperationEvidence
	Aggregation AggregationEvidence
}

// CRDEvidence is the state of svcat's CRDs.
type CRDEvidence struct {
	// Err is why the CRDs could not be read.
	Err error
	// ViaDiscovery is set when the CRD objects were not readable (a user
	// without cluster-wide read access) and Found was built from API
	// discovery instead: served resources count as established.
	ViaDiscovery bool
	// Found holds the CRDs that exist, by name.
	Found map[string]CRD
}

// CRD is one CustomResourceDefinition's state.
type CRD struct {
	Name          string
	Established   bool
	NamesAccepted bool
	// Message explains a condition that is not True.
	Message string
	// Served lists the versions served; Storage is the stored one.
	Served  []string
	Storage string
}

// ControllerEvidence is what shows whether the catalog controller runs.
type ControllerEvidence struct {
	Namespace      string
	LeaseName      string
	DeploymentName string

	Lease    *Lease
	LeaseErr error

	Deployment    *Deployment
	DeploymentErr error
}

// Lease is the controller's leader-election lease.
type Lease struct {
	Holder    string
	RenewTime time.Time
	Duration  time.Duration
}

// Deployment is the controller's Deployment status.
type Deployment struct {
	Replicas  int32
	Ready     int32
	Available int32
	Updated   int32
	// Message is the Progressing or Available condition's message when
	// the rollout is not complete.
	Message string
}

// BrokerEvidence is every broker of both scopes.
type BrokerEvidence struct {
	Err   error
	Items []Broker
}

// Broker is one ClusterServiceBroker or ServiceBroker.
type Broker struct {
	// Kind is ClusterServiceBroker or ServiceBroker.
	Kind      string
	Namespace string
	Name      string
	URL       string
	Ready     *Condition
	Failed    *Condition
	// Generation and ReconciledGeneration tell whether the controller
	// has looked at the latest spec.
	Generation           int64
	ReconciledGeneration int64
}

// Condition is a status condition.
type Condition struct {
	Status  string
	Reason  string
	Message string
	Since   time.Time
}

// OperationEvidence is every instance and binding with an operation in
// progress.
type OperationEvidence struct {
	Err   error
	Items []Operation
}

// Operation is an instance or binding in the middle of an operation.
type Operation struct {
	// Kind is ServiceInstance or ServiceBinding.
	Kind      string
	Namespace string
	Name      string
	// Operation is status.currentOperation, e.g. Provision.
	Operation string
	// Async is status.asyncOpInProgress: the broker is working and the
	// controller polls it.
	Async bool
	// Since is status.operationStartTime.
	Since time.Time
	// Ready is the Ready condition, for its message.
	Ready *Condition
}

// AggregationEvidence is the aggregation layer's configuration and state.
type AggregationEvidence struct {
	// AuthErr is why kube-system/extension-apiserver-authentication could
	// not be read; AuthFound is false when it does not exist.
	AuthErr   error
	AuthFound bool
	// RequestHeader is the front-proxy configuration the kube-apiserver
	// published there for aggregated API servers.
	RequestHeader RequestHeader

	APIServicesErr error
	APIServices    []APIService

	// ProxyCertPath is the front-proxy client certificate file given on
	// the command line (--proxy-client-cert); ProxyCert is its first
	// certificate, ProxyCertErr why it could not be read.
	ProxyCertPath string
	ProxyCert     *x509.Certificate
	ProxyCertErr  error
}

// RequestHeader is the requestheader-* part of
// extension-apiserver-authentication.
type RequestHeader struct {
	// Present is false when the kube-apiserver runs without
	// --requestheader-client-ca-file.
	Present         bool
	AllowedNames    []string
	UsernameHeaders []string
	GroupHeaders    []string
	ExtraPrefixes   []string
	// ClientCA holds the certificates of requestheader-client-ca-file.
	ClientCA []*x509.Certificate
	// ClientCAErr is why requestheader-client-ca-file did not parse.
	ClientCAErr error
}

// APIService is an apiregistration.k8s.io/v1 APIService.
type APIService struct {
	Name    string
	Group   string
	Version string
	// Service is nil for APIServices the kube-apiserver serves itself.
	Service   *ServiceRef
	Available *Condition
}

// ServiceRef is an APIService's backend Service.
type ServiceRef struct {
	Namespace string
	Name      string
	Port      int32
}
