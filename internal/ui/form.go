package ui

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/big"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/svcat-io/svcat/internal/planschema"
)

// The provision form is generated from the plan's instance-create schema,
// which the broker wrote: every string in it is hostile (html/template
// escapes it) and its size and depth are bounded here.

// Field kinds, which decide the input element and how its value is read.
const (
	kindString  = "string"
	kindInteger = "integer"
	kindNumber  = "number"
	kindBoolean = "boolean"
	kindEnum    = "enum"
	kindObject  = "object"
	kindLines   = "lines" // an array of scalars, one item per line
	kindJSON    = "json"  // anything the form cannot express, as JSON
)

const (
	maxFormDepth  = 6
	maxFormFields = 200
	maxEnumValues = 100
	maxRefHops    = 16
)

// Field is one input of the generated form.
type Field struct {
	// Name is the form field's name: "p" and the parameter's JSON pointer.
	Name        string
	Pointer     string
	Label       string
	Description string
	Kind        string
	Required    bool
	// Default is the schema's default as the input shows it.
	Default string
	// Options are an enum's values, JSON-encoded, with their labels.
	Options []Option
	// ItemKind is the kind of each line of a kindLines field.
	ItemKind string
	// HTML constraint attributes, so the browser checks what it can.
	Min, Max             string
	MinLength, MaxLength string
	Pattern              string
	Step                 string
	// JSONType is "object" or "array" for kindJSON fields.
	JSONType string
	Fields   []Field
	// Error is the server's refusal of the posted value.
	Error string
}

// Option is one choice of an enum.
type Option struct {
	Value, Label string
	Selected     bool
}

// Form is the form generated from a schema.
type Form struct {
	Fields []Field
	// Unsupported is set when the schema is not an object schema the form
	// can show; the page then offers only the JSON box.
	Unsupported string
}

type formBuilder struct {
	root  map[string]any
	count int
}

// BuildForm turns a plan schema into form fields. raw may be empty (no
// parameters declared).
func BuildForm(raw []byte) Form {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return Form{}
	}
	var root map[string]any
	if err := json.Unmarshal(raw, &root); err != nil {
		return Form{Unsupported: "the plan's schema is not a JSON object"}
	}
	b := &formBuilder{root: root}
	s := b.resolve(root)
	if typeOf(s) != "object" && typeOf(s) != "" {
		return Form{Unsupported: "the plan's schema does not describe an object"}
	}
	props, _ := s["properties"].(map[string]any)
	if len(props) == 0 {
		return Form{}
	}
	return Form{Fields: b.fields(s, "", 0)}
}

// resolve follows local $refs ("#/definitions/x"); other refs are left for
// the JSON box, since planschema refuses to load anything.
func (b *formBuilder) resolve(s map[string]any) map[string]any {
	for i := 0; i < maxRefHops; i++ {
		ref, ok := s["$ref"].(string)
		if !ok {
			return s
		}
		next, ok := b.lookup(ref)
		if !ok {
			return s
		}
		s = next
	}
	return s
}

func (b *formBuilder) lookup(ref string) (map[string]any, bool) {
	rest, ok := strings.CutPrefix(ref, "#")
	if !ok {
		return nil, false
	}
	var cur any = b.root
	for _, tok := range strings.Split(strings.TrimPrefix(rest, "/"), "/") {
		if tok == "" {
			continue
		}
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		cur = m[tok]
	}
	m, ok := cur.(map[string]any)
	return m, ok
}

func (b *formBuilder) fields(s map[string]any, ptr string, depth int) []Field {
	props, _ := s["properties"].(map[string]any)
	required := map[string]bool{}
	if req, ok := s["required"].([]any); ok {
		for _, r := range req {
			if name, ok := r.(string); ok {
				required[name] = true
			}
		}
	}
	names := make([]string, 0, len(props))
	for k := range props {
		names = append(names, k)
	}
	// Required first, then by name: what must be filled in comes first.
	sort.Slice(names, func(i, j int) bool {
		if required[names[i]] != required[names[j]] {
			return required[names[i]]
		}
		return names[i] < names[j]
	})
	var out []Field
	for _, name := range names {
		if b.count >= maxFormFields {
			break
		}
		ps, ok := props[name].(map[string]any)
		if !ok {
			continue
		}
		b.count++
		out = append(out, b.field(b.resolve(ps), name, ptr+"/"+escapePointer(name), required[name], depth))
	}
	return out
}

