package doctor

import (
	"errors"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

var t0 = time.Date(2026, 11, 22, 6, 0, 0, 0, time.UTC)

// want is what a test expects of one finding.
type want struct {
	severity Severity
	cause    string
	// summary and text are substrings of the summary and of the whole
	// finding (summary, evidence and fix).
	summary string
	text    string
}

func checkFindings(t *testing.T, got []Finding, wants []want) {
	t.Helper()
	if len(got) != len(wants) {
		t.Fatalf("%d findings, want %d: %+v", len(got), len(wants), got)
	}
	for i, w := range wants {
		f := got[i]
		all := f.Summary + "\n" + strings.Join(f.Evidence, "\n") + "\n" + strings.Join(f.Fix, "\n")
		if f.Severity != w.severity || f.Cause != w.cause || !strings.Contains(f.Summary, w.summary) || !strings.Contains(all, w.text) {
			t.Errorf("finding %d: %+v\nwant severity %s cause %q summary ~%q text ~%q", i, f, w.severity, w.cause, w.summary, w.text)
		}
	}
}

func allCRDs(mod func(name string, c *CRD)) map[string]CRD {
	m := map[string]CRD{}
	for _, n := range ExpectedCRDs {
		c := CRD{Name: n, Established: true, NamesAccepted: true, Served: []string{"v1beta1"}, Storage: "v1beta1"}
		if mod != nil {
			mod(n, &c)
		}
		m[n] = c
	}
	return m
}

var forbidden = apierrors.NewForbidden(schema.GroupResource{Resource: "things"}, "", errors.New("no"))

func TestCheckCRDs(t *testing.T) {
	for _, tc := range []struct {
		name string
		ev   CRDEvidence
		want []want
	}{
		{"all established", CRDEvidence{Found: allCRDs(nil)},
			[]want{{severity: OK, summary: "8 svcat CRDs are installed, established and serve servicecatalog.k8s.io/v1beta1"}}},
		{"none", CRDEvidence{Found: map[string]CRD{}},
			[]want{{severity: Error, cause: "CRDsMissing", summary: "svcat's CRDs are not installed", text: "none of the 8 CRDs of servicecatalog.k8s.io exist"}}},
		{"one missing", CRDEvidence{Found: func() map[string]CRD {
			m := allCRDs(nil)
			delete(m, "serviceplans.servicecatalog.k8s.io")
			return m
		}()}, []want{{severity: Error, cause: "CRDsMissing", summary: "1 of 8", text: "missing: serviceplans.servicecatalog.k8s.io"}}},
		{"not established", CRDEvidence{Found: allCRDs(func(n string, c *CRD) {
			if strings.HasPrefix(n, "servicebindings.") {
				c.NamesAccepted, c.Message = false, `NamesAccepted: "sb" is already in use`
			}
		})}, []want{{severity: Error, cause: "CRDsNotEstablished", text: `"sb" is already in use`}}},
		{"older version", CRDEvidence{Found: allCRDs(func(_ string, c *CRD) { c.Served = []string{"v1alpha1"} })},
			[]want{{severity: Error, cause: "CRDsWrongVersion", summary: "8 svcat CRDs do not serve v1beta1", text: "serves v1alpha1"}}},
		{"forbidden", CRDEvidence{Err: forbidden}, []want{{severity: Warning, cause: "CannotRead", text: "run doctor as a user"}}},
		{"via discovery", CRDEvidence{ViaDiscovery: true, Found: allCRDs(nil)}, []want{{severity: OK, text: "through API discovery"}}},
	} {
		t.Run(tc.name, func(t *testing.T) { checkFindings(t, CheckCRDsFindings(tc.ev), tc.want) })
	}
}

func TestCheckController(t *testing.T) {
	base := ControllerEvidence{Namespace: "svcat-system", LeaseName: "svcat-catalog-controller", DeploymentName: "svcat-catalog-controller"}
	with := func(mod func(*ControllerEvidence)) ControllerEvidence {
		ev := base
		mod(&ev)
		return ev
	}
	fresh := &Lease{Holder: "pod-1_abc", RenewTime: t0.Add(-3 * time.Second), Duration: 15 * time.Second}
	ready := &Deployment{Replicas: 1, Ready: 1, Available: 1, Updated: 1}
	for _, tc := range []struct {
		name string
		ev   ControllerEvidence
		want []want
	}{
		{"fresh lease, no deployment", with(func(e *ControllerEvidence) { e.Lease = fresh }),
			[]want{{severity: OK, summary: `"pod-1_abc" leads (lease renewed 3s ago)`, text: "not found (fine when the controller runs elsewhere)"}}},
		{"fresh lease, ready deployment", with(func(e *ControllerEvidence) { e.Lease, e.Deployment = fresh, ready }),
			[]want{{severity: OK, text: "1/1 replicas ready"}}},
		{"within slack", with(func(e *ControllerEvidence) {
			e.Lease = &Lease{Holder: "p", RenewTime: t0.Add(-20 * time.Second), Duration: 15 * time.Second}
		}), []want{{severity: OK}}},
		{"expired", with(func(e *ControllerEvidence) {
			e.Lease = &Lease{Holder: "p", RenewTime: t0.Add(-2 * time.Hour), Duration: 15 * time.Second}
		}), []want{{severity: Error, cause: "LeaseExpired", summary: "stopped renewing its lease 2h0m0s ago", text: "logs deployment/svcat-catalog-controller"}}},
		{"released", with(func(e *ControllerEvidence) { e.Lease = &Lease{RenewTime: t0, Duration: time.Second} }),
			[]want{{severity: Error, cause: "ControllerNotRunning", summary: "released"}}},
		{"nothing", base, []want{{severity: Error, cause: "ControllerNotRunning", text: "charts/svcat"}}},
		{"deployment without lease", with(func(e *ControllerEvidence) { e.Deployment = ready }),
			[]want{{severity: Warning, cause: "NoLease", text: "--leader-elect"}}},
		{"fresh lease, rollout stuck", with(func(e *ControllerEvidence) {
			e.Lease = fresh
			e.Deployment = &Deployment{Replicas: 2, Ready: 1, Available: 1, Message: "ReplicaSet has timed out progressing"}
		}), []want{{severity: OK}, {severity: Warning, cause: "DeploymentNotReady", summary: "1 of 2", text: "timed out progressing"}}},
		{"scaled to zero", with(func(e *ControllerEvidence) { e.Deployment = &Deployment{} }),
			[]want{{severity: Error, cause: "ControllerNotRunning", text: "0/0 replicas ready"}}},
		{"lease forbidden", with(func(e *ControllerEvidence) { e.LeaseErr = forbidden }),
			[]want{{severity: Warning, cause: "CannotRead", summary: "lease svcat-system/svcat-catalog-controller"}}},
	} {
		t.Run(tc.name, func(t *testing.T) { checkFindings(t, CheckControllerFindings(tc.ev, t0, 10*time.Second), tc.want) })
	}
}

func TestCheckBrokers(t *testing.T) {
	readyC := &Condition{Status: "True", Reason: "FetchedCatalog"}
	for _, tc := range []struct {
		name string
		ev   BrokerEvidence
		want []want
	}{
		{"none", BrokerEvidence{}, []want{{severity: OK, summary: "no brokers are registered"}}},
		{"one ready", BrokerEvidence{Items: []Broker{{Kind: "ClusterServiceBroker", Name: "a", Ready: readyC}}},
			[]want{{severity: OK, summary: "1 broker, Ready"}}},
		{"two ready", BrokerEvidence{Items: []Broker{{Kind: "ClusterServiceBroker", Name: "a", Ready: readyC}, {Kind: "ServiceBroker", Namespace: "n", Name: "b", Ready: readyC}}},
			[]want{{severity: OK, summary: "2 brokers, all Ready"}}},
		{"fetch error", BrokerEvidence{Items: []Broker{{Kind: "ServiceBroker", Namespace: "n", Name: "b", URL: "http://b.n.svc",
			Ready: &Condition{Status: "False", Reason: "ErrorFetchingCatalog", Message: "Error fetching catalog: connection refused"}}}},
			[]want{{severity: Error, cause: "ErrorFetchingCatalog", summary: "broker b is not Ready: Error fetching catalog", text: "svcat describe broker b -n n"}}},
		{"auth error", BrokerEvidence{Items: []Broker{{Kind: "ClusterServiceBroker", Name: "a",
			Ready: &Condition{Status: "False", Reason: "ErrorGettingAuthCredentials", Message: "secret not found"}}}},
			[]want{{severity: Error, cause: "ErrorGettingAuthCredentials", text: "--scope cluster"}}},
		{"auth error as v0.3 reports it", BrokerEvidence{Items: []Broker{{Kind: "ClusterServiceBroker", Name: "a",
			Ready: &Condition{Status: "False", Reason: "ErrorFetchingCatalog", Message: "Error getting broker auth credentials: the Secret n/s does not exist"}}}},
			[]want{{severity: Error, cause: "ErrorFetchingCatalog", text: "spec.authInfo exists"}}},
		{"failed", BrokerEvidence{Items: []Broker{{Kind: "ClusterServiceBroker", Name: "a", Ready: &Condition{Status: "False"},
			Failed: &Condition{Status: "True", Reason: "ReferencesNonexistentSecret", Message: "gave up"}}}},
			[]want{{severity: Error, cause: "ReferencesNonexistentSecret", summary: "failed: gave up"}}},
		{"not reconciled", BrokerEvidence{Items: []Broker{{Kind: "ClusterServiceBroker", Name: "a", Generation: 1}}},
			[]want{{severity: Warning, cause: "NotReconciled", text: "check the controller"}}},
		{"forbidden", BrokerEvidence{Err: forbidden}, []want{{severity: Warning, cause: "CannotRead"}}},
	} {
		t.Run(tc.name, func(t *testing.T) { checkFindings(t, CheckBrokersFindings(tc.ev), tc.want) })
	}
}

func TestCheckOperations(t *testing.T) {
	for _, tc := range []struct {
		name string
		ev   OperationEvidence
		want []want
	}{
		{"none", OperationEvidence{}, []want{{severity: OK, summary: "for 30m0s or more"}}},
		{"recent", OperationEvidence{Items: []Operation{{Kind: "ServiceInstance", Namespace: "n", Name: "i", Operation: "Provision", Async: true, Since: t0.Add(-time.Minute)}}},
			[]want{{severity: OK}}},
		{"stuck instance", OperationEvidence{Items: []Operation{{Kind: "ServiceInstance", Namespace: "n", Name: "i", Operation: "Provision", Async: true, Since: t0.Add(-3 * time.Hour),
			Ready: &Condition{Status: "False", Reason: "Provisioning", Message: "The instance is being provisioned asynchronously"}}}},
			[]want{{severity: Warning, cause: "OperationStuck", summary: "instance n/i has been in Provision for 3h0m0s", text: "deprovision --abandon"}}},
		{"stuck binding", OperationEvidence{Items: []Operation{{Kind: "ServiceBinding", Namespace: "n", Name: "b", Operation: "Bind", Since: t0.Add(-time.Hour)}}},
			[]want{{severity: Warning, cause: "OperationStuck", summary: "binding n/b has been in Bind for 1h0m0s", text: "svcat describe binding b -n n"}}},
		{"no start time", OperationEvidence{Items: []Operation{{Kind: "ServiceInstance", Name: "i", Async: true}}}, []want{{severity: OK}}},
		{"forbidden", OperationEvidence{Err: forbidden}, []want{{severity: Warning, cause: "CannotRead"}}},
	} {
		t.Run(tc.name, func(t *testing.T) { checkFindings(t, CheckOperationsFindings(tc.ev, t0, 30*time.Minute), tc.want) })
	}
}

func TestDiagnoseSkipsCatalogChecksWithoutCRDs(t *testing.T) {
	ev := &Evidence{Now: t0, CRDs: CRDEvidence{Found: map[string]CRD{}}, Brokers: BrokerEvidence{Err: errors.New("no kind")}}
	r := Diagnose(ev, DefaultOptions(), CheckCRDs, CheckBrokers, CheckOperations)
	if len(r.Findings) != 1 || r.Findings[0].Cause != "CRDsMissing" || r.Summary.Healthy || r.Summary.Errors != 1 {
		t.Errorf("report: %+v", r)
	}
}
