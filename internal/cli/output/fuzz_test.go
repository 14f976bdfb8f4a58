package output

import (
	"strings"
	"testing"
)

// FuzzWrap: wrapping keeps every word in order, and only a word longer than
// the limit makes a line longer than the limit.
func FuzzWrap(f *testing.F) {
	f.Add("Another sample plan description that's really really really really, kinda, wide", 30)
	f.Add("開発用 の プラン です", 5)
	f.Add("", 1)
	f.Fuzz(func(t *testing.T, text string, limit int) {
		if limit < 1 || limit > 200 {
			t.Skip()
		}
		lines := Wrap(text, limit)
		if got, want := strings.Join(lines, " "), strings.Join(strings.Fields(text), " "); got != want {
			t.Fatalf("words changed: %q -> %q", want, got)
		}
		for _, l := range lines {
			if textWidth(l) > limit && len(strings.Fields(l)) > 1 {
				t.Fatalf("line %q is wider than %d", l, limit)
			}
		}
	})
}
