package osb

import (
	"testing"
	"time"
)

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 2, 15, 4, 5, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Duration
	}{
		{"", 0},
		{"0", 0},
		{"-3", 0},
		{" 12 ", 12 * time.Second},
		{"Fri, 02 Jan 2026 15:04:35 GMT", 30 * time.Second},
		{"Friday, 02-Jan-26 15:05:05 GMT", time.Minute},
		{"Fri Jan  2 15:04:15 2026", 10 * time.Second},
		{"Fri, 02 Jan 2026 15:00:00 GMT", 0},
		{"99999999999", maxRetryAfter},
		{"Sat, 02 Jan 2027 15:04:05 GMT", maxRetryAfter},
		{"1.5", 0},
		{"later", 0},
	}
	for _, tt := range tests {
		if got := parseRetryAfter(tt.in, now); got != tt.want {
			t.Errorf("parseRetryAfter(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func FuzzParseRetryAfter(f *testing.F) {
	f.Add("120")
	f.Add("Fri, 02 Jan 2026 15:04:35 GMT")
	now := time.Now()
	f.Fuzz(func(t *testing.T, s string) {
		if d := parseRetryAfter(s, now); d < 0 || d > maxRetryAfter {
			t.Fatalf("parseRetryAfter(%q) = %v out of range", s, d)
		}
	})
}
