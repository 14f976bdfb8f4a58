package doctor

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	scv1beta1 "github.com/svcat-io/svcat/api/v1beta1"
)

// Defaults for where the catalog controller runs.
const (
	DefaultControllerNamespace = "svcat-system"
	DefaultLeaseName           = "svcat-catalog-controller"
	DefaultDeploymentName      = "svcat-catalog-controller"
)

// GatherOptions say where to look.
type GatherOptions struct {
	ControllerNamespace string
	LeaseName           string
	DeploymentName      string
	// ProxyCertPath is the kube-apiserver's front-proxy client
	// certificate, readable on a control-plane node; empty skips it.
	ProxyCertPath string
	// Checks limits gathering to what these checks need; none means all.
	Checks []string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

func (o GatherOptions) wants(check string) bool {
	return len(o.Checks) == 0 || slices.Contains(o.Checks, check)
}

// apiServiceListGVK is read as unstructured: svcat does not depend on the
// kube-aggregator's types for the few fields doctor reads.
var apiServiceListGVK = schema.GroupVersionKind{Group: "apiregistration.k8s.io", Version: "v1", Kind: "APIServiceList"}

// Gatherer reads evidence from a cluster.
type Gatherer struct {
	c    client.Client
	disc discovery.DiscoveryInterface
}

// NewGatherer connects to the cluster cfg names.
func NewGatherer(cfg *rest.Config) (*Gatherer, error) {
	if cfg.Timeout == 0 {
		// An unreachable API server should fail doctor in seconds, not
		// after the operating system's connect timeout.
		cfg = rest.CopyConfig(cfg)
		cfg.Timeout = 20 * time.Second
	}
	scheme := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{clientgoscheme.AddToScheme, apiextensionsv1.AddToScheme, scv1beta1.AddToScheme} {
		if err := add(scheme); err != nil {
			return nil, err
		}
	}
	c, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		return nil, fmt.Errorf("connecting to the cluster: %w", err)
	}
	disc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("connecting to the cluster: %w", err)
	}
	return &Gatherer{c: c, disc: disc}, nil
}

// Gather reads everything the chosen checks need. Errors reading one part
// are recorded in the evidence, so one missing permission does not hide the
// rest; Gather itself fails only when the API server cannot be reached.
func (g *Gatherer) Gather(ctx context.Context, o GatherOptions) (*Evidence, error) {
	// One cheap request first: an unreachable or misconfigured cluster is
	// one clear error instead of one per check.
	if _, err := g.disc.ServerVersion(); err != nil {
		return nil, fmt.Errorf("cannot reach the Kubernetes API server: %w", err)
	}
	now := time.Now
	if o.Now != nil {
		now = o.Now
	}
	ev := &Evidence{}
	if o.wants(CheckCRDs) || o.wants(CheckBrokers) || o.wants(CheckOperations) {
		ev.CRDs = g.crds(ctx)
	}
	if o.wants(CheckController) {
		ev.Controller = g.controller(ctx, o)
	}
	if o.wants(CheckBrokers) {
		ev.Brokers = g.brokers(ctx)
	}
	if o.wants(CheckOperations) {
		ev.Operations = g.operations(ctx)
	}
	if o.wants(CheckAggregation) {
		ev.Aggregation = g.aggregation(ctx, o.ProxyCertPath)
	}
	// Read the clock last: ages computed from it are never negative.
	ev.Now = now()
	return ev, nil
}

