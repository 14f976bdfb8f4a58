// Package kafkatest holds test helpers for the kafka-broker: an embedded
// cluster per test and a plain net/http OSB caller.
package kafkatest

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"testing"

	"github.com/svcat-io/svcat/internal/kafkabroker/embedded"
)

// Cluster starts an embedded cluster on a free port and stops it when the
// test ends.
func Cluster(t testing.TB, dataDir string) *embedded.Cluster {
	t.Helper()
	c, err := embedded.Start(embedded.Config{DataDir: dataDir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

// OSB calls a broker the way a platform does.
type OSB struct {
	URL            string
	User, Password string
	// Version is the X-Broker-API-Version header; empty sends none.
	Version string
	Client  *http.Client
}

// NewOSB returns a caller that authenticates and speaks API 2.17.
func NewOSB(url, user, password string) *OSB {
	return &OSB{URL: url, User: user, Password: password, Version: "2.17", Client: http.DefaultClient}
}

// Response is a decoded broker answer.
type Response struct {
	Status int
	Body   map[string]any
	Raw    []byte
	Header http.Header
}

// Str returns a string field of the body.
func (r Response) Str(key string) string {
	s, _ := r.Body[key].(string)
	return s
}

// Credentials returns the credentials object of a bind answer.
func (r Response) Credentials() map[string]string {
	out := map[string]string{}
	m, _ := r.Body["credentials"].(map[string]any)
	for k, v := range m {
		s, _ := v.(string)
		out[k] = s
	}
	return out
}

// Do sends body (marshalled to JSON unless it is []byte or nil) and decodes
// the answer. It fails the test only on transport errors.
func (o *OSB) Do(t testing.TB, method, path string, body any) Response {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, o.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if o.User != "" || o.Password != "" {
		req.SetBasicAuth(o.User, o.Password)
	}
	if o.Version != "" {
		req.Header.Set("X-Broker-API-Version", o.Version)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := o.Client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	r := Response{Status: resp.StatusCode, Raw: raw, Header: resp.Header}
	_ = json.Unmarshal(raw, &r.Body) // error bodies may be empty
	return r
}

// Details is the body of provision and bind requests.
func Details(serviceID, planID string, params any) map[string]any {
	d := map[string]any{
		"service_id":        serviceID,
		"plan_id":           planID,
		"organization_guid": "org",
		"space_guid":        "space",
		"context":           map[string]any{"platform": "kubernetes", "namespace": "default"},
	}
	if params != nil {
		d["parameters"] = params
	}
	return d
}
