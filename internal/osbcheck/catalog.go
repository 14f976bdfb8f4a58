package osbcheck

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"

	"github.com/svcat-io/svcat/internal/osb"
	"github.com/svcat-io/svcat/internal/planschema"
)

var (
	semver  = regexp.MustCompile(`^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?(\+[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?$`)
	cliName = regexp.MustCompile(`^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$`)
)

// fetchCatalog reads the catalog and runs the catalog checks; the decoded
// services are nil when the catalog is unusable.
func (r *runner) fetchCatalog(ctx context.Context) []osb.Service {
	resp, err := r.send(ctx, request{method: http.MethodGet, path: "/v2/catalog"})
	if err != nil {
		r.fail("catalog.fetch", "", err.Error())
		return nil
	}
	var raw struct {
		Services []map[string]any `json:"services"`
	}
	var cat struct {
		Services []osb.Service `json:"services"`
	}
	dec := json.NewDecoder(bytes.NewReader(resp.body))
	dec.UseNumber()
	switch {
	case resp.status != http.StatusOK:
		r.fail("catalog.fetch", "", resp.String())
		return nil
	case dec.Decode(&raw) != nil || raw.Services == nil:
		r.fail("catalog.fetch", "", "the body is not a JSON object with a services array: "+resp.String())
		return nil
	}
	r.pass("catalog.fetch", "")
	r.verdict("catalog.field-types", "", fieldTypeProblems(raw.Services))
	if err := json.Unmarshal(resp.body, &cat); err != nil {
		// Types are wrong somewhere (reported above); the lifecycle cannot
		// trust anything in it.
		return nil
	}
	r.verdict("catalog.required-fields", "", requiredFieldProblems(raw.Services))
	r.verdict("catalog.unique-ids", "", uniqueIDProblems(cat.Services))
	names, cli := nameProblems(cat.Services)
	r.verdict("catalog.unique-names", "", names)
	r.verdict("catalog.cli-names", "", cli)
	r.verdict("catalog.schemas", "", schemaProblems(raw.Services))
	mi, mpd := planFieldProblems(raw.Services)
	r.verdict("catalog.maintenance-info", "", mi)
	r.verdict("catalog.maximum-polling-duration", "", mpd)
	return cat.Services
}

func plansOf(s map[string]any) []map[string]any {
	list, _ := s["plans"].([]any)
	var out []map[string]any
	for _, p := range list {
		if m, ok := p.(map[string]any); ok {
			out = append(out, m)
		}
	}
	return out
}

func where(s map[string]any, p map[string]any) string {
	w := fmt.Sprintf("service %v", s["id"])
	if p != nil {
		w += fmt.Sprintf(" plan %v", p["id"])
	}
	return w
}

func requiredFieldProblems(services []map[string]any) []string {
	var out []string
	need := func(m map[string]any, w string, fields ...string) {
		for _, f := range fields {
			if s, ok := m[f].(string); !ok || s == "" {
				out = append(out, fmt.Sprintf("%s: %s is missing or empty", w, f))
			}
		}
	}
	for _, s := range services {
		need(s, where(s, nil), "id", "name", "description")
		if _, ok := s["bindable"]; !ok {
			out = append(out, where(s, nil)+": bindable is missing")
		}
		if len(plansOf(s)) == 0 {
			out = append(out, where(s, nil)+": plans is missing or empty")
		}
		for _, p := range plansOf(s) {
			need(p, where(s, p), "id", "name", "description")
		}
	}
	return out
}

func fieldTypeProblems(services []map[string]any) []string {
	var out []string
	bools := func(m map[string]any, w string, fields ...string) {
		for _, f := range fields {
			if v, ok := m[f]; ok {
				if _, isBool := v.(bool); !isBool {
					out = append(out, fmt.Sprintf("%s: %s is %s, not a boolean", w, f, jsonType(v)))
				}
			}
		}
	}
	strs := func(m map[string]any, w string, fields ...string) {
		for _, f := range fields {
			if v, ok := m[f]; ok {
				if _, isStr := v.(string); !isStr {
					out = append(out, fmt.Sprintf("%s: %s is %s, not a string", w, f, jsonType(v)))
				}
			}
		}
	}
	for _, s := range services {
		bools(s, where(s, nil), "bindable", "plan_updateable", "instances_retrievable", "bindings_retrievable", "allow_context_updates")
		strs(s, where(s, nil), "id", "name", "description")
		if _, ok := s["plans"].([]any); !ok {
			out = append(out, where(s, nil)+": plans is not an array")
		}
		for _, p := range plansOf(s) {
			bools(p, where(s, p), "free", "bindable", "plan_updateable", "binding_rotatable")
			strs(p, where(s, p), "id", "name", "description")
		}
	}
	return out
}

