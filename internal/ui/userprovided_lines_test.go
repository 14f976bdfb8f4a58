package ui

import (
	"reflect"
	"testing"
)

// The credentials box: browsers send CRLF line ends; blank lines are left
// out, and a value keeps its spaces, which may be part of it.
func TestCredentialLines(t *testing.T) {
	for _, tc := range []struct {
		text string
		want []string
	}{
		{"", nil},
		{"\r\n  \n", nil},
		{"a=1\r\nb=2\r\n", []string{"a=1", "b=2"}},
		{"a=1\n\nb= two words \n", []string{"a=1", "b= two words "}},
		{"no-equals", []string{"no-equals"}},
	} {
		if got := credentialLines(tc.text); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("credentialLines(%q) = %q, want %q", tc.text, got, tc.want)
		}
	}
}
