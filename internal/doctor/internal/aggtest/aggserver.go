package aggtest

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"slices"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// The aggregated API the server offers.
const (
	Group   = "demo.svcat.io"
	Version = "v1alpha1"
)

// Request is one request the aggregated server answered.
type Request struct {
	Path   string
	CN     string
	User   string
	Status int
	// Reason is why authentication failed, as the request-header
	// authenticator would say it.
	Reason string
}

// AggServer is a minimal aggregated API server. Like servers built on
// k8s.io/apiserver it trusts the front proxy through
// kube-system/extension-apiserver-authentication, read on every request so
// that a restarted kube-apiserver's new allowed names apply at once: a
// client certificate must chain to requestheader-client-ca-file for client
// auth and its CN must be one of requestheader-allowed-names (any, when the
// list is empty); only then are the user headers believed. Anything else is
// 401.
type AggServer struct {
	// Addr is host:port.
	Addr string
	// CA signs the serving certificate: the APIService's caBundle.
	CA *CA

	kube kubernetes.Interface
	srv  *http.Server

	mu       sync.Mutex
	requests []Request
}

// StartAggServer listens on 127.0.0.1 with a serving certificate for
// serviceHost (name.namespace.svc, what the kube-apiserver verifies) and
// reads the front-proxy configuration with cfg.
func StartAggServer(cfg *rest.Config, serviceHost string) (*AggServer, error) {
	ca, err := NewCA("svcat-doctor-test-aggregated-ca")
	if err != nil {
		return nil, err
	}
	serving, err := ca.ServingCert(serviceHost, []string{serviceHost, "localhost"}, []net.IP{net.IPv4(127, 0, 0, 1)})
	if err != nil {
		return nil, err
	}
	pair, err := tls.X509KeyPair(serving.CertPEM, serving.KeyPEM)
	if err != nil {
		return nil, err
	}
	kube, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &AggServer{Addr: l.Addr().String(), CA: ca, kube: kube}
	s.srv = &http.Server{
		Handler:           s,
		ReadHeaderTimeout: 10 * time.Second,
		// The kube-apiserver drops connections when it restarts; the
		// handshake errors that causes are expected.
		ErrorLog: log.New(io.Discard, "", 0),
		// The client certificate is requested but verified per request
		// against the CA of the moment, as the configuration can change.
		TLSConfig: &tls.Config{Certificates: []tls.Certificate{pair}, ClientAuth: tls.RequestClientCert},
	}
	go func() { _ = s.srv.ServeTLS(l, "", "") }()
	return s, nil
}

// Port is the listening port.
func (s *AggServer) Port() int32 {
	_, p, _ := net.SplitHostPort(s.Addr)
	var n int32
	fmt.Sscan(p, &n)
	return n
}

// Stop closes the server.
func (s *AggServer) Stop() { _ = s.srv.Close() }

// Requests returns what the server answered so far.
func (s *AggServer) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests)
}

func (s *AggServer) record(r Request) {
	s.mu.Lock()
	s.requests = append(s.requests, r)
	s.mu.Unlock()
}

// frontProxy is the published front-proxy configuration.
type frontProxy struct {
	roots        *x509.CertPool
	allowedNames []string
	userHeaders  []string
}

func (s *AggServer) loadFrontProxy(ctx context.Context) (*frontProxy, error) {
	cm, err := s.kube.CoreV1().ConfigMaps("kube-system").Get(ctx, "extension-apiserver-authentication", metav1.GetOptions{})
	if err != nil {
		return nil, err
	}
	return parseFrontProxy(cm)
}

