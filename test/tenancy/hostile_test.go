package tenancy

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// hostileBroker is a broker written to hurt the controller: a real HTTP
// server on 127.0.0.1 whose every answer comes from handle. It counts what
// it received and what it answered, so a test can prove that requests are
// still hanging instead of trusting a clock.
type hostileBroker struct {
	srv      *httptest.Server
	received atomic.Int64
	answered atomic.Int64
	// gaveUp counts hanging requests the client abandoned (its timeout).
	gaveUp atomic.Int64
	stop   chan struct{}

	mu    sync.Mutex
	paths map[string]int
}

// startHostile serves handle until the test ends; a handler that hangs
// should return on stopping(r).
func startHostile(t *testing.T, handle func(h *hostileBroker, w http.ResponseWriter, r *http.Request)) *hostileBroker {
	t.Helper()
	h := &hostileBroker{stop: make(chan struct{}), paths: map[string]int{}}
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.received.Add(1)
		h.mu.Lock()
		h.paths[r.Method+" "+r.URL.Path]++
		h.mu.Unlock()
		handle(h, w, r)
		h.answered.Add(1)
	}))
	t.Cleanup(func() {
		close(h.stop)
		h.srv.CloseClientConnections()
		h.srv.Close()
	})
	return h
}

func (h *hostileBroker) URL() string { return h.srv.URL }

// count is how many requests for "METHOD /path" arrived.
func (h *hostileBroker) count(methodPath string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.paths[methodPath]
}

// countPrefix is how many requests whose "METHOD /path" starts with p
// arrived.
func (h *hostileBroker) countPrefix(p string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for k, v := range h.paths {
		if strings.HasPrefix(k, p) {
			n += v
		}
	}
	return n
}

// hang blocks until the client gives up or the test ends: a broker that
// never answers.
func (h *hostileBroker) hang(r *http.Request) {
	select {
	case <-r.Context().Done():
		h.gaveUp.Add(1)
	case <-h.stop:
	}
}

// inFlight is how many requests are being held.
func (h *hostileBroker) inFlight() int64 { return h.received.Load() - h.answered.Load() }

// catalogShape is one way of making a catalog expensive to decode.
type catalogShape string

const (
	// deepObjects is metadata of empty objects nested thousands deep,
	// again and again: every level is a map once decoded.
	deepObjects catalogShape = "deep"
	// wideArray is metadata holding one array of millions of {}.
	wideArray catalogShape = "wide-array"
	// wideObject is metadata with millions of keys.
	wideObject catalogShape = "wide-object"
	// endless never ends: a valid start, then [{}, forever.
	endless catalogShape = "endless"
)

var catalogShapes = []catalogShape{deepObjects, wideArray, wideObject, endless}

const hostileServicePrefix = `{"services":[{"id":"hostile-service","name":"hostile","description":"hostile","bindable":true,` +
	`"plans":[{"id":"hostile-plan","name":"default","description":"hostile"}],"metadata":`

// hostileCatalog returns a catalog of about size bytes in shape (endless
// has no end: its handler streams it).
func hostileCatalog(shape catalogShape, size int) []byte {
	var b bytes.Buffer
	b.Grow(size + 1024)
	b.WriteString(hostileServicePrefix)
	switch shape {
	case deepObjects:
		const depth = 5000 // below encoding/json's limit of 10,000
		b.WriteString("{")
		for i := 0; b.Len() < size; i++ {
			if i > 0 {
				b.WriteString(",")
			}
			fmt.Fprintf(&b, `"k%d":`, i)
			b.WriteString(strings.Repeat(`{"a":`, depth))
			b.WriteString("{}")
			b.WriteString(strings.Repeat("}", depth))
		}
		b.WriteString("}")
	case wideArray:
		b.WriteString(`{"x":[{}`)
		for b.Len() < size {
			b.WriteString(",{}")
		}
		b.WriteString("]}")
	case wideObject:
		b.WriteString("{")
		for i := 0; b.Len() < size; i++ {
			if i > 0 {
				b.WriteString(",")
			}
			fmt.Fprintf(&b, `"%d":{}`, i)
		}
		b.WriteString("}")
	case endless:
		b.WriteString(`{"x":[{}`)
		return b.Bytes()
	}
	b.WriteString("}]}")
	return b.Bytes()
}

// serveCatalog answers GET /v2/catalog with body (and, for endless, with
// ",{}" until the client hangs up), everything else with 500.
func serveCatalog(shape catalogShape, body []byte) func(h *hostileBroker, w http.ResponseWriter, r *http.Request) {
	return func(h *hostileBroker, w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v2/catalog" {
			http.Error(w, `{"description":"no"}`, http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		if _, err := w.Write(body); err != nil || shape != endless {
			return
		}
		chunk := bytes.Repeat([]byte(",{}"), 64<<10)
		for {
			select {
			case <-r.Context().Done():
				return
			case <-h.stop:
				return
			default:
			}
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	}
}

// drip answers a valid catalog one byte a second.
func drip(body []byte) func(h *hostileBroker, w http.ResponseWriter, r *http.Request) {
	return func(h *hostileBroker, w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fl, _ := w.(http.Flusher)
		for _, c := range body {
			if _, err := w.Write([]byte{c}); err != nil {
				return
			}
			if fl != nil {
				fl.Flush()
			}
			select {
			case <-r.Context().Done():
				h.gaveUp.Add(1)
				return
			case <-h.stop:
				return
			case <-time.After(time.Second):
			}
		}
	}
}
