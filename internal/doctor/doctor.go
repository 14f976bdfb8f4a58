// Package doctor diagnoses a cluster for svcat: the CRDs, the catalog
// controller, brokers, operations that do not finish, and the Kubernetes
// aggregation layer, whose front-proxy misconfiguration (the kube-apiserver's
// client certificate CN missing from --requestheader-allowed-names) makes
// every aggregated API server answer 401 without telling anyone why.
//
// The work is split so that most of it can be tested without a cluster:
// Gather reads the cluster into an Evidence value, the checks are pure
// functions from Evidence to findings, and the renderers turn a Report into
// text or JSON and an allowed-names fix into YAML for the platform.
package doctor

import (
	"slices"
	"time"
)

// Severity grades a finding.
type Severity string

const (
	OK      Severity = "ok"
	Warning Severity = "warning"
	Error   Severity = "error"
)

// Check names, in the order the report shows them.
const (
	CheckCRDs        = "crds"
	CheckController  = "controller"
	CheckBrokers     = "brokers"
	CheckOperations  = "operations"
	CheckAggregation = "aggregation"
)

// Finding is one conclusion of a check, with what it is based on and what
// to do about it.
type Finding struct {
	Check    string   `json:"check"`
	Severity Severity `json:"severity"`
	// Subject is the object the finding is about, as kind/name or
	// kind/namespace/name; empty for findings about a whole check.
	Subject string `json:"subject,omitempty"`
	// Cause is a CamelCase word for automation, set on warnings and errors.
	Cause    string   `json:"cause,omitempty"`
	Summary  string   `json:"summary"`
	Evidence []string `json:"evidence,omitempty"`
	Fix      []string `json:"fix,omitempty"`
}

// Summary counts findings by severity.
type Summary struct {
	OK       int  `json:"ok"`
	Warnings int  `json:"warnings"`
	Errors   int  `json:"errors"`
	Healthy  bool `json:"healthy"`
}

// Report is everything doctor found.
type Report struct {
	Findings []Finding `json:"findings"`
	// Fixes are ready-to-apply allowed-names fixes, one per platform
	// format, present when an allowed-names mismatch was found and the name
	// to add is known.
	Fixes   []RenderedFix `json:"fixes,omitempty"`
	Summary Summary       `json:"summary"`
}

// Options tune the checks.
type Options struct {
	// StuckAfter is how long an operation may run before it counts as
	// stuck.
	StuckAfter time.Duration
	// LeaseSlack is how far past its lease duration a lease may be renewed
	// before the controller counts as gone: renewals are not instant on a
	// loaded API server.
	LeaseSlack time.Duration
	// Fix describes where the kube-apiserver runs, for the rendered
	// allowed-names fixes; AllowedNames from the cluster are filled in by
	// Diagnose.
	Fix FixParams
}

// DefaultOptions are the command's defaults.
func DefaultOptions() Options {
	return Options{StuckAfter: 30 * time.Minute, LeaseSlack: 10 * time.Second}
}

// Diagnose runs every check on the evidence. checks limits the report to
// the named checks; none means all.
func Diagnose(ev *Evidence, opts Options, checks ...string) *Report {
	want := func(name string) bool { return len(checks) == 0 || slices.Contains(checks, name) }
	r := &Report{}
	crdsOK := true
	if want(CheckCRDs) || want(CheckBrokers) || want(CheckOperations) {
		fs := CheckCRDsFindings(ev.CRDs)
		crdsOK = worst(fs) != Error
		if want(CheckCRDs) {
			r.Findings = append(r.Findings, fs...)
		}
	}
	if want(CheckController) {
		r.Findings = append(r.Findings, CheckControllerFindings(ev.Controller, ev.Now, opts.LeaseSlack)...)
	}
	// Without the CRDs there are no brokers or operations to read, and the
	// CRD finding already says what to do.
	if want(CheckBrokers) && crdsOK {
		r.Findings = append(r.Findings, CheckBrokersFindings(ev.Brokers)...)
	}
	if want(CheckOperations) && crdsOK {
		r.Findings = append(r.Findings, CheckOperationsFindings(ev.Operations, ev.Now, opts.StuckAfter)...)
	}
	if want(CheckAggregation) {
		fs, m := CheckAggregationFindings(ev.Aggregation, ev.Now)
		r.Findings = append(r.Findings, fs...)
		var ferr error
		if r.Fixes, ferr = aggregationFixes(m, opts.Fix); ferr != nil {
			r.Findings = append(r.Findings, Finding{Check: CheckAggregation, Severity: Warning, Cause: "CannotRenderFix",
				Summary: "cannot print the allowed-names fixes: " + ferr.Error(),
				Fix:     []string{"add the certificate's CN to --requestheader-allowed-names by hand"}})
		}
	}
	r.Summary = summarize(r.Findings)
	return r
}

// aggregationFixes renders the allowed-names fixes when the name to add is
// known: the front-proxy certificate's CN when doctor read it, else the
// --allowed-name the user gave. Nothing is rendered when no backend rejects
// the kube-apiserver and no mismatch was found.
func aggregationFixes(m *Mismatch, p FixParams) ([]RenderedFix, error) {
	if m == nil {
		return nil, nil
	}
	p.Current = m.Current
	if m.CN != "" {
		p.Add = []string{m.CN}
	}
	if len(p.Add) == 0 {
		return nil, nil
	}
	return RenderAllFixes(p)
}

func summarize(fs []Finding) Summary {
	var s Summary
	for _, f := range fs {
		switch f.Severity {
		case OK:
			s.OK++
		case Warning:
			s.Warnings++
		case Error:
			s.Errors++
		}
	}
	s.Healthy = s.Errors == 0
	return s
}

// worst is the most severe finding's severity.
func worst(fs []Finding) Severity {
	w := OK
	for _, f := range fs {
		switch {
		case f.Severity == Error:
			return Error
		case f.Severity == Warning:
			w = Warning
		}
	}
	return w
}
