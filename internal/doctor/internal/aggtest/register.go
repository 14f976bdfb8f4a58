package aggtest

import (
	"context"
	"encoding/base64"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// Where the aggregated API is registered.
const (
	Namespace   = "svcat-doctor-demo"
	ServiceName = "demo-apiserver"
	APIService  = Version + "." + Group
)

// ServiceHost is the name the kube-apiserver expects in the aggregated
// server's certificate.
const ServiceHost = ServiceName + "." + Namespace + ".svc"

// APIServiceGVR is apiregistration.k8s.io/v1 apiservices.
var APIServiceGVR = schema.GroupVersionResource{Group: "apiregistration.k8s.io", Version: "v1", Resource: "apiservices"}

// Register points an APIService at the aggregated server through a
// Service. The kube-apiserver resolves an APIService's Service to its
// cluster IP (with --enable-aggregator-routing=false, the default) or to an
// EndpointSlice address (with true); neither can be 127.0.0.1, which the
// API refuses for endpoints and no service CIDR contains. An ExternalName
// Service is resolved to its name, and the name may be "localhost"; the
// port is the APIService's.
func Register(ctx context.Context, cfg *rest.Config, s *AggServer) error {
	kube, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return err
	}
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: Namespace}}
	if _, err := kube.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("creating namespace: %w", err)
	}
	if err := CreateLocalService(ctx, cfg, ServiceName); err != nil {
		return err
	}
	return CreateAPIService(ctx, cfg, Group, ServiceName, s.Port(), s.CA.PEM)
}

// CreateLocalService creates an ExternalName Service named name in
// Namespace that the kube-apiserver dials as localhost.
func CreateLocalService(ctx context.Context, cfg *rest.Config, name string) error {
	kube, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return err
	}
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: Namespace, Name: name},
		Spec:       corev1.ServiceSpec{Type: corev1.ServiceTypeExternalName, ExternalName: "localhost"},
	}
	if _, err := kube.CoreV1().Services(Namespace).Create(ctx, svc, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("creating service: %w", err)
	}
	return nil
}

// CreateAPIService registers Version of group at service (in Namespace)
// and port, trusting caPEM for the backend's serving certificate.
func CreateAPIService(ctx context.Context, cfg *rest.Config, group, service string, port int32, caPEM []byte) error {
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return err
	}
	apiSvc := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "apiregistration.k8s.io/v1",
		"kind":       "APIService",
		"metadata":   map[string]any{"name": Version + "." + group},
		"spec": map[string]any{
			"group":                group,
			"version":              Version,
			"groupPriorityMinimum": int64(1000),
			"versionPriority":      int64(15),
			"service":              map[string]any{"namespace": Namespace, "name": service, "port": int64(port)},
			"caBundle":             base64.StdEncoding.EncodeToString(caPEM),
		},
	}}
	if _, err := dyn.Resource(APIServiceGVR).Create(ctx, apiSvc, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("creating APIService: %w", err)
	}
	return nil
}

// DeleteAPIService removes an APIService by name.
func DeleteAPIService(ctx context.Context, cfg *rest.Config, name string) error {
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return err
	}
	return dyn.Resource(APIServiceGVR).Delete(ctx, name, metav1.DeleteOptions{})
}

// Available returns an APIService's Available condition status and
// message.
func Available(ctx context.Context, cfg *rest.Config, name string) (status, message string, err error) {
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return "", "", err
	}
	u, err := dyn.Resource(APIServiceGVR).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return "", "", err
	}
	conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
	for _, c := range conds {
		m, _ := c.(map[string]any)
		if m["type"] == "Available" {
			status, _ = m["status"].(string)
			message, _ = m["message"].(string)
			return status, message, nil
		}
	}
	return "", "", nil
}
