package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// Usage errors exit 2 without starting anything.
func TestUsage(t *testing.T) {
	for _, args := range [][]string{
		nil,
		{"dance"},
		{"demo", "--no-such-flag"},
		{"demo-cluster", "--no-such-flag"},
		{"demo-cluster", "extra"},
		{"mount-secret", "no-slash", "dir"},
		{"mount-secret", "ns/name"},
	} {
		var out, errOut bytes.Buffer
		if code := run(context.Background(), args, &out, &errOut); code != 2 {
			t.Errorf("%q: exit %d, want 2", args, code)
		}
		if !strings.Contains(errOut.String(), "usage") && !strings.Contains(errOut.String(), "flag provided but not defined") {
			t.Errorf("%q: stderr %q", args, errOut.String())
		}
	}
}

func TestLastLines(t *testing.T) {
	if got := lastLines("a\nb\nc\n", 2); got != "b\nc\n" {
		t.Errorf("%q", got)
	}
	if got := lastLines("a\n", 5); got != "a\n" {
		t.Errorf("%q", got)
	}
}
