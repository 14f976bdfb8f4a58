package params

import (
	"strings"
	"testing"
)

// FuzzParseSecretRefs: whatever is accepted names a non-empty secret and
// key, trimmed and free of brackets.
func FuzzParseSecretRefs(f *testing.F) {
	for _, s := range []string{"creds[params]", "a[b]", "[x]", "a[]", "a[b][c]", "a[b", "a [ b ]", "a][b]"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, ref string) {
		refs, err := ParseSecretRefs([]string{ref})
		if err != nil {
			return
		}
		r := refs[0].SecretKeyRef
		for _, part := range []string{r.Name, r.Key} {
			if part == "" || strings.ContainsAny(part, "[]") || strings.TrimSpace(part) != part || !strings.Contains(ref, part) {
				t.Fatalf("accepted %q as %+v", ref, r)
			}
		}
	})
}

// FuzzParseAssignments: every accepted NAME=VALUE shows up under its name.
func FuzzParseAssignments(f *testing.F) {
	f.Add("a=b", "a=c")
	f.Add("=x", "y")
	f.Fuzz(func(t *testing.T, p1, p2 string) {
		m, err := ParseAssignments([]string{p1, p2})
		if err != nil {
			return
		}
		for _, p := range []string{p1, p2} {
			name, _, _ := strings.Cut(p, "=")
			if _, ok := m[strings.TrimSpace(name)]; !ok {
				t.Fatalf("%q missing from %v", p, m)
			}
		}
	})
}
