package originid

import (
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/svcat-io/svcat/internal/osb"
)

func TestTrusted(t *testing.T) {
	since := time.Date(2026, 12, 6, 5, 0, 0, 0, time.UTC)
	before, same, after := metav1.NewTime(since.Add(-time.Hour)), metav1.NewTime(since), metav1.NewTime(since.Add(time.Second))
	verified := &Gate{Mode: Auto}
	verified.since.Store(&since)
	tests := []struct {
		name    string
		g       *Gate
		created metav1.Time
		want    bool
	}{
		{"no gate", nil, after, false},
		{"none", &Gate{Mode: None}, after, false},
		{"admission-policy", &Gate{Mode: AdmissionPolicy}, before, true},
		{"auto, not probed yet", &Gate{Mode: Auto}, after, false},
		{"auto, created after the policy was seen", verified, after, true},
		{"auto, created in the marker's second", verified, same, false},
		{"auto, stored before the policy", verified, before, false},
	}
	u := &osb.UserInfo{Username: "jane"}
	for _, tt := range tests {
		if got := tt.g.User(u, tt.created) != nil; got != tt.want {
			t.Errorf("%s: sent = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestParseMode(t *testing.T) {
	for _, s := range []string{"auto", "admission-policy", "none"} {
		if m, err := ParseMode(s); err != nil || string(m) != s {
			t.Errorf("ParseMode(%q) = %q, %v", s, m, err)
		}
	}
	if _, err := ParseMode("webhook"); err == nil {
		t.Error("ParseMode accepts webhook")
	}
}
