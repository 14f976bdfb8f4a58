package osb

import (
	"context"
	"fmt"
	"testing"
)

// TestOrphanMitigationTable follows the OSB 2.17 orphan mitigation table
// row by row, for each operation.
func TestOrphanMitigationTable(t *testing.T) {
	ops := []Operation{OpProvision, OpBind, OpDeprovision, OpUnbind, OpUpdate}
	// want lists, per row, the operations for which mitigation is required.
	rows := []struct {
		row     string
		outcome Outcome
		want    []Operation
	}{
		{"200", Outcome{StatusCode: 200}, nil},
		{"200 malformed", Outcome{StatusCode: 200, Malformed: true}, nil},
		{"201", Outcome{StatusCode: 201}, []Operation{OpDeprovision, OpUnbind}}, // other 2xx for deletes
		{"202", Outcome{StatusCode: 202}, nil},
		{"201 malformed", Outcome{StatusCode: 201, Malformed: true}, []Operation{OpProvision, OpBind, OpDeprovision, OpUnbind}},
		{"202 malformed", Outcome{StatusCode: 202, Malformed: true}, []Operation{OpProvision, OpBind}},
		{"204 (other 2xx)", Outcome{StatusCode: 204}, []Operation{OpProvision, OpBind, OpDeprovision, OpUnbind}},
		{"500", Outcome{StatusCode: 500}, []Operation{OpProvision, OpBind, OpDeprovision, OpUnbind}},
		{"503", Outcome{StatusCode: 503}, []Operation{OpProvision, OpBind, OpDeprovision, OpUnbind}},
		{"timeout", Outcome{Timeout: true}, []Operation{OpProvision, OpBind}},
		{"last_operation failed", Outcome{AsyncFailed: true}, []Operation{OpProvision, OpBind, OpDeprovision, OpUnbind}},
		{"408", Outcome{StatusCode: 408}, nil},
		{"400", Outcome{StatusCode: 400}, nil},
		{"409", Outcome{StatusCode: 409}, nil},
		{"410", Outcome{StatusCode: 410}, nil},
		{"422 ConcurrencyError", Outcome{StatusCode: 422}, nil},
	}
	for _, r := range rows {
		for _, op := range ops {
			want := false
			for _, w := range r.want {
				want = want || w == op
			}
			t.Run(fmt.Sprintf("%s/%s", r.row, op), func(t *testing.T) {
				if got := OrphanMitigationRequired(op, r.outcome); got != want {
					t.Errorf("OrphanMitigationRequired(%s, %+v) = %v, want %v", op, r.outcome, got, want)
				}
			})
		}
	}
}

func TestOutcomeOf(t *testing.T) {
	tests := []struct {
		name   string
		status int
		err    error
		want   Outcome
	}{
		{"success", 201, nil, Outcome{StatusCode: 201}},
		{"http error", 0, &HTTPError{StatusCode: 500}, Outcome{StatusCode: 500}},
		{"malformed", 0, &MalformedResponseError{StatusCode: 201}, Outcome{StatusCode: 201, Malformed: true}},
		{"timeout", 0, &TransportError{Failure: FailureTimeout}, Outcome{Timeout: true}},
		{"interrupted", 0, &TransportError{Failure: FailureInterrupted}, Outcome{Timeout: true}},
		{"unreachable", 0, &TransportError{Failure: FailureUnreachable, Err: context.DeadlineExceeded}, Outcome{}},
		{"wrapped", 0, fmt.Errorf("provisioning: %w", &HTTPError{StatusCode: 204}), Outcome{StatusCode: 204}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := OutcomeOf(tt.status, tt.err); got != tt.want {
				t.Errorf("OutcomeOf = %+v, want %+v", got, tt.want)
			}
		})
	}
}
