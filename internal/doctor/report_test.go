package doctor

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/yaml"
)

func healthyEvidence() *Evidence {
	return &Evidence{
		Now:  t0,
		CRDs: CRDEvidence{Found: allCRDs(nil)},
		Controller: ControllerEvidence{Namespace: "svcat-system", LeaseName: "svcat-catalog-controller", DeploymentName: "svcat-catalog-controller",
			Lease:      &Lease{Holder: "svcat-catalog-controller-6d5f7c9b8-x2x9q_0c1d", RenewTime: t0.Add(-2 * time.Second), Duration: 15 * time.Second},
			Deployment: &Deployment{Replicas: 1, Ready: 1, Available: 1, Updated: 1}},
		Brokers: BrokerEvidence{Items: []Broker{{Kind: "ClusterServiceBroker", Name: "cloudkarafka", URL: "http://cloudkarafka-service-broker-service.osb.svc.cluster.local",
			Ready: &Condition{Status: "True", Reason: "FetchedCatalog", Message: "Successfully fetched catalog entries from broker."}}}},
		Operations: OperationEvidence{},
		Aggregation: AggregationEvidence{AuthFound: true, RequestHeader: RequestHeader{Present: true, AllowedNames: []string{"front-proxy-client"},
			UsernameHeaders: []string{"X-Remote-User"}, GroupHeaders: []string{"X-Remote-Group"}, ExtraPrefixes: []string{"X-Remote-Extra-"}},
			APIServices: []APIService{{Name: "v1.apps"}, {Name: metricsAPI, Service: &ServiceRef{Namespace: "kube-system", Name: "metrics-server", Port: 443},
				Available: &Condition{Status: "True", Reason: "Passed"}}}},
	}
}

// pksClusterEvidence is the seed's cluster: the old catalog's API server
// and metrics-server answer 401, the controller is gone, a broker cannot be
// reached and an instance has been provisioning for hours.
func pksClusterEvidence(t *testing.T) *Evidence {
	p := newPKI(t)
	ev := healthyEvidence()
	ev.Controller.Lease = &Lease{Holder: "svcat-catalog-controller-6d5f7c9b8-x2x9q_0c1d", RenewTime: t0.Add(-47 * time.Minute), Duration: 15 * time.Second}
	ev.Controller.Deployment = &Deployment{Replicas: 1, Ready: 0, Available: 0, Message: "Deployment does not have minimum availability."}
	ev.Brokers.Items = append(ev.Brokers.Items, Broker{Kind: "ServiceBroker", Namespace: "osb", Name: "aws", URL: "http://aws-servicebroker.osb.svc:8080",
		Ready: &Condition{Status: "False", Reason: "ErrorFetchingCatalog", Message: "Error fetching catalog: Get \"http://aws-servicebroker.osb.svc:8080/v2/catalog\": dial tcp 10.100.200.9:8080: connect: connection refused"}})
	ev.Operations.Items = []Operation{{Kind: "ServiceInstance", Namespace: "default", Name: "demo-kafka", Operation: "Provision", Async: true, Since: t0.Add(-5 * time.Hour),
		Ready: &Condition{Status: "False", Reason: "Provisioning", Message: "The instance is being provisioned asynchronously"}}}
	ev.Aggregation = pksEvidence(p)
	ev.Aggregation.ProxyCertPath = "/var/vcap/jobs/kube-apiserver/config/proxy-client.crt"
	ev.Aggregation.ProxyCert = p.proxy
	ev.Aggregation.APIServices = append(ev.Aggregation.APIServices, APIService{Name: "v1beta1.servicecatalog.k8s.io", Group: "servicecatalog.k8s.io", Version: "v1beta1",
		Service: &ServiceRef{Namespace: "catalog", Name: "catalog-catalog-apiserver", Port: 443},
		Available: &Condition{Status: "False", Reason: "FailedDiscoveryCheck",
			Message: "failing or missing response from https://10.100.200.60:443/apis/servicecatalog.k8s.io/v1beta1: bad status from https://10.100.200.60:443/apis/servicecatalog.k8s.io/v1beta1: 401"}})
	return ev
}

