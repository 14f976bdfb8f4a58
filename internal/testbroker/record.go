package testbroker

import (
	"net/http"
	"net/url"

	"github.com/svcat-io/svcat/internal/osb"
)

// RecordedRequest is one request as the broker received it. Authorization
// is removed so recorded requests can be printed in test failures.
type RecordedRequest struct {
	Operation  osb.Operation // "" for unknown routes
	InstanceID string
	BindingID  string
	Method     string
	Path       string
	Query      url.Values
	// RawQuery is the query as sent, to check its encoding.
	RawQuery string
	Header   http.Header
	Body     []byte
}

func (b *Broker) record(r *http.Request, rt route, body []byte) {
	if b.opts.DisableRecording {
		return
	}
	h := r.Header.Clone()
	h.Del("Authorization")
	rec := RecordedRequest{
		Operation: rt.op, InstanceID: rt.instanceID, BindingID: rt.bindingID,
		Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(), RawQuery: r.URL.RawQuery, Header: h, Body: body,
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.requests = append(b.requests, rec)
}

// Requests returns the requests received so far, oldest first.
func (b *Broker) Requests() []RecordedRequest {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]RecordedRequest(nil), b.requests...)
}

// RequestsFor returns the recorded requests of one operation.
func (b *Broker) RequestsFor(op osb.Operation) []RecordedRequest {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []RecordedRequest
	for _, r := range b.requests {
		if r.Operation == op {
			out = append(out, r)
		}
	}
	return out
}

// ResetRequests forgets the recorded requests.
func (b *Broker) ResetRequests() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.requests = nil
}
