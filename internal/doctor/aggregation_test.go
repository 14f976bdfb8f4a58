package doctor

import (
	"crypto/x509"
	"errors"
	"testing"
	"time"

	"github.com/svcat-io/svcat/internal/doctor/internal/aggtest"
)

func TestClassifyAvailable(t *testing.T) {
	// Messages as the kube-aggregator's availability controller writes
	// them (k8s.io/kube-aggregator v0.37, remote_available_controller.go).
	const url = "https://10.0.0.12:443/apis/metrics.k8s.io/v1beta1"
	for _, tc := range []struct {
		reason, message string
		cause           string
		status          int
	}{
		{"FailedDiscoveryCheck", "failing or missing response from " + url + ": bad status from " + url + ": 401", CauseUnauthorized, 401},
		{"FailedDiscoveryCheck", "failing or missing response from " + url + ": bad status from " + url + ": 403", CauseForbidden, 403},
		{"FailedDiscoveryCheck", "failing or missing response from " + url + ": bad status from " + url + ": 503", CauseBackendError, 503},
		{"FailedDiscoveryCheck", "failing or missing response from " + url + `: Get "` + url + `": dial tcp 10.0.0.12:443: connect: connection refused`, CauseConnectionRefused, 0},
		{"FailedDiscoveryCheck", "failing or missing response from " + url + `: Get "` + url + `": tls: failed to verify certificate: x509: certificate signed by unknown authority`, CauseTLS, 0},
		{"FailedDiscoveryCheck", "failing or missing response from " + url + `: Get "` + url + `": context deadline exceeded (Client.Timeout exceeded while awaiting headers)`, CauseTimeout, 0},
		{"FailedDiscoveryCheck", "timed out waiting for " + url, CauseTimeout, 0},
		{"FailedDiscoveryCheck", "failing or missing response from " + url + `: Get "` + url + `": dial tcp: lookup metrics.example on 10.0.0.10:53: no such host`, CauseDNS, 0},
		{"ServiceNotFound", `service/metrics-server in "kube-system" is not present`, CauseServiceNotFound, 0},
		{"MissingEndpoints", `endpointslices for service/metrics-server in "kube-system" have no addresses with port name "https"`, CauseNoEndpoints, 0},
		{"EndpointsNotFound", `cannot find endpointslices for service/metrics-server in "kube-system"`, CauseNoEndpoints, 0},
		{"ServicePortError", `service/metrics-server in "kube-system" is not listening on port 443`, CauseNoEndpoints, 0},
		{"FailedDiscoveryCheck", "something new", CauseUnknown, 0},
	} {
		cause, status := ClassifyAvailable(&Condition{Status: "False", Reason: tc.reason, Message: tc.message})
		if cause != tc.cause || status != tc.status {
			t.Errorf("%s %q: got %s %d, want %s %d", tc.reason, tc.message, cause, status, tc.cause, tc.status)
		}
	}
	if c, _ := ClassifyAvailable(nil); c != CauseUnknown {
		t.Errorf("nil condition: %s", c)
	}
}

// pki is a front-proxy CA with a client certificate of CN FrontProxyCN,
// valid on fixed dates so that reports can be golden.
type pki struct {
	ca, other *aggtest.CA
	proxy     *x509.Certificate
	foreign   *x509.Certificate
}

func newPKI(t *testing.T) pki {
	t.Helper()
	from, to := t0.Add(-24*time.Hour), t0.Add(365*24*time.Hour)
	ca, err := aggtest.NewCAValid("front-proxy-ca", from, to)
	if err != nil {
		t.Fatal(err)
	}
	other, err := aggtest.NewCAValid("kubernetes-ca", from, to)
	if err != nil {
		t.Fatal(err)
	}
	proxy, err := ca.ClientCert(aggtest.FrontProxyCN)
	if err != nil {
		t.Fatal(err)
	}
	foreign, err := other.ClientCert("aggregator")
	if err != nil {
		t.Fatal(err)
	}
	return pki{ca: ca, other: other, proxy: proxy.Cert, foreign: foreign.Cert}
}

