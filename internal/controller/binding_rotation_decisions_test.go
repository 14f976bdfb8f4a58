package controller

import (
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	scv1beta1 "github.com/svcat-io/svcat/api/v1beta1"
)

// When a bound binding rotates: a new request at once, else the earlier of
// its schedule and its expiry, and never right after a failure.
func TestDecideRotation(t *testing.T) {
	t0 := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	h := time.Hour
	tests := []struct {
		name        string
		in          rotationInput
		wantTrigger scv1beta1.RotationTrigger
		wantAt      time.Time
	}{
		{"nothing asked, no policy, no expiry", rotationInput{Now: t0}, "", time.Time{}},
		{"new request", rotationInput{Now: t0, Request: "a"}, scv1beta1.RotationTriggerRequest, t0},
		{"request already honoured", rotationInput{Now: t0, Request: "a", LastRequest: "a"}, "", time.Time{}},
		{"changed request", rotationInput{Now: t0, Request: "b", LastRequest: "a"}, scv1beta1.RotationTriggerRequest, t0},
		{"schedule not due", rotationInput{Now: t0, Interval: 2 * h, Issued: t0.Add(-h)}, "", t0.Add(h)},
		{"schedule due", rotationInput{Now: t0, Interval: h, Issued: t0.Add(-h)}, scv1beta1.RotationTriggerSchedule, t0},
		{"schedule of unknown issue waits", rotationInput{Now: t0, Interval: h}, "", time.Time{}},
		{"expiry at the fraction", rotationInput{Now: t0, Issued: t0.Add(-7 * h), ExpiresAt: t0.Add(3 * h), Fraction: 0.8}, "", t0.Add(h)},
		{"expiry due", rotationInput{Now: t0.Add(h), Issued: t0.Add(-7 * h), ExpiresAt: t0.Add(3 * h), Fraction: 0.8}, scv1beta1.RotationTriggerExpiry, t0.Add(h)},
		{"renewBefore earlier wins", rotationInput{Now: t0, Issued: t0.Add(-7 * h), ExpiresAt: t0.Add(3 * h), RenewBefore: t0.Add(-time.Minute), Fraction: 0.8},
			scv1beta1.RotationTriggerExpiry, t0.Add(-time.Minute)},
		{"renewBefore later loses", rotationInput{Now: t0, Issued: t0.Add(-7 * h), ExpiresAt: t0.Add(3 * h), RenewBefore: t0.Add(2 * h), Fraction: 0.8}, "", t0.Add(h)},
		{"expiry before the schedule", rotationInput{Now: t0, Interval: 10 * h, Issued: t0, ExpiresAt: t0.Add(5 * h), Fraction: 0.8}, "", t0.Add(4 * h)},
		{"schedule before the expiry", rotationInput{Now: t0, Interval: 2 * h, Issued: t0, ExpiresAt: t0.Add(5 * h), Fraction: 0.8}, "", t0.Add(2 * h)},
		{"expiry of unknown issue: at expiry", rotationInput{Now: t0, ExpiresAt: t0.Add(5 * h), Fraction: 0.8}, "", t0.Add(5 * h)},
		{"already expired", rotationInput{Now: t0, Issued: t0.Add(-10 * h), ExpiresAt: t0.Add(-h), Fraction: 0.8}, scv1beta1.RotationTriggerExpiry, t0.Add(-10*h + 72*h/10)},
		// A broker that issues expired or second-long credentials cannot
		// drive rotations back to back.
		{"issued already expired, just rotated", rotationInput{Now: t0, Issued: t0, ExpiresAt: t0.Add(-h), Fraction: 0.8, RetryDelay: time.Minute}, "", t0.Add(time.Minute)},
		{"a two-second lifetime", rotationInput{Now: t0.Add(2 * time.Second), Issued: t0, ExpiresAt: t0.Add(2 * time.Second), Fraction: 0.8, RetryDelay: time.Minute}, "", t0.Add(time.Minute)},
		{"issued already expired, a minute on", rotationInput{Now: t0.Add(time.Minute), Issued: t0, ExpiresAt: t0.Add(-h), Fraction: 0.8, RetryDelay: time.Minute}, scv1beta1.RotationTriggerExpiry, t0.Add(time.Minute)},
		{"due but failed just now", rotationInput{Now: t0, Interval: h, Issued: t0.Add(-h), FailedAt: t0.Add(-time.Second), RetryDelay: time.Minute},
			"", t0.Add(59 * time.Second)},
		{"due, failed long ago", rotationInput{Now: t0, Interval: h, Issued: t0.Add(-h), FailedAt: t0.Add(-h), RetryDelay: time.Minute},
			scv1beta1.RotationTriggerSchedule, t0},
		{"request after a failure waits too", rotationInput{Now: t0, Request: "a", FailedAt: t0, RetryDelay: time.Minute}, "", t0.Add(time.Minute)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := decideRotation(tc.in)
			if d.Trigger != tc.wantTrigger || !d.At.Equal(tc.wantAt) {
				t.Fatalf("decideRotation = %q at %v, want %q at %v", d.Trigger, d.At, tc.wantTrigger, tc.wantAt)
			}
			if (d.Trigger == scv1beta1.RotationTriggerRequest) != (d.Request != "") {
				t.Fatalf("request %q with trigger %q", d.Request, d.Trigger)
			}
		})
	}
}

