package osbparams

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"sort"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"k8s.io/apimachinery/pkg/runtime"
)

// MaxReportedViolations bounds the violations listed in a ValidationError's
// message, so a condition message stays readable (and under the API
// server's limits) when a user sends something very wrong.
const MaxReportedViolations = 10

// Violation is one way the parameters break the plan's schema.
type Violation struct {
	// Pointer is the JSON pointer of the parameter, e.g. "/topics/0/name";
	// "" is the parameters object itself.
	Pointer string
	// Reason says what is wrong without quoting the value (it may come
	// from a Secret), e.g. "must be <= 12".
	Reason string
}

func (v Violation) String() string {
	p := v.Pointer
	if p == "" {
		p = "/"
	}
	return "parameter " + p + ": " + v.Reason
}

// ValidationError lists every violation: the user's parameters are wrong.
type ValidationError struct {
	Violations []Violation
}

func (e *ValidationError) Error() string {
	var b strings.Builder
	for i, v := range e.Violations {
		if i == MaxReportedViolations {
			fmt.Fprintf(&b, "; and %d more", len(e.Violations)-i)
			break
		}
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(v.String())
	}
	return b.String()
}

// SchemaError means the plan's schema itself is unusable: the broker's
// fault, not the user's. Parameters cannot be checked until the broker's
// catalog is fixed.
type SchemaError struct {
	Err error
}

func (e *SchemaError) Error() string {
	return "the plan's parameter schema from the broker is invalid: " + e.Err.Error()
}

func (e *SchemaError) Unwrap() error { return e.Err }

// SchemaCache compiles schemas once per distinct content: many instances
// share a plan, and compiling is far costlier than validating. Safe for
// concurrent use. The zero value is not usable; use NewSchemaCache.
type SchemaCache struct {
	mu      sync.Mutex
	entries map[[sha256.Size]byte]*cacheEntry
	max     int
}

type cacheEntry struct {
	once   sync.Once
	schema *jsonschema.Schema
	err    error
}

// NewSchemaCache holds up to max compiled schemas. When full it is emptied:
// schemas change only when a catalog changes, so a simple bound that stops
// old versions piling up is enough.
func NewSchemaCache(max int) *SchemaCache {
	if max < 1 {
		max = 1
	}
	return &SchemaCache{entries: map[[sha256.Size]byte]*cacheEntry{}, max: max}
}

var defaultCache = NewSchemaCache(1024)

// Validate checks params against a plan's schema using a shared cache; see
// SchemaCache.Validate.
func Validate(schema *runtime.RawExtension, params map[string]any) error {
	return defaultCache.Validate(schema, params)
}

// Validate checks params against schema (e.g. a plan's
// instanceCreateParameterSchema). A nil or empty schema accepts anything.
// It returns a *ValidationError when params break the schema and a
// *SchemaError when the schema does not compile. Missing parameters are
// checked as the empty object, so "required" still applies.
func (c *SchemaCache) Validate(schema *runtime.RawExtension, params map[string]any) error {
	if schema == nil {
		return nil
	}
	raw := bytes.TrimSpace(schema.Raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return nil
	}
	sch, err := c.compiled(raw)
	if err != nil {
		return err
	}
	var inst any = map[string]any{}
	if params != nil {
		inst = params
	}
	err = sch.Validate(inst)
	if err == nil {
		return nil
	}
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return &SchemaError{Err: err}
	}
	return &ValidationError{Violations: violations(ve)}
}

func (c *SchemaCache) compiled(raw []byte) (*jsonschema.Schema, error) {
	key := sha256.Sum256(raw)
	c.mu.Lock()
	e, ok := c.entries[key]
	if !ok {
		if len(c.entries) >= c.max {
			clear(c.entries)
		}
		e = &cacheEntry{}
		c.entries[key] = e
	}
	c.mu.Unlock()
	// Compiling outside the lock; sync.Once makes concurrent callers with
	// the same schema wait for one compilation instead of repeating it.
	e.once.Do(func() { e.schema, e.err = compile(raw) })
	return e.schema, e.err
}

// schemaURL names the schema for the compiler. The .invalid domain can never
// resolve, and the loader refuses everything anyway.
const schemaURL = "https://svcat.invalid/plan-schema.json"

type noLoader struct{}

func (noLoader) Load(url string) (any, error) {
	return nil, fmt.Errorf("loading %q refused: plan schemas must be self-contained", url)
}

func compile(raw []byte) (*jsonschema.Schema, error) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return nil, &SchemaError{Err: fmt.Errorf("not valid JSON: %w", err)}
	}
	c := jsonschema.NewCompiler()
	// OSB says plan schemas are draft-04; "$schema" still picks another.
	c.DefaultDraft(jsonschema.Draft4)
	// The default loader reads local files; a broker must not make the
	// controller open its own files or, with another loader, the network.
	c.UseLoader(noLoader{})
	if err := c.AddResource(schemaURL, doc); err != nil {
		return nil, &SchemaError{Err: err}
	}
	s, err := c.Compile(schemaURL)
	if err != nil {
		return nil, &SchemaError{Err: err}
	}
	return s, nil
}

