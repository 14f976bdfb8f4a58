package osb

import (
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
	f.Fuzz(func(t *testing.T, status int, contentType string, body []byte) {
		if status < 100 || status > 999 {
			return
		}
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