func jsonType(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case json.Number, float64:
		return "a number"
	case bool:
		return "a boolean"
	case []any:
		return "an array"
	}
	return "an object"
}

func uniqueIDProblems(services []osb.Service) []string {
	var out []string
	seen := map[string]string{}
	add := func(id, what string) {
		if prev, dup := seen[id]; dup && id != "" {
			out = append(out, fmt.Sprintf("ID %q is used by %s and by %s", id, prev, what))
		}
		seen[id] = what
	}
	for _, s := range services {
		add(s.ID, "service "+s.Name)
		for _, p := range s.Plans {
			add(p.ID, "plan "+s.Name+"/"+p.Name)
		}
	}
	return out
}

func nameProblems(services []osb.Service) (unique, cli []string) {
	svcNames := map[string]bool{}
	for _, s := range services {
		if svcNames[s.Name] {
			unique = append(unique, fmt.Sprintf("service name %q is used twice", s.Name))
		}
		svcNames[s.Name] = true
		if !cliName.MatchString(s.Name) {
			cli = append(cli, fmt.Sprintf("service name %q", s.Name))
		}
		planNames := map[string]bool{}
		for _, p := range s.Plans {
			if planNames[p.Name] {
				unique = append(unique, fmt.Sprintf("plan name %q is used twice in service %q", p.Name, s.Name))
			}
			planNames[p.Name] = true
			if !cliName.MatchString(p.Name) {
				cli = append(cli, fmt.Sprintf("plan name %q of service %q", p.Name, s.Name))
			}
		}
	}
	return unique, cli
}

// schemaProblems compiles every parameters schema; references are resolved
// only inside the document, never fetched.
func schemaProblems(services []map[string]any) []string {
	var out []string
	for _, s := range services {
		for _, p := range plansOf(s) {
			schemas, ok := p["schemas"].(map[string]any)
			if !ok {
				if _, present := p["schemas"]; present {
					out = append(out, where(s, p)+": schemas is not an object")
				}
				continue
			}
			for _, path := range [][]string{{"service_instance", "create"}, {"service_instance", "update"}, {"service_binding", "create"}} {
				doc, found := dig(schemas, append(path, "parameters")...)
				if !found {
					continue
				}
				if err := compileSchema(doc); err != nil {
					out = append(out, fmt.Sprintf("%s: schemas.%s.parameters: %s", where(s, p), strings.Join(path, "."), truncate(err.Error(), 300)))
				}
			}
		}
	}
	return out
}

func dig(m map[string]any, path ...string) (any, bool) {
	var cur any = m
	for _, k := range path {
		mm, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = mm[k]; !ok {
			return nil, false
		}
	}
	return cur, true
}

// compileSchema applies the controller's own rules (internal/planschema):
// a schema the checker accepts is one the controller can use.
func compileSchema(doc any) error {
	b, err := json.Marshal(doc)
	if err != nil {
		return err
	}
	_, err = planschema.Compile(b)
	return err
}

func planFieldProblems(services []map[string]any) (maintenance, polling []string) {
	for _, s := range services {
		for _, p := range plansOf(s) {
			if v, ok := p["maintenance_info"]; ok {
				mi, isObj := v.(map[string]any)
				ver, _ := mi["version"].(string)
				if !isObj || !semver.MatchString(ver) {
					maintenance = append(maintenance, fmt.Sprintf("%s: maintenance_info.version %v is not a Semantic Version 2.0", where(s, p), mi["version"]))
				}
			}
			if v, ok := p["maximum_polling_duration"]; ok {
				n, isNum := v.(json.Number)
				i, err := n.Int64()
				if !isNum || err != nil || i <= 0 {
					polling = append(polling, fmt.Sprintf("%s: maximum_polling_duration %v is not a positive integer", where(s, p), v))
				}
			}
		}
	}
	return maintenance, polling
}