func violations(root *jsonschema.ValidationError) []Violation {
	var out []Violation
	var walk func(e *jsonschema.ValidationError)
	walk = func(e *jsonschema.ValidationError) {
		ptr := pointer(e.InstanceLocation)
		switch k := e.ErrorKind.(type) {
		case *kind.AnyOf, *kind.OneOf:
			// The branches' own errors contradict each other ("must be a
			// string", "must be an integer"); one line reads better.
			out = append(out, Violation{ptr, reason(k)})
			return
		case *kind.Required:
			for _, m := range k.Missing {
				out = append(out, Violation{ptr + "/" + escape(m), "is required"})
			}
		case *kind.Dependency:
			out = append(out, requiredWhen(ptr, k.Prop, k.Missing)...)
		case *kind.DependentRequired:
			out = append(out, requiredWhen(ptr, k.Prop, k.Missing)...)
		case *kind.AdditionalProperties:
			for _, p := range k.Properties {
				out = append(out, Violation{ptr + "/" + escape(p), "is not allowed"})
			}
		default:
			if len(e.Causes) == 0 {
				out = append(out, Violation{ptr, reason(k)})
			}
		}
		for _, c := range e.Causes {
			walk(c)
		}
	}
	walk(root)
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Pointer != out[j].Pointer {
			return out[i].Pointer < out[j].Pointer
		}
		return out[i].Reason < out[j].Reason
	})
	uniq := out[:0]
	for i, v := range out {
		if i == 0 || v != out[i-1] {
			uniq = append(uniq, v)
		}
	}
	return uniq
}

func requiredWhen(ptr, prop string, missing []string) []Violation {
	out := make([]Violation, 0, len(missing))
	for _, m := range missing {
		out = append(out, Violation{ptr + "/" + escape(m), fmt.Sprintf("is required when %q is set", prop)})
	}
	return out
}

func pointer(loc []string) string {
	var b strings.Builder
	for _, t := range loc {
		b.WriteByte('/')
		b.WriteString(escape(t))
	}
	return b.String()
}

func escape(token string) string {
	return strings.ReplaceAll(strings.ReplaceAll(token, "~", "~0"), "/", "~1")
}

// reason describes a violation from the schema's side only. The library's
// own messages quote the value ("got 'hunter2'"), which may be a Secret's.
func reason(k jsonschema.ErrorKind) string {
	switch k := k.(type) {
	case *kind.Type:
		return fmt.Sprintf("must be %s, not %s", strings.Join(k.Want, " or "), k.Got)
	case *kind.Enum:
		return "must be one of " + schemaValue(k.Want)
	case *kind.Const:
		return "must be " + schemaValue(k.Want)
	case *kind.Format:
		return fmt.Sprintf("must have the format %q", k.Want)
	case *kind.Pattern:
		return fmt.Sprintf("must match the pattern %q", k.Want)
	case *kind.MinLength:
		return fmt.Sprintf("must be at least %d characters long", k.Want)
	case *kind.MaxLength:
		return fmt.Sprintf("must be at most %d characters long", k.Want)
	case *kind.Minimum:
		return "must be >= " + rat(k.Want)
	case *kind.Maximum:
		return "must be <= " + rat(k.Want)
	case *kind.ExclusiveMinimum:
		return "must be > " + rat(k.Want)
	case *kind.ExclusiveMaximum:
		return "must be < " + rat(k.Want)
	case *kind.MultipleOf:
		return "must be a multiple of " + rat(k.Want)
	case *kind.MinItems:
		return fmt.Sprintf("must have at least %d items", k.Want)
	case *kind.MaxItems:
		return fmt.Sprintf("must have at most %d items", k.Want)
	case *kind.AdditionalItems:
		return fmt.Sprintf("must have at most %d items", k.Count)
	case *kind.UniqueItems:
		return fmt.Sprintf("items %d and %d must not be equal", k.Duplicates[0], k.Duplicates[1])
	case *kind.MinProperties:
		return fmt.Sprintf("must have at least %d properties", k.Want)
	case *kind.MaxProperties:
		return fmt.Sprintf("must have at most %d properties", k.Want)
	case *kind.PropertyNames:
		return fmt.Sprintf("property name %q is not allowed", k.Property)
	case *kind.Contains:
		return "must contain a matching item"
	case *kind.MinContains:
		return fmt.Sprintf("must contain at least %d matching items", k.Want)
	case *kind.MaxContains:
		return fmt.Sprintf("must contain at most %d matching items", k.Want)
	case *kind.AnyOf:
		return "must match at least one of the schemas in anyOf"
	case *kind.OneOf:
		if len(k.Subschemas) == 0 {
			return "must match exactly one of the schemas in oneOf, matches none"
		}
		return fmt.Sprintf("must match exactly one of the schemas in oneOf, matches %d and %d", k.Subschemas[0], k.Subschemas[1])
	case *kind.Not:
		return "must not match the schema in not"
	case *kind.FalseSchema:
		return "is not allowed"
	case *kind.ContentEncoding:
		return fmt.Sprintf("must be %s-encoded", k.Want)
	case *kind.ContentMediaType:
		return fmt.Sprintf("must be of media type %s", k.Want)
	}
	if path := k.KeywordPath(); len(path) > 0 {
		return fmt.Sprintf("does not satisfy %q", strings.Join(path, "/"))
	}
	return "is invalid"
}

func schemaValue(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	const max = 200
	if len(b) > max {
		return string(b[:max]) + "…"
	}
	return string(b)
}

func rat(r *big.Rat) string {
	if r == nil {
		return "?"
	}
	if r.IsInt() {
		return r.Num().String()
	}
	f, _ := r.Float64()
	return fmt.Sprint(f)
}
