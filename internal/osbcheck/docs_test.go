package osbcheck_test

import (
	"os"
	"strings"
	"testing"

	"github.com/svcat-io/svcat/internal/osbcheck"
)

// TestDocsListEveryCheck keeps docs/broker-check.md's table in step with
// the checks: each row as the check itself says it.
func TestDocsListEveryCheck(t *testing.T) {
	doc, err := os.ReadFile("../../docs/broker-check.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range osbcheck.Checks {
		row := "| `" + c.ID + "` | " + string(c.Force) + " | " + c.Section + " | " + c.Sends + " | " + c.Expects + " |"
		if !strings.Contains(string(doc), row) {
			t.Errorf("docs/broker-check.md lacks the row\n%s", row)
		}
	}
}