func TestReportGolden(t *testing.T) {
	opts := DefaultOptions()
	opts.Fix.Deployment = "service-instance_9f1b6a2c-1111-4222-8333-444455556666"
	for _, tc := range []struct {
		name    string
		ev      *Evidence
		healthy bool
		checks  []string
	}{
		{"healthy", healthyEvidence(), true, nil},
		{"pks", pksClusterEvidence(t), false, nil},
		{"pks-aggregation-only", pksClusterEvidence(t), false, []string{CheckAggregation}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := Diagnose(tc.ev, opts, tc.checks...)
			if r.Summary.Healthy != tc.healthy {
				t.Errorf("healthy %v, want %v", r.Summary.Healthy, tc.healthy)
			}
			var text, js bytes.Buffer
			if err := WriteText(&text, r); err != nil {
				t.Fatal(err)
			}
			golden(t, "report-"+tc.name+".txt", text.Bytes())
			// Some kubectl builds (the Google Cloud SDK's) refuse flags
			// before the subcommand; the hints must work with them.
			if strings.Contains(text.String(), "kubectl -") {
				t.Errorf("a kubectl hint puts a flag before the subcommand:\n%s", text.String())
			}
			if err := WriteJSON(&js, r); err != nil {
				t.Fatal(err)
			}
			golden(t, "report-"+tc.name+".json", js.Bytes())

			// The text report's fixes are the JSON's, as a YAML stream.
			_, stream, ok := strings.Cut(text.String(), FixesHeader+"\n")
			if ok != (len(r.Fixes) > 0) {
				t.Fatalf("fixes header present %v with %d fixes", ok, len(r.Fixes))
			}
			for _, f := range r.Fixes {
				if !strings.Contains(stream, f.YAML) {
					t.Errorf("text report lacks the %s fix", f.Format)
				}
			}
			var back Report
			if err := json.Unmarshal(js.Bytes(), &back); err != nil || back.Summary != r.Summary || len(back.Findings) != len(r.Findings) {
				t.Errorf("JSON does not read back: %v", err)
			}
			// YAML has the same fields.
			var y bytes.Buffer
			if err := WriteYAML(&y, r); err != nil {
				t.Fatal(err)
			}
			var fromYAML Report
			if err := yaml.Unmarshal(y.Bytes(), &fromYAML); err != nil || fromYAML.Summary != r.Summary ||
				len(fromYAML.Findings) != len(r.Findings) || len(fromYAML.Fixes) != len(r.Fixes) {
				t.Errorf("YAML does not read back: %v\n%s", err, y.String())
			}
			for i := range r.Fixes {
				if fromYAML.Fixes[i].YAML != r.Fixes[i].YAML {
					t.Errorf("fix %d differs after a YAML round trip", i)
				}
			}
		})
	}
}

func TestAllowedNameFlagRendersFixesWhenCNUnknown(t *testing.T) {
	ev := pksClusterEvidence(t)
	ev.Aggregation.ProxyCertPath, ev.Aggregation.ProxyCert = "", nil
	if r := Diagnose(ev, DefaultOptions(), CheckAggregation); len(r.Fixes) != 0 {
		t.Errorf("fixes without a name to add: %+v", r.Fixes)
	}
	opts := DefaultOptions()
	opts.Fix.Add = []string{"demo.pks.ik.am"}
	r := Diagnose(ev, opts, CheckAggregation)
	if len(r.Fixes) != 3 || !strings.Contains(r.Fixes[1].YAML, "value: aggregator,demo.pks.ik.am") {
		t.Errorf("fixes: %+v", r.Fixes)
	}
	// A CN that cannot be written into the flag safely is reported, not
	// rendered.
	opts.Fix.Add = []string{"front proxy"}
	r = Diagnose(ev, opts, CheckAggregation)
	if len(r.Fixes) != 0 || r.Findings[len(r.Findings)-1].Cause != "CannotRenderFix" {
		t.Errorf("report: %+v", r)
	}
}