func (b *formBuilder) field(s map[string]any, name, ptr string, required bool, depth int) Field {
	f := Field{Name: "p" + ptr, Pointer: ptr, Label: name, Required: required}
	if t, ok := s["title"].(string); ok && t != "" {
		f.Label = t
	}
	f.Description, _ = s["description"].(string)
	def, hasDefault := s["default"]
	if enum, ok := s["enum"].([]any); ok && len(enum) > 0 && len(enum) <= maxEnumValues {
		f.Kind = kindEnum
		for _, v := range enum {
			enc := jsonText(v)
			label := enc
			if str, ok := v.(string); ok {
				label = str
			}
			f.Options = append(f.Options, Option{Value: enc, Label: label, Selected: hasDefault && jsonText(def) == enc})
		}
		return f
	}
	switch typeOf(s) {
	case "string":
		f.Kind = kindString
		f.MinLength, f.MaxLength = intText(s["minLength"]), intText(s["maxLength"])
		f.Pattern, _ = s["pattern"].(string)
	case "integer":
		f.Kind, f.Step = kindInteger, "1"
		f.Min, f.Max = numText(s["minimum"]), numText(s["maximum"])
	case "number":
		f.Kind, f.Step = kindNumber, "any"
		f.Min, f.Max = numText(s["minimum"]), numText(s["maximum"])
	case "boolean":
		f.Kind = kindBoolean
		f.Options = []Option{{Value: "true", Label: "true"}, {Value: "false", Label: "false"}}
		for i := range f.Options {
			f.Options[i].Selected = hasDefault && jsonText(def) == f.Options[i].Value
		}
		return f
	case "object":
		props, _ := s["properties"].(map[string]any)
		if len(props) == 0 || depth >= maxFormDepth {
			f.Kind, f.JSONType = kindJSON, "object"
			break
		}
		f.Kind = kindObject
		f.Fields = b.fields(s, ptr, depth+1)
		return f
	case "array":
		items, _ := s["items"].(map[string]any)
		items = b.resolve(items)
		switch it := typeOf(items); {
		case items == nil:
			f.Kind, f.JSONType = kindJSON, "array"
		case it == "string" || it == "integer" || it == "number":
			f.Kind, f.ItemKind = kindLines, it
		default:
			f.Kind, f.JSONType = kindJSON, "array"
		}
		if hasDefault {
			if arr, ok := def.([]any); ok && f.Kind == kindLines {
				lines := make([]string, 0, len(arr))
				for _, v := range arr {
					lines = append(lines, scalarText(v))
				}
				f.Default = strings.Join(lines, "\n")
				return f
			}
		}
	default:
		f.Kind = kindJSON
	}
	if hasDefault {
		if f.Kind == kindJSON {
			f.Default = jsonText(def)
		} else {
			f.Default = scalarText(def)
		}
	}
	return f
}

// typeOf is the schema's type; with a list such as ["string", "null"] the
// first that is not null.
func typeOf(s map[string]any) string {
	switch t := s["type"].(type) {
	case string:
		return t
	case []any:
		for _, x := range t {
			if str, ok := x.(string); ok && str != "null" {
				return str
			}
		}
	}
	if _, ok := s["properties"]; ok {
		return "object"
	}
	return ""
}

func jsonText(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return ""
	}
	return string(b)
}

func scalarText(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	return jsonText(v)
}

func intText(v any) string {
	if f, ok := v.(float64); ok && f >= 0 && f == float64(int64(f)) {
		return strconv.FormatInt(int64(f), 10)
	}
	return ""
}

func numText(v any) string {
	if f, ok := v.(float64); ok {
		return strconv.FormatFloat(f, 'g', -1, 64)
	}
	return ""
}

