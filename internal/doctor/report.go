package doctor

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"sigs.k8s.io/yaml"
)

// FixesHeader starts the fixes part of the text report. From this line on
// the report is a YAML stream, one document per fix, so that it can be cut
// out and fed to a YAML tool.
const FixesHeader = "# Fixes for the front-proxy allowed names: pick the one for your platform."

// WriteText writes the report for people: one line per finding with its
// evidence and fix below, a summary line, and the fixes as YAML.
func WriteText(w io.Writer, r *Report) error {
	var b strings.Builder
	for _, f := range r.Findings {
		fmt.Fprintf(&b, "%-9s %-12s %s\n", "["+string(f.Severity)+"]", f.Check, f.Summary)
		for _, e := range f.Evidence {
			fmt.Fprintf(&b, "%23s%s\n", "", e)
		}
		for _, x := range f.Fix {
			fmt.Fprintf(&b, "%23sfix: %s\n", "", x)
		}
	}
	b.WriteString("\n")
	b.WriteString(summaryLine(r.Summary))
	b.WriteString("\n")
	if len(r.Fixes) > 0 {
		b.WriteString("\n" + FixesHeader + "\n")
		for _, f := range r.Fixes {
			fmt.Fprintf(&b, "--- # %s: %s\n", f.Format, f.Title)
			b.WriteString(f.YAML)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func summaryLine(s Summary) string {
	line := fmt.Sprintf("%d ok, %s, %s", s.OK, plural(s.Warnings, "warning"), plural(s.Errors, "error"))
	if s.Healthy {
		return line + ": healthy"
	}
	return line + ": needs fixing"
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}

// WriteYAML writes the report as YAML, with the same fields as JSON.
func WriteYAML(w io.Writer, r *Report) error {
	var b strings.Builder
	if err := WriteJSON(&b, r); err != nil {
		return err
	}
	y, err := yaml.JSONToYAML([]byte(b.String()))
	if err != nil {
		return err
	}
	_, err = w.Write(y)
	return err
}

// WriteJSON writes the report for automation.
func WriteJSON(w io.Writer, r *Report) error {
	if r.Findings == nil {
		r.Findings = []Finding{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}