func parseFrontProxy(cm *corev1.ConfigMap) (*frontProxy, error) {
	ca := cm.Data["requestheader-client-ca-file"]
	if ca == "" {
		return nil, errors.New("no requestheader-client-ca-file")
	}
	fp := &frontProxy{roots: x509.NewCertPool()}
	if !fp.roots.AppendCertsFromPEM([]byte(ca)) {
		return nil, errors.New("requestheader-client-ca-file holds no certificate")
	}
	for key, dst := range map[string]*[]string{
		"requestheader-allowed-names":    &fp.allowedNames,
		"requestheader-username-headers": &fp.userHeaders,
	} {
		if v := cm.Data[key]; v != "" {
			if err := json.Unmarshal([]byte(v), dst); err != nil {
				return nil, fmt.Errorf("%s: %w", key, err)
			}
		}
	}
	return fp, nil
}

// authenticate returns the proxied user, or why the proxy is not trusted.
func (fp *frontProxy) authenticate(r *http.Request) (cn, user string, err error) {
	if r.TLS == nil || len(r.TLS.PeerCertificates) == 0 {
		return "", "", errors.New("no client certificate")
	}
	leaf := r.TLS.PeerCertificates[0]
	cn = leaf.Subject.CommonName
	inter := x509.NewCertPool()
	for _, c := range r.TLS.PeerCertificates[1:] {
		inter.AddCert(c)
	}
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: fp.roots, Intermediates: inter,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		return cn, "", fmt.Errorf("verifying the client certificate: %w", err)
	}
	if len(fp.allowedNames) > 0 && !slices.Contains(fp.allowedNames, cn) {
		return cn, "", fmt.Errorf("x509: subject with cn=%s is not in the allowed list", cn)
	}
	for _, h := range fp.userHeaders {
		if u := r.Header.Get(h); u != "" {
			return cn, u, nil
		}
	}
	return cn, "", errors.New("no user in the request headers")
}

func (s *AggServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rec := Request{Path: r.URL.Path}
	defer func() { s.record(rec) }()
	fp, err := s.loadFrontProxy(r.Context())
	if err != nil {
		rec.Status, rec.Reason = http.StatusInternalServerError, err.Error()
		writeStatus(w, rec.Status, "InternalError", "reading the front-proxy configuration: "+err.Error())
		return
	}
	rec.CN, rec.User, err = fp.authenticate(r)
	if err != nil {
		rec.Status, rec.Reason = http.StatusUnauthorized, err.Error()
		writeStatus(w, rec.Status, "Unauthorized", "Unauthorized")
		return
	}
	gv := Group + "/" + Version
	var body any
	switch r.URL.Path {
	case "/apis":
		body = metav1.APIGroupList{TypeMeta: metav1.TypeMeta{Kind: "APIGroupList", APIVersion: "v1"}, Groups: []metav1.APIGroup{apiGroup()}}
	case "/apis/" + Group:
		g := apiGroup()
		g.TypeMeta = metav1.TypeMeta{Kind: "APIGroup", APIVersion: "v1"}
		body = g
	case "/apis/" + gv:
		body = metav1.APIResourceList{TypeMeta: metav1.TypeMeta{Kind: "APIResourceList", APIVersion: "v1"}, GroupVersion: gv,
			APIResources: []metav1.APIResource{{Name: "pings", Kind: "Ping", Verbs: metav1.Verbs{"list"}}}}
	case "/apis/" + gv + "/pings":
		body = map[string]any{"kind": "PingList", "apiVersion": gv, "metadata": map[string]any{}, "items": []any{}}
	default:
		rec.Status = http.StatusNotFound
		writeStatus(w, rec.Status, "NotFound", "the server could not find the requested resource")
		return
	}
	rec.Status = http.StatusOK
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(body)
}

func apiGroup() metav1.APIGroup {
	v := metav1.GroupVersionForDiscovery{GroupVersion: Group + "/" + Version, Version: Version}
	return metav1.APIGroup{Name: Group, Versions: []metav1.GroupVersionForDiscovery{v}, PreferredVersion: v}
}

func writeStatus(w http.ResponseWriter, code int, reason, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(metav1.Status{TypeMeta: metav1.TypeMeta{Kind: "Status", APIVersion: "v1"},
		Status: metav1.StatusFailure, Code: int32(code), Reason: metav1.StatusReason(reason), Message: msg})
}