func escapePointer(tok string) string {
	return strings.ReplaceAll(strings.ReplaceAll(tok, "~", "~0"), "/", "~1")
}

// ReadForm turns the posted form into parameters by the fields' kinds. A
// value that cannot be read as its kind is a violation naming the
// parameter, never quoting the value. Empty optional inputs are left out,
// so the broker's defaults apply.
func ReadForm(fields []Field, form url.Values) (map[string]any, []planschema.Violation) {
	out := map[string]any{}
	var bad []planschema.Violation
	for _, f := range fields {
		v, ok, err := readField(f, form, &bad)
		if err != "" {
			bad = append(bad, planschema.Violation{Pointer: f.Pointer, Reason: err})
			continue
		}
		if ok {
			out[lastToken(f.Pointer)] = v
		}
	}
	return out, bad
}

func lastToken(ptr string) string {
	tok := ptr[strings.LastIndex(ptr, "/")+1:]
	return strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
}

// readField returns the value, whether there is one, and a reason when the
// input is not of the field's kind.
func readField(f Field, form url.Values, bad *[]planschema.Violation) (any, bool, string) {
	if f.Kind == kindObject {
		m, vs := ReadForm(f.Fields, form)
		*bad = append(*bad, vs...)
		if len(m) == 0 && !f.Required {
			return nil, false, ""
		}
		return m, true, ""
	}
	raw := strings.TrimSpace(form.Get(f.Name))
	if raw == "" {
		return nil, false, ""
	}
	switch f.Kind {
	case kindString:
		// Strings keep their spaces: only an all-blank input counts as empty.
		return form.Get(f.Name), true, ""
	case kindInteger, kindNumber:
		return scalar(f.Kind, raw)
	case kindEnum, kindBoolean:
		var v any
		d := json.NewDecoder(strings.NewReader(raw))
		d.UseNumber()
		if d.Decode(&v) != nil {
			return nil, false, "must be one of the listed choices"
		}
		return v, true, ""
	case kindLines:
		var items []any
		for i, line := range strings.Split(raw, "\n") {
			line = strings.TrimRight(line, "\r")
			if strings.TrimSpace(line) == "" {
				continue
			}
			if f.ItemKind == kindString {
				items = append(items, line)
				continue
			}
			v, _, reason := scalar(f.ItemKind, strings.TrimSpace(line))
			if reason != "" {
				return nil, false, fmt.Sprintf("line %d %s", i+1, reason)
			}
			items = append(items, v)
		}
		return items, true, ""
	case kindJSON:
		v, err := decodeJSON(raw)
		if err != nil {
			return nil, false, "must be JSON: " + err.Error()
		}
		return v, true, ""
	}
	return nil, false, ""
}

func scalar(kind, raw string) (any, bool, string) {
	r, ok := new(big.Rat).SetString(raw)
	if !ok || strings.ContainsAny(raw, "/") {
		return nil, false, "must be a number"
	}
	if kind == kindInteger && !r.IsInt() {
		return nil, false, "must be an integer"
	}
	// json.Number keeps large integers exact on the way to the broker.
	if kind == kindInteger {
		return json.Number(r.Num().String()), true, ""
	}
	f, _ := r.Float64()
	return json.Number(strconv.FormatFloat(f, 'g', -1, 64)), true, ""
}

// decodeJSON reads one JSON value, numbers kept exact; the message says
// where it broke, not what was there.
func decodeJSON(raw string) (any, error) {
	d := json.NewDecoder(strings.NewReader(raw))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		var se *json.SyntaxError
		if ok := asSyntax(err, &se); ok {
			return nil, fmt.Errorf("syntax error at byte %d", se.Offset)
		}
		return nil, fmt.Errorf("not valid JSON")
	}
	if d.More() {
		return nil, fmt.Errorf("more than one JSON value")
	}
	return v, nil
}

func asSyntax(err error, se **json.SyntaxError) bool {
	s, ok := err.(*json.SyntaxError)
	if ok {
		*se = s
	}
	return ok
}