func (g *Gatherer) crds(ctx context.Context) CRDEvidence {
	ev := CRDEvidence{Found: map[string]CRD{}}
	for _, name := range ExpectedCRDs {
		var crd apiextensionsv1.CustomResourceDefinition
		err := g.c.Get(ctx, client.ObjectKey{Name: name}, &crd)
		switch {
		case apierrors.IsNotFound(err):
			continue
		case apierrors.IsForbidden(err):
			return g.crdsFromDiscovery(err)
		case err != nil:
			ev.Err = err
			return ev
		}
		c := CRD{Name: name}
		for _, cond := range crd.Status.Conditions {
			ok := cond.Status == apiextensionsv1.ConditionTrue
			switch cond.Type {
			case apiextensionsv1.Established:
				c.Established = ok
			case apiextensionsv1.NamesAccepted:
				c.NamesAccepted = ok
			default:
				continue
			}
			if !ok && cond.Message != "" {
				c.Message = string(cond.Type) + ": " + cond.Message
			}
		}
		for _, v := range crd.Spec.Versions {
			if v.Served {
				c.Served = append(c.Served, v.Name)
			}
			if v.Storage {
				c.Storage = v.Name
			}
		}
		ev.Found[name] = c
	}
	return ev
}

// crdsFromDiscovery stands in for reading the CRDs when the user may not:
// a resource the API server lists in discovery is installed and served.
func (g *Gatherer) crdsFromDiscovery(forbidden error) CRDEvidence {
	ev := CRDEvidence{Found: map[string]CRD{}, ViaDiscovery: true}
	list, err := g.disc.ServerResourcesForGroupVersion(scv1beta1.GroupVersion.String())
	switch {
	case apierrors.IsNotFound(err):
		return ev
	case err != nil:
		ev.Err = errors.Join(forbidden, err)
		return ev
	}
	for _, r := range list.APIResources {
		if strings.Contains(r.Name, "/") {
			// A subresource such as serviceinstances/status.
			continue
		}
		name := r.Name + "." + scv1beta1.GroupVersion.Group
		ev.Found[name] = CRD{Name: name, Established: true, NamesAccepted: true,
			Served: []string{scv1beta1.GroupVersion.Version}, Storage: scv1beta1.GroupVersion.Version}
	}
	return ev
}

func (g *Gatherer) controller(ctx context.Context, o GatherOptions) ControllerEvidence {
	ev := ControllerEvidence{Namespace: o.ControllerNamespace, LeaseName: o.LeaseName, DeploymentName: o.DeploymentName}
	var lease coordinationv1.Lease
	switch err := g.c.Get(ctx, client.ObjectKey{Namespace: o.ControllerNamespace, Name: o.LeaseName}, &lease); {
	case apierrors.IsNotFound(err):
	case err != nil:
		ev.LeaseErr = err
	default:
		l := &Lease{}
		if lease.Spec.HolderIdentity != nil {
			l.Holder = *lease.Spec.HolderIdentity
		}
		if lease.Spec.RenewTime != nil {
			l.RenewTime = lease.Spec.RenewTime.Time
		} else if lease.Spec.AcquireTime != nil {
			l.RenewTime = lease.Spec.AcquireTime.Time
		}
		if lease.Spec.LeaseDurationSeconds != nil {
			l.Duration = time.Duration(*lease.Spec.LeaseDurationSeconds) * time.Second
		}
		ev.Lease = l
	}
	var d appsv1.Deployment
	switch err := g.c.Get(ctx, client.ObjectKey{Namespace: o.ControllerNamespace, Name: o.DeploymentName}, &d); {
	case apierrors.IsNotFound(err):
	case err != nil:
		ev.DeploymentErr = err
	default:
		dd := &Deployment{Ready: d.Status.ReadyReplicas, Available: d.Status.AvailableReplicas, Updated: d.Status.UpdatedReplicas, Replicas: 1}
		if d.Spec.Replicas != nil {
			dd.Replicas = *d.Spec.Replicas
		}
		for _, c := range d.Status.Conditions {
			if c.Status != corev1.ConditionTrue && c.Message != "" {
				dd.Message = c.Message
			}
		}
		ev.Deployment = dd
	}
	return ev
}

