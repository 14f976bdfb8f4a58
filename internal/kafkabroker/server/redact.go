package server

import (
	"context"
	"log/slog"
)

// redactedKeys are log attributes that can hold credentials. brokerapi logs
// a whole response under "response" when it cannot write it to the client,
// and a bind response carries the binding's password.
var redactedKeys = map[string]bool{"response": true, "credentials": true, "password": true}

// redactHandler removes credential-bearing attributes before they reach the
// real handler, whoever logs them.
type redactHandler struct{ next slog.Handler }

func redacting(l *slog.Logger) *slog.Logger {
	return slog.New(redactHandler{l.Handler()})
}

func (h redactHandler) Enabled(ctx context.Context, level slog.Level) bool {
	return h.next.Enabled(ctx, level)
}

func (h redactHandler) Handle(ctx context.Context, r slog.Record) error {
	clean := slog.NewRecord(r.Time, r.Level, r.Message, r.PC)
	r.Attrs(func(a slog.Attr) bool {
		clean.AddAttrs(redact(a))
		return true
	})
	return h.next.Handle(ctx, clean)
}

func (h redactHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	out := make([]slog.Attr, len(attrs))
	for i, a := range attrs {
		out[i] = redact(a)
	}
	return redactHandler{h.next.WithAttrs(out)}
}

func (h redactHandler) WithGroup(name string) slog.Handler {
	return redactHandler{h.next.WithGroup(name)}
}

func redact(a slog.Attr) slog.Attr {
	if redactedKeys[a.Key] {
		return slog.String(a.Key, "[redacted]")
	}
	if a.Value.Kind() == slog.KindGroup {
		group := a.Value.Group()
		out := make([]slog.Attr, len(group))
		for i, g := range group {
			out[i] = redact(g)
		}
		return slog.Attr{Key: a.Key, Value: slog.GroupValue(out...)}
	}
	return a
}
