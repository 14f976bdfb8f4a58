package osbcheck

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"strings"
)

// Status is the outcome of one check on one plan.
type Status string

const (
	Pass Status = "pass"
	Fail Status = "fail"
	Skip Status = "skip"
)

// Result is one evaluation of a check; Plan is empty for checks of the
// broker as a whole.
type Result struct {
	Check
	Plan   string `json:"plan,omitempty"`
	Status Status `json:"status"`
	Detail string `json:"detail,omitempty"`
}

// Leftover is something the checker created and could not remove.
type Leftover struct {
	Kind       string `json:"kind"` // instance or binding
	InstanceID string `json:"instanceID"`
	BindingID  string `json:"bindingID,omitempty"`
	ServiceID  string `json:"serviceID"`
	PlanID     string `json:"planID"`
	Error      string `json:"error"`
}

// Report is what a run found.
type Report struct {
	URL        string     `json:"url"`
	APIVersion string     `json:"apiVersion"`
	Plans      []string   `json:"plans"`
	Results    []Result   `json:"results"`
	Leftovers  []Leftover `json:"leftovers,omitempty"`
	// Aborted says why the run stopped early, e.g. the context ended.
	Aborted string `json:"aborted,omitempty"`
}

// Failures lists the failed evaluations of checks of force f.
func (r *Report) Failures(f Force) []Result {
	var out []Result
	for _, res := range r.Results {
		if res.Status == Fail && res.Force == f {
			out = append(out, res)
		}
	}
	return out
}

// Failed reports whether any MUST check failed, or the run could not finish
// or clean up: all three leave the broker's conformance unproven.
func (r *Report) Failed() bool {
	return len(r.Failures(Must)) > 0 || r.Aborted != "" || len(r.Leftovers) > 0
}

// FailedIDs returns the IDs of the checks that failed at least once.
func (r *Report) FailedIDs() []string {
	seen := map[string]bool{}
	var out []string
	for _, res := range r.Results {
		if res.Status == Fail && !seen[res.ID] {
			seen[res.ID] = true
			out = append(out, res.ID)
		}
	}
	return out
}

// WriteText writes the readable report: failures first, then a summary.
func (r *Report) WriteText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "Broker %s, OSB API %s, plans: %s\n\n", r.URL, r.APIVersion, strings.Join(r.Plans, ", "))
	counts := map[Status]int{}
	for _, res := range r.Results {
		counts[res.Status]++
		mark := map[Status]string{Pass: "PASS", Fail: "FAIL", Skip: "SKIP"}[res.Status]
		if res.Status == Fail && res.Force != Must {
			mark = "WARN"
		}
		fmt.Fprintf(&b, "%-4s %-6s %-34s %s", mark, res.Force, res.ID, res.Section)
		if res.Plan != "" {
			fmt.Fprintf(&b, " [plan %s]", res.Plan)
		}
		b.WriteString("\n")
		switch {
		case res.Status == Fail:
			fmt.Fprintf(&b, "                 expected: %s\n                 got: %s\n", res.Expects, res.Detail)
		case res.Status == Skip:
			fmt.Fprintf(&b, "                 skipped: %s\n", res.Detail)
		}
	}
	for _, l := range r.Leftovers {
		fmt.Fprintf(&b, "\nNOT REMOVED %s instance=%s binding=%s service=%s plan=%s: %s", l.Kind, l.InstanceID, l.BindingID, l.ServiceID, l.PlanID, l.Error)
	}
	if r.Aborted != "" {
		fmt.Fprintf(&b, "\nABORTED: %s", r.Aborted)
	}
	fmt.Fprintf(&b, "\n%d passed, %d MUST failures, %d SHOULD warnings, %d skipped\n",
		counts[Pass], len(r.Failures(Must)), len(r.Failures(Should))+len(r.Failures(May)), counts[Skip])
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteJSON writes the report as one JSON object.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

type junitSuite struct {
	XMLName  xml.Name    `xml:"testsuite"`
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Skipped  int         `xml:"skipped,attr"`
	Cases    []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Failure   *junitFailure `xml:"failure,omitempty"`
	Skipped   *junitFailure `xml:"skipped,omitempty"`
	SystemOut string        `xml:"system-out,omitempty"`
}

type junitFailure struct {
	Message string `xml:"message,attr"`
	Text    string `xml:",chardata"`
}

// WriteJUnit writes the report as a JUnit test suite. Only MUST failures
// are failures; SHOULD failures are passes with the warning in system-out,
// so CI fails exactly when the command does.
func (r *Report) WriteJUnit(w io.Writer) error {
	s := junitSuite{Name: "osb-check " + r.URL}
	for _, res := range r.Results {
		c := junitCase{Name: res.ID, Classname: "osb." + strings.ReplaceAll(res.Section, " ", "_")}
		if res.Plan != "" {
			c.Name += " [plan " + res.Plan + "]"
		}
		switch {
		case res.Status == Fail && res.Force == Must:
			c.Failure = &junitFailure{Message: "MUST: " + res.Expects, Text: res.Detail}
			s.Failures++
		case res.Status == Fail:
			c.SystemOut = "WARNING (" + string(res.Force) + "): expected " + res.Expects + "; got " + res.Detail
		case res.Status == Skip:
			c.Skipped = &junitFailure{Message: res.Detail}
			s.Skipped++
		}
		s.Cases = append(s.Cases, c)
	}
	for _, l := range r.Leftovers {
		s.Cases = append(s.Cases, junitCase{Name: "cleanup " + l.Kind + " " + l.InstanceID + " " + l.BindingID, Classname: "osb.cleanup",
			Failure: &junitFailure{Message: "not removed", Text: l.Error}})
		s.Failures++
	}
	s.Tests = len(s.Cases)
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(s); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}