func brokerConditions(conds []scv1beta1.ServiceBrokerCondition) (ready, failed *Condition) {
	for _, c := range conds {
		cc := &Condition{Status: string(c.Status), Reason: c.Reason, Message: c.Message, Since: c.LastTransitionTime.Time}
		switch c.Type {
		case scv1beta1.ServiceBrokerConditionReady:
			ready = cc
		case scv1beta1.ServiceBrokerConditionFailed:
			failed = cc
		}
	}
	return ready, failed
}

func (g *Gatherer) brokers(ctx context.Context) BrokerEvidence {
	var ev BrokerEvidence
	var cluster scv1beta1.ClusterServiceBrokerList
	if err := g.c.List(ctx, &cluster); err != nil {
		ev.Err = err
		return ev
	}
	for _, b := range cluster.Items {
		r, f := brokerConditions(b.Status.Conditions)
		ev.Items = append(ev.Items, Broker{Kind: "ClusterServiceBroker", Name: b.Name, URL: b.Spec.URL, Ready: r, Failed: f,
			Generation: b.Generation, ReconciledGeneration: b.Status.ReconciledGeneration})
	}
	var ns scv1beta1.ServiceBrokerList
	if err := g.c.List(ctx, &ns); err != nil {
		ev.Err = err
		return ev
	}
	for _, b := range ns.Items {
		r, f := brokerConditions(b.Status.Conditions)
		ev.Items = append(ev.Items, Broker{Kind: "ServiceBroker", Namespace: b.Namespace, Name: b.Name, URL: b.Spec.URL, Ready: r, Failed: f,
			Generation: b.Generation, ReconciledGeneration: b.Status.ReconciledGeneration})
	}
	return ev
}

func timeOf(t *metav1.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.Time
}

func (g *Gatherer) operations(ctx context.Context) OperationEvidence {
	var ev OperationEvidence
	var instances scv1beta1.ServiceInstanceList
	if err := g.c.List(ctx, &instances); err != nil {
		ev.Err = err
		return ev
	}
	for _, in := range instances.Items {
		s := in.Status
		if !s.AsyncOpInProgress && s.CurrentOperation == "" {
			continue
		}
		op := Operation{Kind: "ServiceInstance", Namespace: in.Namespace, Name: in.Name, Operation: string(s.CurrentOperation),
			Async: s.AsyncOpInProgress, Since: timeOf(s.OperationStartTime)}
		for _, c := range s.Conditions {
			if c.Type == scv1beta1.ServiceInstanceConditionReady {
				op.Ready = &Condition{Status: string(c.Status), Reason: c.Reason, Message: c.Message, Since: c.LastTransitionTime.Time}
			}
		}
		ev.Items = append(ev.Items, op)
	}
	var bindings scv1beta1.ServiceBindingList
	if err := g.c.List(ctx, &bindings); err != nil {
		ev.Err = err
		return ev
	}
	for _, b := range bindings.Items {
		s := b.Status
		if !s.AsyncOpInProgress && s.CurrentOperation == "" {
			continue
		}
		op := Operation{Kind: "ServiceBinding", Namespace: b.Namespace, Name: b.Name, Operation: string(s.CurrentOperation),
			Async: s.AsyncOpInProgress, Since: timeOf(s.OperationStartTime)}
		for _, c := range s.Conditions {
			if c.Type == scv1beta1.ServiceBindingConditionReady {
				op.Ready = &Condition{Status: string(c.Status), Reason: c.Reason, Message: c.Message, Since: c.LastTransitionTime.Time}
			}
		}
		ev.Items = append(ev.Items, op)
	}
	return ev
}

// The ConfigMap in which the kube-apiserver publishes, for aggregated API
// servers, which client certificates and headers to trust.
const (
	authNamespace = "kube-system"
	authConfigMap = "extension-apiserver-authentication"
)

