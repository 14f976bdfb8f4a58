package server

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"testing"
)

func TestRedactingLogger(t *testing.T) {
	var buf bytes.Buffer
	l := redacting(slog.New(slog.NewJSONHandler(&buf, nil)))
	creds := map[string]string{"username": "u", "password": "hunter2-secret"}
	tests := []struct {
		name string
		log  func()
	}{
		{"response attribute", func() { l.Error("encoding response", slog.Any("response", creds)) }},
		{"nested in a group", func() { l.Info("x", slog.Group("bind", slog.Any("credentials", creds))) }},
		{"preset attribute", func() { l.With(slog.String("password", "hunter2-secret")).Info("x") }},
		{"in a With group", func() {
			l.WithGroup("g").Error("x", slog.Any("response", creds), slog.Any("error", errors.New("boom")))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			buf.Reset()
			tt.log()
			if strings.Contains(buf.String(), "hunter2") {
				t.Fatalf("secret logged: %s", buf.String())
			}
			if !strings.Contains(buf.String(), "[redacted]") {
				t.Fatalf("nothing redacted: %s", buf.String())
			}
		})
	}
	buf.Reset()
	l.Info("provisioned", slog.String("instance", "i1"))
	if !strings.Contains(buf.String(), `"instance":"i1"`) {
		t.Fatalf("ordinary attributes lost: %s", buf.String())
	}
}