const metricsAPI = "v1beta1.metrics.k8s.io"

func pksEvidence(p pki) AggregationEvidence {
	return AggregationEvidence{
		AuthFound: true,
		RequestHeader: RequestHeader{Present: true, AllowedNames: []string{"aggregator"},
			UsernameHeaders: []string{"X-Remote-User"}, GroupHeaders: []string{"X-Remote-Group"}, ExtraPrefixes: []string{"X-Remote-Extra-"},
			ClientCA: []*x509.Certificate{p.ca.Cert}},
		APIServices: []APIService{
			{Name: "v1.apps", Group: "apps", Version: "v1"},
			{Name: metricsAPI, Group: "metrics.k8s.io", Version: "v1beta1",
				Service: &ServiceRef{Namespace: "kube-system", Name: "metrics-server", Port: 443},
				Available: &Condition{Status: "False", Reason: "FailedDiscoveryCheck",
					Message: "failing or missing response from https://10.100.200.7:443/apis/metrics.k8s.io/v1beta1: bad status from https://10.100.200.7:443/apis/metrics.k8s.io/v1beta1: 401"}},
		},
	}
}

func TestCheckAggregation(t *testing.T) {
	p := newPKI(t)
	with := func(mod func(*AggregationEvidence)) AggregationEvidence {
		ev := pksEvidence(p)
		mod(&ev)
		return ev
	}
	healthy := func(e *AggregationEvidence) {
		e.APIServices[1].Available = &Condition{Status: "True", Reason: "Passed"}
	}
	for _, tc := range []struct {
		name     string
		ev       AggregationEvidence
		want     []want
		mismatch *Mismatch
	}{
		{"PKS: 401 and the certificate's CN known", with(func(e *AggregationEvidence) { e.ProxyCertPath, e.ProxyCert = "proxy.crt", p.proxy }),
			[]want{
				{severity: OK, text: "requestheader-allowed-names: [aggregator]"},
				{severity: Error, cause: CauseAllowedNamesMismatch, summary: `CN "demo.pks.ik.am" is not in requestheader-allowed-names [aggregator]`},
				{severity: Error, cause: CauseAllowedNamesMismatch, summary: "APIService " + metricsAPI + " is unavailable: its backend rejects"},
			}, &Mismatch{Current: []string{"aggregator"}, CN: aggtest.FrontProxyCN, Rejected: true}},
		{"PKS: 401, CN unknown", pksEvidence(p),
			[]want{{severity: OK}, {severity: Error, cause: CauseUnauthorized, summary: "answered 401", text: "--proxy-client-cert FILE"}},
			&Mismatch{Current: []string{"aggregator"}, Rejected: true}},
		{"403 from a backend that allows anonymous", with(func(e *AggregationEvidence) {
			e.APIServices[1].Available.Message = "failing or missing response from x: bad status from x: 403"
		}), []want{{severity: OK}, {severity: Error, cause: CauseForbidden, summary: "answers 403 instead of 401"}},
			&Mismatch{Current: []string{"aggregator"}, Rejected: true}},
		{"CN mismatch before any APIService fails", with(func(e *AggregationEvidence) {
			healthy(e)
			e.ProxyCertPath, e.ProxyCert = "proxy.crt", p.proxy
		}), []want{{severity: OK}, {severity: Error, cause: CauseAllowedNamesMismatch}, {severity: OK, summary: "1 aggregated APIService, all Available (1 more served"}},
			&Mismatch{Current: []string{"aggregator"}, CN: aggtest.FrontProxyCN}},
		{"certificate from the wrong CA", with(func(e *AggregationEvidence) { e.ProxyCertPath, e.ProxyCert = "proxy.crt", p.foreign }),
			[]want{{severity: OK}, {severity: Error, cause: "ProxyCertUntrusted", text: "not the cluster CA"}, {severity: Error, cause: CauseUnauthorized}},
			&Mismatch{Current: []string{"aggregator"}, Rejected: true}},
		{"certificate allowed and trusted", with(func(e *AggregationEvidence) {
			healthy(e)
			e.RequestHeader.AllowedNames = []string{"aggregator", aggtest.FrontProxyCN}
			e.ProxyCertPath, e.ProxyCert = "proxy.crt", p.proxy
		}), []want{{severity: OK}, {severity: OK, summary: "is allowed and its chain verifies"}, {severity: OK}}, nil},
		{"expired certificate", with(func(e *AggregationEvidence) {
			healthy(e)
			e.RequestHeader.AllowedNames = nil
			e.ProxyCertPath, e.ProxyCert = "proxy.crt", &x509.Certificate{NotAfter: t0.Add(-time.Hour)}
		}), []want{{severity: OK, text: "any certificate the CA signed is accepted"}, {severity: Error, cause: "ProxyCertExpired"}, {severity: OK}}, nil},
		{"unreadable certificate", with(func(e *AggregationEvidence) { healthy(e); e.ProxyCertPath, e.ProxyCertErr = "proxy.crt", errNoFile }),
			[]want{{severity: OK}, {severity: Warning, cause: "CannotRead"}, {severity: OK}}, nil},
		{"empty allowed names and 401", with(func(e *AggregationEvidence) { e.RequestHeader.AllowedNames = nil }),
			[]want{{severity: OK}, {severity: Error, cause: CauseUnauthorized, text: "system:auth-delegator"}},
			&Mismatch{Rejected: true}},
		{"no front-proxy configuration", with(func(e *AggregationEvidence) { e.RequestHeader = RequestHeader{} }),
			[]want{{severity: Error, cause: "NoRequestHeaderConfig", text: "--requestheader-client-ca-file"}, {severity: Error, cause: CauseUnauthorized, text: "could not read the front-proxy configuration"}}, nil},
		{"configuration unreadable, certificate given", with(func(e *AggregationEvidence) {
			e.AuthErr, e.RequestHeader = forbidden, RequestHeader{}
			e.ProxyCertPath, e.ProxyCert = "proxy.crt", p.proxy
		}), []want{{severity: Warning, cause: "CannotRead"}, {severity: Warning, cause: "NotChecked", summary: `CN is "demo.pks.ik.am"`},
			{severity: Error, cause: CauseUnauthorized, text: "run svcat doctor as a cluster admin"}}, nil},
		{"no front-proxy configuration and nothing aggregated", AggregationEvidence{AuthFound: true, APIServices: []APIService{{Name: "v1."}}},
			[]want{{severity: OK, summary: "no aggregated APIs need it"}, {severity: OK, summary: "0 aggregated APIServices"}}, nil},
		{"missing service", with(func(e *AggregationEvidence) {
			e.APIServices[1].Available = &Condition{Status: "False", Reason: "ServiceNotFound", Message: `service/metrics-server in "kube-system" is not present`}
		}), []want{{severity: OK}, {severity: Error, cause: CauseServiceNotFound, text: "kubectl delete apiservice " + metricsAPI}}, nil},
		{"not checked yet", with(func(e *AggregationEvidence) { e.APIServices[1].Available = nil }),
			[]want{{severity: OK}, {severity: Warning, cause: "NotChecked"}}, nil},
		{"cannot read", AggregationEvidence{AuthErr: forbidden, APIServicesErr: forbidden},
			[]want{{severity: Warning, cause: "CannotRead"}, {severity: Warning, cause: "CannotRead", summary: "APIServices"}}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fs, m := CheckAggregationFindings(tc.ev, t0)
			checkFindings(t, fs, tc.want)
			if (m == nil) != (tc.mismatch == nil) || m != nil && (m.CN != tc.mismatch.CN || m.Rejected != tc.mismatch.Rejected || len(m.Current) != len(tc.mismatch.Current)) {
				t.Errorf("mismatch %+v, want %+v", m, tc.mismatch)
			}
		})
	}
}

var errNoFile = errors.New("open proxy.crt: no such file or directory")
