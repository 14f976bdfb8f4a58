package brokerop

import (
	"errors"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/svcat-io/svcat/internal/osb"
)

func status(code int, errorCode string) error {
	return &osb.HTTPError{StatusCode: code, ErrorCode: errorCode}
}

func TestClassify(t *testing.T) {
	timeout := &osb.TransportError{Failure: osb.FailureTimeout, Err: errors.New("deadline")}
	for _, tc := range []struct {
		name string
		op   osb.Operation
		err  error
		want Failure
	}{
		{"a 400 to a provision is refused", osb.OpProvision, status(400, ""), Refused},
		{"a 409 to a provision is refused: the broker holds something else", osb.OpProvision, status(409, ""), Refused},
		{"a 409 to an update is retried: OSB has no 409 for updates", osb.OpUpdate, status(409, ""), Retry},
		{"a ConcurrencyError is retried", osb.OpBind, status(422, osb.ErrorCodeConcurrencyError), Retry},
		{"AsyncRequired is refused", osb.OpBind, status(422, osb.ErrorCodeAsyncRequired), Refused},
		{"MaintenanceInfoConflict is refused", osb.OpUpdate, status(422, osb.ErrorCodeMaintenanceInfoConflict), Refused},
		{"a 500 to a provision is mitigated", osb.OpProvision, status(500, ""), Mitigate},
		{"a 500 to an update is retried: updates never mitigate", osb.OpUpdate, status(500, ""), Retry},
		{"a timed out bind is mitigated", osb.OpBind, timeout, Mitigate},
		{"a 401 is retried: the credentials may be fixed", osb.OpProvision, status(401, ""), Retry},
		{"a 410 to an unbind is gone", osb.OpUnbind, status(410, ""), Gone},
		{"a 400 to a deprovision is retried: a delete is sent until it succeeds", osb.OpDeprovision, status(400, ""), Retry},
		{"a 500 to a deprovision is retried", osb.OpDeprovision, status(500, ""), Retry},
	} {
		if got := Classify(tc.op, tc.err); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestStarted(t *testing.T) {
	then := metav1.NewTime(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	now := metav1.NewTime(then.Add(time.Hour))
	for _, tc := range []struct {
		name       string
		op         osb.Operation
		recorded   *metav1.Time
		mitigating bool
		want       metav1.Time
	}{
		{"a first provision starts now", osb.OpProvision, nil, false, now},
		{"a provision sent again keeps its start", osb.OpProvision, &then, false, then},
		{"a bind sent again keeps its start", osb.OpBind, &then, false, then},
		{"an unbind does not take over a bind's start", osb.OpUnbind, &then, false, now},
		{"a deprovision does not take over a provision's start", osb.OpDeprovision, &then, false, now},
		{"orphan mitigation's unbind finishes the failed bind", osb.OpUnbind, &then, true, then},
	} {
		if got := Started(tc.op, tc.recorded, tc.mitigating, now); !got.Equal(&tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestReadPollAndExpired(t *testing.T) {
	if p := ReadPoll(osb.OpUnbind, nil, status(410, ""), "binding"); p.State != osb.StateSucceeded {
		t.Errorf("410 to an unbind's poll: %+v, want succeeded", p)
	}
	if p := ReadPoll(osb.OpBind, nil, status(410, ""), "binding"); p.State != osb.StateFailed || p.Description != "the broker no longer knows the binding (HTTP 410)" {
		t.Errorf("410 to a bind's poll: %+v, want failed", p)
	}
	if p := ReadPoll(osb.OpProvision, nil, status(500, ""), "instance"); p.Err == nil || p.State != "" {
		t.Errorf("500 to a poll: %+v, want the error", p)
	}
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	max := int64(60)
	if _, expired := Expired(&max, start, start.Add(time.Minute)); expired {
		t.Error("expired at exactly maximum_polling_duration")
	}
	if d, expired := Expired(&max, start, start.Add(61*time.Second)); !expired || d != "the broker did not finish within the plan's maximum_polling_duration of 60s" {
		t.Errorf("past maximum_polling_duration: %q %v", d, expired)
	}
	if _, expired := Expired(nil, start, start.Add(time.Hour)); expired {
		t.Error("expired without a maximum_polling_duration")
	}
}
