package osbparams

import (
	"errors"
	"strings"
	"testing"
)

// Oversized parametersFrom Secrets are refused before decoding, naming the
// source, the total and the limit, and never quoting the value.
func TestBuildTooLarge(t *testing.T) {
	big := `{"blob":"` + strings.Repeat("s3cr3t", MaxParametersBytes/6) + `"}`
	half := `{"x":"` + strings.Repeat("a", MaxParametersBytes/2) + `"}`
	store := secrets{"huge": {"k": big}, "half": {"a": half}, "half2": {"b": strings.Replace(half, `"x"`, `"y"`, 1)}}
	tests := []struct {
		name      string
		params    string
		refs      []string
		wantField string
	}{
		{"one Secret over the limit", "", []string{"huge/k"}, `spec.parametersFrom[0].secretKeyRef: the value of key "k" in Secret "huge"`},
		{"two Secrets together", "", []string{"half/a", "half2/b"}, `spec.parametersFrom[1].secretKeyRef: the value of key "b" in Secret "half2"`},
		{"spec.parameters then a Secret", half, []string{"half2/b"}, `spec.parametersFrom[0].secretKeyRef`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var p = raw(tt.params)
			if tt.params == "" {
				p = nil
			}
			_, err := Build(p, from(tt.refs...), store.value)
			var pe *Error
			if !errors.As(err, &pe) || pe.Reason != ReasonTooLarge {
				t.Fatalf("err = %v, want ReasonTooLarge", err)
			}
			if pe.Retryable() {
				t.Error("a content problem is retryable")
			}
			msg := err.Error()
			for _, want := range []string{tt.wantField, "more than the 262144 allowed"} {
				if !strings.Contains(msg, want) {
					t.Errorf("message %q does not contain %q", msg, want)
				}
			}
			if strings.Contains(msg, "s3cr3t") {
				t.Error("message quotes the value")
			}
		})
	}
	// Just under the limit is fine.
	if _, err := Build(nil, from("half/a"), store.value); err != nil {
		t.Fatalf("half the limit: %v", err)
	}
}
