package broker

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"

	"github.com/svcat-io/svcat/internal/kafkabroker/catalog"
)

// OSB 2.17 fields that brokerapi v13 neither decodes nor encodes:
// binding_rotatable in the catalog, predecessor_binding_id in a bind, and
// maintenance_info in GET instance. Extensions carries them between the
// wire and the broker's methods; install it with
// brokerapi.WithAdditionalMiddleware, so that it runs after brokerapi's
// auth and API-version checks.

type ctxKey int

const (
	predecessorKey ctxKey = iota
	instanceExtrasKey
)

// maxExtBody bounds the bodies Extensions reads; OSB request bodies are far
// smaller, and the server bounds them before as well.
const maxExtBody = 1 << 20

// WithPredecessor is how a bind's predecessor_binding_id reaches Bind.
func WithPredecessor(ctx context.Context, bindingID string) context.Context {
	return context.WithValue(ctx, predecessorKey, bindingID)
}

func predecessorFrom(ctx context.Context) string {
	id, _ := ctx.Value(predecessorKey).(string)
	return id
}

// instanceExtras collects what GET instance answers beyond brokerapi's
// fields.
type instanceExtras struct {
	maintenance *catalog.MaintenanceInfo
}

// Extensions serves the OSB fields brokerapi lacks (see above).
func (b *Broker) Extensions(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		parts := strings.Split(strings.TrimSuffix(r.URL.Path, "/"), "/")
		switch {
		case r.Method == http.MethodGet && r.URL.Path == "/v2/catalog":
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusOK)
			_, _ = w.Write(b.cfg.Catalog.OSBJSON())
		case r.Method == http.MethodPut && len(parts) == 6 && parts[2] == "service_instances" && parts[4] == "service_bindings":
			b.bindExtensions(next, w, r)
		case r.Method == http.MethodGet && len(parts) == 4 && parts[2] == "service_instances":
			getInstanceExtensions(next, w, r)
		default:
			next.ServeHTTP(w, r)
		}
	})
}

func (b *Broker) bindExtensions(next http.Handler, w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxExtBody))
	if err != nil {
		writeDescription(w, http.StatusBadRequest, "reading request body: "+err.Error())
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	var ext struct {
		Predecessor json.RawMessage `json:"predecessor_binding_id"`
	}
	// A body that is no JSON object is brokerapi's to refuse.
	if json.Unmarshal(body, &ext) == nil && len(ext.Predecessor) > 0 && string(ext.Predecessor) != "null" {
		var id string
		if json.Unmarshal(ext.Predecessor, &id) != nil || id == "" {
			writeDescription(w, http.StatusBadRequest, "predecessor_binding_id must be a non-empty string: the ID of the binding being rotated")
			return
		}
		r = r.WithContext(WithPredecessor(r.Context(), id))
	}
	next.ServeHTTP(w, r)
}

func getInstanceExtensions(next http.Handler, w http.ResponseWriter, r *http.Request) {
	extras := &instanceExtras{}
	r = r.WithContext(context.WithValue(r.Context(), instanceExtrasKey, extras))
	buf := &bufferedWriter{header: http.Header{}}
	next.ServeHTTP(buf, r)
	body := buf.body.Bytes()
	if buf.status == http.StatusOK && extras.maintenance != nil {
		var doc map[string]json.RawMessage
		if json.Unmarshal(body, &doc) == nil {
			if mi, err := json.Marshal(extras.maintenance); err == nil {
				doc["maintenance_info"] = mi
				if patched, err := json.Marshal(doc); err == nil {
					body = append(patched, '\n')
				}
			}
		}
	}
	for k, v := range buf.header {
		w.Header()[k] = v
	}
	w.Header().Del("Content-Length")
	if buf.status == 0 {
		buf.status = http.StatusOK
	}
	w.WriteHeader(buf.status)
	_, _ = w.Write(body)
}

// bufferedWriter keeps an answer so that fields can be added to it.
type bufferedWriter struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (w *bufferedWriter) Header() http.Header { return w.header }

func (w *bufferedWriter) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
}

func (w *bufferedWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.body.Write(p)
}

func writeDescription(w http.ResponseWriter, status int, description string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"description": description})
}
