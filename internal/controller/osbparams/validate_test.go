package osbparams

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
)

const kafkaSchema = `{
  "$schema": "http://json-schema.org/draft-04/schema#",
  "type": "object",
  "additionalProperties": false,
  "required": ["topicPrefix"],
  "properties": {
    "topicPrefix": {"type": "string", "pattern": "^[a-z]+$", "maxLength": 8},
    "password":    {"type": "string", "minLength": 12},
    "mode":        {"enum": ["fast", "safe"]},
    "tier":        {"$ref": "#/definitions/tier"},
    "topics": {
      "type": "array", "maxItems": 2, "uniqueItems": true,
      "items": {
        "type": "object", "required": ["name"],
        "properties": {
          "name": {"type": "string"},
          "partitions": {"type": "integer", "minimum": 1, "maximum": 12}
        }
      }
    },
    "retention": {"anyOf": [{"type": "integer"}, {"type": "string", "format": "duration"}]}
  },
  "definitions": {"tier": {"type": "number", "exclusiveMaximum": true, "maximum": 2.5, "multipleOf": 0.5}}
}`

func params(t *testing.T, s string) map[string]any {
	t.Helper()
	r, err := Build(raw(s), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	return r.Parameters
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name, schema, params string
		want                 string // "" means valid
	}{
		{name: "no schema", schema: "", params: `{"x":1}`},
		{name: "null schema", schema: "null", params: `{"x":1}`},
		{name: "empty schema", schema: "{}", params: `{"x":1}`},
		{name: "valid", schema: kafkaSchema, params: `{"topicPrefix":"abc","topics":[{"name":"a","partitions":12}],"tier":1.5,"retention":7}`},
		{name: "missing parameters still checked", schema: kafkaSchema, params: ``, want: "parameter /topicPrefix: is required"},
		{
			name: "the brief's example", schema: kafkaSchema,
			params: `{"topicPrefix":"abc","topics":[{"name":"a","partitions":13}]}`,
			want:   "parameter /topics/0/partitions: must be <= 12",
		},
		{
			name: "every violation, sorted, value-free", schema: kafkaSchema,
			params: `{"topicPrefix":"Hunter2Hunter2","password":"hunter2","mode":"slow","extra/x":1,
				"topics":[{"partitions":0},{"name":"b","partitions":"3"},{"name":"c"}],"tier":2.5,"retention":true}`,
			want: `parameter /extra~1x: is not allowed; ` +
				`parameter /mode: must be one of ["fast","safe"]; ` +
				`parameter /password: must be at least 12 characters long; ` +
				`parameter /retention: must match at least one of the schemas in anyOf; ` +
				`parameter /tier: must be < 2.5; ` +
				`parameter /topicPrefix: must be at most 8 characters long; ` +
				`parameter /topicPrefix: must match the pattern "^[a-z]+$"; ` +
				`parameter /topics: must have at most 2 items; ` +
				`parameter /topics/0/name: is required; ` +
				`parameter /topics/0/partitions: must be >= 1; ` +
				`and 1 more`,
		},
		{name: "multipleOf", schema: `{"type":"object","properties":{"a":{"type":"number","multipleOf":0.5}}}`, params: `{"a":1.25}`, want: "parameter /a: must be a multiple of 0.5"},
		{name: "type", schema: `{"properties":{"a":{"type":["integer","null"]}}}`, params: `{"a":"x"}`, want: "parameter /a: must be null or integer, not string"},
		{name: "const (draft 6)", schema: `{"$schema":"http://json-schema.org/draft-06/schema#","properties":{"a":{"const":"x"}}}`, params: `{"a":"y"}`, want: `parameter /a: must be "x"`},
		{name: "oneOf both", schema: `{"properties":{"a":{"oneOf":[{"type":"integer"},{"type":"number"}]}}}`, params: `{"a":1}`, want: "parameter /a: must match exactly one of the schemas in oneOf, matches 0 and 1"},
		{name: "not", schema: `{"properties":{"a":{"not":{"type":"string"}}}}`, params: `{"a":"s"}`, want: "parameter /a: must not match the schema in not"},
		{name: "dependencies", schema: `{"dependencies":{"user":["password"]}}`, params: `{"user":"u"}`, want: `parameter /password: is required when "user" is set`},
		{name: "format (asserted for draft-04)", schema: `{"properties":{"e":{"format":"email"}}}`, params: `{"e":"hunter2"}`, want: `parameter /e: must have the format "email"`},
		{name: "min properties", schema: `{"minProperties":2}`, params: `{"a":1}`, want: "parameter /: must have at least 2 properties"},
		{name: "big integers", schema: `{"properties":{"n":{"maximum":12345678901234567890}}}`, params: `{"n":12345678901234567891}`, want: "parameter /n: must be <= 12345678901234567890"},
	}
	cache := NewSchemaCache(8)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := cache.Validate(raw(tt.schema), params(t, tt.params))
			if tt.want == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("err = %v (%T), want *ValidationError", err, err)
			}
			if err.Error() != tt.want {
				t.Errorf("err =\n%s\nwant\n%s", err, tt.want)
			}
			if strings.Contains(err.Error(), "hunter2") || strings.Contains(err.Error(), "Hunter2") {
				t.Errorf("message quotes a value: %v", err)
			}
		})
	}
}