// Old bindings are unbound one at a time once their grace period ends.
func TestDueRetiring(t *testing.T) {
	t0 := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	rb := func(id string, at time.Time) scv1beta1.RetiringBinding {
		return scv1beta1.RetiringBinding{BindingID: id, UnbindAfter: metav1.NewTime(at)}
	}
	tests := []struct {
		name     string
		list     []scv1beta1.RetiringBinding
		wantDue  string
		wantNext time.Time
	}{
		{"none", nil, "", time.Time{}},
		{"not yet", []scv1beta1.RetiringBinding{rb("a", t0.Add(time.Minute))}, "", t0.Add(time.Minute)},
		{"due at the instant", []scv1beta1.RetiringBinding{rb("a", t0)}, "a", time.Time{}},
		{"first due, next later", []scv1beta1.RetiringBinding{rb("a", t0.Add(2*time.Minute)), rb("b", t0.Add(-time.Minute)), rb("c", t0.Add(time.Minute))}, "b", t0.Add(time.Minute)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			due, next := dueRetiring(tc.list, t0)
			got := ""
			if due != nil {
				got = due.BindingID
			}
			if got != tc.wantDue || !next.Equal(tc.wantNext) {
				t.Fatalf("dueRetiring = %q, next %v; want %q, next %v", got, next, tc.wantDue, tc.wantNext)
			}
		})
	}
}

// A deletion unbinds every broker binding a rotation made.
func TestRotationIDs(t *testing.T) {
	rot := &scv1beta1.ServiceBindingRotationStatus{CurrentBindingID: "cur", Pending: &scv1beta1.PendingRotation{BindingID: "new"},
		Retiring: []scv1beta1.RetiringBinding{{BindingID: "old1"}, {BindingID: "old2"}}}
	got := rotationIDs(rot)
	if len(got) != 3 || got[0] != "new" || got[1] != "old1" || got[2] != "old2" {
		t.Fatalf("rotationIDs = %v", got)
	}
	if rotationIDs(nil) != nil {
		t.Fatal("rotationIDs(nil) is not empty")
	}
}

// The broker's times are trusted only when they are RFC 3339 and near.
func TestBrokerTime(t *testing.T) {
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	for in, want := range map[string]string{
		"2030-02-01T00:00:00Z":      "2030-02-01T00:00:00Z",
		"2030-02-01T02:00:00+02:00": "2030-02-01T00:00:00Z",
		"":                          "",
		"tomorrow":                  "",
		"9999-12-31T23:59:59Z":      "",
		"1900-01-01T00:00:00Z":      "",
	} {
		got := brokerTime(in, now)
		s := ""
		if got != nil {
			s = got.UTC().Format(time.RFC3339)
		}
		if s != want {
			t.Errorf("brokerTime(%q) = %q, want %q", in, s, want)
		}
	}
}

func TestCheckRotateBeforeExpiry(t *testing.T) {
	for f, ok := range map[float64]bool{0.8: true, 0.5: true, 0: true, 1: false, 1.5: false, -0.1: false} {
		if err := CheckRotateBeforeExpiry(f); (err == nil) != ok {
			t.Errorf("CheckRotateBeforeExpiry(%v) = %v", f, err)
		}
	}
}
