// Package resolve finds the class and plan a person names, and when the name
// matches nothing says which names come close and which exist.
package resolve

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/svcat-io/svcat/internal/cli/apiview"
)

// NotFoundError is a class or plan name that matched nothing.
type NotFoundError struct {
	// Kind is "class" or "plan".
	Kind string
	Name string
	// Within names the class, for plans.
	Within      string
	Suggestions []string
	Available   []string
}

func (e *NotFoundError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %q not found", e.Kind, e.Name)
	if e.Within != "" {
		fmt.Fprintf(&b, " in class %q", e.Within)
	}
	if len(e.Suggestions) > 0 {
		fmt.Fprintf(&b, "\nDid you mean: %s?", strings.Join(e.Suggestions, ", "))
	}
	if len(e.Available) == 0 {
		switch e.Kind {
		case "class":
			b.WriteString("\nNo classes are available: register a broker (svcat register) and check it with svcat get brokers.")
		case "plan":
			b.WriteString("\nThere are no plans.")
		default:
			fmt.Fprintf(&b, "\nThere are no %s.", plural(e.Kind))
		}
	} else {
		fmt.Fprintf(&b, "\nAvailable %s: %s", plural(e.Kind), strings.Join(e.Available, ", "))
	}
	return b.String()
}

func plural(kind string) string {
	if strings.HasSuffix(kind, "s") {
		return kind + "es"
	}
	return kind + "s"
}

// AmbiguousError is a name that matches several objects.
type AmbiguousError struct {
	Kind    string
	Name    string
	Matches []string
}

func (e *AmbiguousError) Error() string {
	return fmt.Sprintf("%s %q is ambiguous, it matches: %s\nNarrow it down with --scope or use the Kubernetes name with --kube-name",
		e.Kind, e.Name, strings.Join(e.Matches, ", "))
}

// Suggest returns the candidates close to name, best first: those that
// differ by a few edits (a typo), and those that contain it or that it
// contains (a partial name), ignoring case.
func Suggest(name string, candidates []string) []string {
	type scored struct {
		s    string
		dist int
	}
	lname := strings.ToLower(name)
	limit := max(2, len([]rune(name))/3)
	var out []scored
	seen := map[string]bool{}
	for _, c := range candidates {
		if seen[c] || c == name {
			continue
		}
		seen[c] = true
		lc := strings.ToLower(c)
		d := distance(lname, lc)
		switch {
		case d <= limit:
		case lname != "" && (strings.Contains(lc, lname) || strings.Contains(lname, lc)):
			d = limit + 1
		default:
			continue
		}
		out = append(out, scored{c, d})
	}
	slices.SortStableFunc(out, func(a, b scored) int { return cmp.Or(cmp.Compare(a.dist, b.dist), cmp.Compare(a.s, b.s)) })
	names := make([]string, 0, min(len(out), 5))
	for _, s := range out[:min(len(out), 5)] {
		names = append(names, s.s)
	}
	return names
}

// distance is the Damerau-Levenshtein (optimal string alignment) distance:
// a swapped pair of letters, the commonest typo, counts as one edit.
func distance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev2 := make([]int, len(rb)+1)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(rb)]
}

// Class finds the class named name among classes: by external name, or by
// Kubernetes name when kubeName is set.
func Class(classes []apiview.Class, name string, kubeName bool) (apiview.Class, error) {
	key := func(c apiview.Class) string {
		if kubeName {
			return c.Name
		}
		return c.Spec.ExternalName
	}
	var matches []apiview.Class
	var names []string
	for _, c := range classes {
		if key(c) == name {
			matches = append(matches, c)
		}
		names = append(names, key(c))
	}
	switch len(matches) {
	case 1:
		return matches[0], nil
	case 0:
		return apiview.Class{}, &NotFoundError{Kind: "class", Name: name, Suggestions: Suggest(name, names), Available: unique(names)}
	}
	desc := make([]string, len(matches))
	for i, c := range matches {
		desc[i] = describeClass(c)
	}
	return apiview.Class{}, &AmbiguousError{Kind: "class", Name: name, Matches: desc}
}

func describeClass(c apiview.Class) string {
	if c.Namespace != "" {
		return fmt.Sprintf("ServiceClass %s/%s (broker %s)", c.Namespace, c.Name, c.Broker)
	}
	return fmt.Sprintf("ClusterServiceClass %s (broker %s)", c.Name, c.Broker)
}

// Plan finds the plan named name among the plans of class.
func Plan(plans []apiview.Plan, class apiview.Class, name string, kubeName bool) (apiview.Plan, error) {
	var names []string
	for _, p := range plans {
		if !p.BelongsTo(class) {
			continue
		}
		k := p.Spec.ExternalName
		if kubeName {
			k = p.Name
		}
		if k == name {
			return p, nil
		}
		names = append(names, k)
	}
	return apiview.Plan{}, &NotFoundError{Kind: "plan", Name: name, Within: class.Spec.ExternalName,
		Suggestions: Suggest(name, names), Available: unique(names)}
}

// DefaultPlan is the class's only plan, for provisioning without --plan.
func DefaultPlan(plans []apiview.Plan, class apiview.Class) (apiview.Plan, error) {
	var mine []apiview.Plan
	var names []string
	for _, p := range plans {
		if p.BelongsTo(class) {
			mine = append(mine, p)
			names = append(names, p.Spec.ExternalName)
		}
	}
	if len(mine) == 1 {
		return mine[0], nil
	}
	slices.Sort(names)
	if len(mine) == 0 {
		return apiview.Plan{}, fmt.Errorf("class %q has no plans", class.Spec.ExternalName)
	}
	return apiview.Plan{}, fmt.Errorf("class %q has %d plans, choose one with --plan: %s", class.Spec.ExternalName, len(mine), strings.Join(names, ", "))
}

func unique(names []string) []string {
	out := slices.Clone(names)
	slices.Sort(out)
	return slices.Compact(out)
}