func (g *Gatherer) aggregation(ctx context.Context, proxyCert string) AggregationEvidence {
	var ev AggregationEvidence
	var cm corev1.ConfigMap
	switch err := g.c.Get(ctx, client.ObjectKey{Namespace: authNamespace, Name: authConfigMap}, &cm); {
	case apierrors.IsNotFound(err):
	case err != nil:
		ev.AuthErr = err
	default:
		ev.AuthFound = true
		ev.RequestHeader = ParseRequestHeader(cm.Data)
	}

	var list unstructured.UnstructuredList
	list.SetGroupVersionKind(apiServiceListGVK)
	if err := g.c.List(ctx, &list); err != nil {
		ev.APIServicesErr = err
	} else {
		for _, u := range list.Items {
			s, err := apiServiceFrom(u.Object)
			if err != nil {
				ev.APIServicesErr = err
				break
			}
			ev.APIServices = append(ev.APIServices, s)
		}
	}

	if proxyCert != "" {
		ev.ProxyCertPath = proxyCert
		ev.ProxyCert, ev.ProxyCertErr = ReadCertificate(proxyCert)
	}
	return ev
}

// ParseRequestHeader reads the requestheader-* keys of
// extension-apiserver-authentication. The lists are JSON arrays, the CA a
// PEM bundle.
func ParseRequestHeader(data map[string]string) RequestHeader {
	var rh RequestHeader
	caPEM, ok := data["requestheader-client-ca-file"]
	if !ok {
		return rh
	}
	rh.Present = true
	rh.ClientCA, rh.ClientCAErr = parseCertificates([]byte(caPEM))
	list := func(key string) []string {
		var out []string
		if s := data[key]; s != "" {
			// A value that is not a JSON list is shown as it is rather
			// than dropped: it is evidence.
			if err := json.Unmarshal([]byte(s), &out); err != nil {
				return []string{s}
			}
		}
		return out
	}
	rh.AllowedNames = list("requestheader-allowed-names")
	rh.UsernameHeaders = list("requestheader-username-headers")
	rh.GroupHeaders = list("requestheader-group-headers")
	rh.ExtraPrefixes = list("requestheader-extra-headers-prefix")
	return rh
}

// apiServiceObject is the part of an APIService doctor reads.
type apiServiceObject struct {
	Metadata struct {
		Name string `json:"name"`
	} `json:"metadata"`
	Spec struct {
		Group   string `json:"group"`
		Version string `json:"version"`
		Service *struct {
			Namespace string `json:"namespace"`
			Name      string `json:"name"`
			Port      *int32 `json:"port"`
		} `json:"service"`
	} `json:"spec"`
	Status struct {
		Conditions []struct {
			Type               string      `json:"type"`
			Status             string      `json:"status"`
			Reason             string      `json:"reason"`
			Message            string      `json:"message"`
			LastTransitionTime metav1.Time `json:"lastTransitionTime"`
		} `json:"conditions"`
	} `json:"status"`
}

func apiServiceFrom(obj map[string]any) (APIService, error) {
	var o apiServiceObject
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(obj, &o); err != nil {
		return APIService{}, fmt.Errorf("reading an APIService: %w", err)
	}
	s := APIService{Name: o.Metadata.Name, Group: o.Spec.Group, Version: o.Spec.Version}
	if sv := o.Spec.Service; sv != nil {
		// The API defaults the port to 443.
		port := int32(443)
		if sv.Port != nil {
			port = *sv.Port
		}
		s.Service = &ServiceRef{Namespace: sv.Namespace, Name: sv.Name, Port: port}
	}
	for _, c := range o.Status.Conditions {
		if c.Type == "Available" {
			s.Available = &Condition{Status: c.Status, Reason: c.Reason, Message: c.Message, Since: c.LastTransitionTime.Time}
		}
	}
	return s, nil
}

// ReadCertificate reads the first certificate of a PEM file.
func ReadCertificate(path string) (*x509.Certificate, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	certs, err := parseCertificates(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return certs[0], nil
}

func parseCertificates(data []byte) ([]*x509.Certificate, error) {
	var out []*x509.Certificate
	for {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	if len(out) == 0 {
		return nil, errors.New("no PEM certificate found")
	}
	return out, nil
}