func TestValidateViolationsList(t *testing.T) {
	err := NewSchemaCache(1).Validate(raw(kafkaSchema), params(t, `{"topics":[{"partitions":0},{"partitions":99}]}`))
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("err = %v", err)
	}
	want := []Violation{
		{"/topicPrefix", "is required"},
		{"/topics/0/name", "is required"},
		{"/topics/0/partitions", "must be >= 1"},
		{"/topics/1/name", "is required"},
		{"/topics/1/partitions", "must be <= 12"},
	}
	if fmt.Sprint(ve.Violations) != fmt.Sprint(want) {
		t.Errorf("violations\n%v\nwant\n%v", ve.Violations, want)
	}
}

func TestValidateBadSchema(t *testing.T) {
	tests := []struct{ name, schema, want string }{
		{"not JSON", `{"type":`, "the plan's parameter schema from the broker is invalid: not valid JSON"},
		{"bad keyword value", `{"type":"integr"}`, "the plan's parameter schema from the broker is invalid"},
		{"bad regexp", `{"pattern":"(?<=x)"}`, "the plan's parameter schema from the broker is invalid"},
		{"external ref", `{"$ref":"https://example.com/s.json"}`, `loading "https://example.com/s.json" refused`},
		{"relative file ref", `{"$ref":"other.json"}`, `refused: plan schemas must be self-contained`},
		{"file ref", `{"$ref":"file:///etc/passwd"}`, `loading "file:///etc/passwd" refused`},
		{"unknown meta-schema", `{"$schema":"https://example.com/meta"}`, `refused`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := NewSchemaCache(4)
			for range 2 { // the second time comes from the cache
				err := c.Validate(raw(tt.schema), nil)
				var se *SchemaError
				if !errors.As(err, &se) {
					t.Fatalf("err = %v (%T), want *SchemaError", err, err)
				}
				if !strings.Contains(err.Error(), tt.want) {
					t.Errorf("err = %v, want it to contain %q", err, tt.want)
				}
			}
		})
	}
}

func TestSchemaCacheConcurrentAndBounded(t *testing.T) {
	c := NewSchemaCache(3)
	var wg sync.WaitGroup
	for i := range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			schema := fmt.Sprintf(`{"properties":{"n":{"maximum":%d}}}`, i%5)
			err := c.Validate(raw(schema), map[string]any{"n": 100})
			if want := fmt.Sprintf("parameter /n: must be <= %d", i%5); err == nil || err.Error() != want {
				t.Errorf("err = %v, want %s", err, want)
			}
		}()
	}
	wg.Wait()
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.entries) > 3 {
		t.Errorf("cache holds %d schemas, bound is 3", len(c.entries))
	}
}

func TestValidateShared(t *testing.T) {
	// The package-level Validate shares one cache; same answers.
	if err := Validate(raw(kafkaSchema), params(t, `{"topicPrefix":"ok"}`)); err != nil {
		t.Fatal(err)
	}
	if err := Validate(nil, nil); err != nil {
		t.Fatal(err)
	}
}
