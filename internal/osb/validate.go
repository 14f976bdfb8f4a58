package osb

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/svcat-io/svcat/internal/brokertext"
)

// InvalidCatalogError lists what makes a catalog break the spec, so a
// broker's status can tell its owner exactly what to fix.
type InvalidCatalogError struct {
	Problems []string
}

// maxProblemsShown keeps a badly broken catalog from producing a condition
// message of unbounded length.
const maxProblemsShown = 10

// maxNameShown bounds each name or value of the catalog a problem quotes.
const maxNameShown = 64

func (e *InvalidCatalogError) Error() string {
	shown := e.Problems
	more := ""
	if len(shown) > maxProblemsShown {
		shown = shown[:maxProblemsShown]
		more = fmt.Sprintf("; and %d more", len(e.Problems)-maxProblemsShown)
	}
	return "invalid catalog: " + strings.Join(shown, "; ") + more
}

// IsSemver reports whether v is a Semantic Version 2.0.0, as OSB requires
// of maintenance_info.version.
func IsSemver(v string) bool { return semver.MatchString(v) }

// MaxMaintenanceVersion bounds maintenance_info.version: the cluster
// stores it in plans and instances.
const MaxMaintenanceVersion = 256

// semver is the Semantic Versioning 2.0.0 grammar the spec requires for
// maintenance_info.version.
var semver = regexp.MustCompile(`^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)` +
	`(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?` +
	`(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$`)

var validRequires = map[string]bool{"syslog_drain": true, "route_forwarding": true, "volume_mount": true}

// Validate checks the rules of the spec that a platform relies on: required
// fields, unique IDs and names, at least one plan per service, known
// "requires" values, semver maintenance_info and a positive
// maximum_polling_duration. It returns nil or an *InvalidCatalogError.
// JSON Schemas in plans are left to the caller, which needs a schema
// library to judge them.
func (c *CatalogResponse) Validate() error {
	var problems []string
	add := func(where, format string, args ...any) {
		problems = append(problems, where+": "+fmt.Sprintf(format, args...))
	}
	serviceIDs, serviceNames, planIDs := map[string]bool{}, map[string]bool{}, map[string]bool{}
	for i := range c.Services {
		s := &c.Services[i]
		where := fmt.Sprintf("services[%d]", i)
		if s.Name != "" {
			where += " (" + brokertext.Clean(s.Name, maxNameShown) + ")"
		}
		requireFields(add, where, map[string]string{"id": s.ID, "name": s.Name, "description": s.Description})
		unique(add, where, "id", s.ID, serviceIDs)
		unique(add, where, "name", s.Name, serviceNames)
		for _, r := range s.Requires {
			if !validRequires[r] {
				add(where, "unknown requires value %q", brokertext.Clean(r, maxNameShown))
			}
		}
		if len(s.Plans) == 0 {
			add(where, "has no plans")
		}
		planNames := map[string]bool{}
		for j := range s.Plans {
			validatePlan(add, fmt.Sprintf("%s plans[%d]", where, j), &s.Plans[j], planIDs, planNames)
		}
	}
	if problems != nil {
		return &InvalidCatalogError{Problems: problems}
	}
	return nil
}

type addFunc func(where, format string, args ...any)

func validatePlan(add addFunc, where string, p *Plan, ids, names map[string]bool) {
	if p.Name != "" {
		where += " (" + brokertext.Clean(p.Name, maxNameShown) + ")"
	}
	requireFields(add, where, map[string]string{"id": p.ID, "name": p.Name, "description": p.Description})
	// Plan IDs are the identity across the whole broker, names only within
	// their service.
	unique(add, where, "id", p.ID, ids)
	unique(add, where, "name", p.Name, names)
	if p.MaintenanceInfo != nil && len(p.MaintenanceInfo.Version) > MaxMaintenanceVersion {
		add(where, "maintenance_info.version is %d bytes, more than the %d allowed", len(p.MaintenanceInfo.Version), MaxMaintenanceVersion)
	} else if p.MaintenanceInfo != nil && !semver.MatchString(p.MaintenanceInfo.Version) {
		add(where, "maintenance_info.version %q is not semver", brokertext.Clean(p.MaintenanceInfo.Version, maxNameShown))
	}
	if p.MaximumPollingDuration != nil && *p.MaximumPollingDuration <= 0 {
		add(where, "maximum_polling_duration must be positive")
	}
}

func requireFields(add addFunc, where string, fields map[string]string) {
	for _, name := range []string{"id", "name", "description"} {
		if strings.TrimSpace(fields[name]) == "" {
			add(where, "%s is empty", name)
		}
	}
}

func unique(add addFunc, where, field, value string, seen map[string]bool) {
	if value == "" {
		return
	}
	if seen[value] {
		add(where, "duplicate %s %q", field, brokertext.Clean(value, maxNameShown))
	}
	seen[value] = true
}
