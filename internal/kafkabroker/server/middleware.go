package server

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
)

// maxBody bounds request bodies; OSB schemas are limited to 64 kB, so real
// requests are far smaller.
const maxBody = 1 << 20

// requireJSONObject answers 400 for PUT and PATCH bodies that are not a
// JSON object, as OSB asks; brokerapi would answer 422.
func requireJSONObject(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPut && r.Method != http.MethodPatch {
			next.ServeHTTP(w, r)
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
		if err != nil {
			writeError(w, http.StatusBadRequest, "reading request body: "+err.Error())
			return
		}
		// Valid JSON that starts with '{' is an object; checking that way
		// decodes nothing, as brokerapi decodes the body again anyway.
		if trimmed := bytes.TrimLeft(body, " \t\r\n"); len(trimmed) == 0 || trimmed[0] != '{' || !json.Valid(body) {
			msg := "request body must be a JSON object"
			if err := json.Unmarshal(body, new(any)); err != nil {
				msg += ": " + err.Error()
			}
			writeError(w, http.StatusBadRequest, msg)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		next.ServeHTTP(w, r)
	})
}

// writeError needs not echo X-Broker-API-Request-Identity: it runs inside
// outerHeaders, which has already set it.
func writeError(w http.ResponseWriter, status int, description string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"description": description})
}

// retryAfter tells pollers of last_operation when to ask again; brokerapi
// has no hook for the header. Background deprovisions take seconds, so
// polling every second finds them done without hammering the broker.
func retryAfter(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/last_operation") {
			w = &retryAfterWriter{ResponseWriter: w}
		}
		next.ServeHTTP(w, r)
	})
}

type retryAfterWriter struct {
	http.ResponseWriter
}

func (w *retryAfterWriter) WriteHeader(status int) {
	if status == http.StatusOK {
		w.Header().Set("Retry-After", "1")
	}
	w.ResponseWriter.WriteHeader(status)
}

// outerHeaders fixes the headers of answers brokerapi writes before its own
// middleware runs: its auth check answers 401 first, without the
// WWW-Authenticate that RFC 7235 requires of every 401 and without echoing
// X-Broker-API-Request-Identity, which OSB asks of every answer. It wraps
// brokerapi's whole handler, so it sees every answer.
func outerHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if id := r.Header.Get("X-Broker-API-Request-Identity"); id != "" {
			w.Header().Set("X-Broker-API-Request-Identity", id)
		}
		next.ServeHTTP(&challengeWriter{ResponseWriter: w}, r)
	})
}

type challengeWriter struct {
	http.ResponseWriter
}

func (w *challengeWriter) WriteHeader(status int) {
	if status == http.StatusUnauthorized && w.Header().Get("WWW-Authenticate") == "" {
		w.Header().Set("WWW-Authenticate", `Basic realm="kafka-broker", charset="UTF-8"`)
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *challengeWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
