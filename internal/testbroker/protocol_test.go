package testbroker_test

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/svcat-io/svcat/internal/testbroker"
)

// TestProtocolChecks sends raw requests, which the osb client would never
// send, to check auth, version and routing.
func TestProtocolChecks(t *testing.T) {
	b := testbroker.Start(t, testbroker.Options{})
	tests := []struct {
		name, method, path, version, body string
		auth                              bool
		want                              int
	}{
		{"no auth", "GET", "/v2/catalog", "2.17", "", false, 401},
		{"no version", "GET", "/v2/catalog", "", "", true, 412},
		{"version 3", "GET", "/v2/catalog", "3.0", "", true, 412},
		{"older 2.x", "GET", "/v2/catalog", "2.13", "", true, 200},
		{"unknown route", "GET", "/v2/nothing", "2.17", "", true, 404},
		{"wrong method", "POST", "/v2/catalog", "2.17", "", true, 404},
		{"bad JSON", "PUT", "/v2/service_instances/i1", "2.17", "{", true, 400},
		{"missing ids", "PUT", "/v2/service_instances/i1", "2.17", `{"organization_guid":"o","space_guid":"s"}`, true, 400},
		{"unknown plan", "PUT", "/v2/service_instances/i1", "2.17",
			`{"service_id":"` + testbroker.SeedServiceID + `","plan_id":"nope","organization_guid":"o","space_guid":"s"}`, true, 400},
		{"deprovision without ids", "DELETE", "/v2/service_instances/i0", "2.17", "", true, 400},
	}
	put(t, b, "/v2/service_instances/i0", `{"service_id":"`+testbroker.SeedServiceID+`","plan_id":"`+testbroker.SeedPlanID+`","organization_guid":"o","space_guid":"s"}`)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(tt.method, b.URL()+tt.path, strings.NewReader(tt.body))
			if tt.version != "" {
				req.Header.Set("X-Broker-API-Version", tt.version)
			}
			if tt.auth {
				req.SetBasicAuth(testbroker.DefaultUsername, testbroker.DefaultPassword)
			}
			req.Header.Set("X-Broker-API-Request-Identity", "id-1")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var body map[string]any
			if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
				t.Errorf("body is not a JSON object: %v", err)
			}
			if resp.StatusCode != tt.want {
				t.Errorf("status = %d, want %d (%v)", resp.StatusCode, tt.want, body)
			}
			if resp.Header.Get("X-Broker-API-Request-Identity") != "id-1" {
				t.Error("request identity not echoed")
			}
		})
	}
}

func put(t *testing.T, b *testbroker.Broker, path, body string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPut, b.URL()+path, strings.NewReader(body))
	req.Header.Set("X-Broker-API-Version", "2.17")
	req.SetBasicAuth(testbroker.DefaultUsername, testbroker.DefaultPassword)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("PUT %s = %d", path, resp.StatusCode)
	}
}

func TestSeedCatalogJSON(t *testing.T) {
	b := testbroker.Start(t, testbroker.Options{})
	req, _ := http.NewRequest(http.MethodGet, b.URL()+"/v2/catalog", nil)
	req.Header.Set("X-Broker-API-Version", "2.17")
	req.SetBasicAuth(testbroker.DefaultUsername, testbroker.DefaultPassword)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var cat struct {
		Services []map[string]any `json:"services"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&cat); err != nil {
		t.Fatal(err)
	}
	svc := cat.Services[0]
	plan := svc["plans"].([]any)[0].(map[string]any)
	bullets := plan["metadata"].(map[string]any)["bullets"].([]any)
	if svc["name"] != "cloudkarafka" || svc["id"] != testbroker.SeedServiceID || svc["description"] != "CloudKarafka" ||
		svc["bindable"] != true || len(svc["tags"].([]any)) != 2 ||
		plan["name"] != "duck" || plan["id"] != testbroker.SeedPlanID || plan["description"] != "Developer Duck" ||
		plan["free"] != true || len(bullets) != 4 {
		t.Errorf("seed catalog = %v", cat)
	}
	if _, camel := svc["planUpdateable"]; camel {
		t.Error("seed catalog repeats the seed's misspelt planUpdateable key")
	}
}

func TestTLSServing(t *testing.T) {
	b := testbroker.Start(t, testbroker.Options{TLS: true})
	if !strings.HasPrefix(b.URL(), "https://127.0.0.1:") {
		t.Fatalf("URL = %s", b.URL())
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(b.CAPEM()) {
		t.Fatal("CAPEM holds no certificate")
	}
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	resp, err := hc.Get(b.URL() + "/v2/catalog")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("status = %d, want 401 (TLS worked, auth missing)", resp.StatusCode)
	}
	hc.CloseIdleConnections()
}
