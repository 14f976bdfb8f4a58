package catalog

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/svcat-io/svcat/internal/planschema"
)

// TopicSpec is one topic a tenant asks for. Name is relative to the tenant's
// prefix.
type TopicSpec struct {
	Name           string `json:"name"`
	Partitions     int32  `json:"partitions,omitempty"`
	RetentionHours int    `json:"retentionHours,omitempty"`
}

// InstanceParams are the parameters of provision and update.
type InstanceParams struct {
	Topics []TopicSpec `json:"topics,omitempty"`
}

// ParamError is a parameter that breaks the plan's schema. Its message names
// the parameter so the user knows what to fix.
type ParamError struct {
	Problems []string
}

func (e *ParamError) Error() string {
	return "invalid parameters: " + strings.Join(e.Problems, "; ")
}

type planSchemas struct {
	instanceDoc map[string]any
	bindingDoc  map[string]any
	instance    *planschema.Schema
	binding     *planschema.Schema
}

// TopicNamePattern is what a topic name within a tenant may look like; the
// prefix in front of it keeps tenants apart, so dots are fine here.
const TopicNamePattern = `^[a-zA-Z0-9_-][a-zA-Z0-9._-]{0,99}$`

const draft = "http://json-schema.org/draft-07/schema#"

func instanceSchema(l Limits) map[string]any {
	return map[string]any{
		"$schema":              draft,
		"type":                 "object",
		"additionalProperties": false,
		"properties": map[string]any{
			"topics": map[string]any{
				"description": "Topics to create under the instance's topic prefix.",
				"type":        "array",
				"maxItems":    l.MaxTopics,
				"items": map[string]any{
					"type":                 "object",
					"additionalProperties": false,
					"required":             []any{"name"},
					"properties": map[string]any{
						"name": map[string]any{
							"description": "Topic name after the prefix.",
							"type":        "string",
							"pattern":     TopicNamePattern,
						},
						"partitions": map[string]any{
							"description": "Number of partitions (default 1).",
							"type":        "integer",
							"minimum":     1,
							"maximum":     l.MaxPartitions,
						},
						"retentionHours": map[string]any{
							"description": "How long records are kept (default and maximum: the plan's limit).",
							"type":        "integer",
							"minimum":     1,
							"maximum":     l.MaxRetentionHours,
						},
					},
				},
			},
		},
	}
}

func bindingSchema() map[string]any {
	return map[string]any{
		"$schema":              draft,
		"type":                 "object",
		"additionalProperties": false,
		"properties":           map[string]any{},
	}
}

func compileSchemas(l Limits) (*planSchemas, error) {
	ps := &planSchemas{instanceDoc: instanceSchema(l), bindingDoc: bindingSchema()}
	var err error
	if ps.instance, err = compileDoc(ps.instanceDoc); err != nil {
		return nil, err
	}
	if ps.binding, err = compileDoc(ps.bindingDoc); err != nil {
		return nil, err
	}
	return ps, nil
}

// compileDoc compiles the document with the rules the controller applies
// to it (internal/planschema), so both read the catalog alike.
func compileDoc(doc map[string]any) (*planschema.Schema, error) {
	b, err := json.Marshal(doc)
	if err != nil {
		return nil, err
	}
	return planschema.Compile(b)
}

// InstanceParams validates provision or update parameters against the plan's
// schema and the rules a schema cannot express (unique topic names).
func (c *Catalog) InstanceParams(planID string, raw json.RawMessage) (InstanceParams, error) {
	var p InstanceParams
	cp, ok := c.plans[planID]
	if !ok {
		return p, fmt.Errorf("unknown plan %q", planID)
	}
	if err := validate(cp.schemas.instance, raw); err != nil {
		return p, err
	}
	if len(bytes.TrimSpace(raw)) == 0 {
		return p, nil
	}
	if err := json.Unmarshal(raw, &p); err != nil {
		return p, &ParamError{Problems: []string{err.Error()}}
	}
	return p, uniqueTopics(p.Topics)
}

// uniqueTopics rejects names listed twice, including names that differ only
// in '.' and '_', which Kafka does not allow side by side.
func uniqueTopics(topics []TopicSpec) error {
	seen := map[string]string{}
	for i, t := range topics {
		key := strings.ReplaceAll(t.Name, ".", "_")
		if prev, ok := seen[key]; ok {
			msg := fmt.Sprintf("parameters.topics[%d].name: topic %q is listed twice", i, t.Name)
			if prev != t.Name {
				msg = fmt.Sprintf("parameters.topics[%d].name: topic %q clashes with %q (Kafka treats '.' and '_' alike)", i, t.Name, prev)
			}
			return &ParamError{Problems: []string{msg}}
		}
		seen[key] = t.Name
	}
	return nil
}

// BindingParams validates bind parameters against the plan's schema.
func (c *Catalog) BindingParams(planID string, raw json.RawMessage) error {
	cp, ok := c.plans[planID]
	if !ok {
		return fmt.Errorf("unknown plan %q", planID)
	}
	return validate(cp.schemas.binding, raw)
}

func validate(s *planschema.Schema, raw json.RawMessage) error {
	if len(bytes.TrimSpace(raw)) == 0 {
		return nil
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return &ParamError{Problems: []string{"parameters are not valid JSON: " + err.Error()}}
	}
	err = s.Validate(v)
	var ve *planschema.ValidationError
	if !errors.As(err, &ve) {
		return err
	}
	// The violations never quote a value: parameters may come from a
	// Secret of the tenant's, and answers end up in conditions.
	problems := make([]string, 0, len(ve.Violations))
	for _, v := range ve.Violations {
		problems = append(problems, paramPath(v.Pointer)+": "+v.Reason)
	}
	return &ParamError{Problems: problems}
}

// paramPath spells a JSON pointer the way users write parameters:
// parameters.topics[0].partitions.
func paramPath(pointer string) string {
	var b strings.Builder
	b.WriteString("parameters")
	for _, tok := range strings.Split(pointer, "/")[1:] {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		if tok != "" && strings.Trim(tok, "0123456789") == "" {
			b.WriteString("[" + tok + "]")
			continue
		}
		b.WriteString("." + tok)
	}
	return b.String()
}
