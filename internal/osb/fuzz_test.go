package osb

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/svcat-io/svcat/internal/brokertext"
)

// FuzzDecodeResponse feeds arbitrary broker answers (status, Content-Type,
// body) to the decoding of every operation's response. A broker is not
// trusted: decoding must never panic, every failure must be one of this
// package's typed errors with a bounded message, and an error must not
// quote the body, which may hold credentials.
func FuzzDecodeResponse(f *testing.F) {
	f.Add(200, "application/json", []byte(`{"services":[{"id":"s","name":"n","description":"d","plans":[{"id":"p","name":"q","description":"d"}]}]}`))
	f.Add(200, "application/json", []byte(`{}`))
	f.Add(200, "text/html", []byte(`<html>secret-canary-value</html>`))
	f.Add(201, "application/json", []byte(`{"credentials":"secret-canary-value"}`))
	f.Add(201, "application/json", []byte(`{"credentials":{"password":"secret-canary-value"},"volume_mounts":[{"device":{"mount_config":1}}]}`))
	f.Add(200, "application/json", []byte(`{"state":"secret-canary-value"}`))
	f.Add(202, "application/json; charset=utf-8", []byte(`{"operation":1}`))
	f.Add(422, "application/json", []byte(`{"error":"AsyncRequired","description":"x","instance_usable":"no"}`))
	f.Add(302, "", []byte(``))
	f.Add(200, "application/json", []byte(`{"services":[{"metadata":{"a":{"b":{"c":[[[[[]]]]]}}},"plans":[{"maximum_polling_duration":-1,"maintenance_info":{"version":"x"}}]}]}`))
	// Hostile catalogs for the limits (fuzzLimits).
	f.Add(200, "application/json", []byte(`{"services":[{"metadata":{"a":{"a":{"a":{"a":{"a":{"a":{"a":{}}}}}}}},"plans":[]}]}`))
	f.Add(200, "application/json", []byte(`{"services":[{"metadata":{"a":[{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}]}}]}`))
	f.Add(200, "application/json", []byte(`{"Services":[{"plans":[{},{},{}]},{"plans":[{},{}]},{}]}`))
	f.Add(200, "application/json", []byte(`{"services":[{"plans":[{"schemas":{"service_instance":{"create":{"parameters":{"x":"{[\"\u005b"}}}}}}]}]}`))
	f.Fuzz(func(t *testing.T, status int, contentType string, body []byte) {
		if status < 100 || status > 999 {
			return
		}
		checkCatalogScan(t, body)
		h := http.Header{}
		h.Set("Content-Type", contentType)
		h.Set("Location", "http://elsewhere.example/")
		info := ResponseInfo{StatusCode: status, RequestIdentity: "id"}
		ok := []int{http.StatusOK, http.StatusCreated, http.StatusAccepted}
		outs := map[Operation]func() any{
			OpGetCatalog:        func() any { return &CatalogResponse{} },
			OpProvision:         func() any { return &InstanceResponse{} },
			OpGetInstance:       func() any { return &GetInstanceResponse{} },
			OpDeprovision:       func() any { return &DeprovisionResponse{} },
			OpBind:              func() any { return &BindResponse{} },
			OpUnbind:            func() any { return &UnbindResponse{} },
			OpGetBinding:        func() any { return &GetBindingResponse{} },
			OpPollLastOperation: func() any { return &LastOperationResponse{} },
		}
		for op, out := range outs {
			o := out()
			err := decode(call{op: op, ok: ok, requireBody: op == OpGetCatalog}, info, h, body, o)
			if err == nil {
				if cat, isCat := o.(*CatalogResponse); isCat {
					// Validation of whatever decoded must not panic either.
					if verr := cat.Validate(); verr != nil {
						var ice *InvalidCatalogError
						if !errors.As(verr, &ice) {
							t.Fatalf("Validate returned %T", verr)
						}
					}
				}
				continue
			}
			var he *HTTPError
			var me *MalformedResponseError
			switch {
			case errors.As(err, &me):
			case errors.As(err, &he):
			default:
				t.Fatalf("%s: untyped error %T: %v", op, err, err)
			}
			msg := err.Error()
			// The description (brokertext.MaxBytes), the error code and a
			// redirect host are the only broker text an error may carry.
			if len(msg) > brokertext.MaxBytes+512 {
				t.Fatalf("%s: error of %d bytes", op, len(msg))
			}
			if me != nil && strings.Contains(string(body), "secret-canary-value") && strings.Contains(msg, "secret-canary-value") {
				t.Fatalf("%s: malformed-body error quotes the body: %v", op, msg)
			}
		}
	})
}

// fuzzLimits are small, so that fuzzed bodies reach them.
var fuzzLimits = CatalogLimits{MaxBytes: 2048, MaxDepth: 6, MaxServices: 3, MaxPlansPerService: 2, MaxPlans: 4, MaxObjectBytes: 40, MaxValues: 60}

// checkCatalogScan holds the catalog scanner to encoding/json: a body it
// lets through decodes within the limits, one it refuses for depth or
// values really passes them, and it never loses track of valid JSON.
func checkCatalogScan(t *testing.T, body []byte) {
	scan := newCatalogScanner(fuzzLimits)
	_, err := readBody(bytes.NewReader(body), fuzzLimits.MaxBytes, -1, scan, nil)
	valid := json.Valid(body)
	if scan.unchecked() && valid {
		t.Fatalf("the scanner lost track of valid JSON at offset %d", scan.off)
	}
	var le *CatalogLimitError
	if err != nil && !errors.As(err, &le) {
		t.Fatalf("scanner error %T: %v", err, err)
	}
	if !valid {
		return
	}
	depth, values, rerr := refStats(body)
	if rerr != nil {
		return // deeper than encoding/json's tokenizer goes
	}
	if le != nil {
		switch {
		case le.Limit == LimitDepth && depth <= fuzzLimits.MaxDepth:
			t.Fatalf("refused for depth, but the document is %d deep", depth)
		case le.Limit == LimitValues && values <= fuzzLimits.MaxValues:
			t.Fatalf("refused for values, but the document has %d", values)
		case le.Limit == LimitBytes && int64(len(body)) <= fuzzLimits.MaxBytes:
			t.Fatalf("refused for bytes, but the document has %d", len(body))
		}
		return
	}
	if depth > fuzzLimits.MaxDepth || values > fuzzLimits.MaxValues {
		t.Fatalf("accepted a document %d deep with %d values", depth, values)
	}
	var cat CatalogResponse
	if json.Unmarshal(body, &cat) != nil {
		return
	}
	if len(cat.Services) > fuzzLimits.MaxServices {
		t.Fatalf("accepted %d services", len(cat.Services))
	}
	plans := 0
	for _, s := range cat.Services {
		if len(s.Plans) > fuzzLimits.MaxPlansPerService {
			t.Fatalf("accepted a service of %d plans", len(s.Plans))
		}
		plans += len(s.Plans)
	}
	if plans > fuzzLimits.MaxPlans {
		t.Fatalf("accepted %d plans", plans)
	}
}
