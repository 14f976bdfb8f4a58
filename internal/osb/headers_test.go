package osb_test

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/svcat-io/svcat/internal/osb"
	"github.com/svcat-io/svcat/internal/testbroker"
)

func TestRequestHeaders(t *testing.T) {
	b := testbroker.Start(t, testbroker.Options{})
	c := connect(t, b)
	ids := map[string]bool{}
	for range 5 {
		cat, err := c.GetCatalog(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		ids[cat.RequestIdentity] = true
	}
	if len(ids) != 5 {
		t.Fatalf("5 requests carried %d distinct identities", len(ids))
	}
	for _, r := range b.Requests() {
		if !ids[r.Header.Get("X-Broker-API-Request-Identity")] {
			t.Errorf("broker saw identity %q the client did not return", r.Header.Get("X-Broker-API-Request-Identity"))
		}
		if v := r.Header.Get("X-Broker-API-Version"); v != "2.17" {
			t.Errorf("X-Broker-API-Version = %q", v)
		}
		if r.Header.Get("X-Broker-API-Originating-Identity") != "" {
			t.Error("originating identity sent without a user")
		}
	}
}

func TestOriginatingIdentity(t *testing.T) {
	b := testbroker.Start(t, testbroker.Options{})
	user := &osb.UserInfo{
		Username: "jane", UID: "u-1", Groups: []string{"system:authenticated", "devs"},
		Extra: map[string][]string{"scopes": {"a", "b"}},
	}
	r := provisionReq("i1")
	r.User = user
	if _, err := connect(t, b).ProvisionInstance(t.Context(), r); err != nil {
		t.Fatal(err)
	}
	h := b.RequestsFor(osb.OpProvision)[0].Header.Get("X-Broker-API-Originating-Identity")
	platform, encoded, ok := strings.Cut(h, " ")
	if !ok || platform != "kubernetes" {
		t.Fatalf("header = %q, want \"kubernetes <base64>\"", h)
	}
	raw, err := base64.StdEncoding.DecodeString(encoded)
	if err != nil {
		t.Fatalf("value is not standard base64: %v", err)
	}
	var got map[string]any
	if err := json.Unmarshal(raw, &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"username": "jane", "uid": "u-1", "groups": []any{"system:authenticated", "devs"},
		"extra": map[string]any{"scopes": []any{"a", "b"}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("identity = %v, want %v", got, want)
	}
}

func TestRequestShape(t *testing.T) {
	b := testbroker.Start(t, testbroker.Options{})
	c := connect(t, b)
	p := provisionReq("inst/with space")
	p.Parameters = map[string]any{"topics": 3.0}
	if _, err := c.ProvisionInstance(t.Context(), p); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DeprovisionInstance(t.Context(), deprovisionReq("inst/with space")); err != nil {
		t.Fatal(err)
	}
	reqs := b.Requests()
	put, del := reqs[0], reqs[1]
	if put.Method != http.MethodPut || put.InstanceID != "inst/with space" || put.Query.Get("accepts_incomplete") != "true" {
		t.Errorf("provision request = %s %s ?%v", put.Method, put.Path, put.Query)
	}
	if put.Header.Get("Content-Type") != "application/json" || put.Header.Get("Authorization") != "" {
		t.Errorf("provision headers = %v (Authorization must be stripped from records)", put.Header)
	}
	var body map[string]any
	if err := json.Unmarshal(put.Body, &body); err != nil {
		t.Fatal(err)
	}
	ctx, _ := body["context"].(map[string]any)
	if body["service_id"] != testbroker.SeedServiceID || body["organization_guid"] != "cluster-1" ||
		ctx["platform"] != "kubernetes" || ctx["instance_name"] != "demo-kafka" || body["parameters"].(map[string]any)["topics"] != 3.0 {
		t.Errorf("provision body = %s", put.Body)
	}
	if del.Method != http.MethodDelete || del.Query.Get("service_id") != testbroker.SeedServiceID ||
		del.Query.Get("plan_id") != testbroker.SeedPlanID || len(del.Body) != 0 {
		t.Errorf("deprovision request = %s ?%v body %q", del.Method, del.Query, del.Body)
	}
}

func TestOperationKeyIsPercentEncoded(t *testing.T) {
	const key = "create 1/2 & more+fun=?%é"
	b := testbroker.Start(t, testbroker.Options{})
	b.On(testbroker.Rule{Operation: osb.OpProvision, Async: true, OperationKey: key})
	c := connect(t, b)
	p, err := c.ProvisionInstance(t.Context(), provisionReq("i1"))
	if err != nil || p.Operation != key {
		t.Fatalf("provision = %+v, %v", p, err)
	}
	// The broker answers 400 for an operation key it does not know.
	lo, err := c.PollLastOperation(t.Context(), &osb.LastOperationRequest{InstanceID: "i1", Operation: p.Operation})
	if err != nil || lo.State != osb.StateSucceeded {
		t.Fatalf("poll = %+v, %v", lo, err)
	}
	polls := b.RequestsFor(osb.OpPollLastOperation)
	raw := polls[0].RawQuery
	if polls[0].Query.Get("operation") != key {
		t.Errorf("broker decoded operation %q, want %q", polls[0].Query.Get("operation"), key)
	}
	for _, bad := range []string{" ", "+", "&more"} {
		if strings.Contains(raw, bad) {
			t.Errorf("operation key not percent-encoded: %q contains %q", raw, bad)
		}
	}
	if !strings.Contains(raw, "create%201%2F2%20%26%20more%2Bfun%3D%3F%25%C3%A9") {
		t.Errorf("raw query = %q", raw)
	}
}

func TestRetryAfter(t *testing.T) {
	date := time.Now().Add(2 * time.Minute).UTC().Format(http.TimeFormat)
	tests := []struct {
		name     string
		header   string
		min, max time.Duration
	}{
		{"seconds", "7", 7 * time.Second, 7 * time.Second},
		{"HTTP date", date, 110 * time.Second, 121 * time.Second},
		{"past date", "Mon, 02 Jan 2006 15:04:05 GMT", 0, 0},
		{"garbage", "soon", 0, 0},
		{"absent", "", 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := testbroker.Start(t, testbroker.Options{})
			c := connect(t, b)
			b.On(testbroker.Rule{Operation: osb.OpProvision, AsyncPolls: 1, RetryAfter: tt.header})
			p, err := c.ProvisionInstance(t.Context(), provisionReq("i1"))
			if err != nil {
				t.Fatal(err)
			}
			lo, err := c.PollLastOperation(t.Context(), &osb.LastOperationRequest{InstanceID: "i1", Operation: p.Operation})
			if err != nil {
				t.Fatal(err)
			}
			for what, got := range map[string]time.Duration{"202": p.RetryAfter, "last_operation": lo.RetryAfter} {
				if got < tt.min || got > tt.max {
					t.Errorf("%s RetryAfter = %v, want in [%v, %v]", what, got, tt.min, tt.max)
				}
			}
		})
	}
}

// TestBaseURLPath checks that a broker mounted under a path prefix gets
// /v2 appended to it and IDs escaped once.
func TestBaseURLPath(t *testing.T) {
	paths := make(chan string, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		paths <- r.URL.EscapedPath() + "?" + r.URL.RawQuery
		w.Write([]byte(`{"state":"succeeded"}`))
	}))
	defer srv.Close()
	c, err := osb.New(osb.Config{URL: srv.URL + "/brokers/my%20broker/"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.PollLastOperation(t.Context(), &osb.LastOperationRequest{InstanceID: "a/b c", ServiceID: "s"}); err != nil {
		t.Fatal(err)
	}
	if got, want := <-paths, "/brokers/my%20broker/v2/service_instances/a%2Fb%20c/last_operation?service_id=s"; got != want {
		t.Errorf("request went to %q, want %q", got, want)
	}
}
