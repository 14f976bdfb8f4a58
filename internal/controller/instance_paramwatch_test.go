package controller

import (
	"strings"
	"testing"

	"github.com/svcat-io/svcat/internal/controller/paramwatch"
)

// The message names the unwatched Secrets (a few of them), the limit with
// its value and flag, and how to send their values now.
func TestUnwatchedMessage(t *testing.T) {
	for _, tt := range []struct {
		name    string
		u       paramwatch.Unwatched
		want    []string
		notWant []string
	}{
		{"namespace limit", paramwatch.Unwatched{Names: []string{"db-params"}, Limit: paramwatch.PerNamespaceLimit, Max: 5},
			[]string{`1 Secret(s) named in spec.parametersFrom are not watched ("db-params")`, `namespace "team-a" already has 5 parameter Secrets watched`,
				"--parameter-secret-watches-per-namespace", "svcat touch instance db"}, nil},
		{"total limit", paramwatch.Unwatched{Names: []string{"a", "b"}, Limit: paramwatch.TotalLimit, Max: 5000, Held: 3},
			[]string{`("a", "b")`, "the controller already watches 5000 parameter Secrets", "--parameter-secret-watches)",
				`namespace "team-a" has 3 of them, and no namespace has more than one more`}, []string{"per-namespace"}},
		{"many names", paramwatch.Unwatched{Names: []string{"s1", "s2", "s3", "s4", "s5", "s6", "s7"}, Limit: paramwatch.PerNamespaceLimit, Max: 5},
			[]string{`7 Secret(s)`, `("s1", "s2", "s3", "s4", "s5" and 2 more)`}, []string{"s6"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			msg := unwatchedMessage("team-a", "db", tt.u)
			for _, w := range tt.want {
				if !strings.Contains(msg, w) {
					t.Errorf("message %q does not say %q", msg, w)
				}
			}
			for _, w := range tt.notWant {
				if strings.Contains(msg, w) {
					t.Errorf("message %q says %q", msg, w)
				}
			}
		})
	}
}
