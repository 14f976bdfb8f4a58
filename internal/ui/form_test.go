package ui

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/svcat-io/svcat/internal/cli/apiview"
	"github.com/svcat-io/svcat/internal/planschema"
)

func fieldByPointer(fields []Field, ptr string) *Field {
	for i := range fields {
		if fields[i].Pointer == ptr {
			return &fields[i]
		}
		if f := fieldByPointer(fields[i].Fields, ptr); f != nil {
			return f
		}
	}
	return nil
}

func TestBuildFormKinds(t *testing.T) {
	schema := `{
	  "type": "object",
	  "required": ["size"],
	  "definitions": {"zone": {"type": "string", "enum": ["a", "b"]}},
	  "properties": {
	    "size": {"type": ["integer", "null"], "minimum": 1},
	    "ratio": {"type": "number", "maximum": 0.5, "default": 0.25},
	    "zone": {"$ref": "#/definitions/zone"},
	    "level": {"enum": [1, 2, 3], "default": 2},
	    "ports": {"type": "array", "items": {"type": "integer"}, "default": [80, 443]},
	    "users": {"type": "array", "items": {"type": "object"}},
	    "labels": {"type": "object", "additionalProperties": {"type": "string"}},
	    "a/b": {"type": "string"},
	    "loop": {"$ref": "#/properties/loop"},
	    "remote": {"$ref": "https://example.invalid/s.json"}
	  }
	}`
	form := BuildForm([]byte(schema))
	if form.Unsupported != "" {
		t.Fatal(form.Unsupported)
	}
	if form.Fields[0].Pointer != "/size" || !form.Fields[0].Required {
		t.Errorf("required fields come first: %+v", form.Fields[0])
	}
	want := map[string]string{
		"/size": kindInteger, "/ratio": kindNumber, "/zone": kindEnum, "/level": kindEnum, "/ports": kindLines,
		"/users": kindJSON, "/labels": kindJSON, "/a~1b": kindString, "/loop": kindJSON, "/remote": kindJSON,
	}
	for ptr, kind := range want {
		f := fieldByPointer(form.Fields, ptr)
		if f == nil || f.Kind != kind {
			t.Errorf("%s: %+v, want kind %s", ptr, f, kind)
		}
	}
	if f := fieldByPointer(form.Fields, "/ratio"); f.Default != "0.25" || f.Max != "0.5" || f.Step != "any" {
		t.Errorf("ratio: %+v", f)
	}
	if f := fieldByPointer(form.Fields, "/ports"); f.Default != "80\n443" || f.ItemKind != kindInteger {
		t.Errorf("ports: %+v", f)
	}
	if f := fieldByPointer(form.Fields, "/level"); len(f.Options) != 3 || !f.Options[1].Selected || f.Options[1].Value != "2" {
		t.Errorf("level: %+v", f.Options)
	}
	if f := fieldByPointer(form.Fields, "/a~1b"); f.Name != "p/a~1b" {
		t.Errorf("a/b: %+v", f)
	}

	for _, s := range []string{"", "null", " "} {
		if f := BuildForm([]byte(s)); len(f.Fields) != 0 || f.Unsupported != "" {
			t.Errorf("%q: %+v", s, f)
		}
	}
	if f := BuildForm([]byte(`{"type": "array"}`)); f.Unsupported == "" {
		t.Errorf("an array schema gets fields: %+v", f)
	}
	if f := BuildForm([]byte(`[1]`)); f.Unsupported == "" {
		t.Errorf("a non-object schema gets fields: %+v", f)
	}
}

// TestBuildFormBounds: a broker's schema cannot make the page unbounded.
func TestBuildFormBounds(t *testing.T) {
	var props []string
	for i := 0; i < 1000; i++ {
		props = append(props, fmt.Sprintf(`"p%04d": {"type": "string"}`, i))
	}
	form := BuildForm([]byte(`{"properties": {` + strings.Join(props, ",") + `}}`))
	if len(form.Fields) != maxFormFields {
		t.Errorf("%d fields, want %d", len(form.Fields), maxFormFields)
	}
	deep := `{"type": "string"}`
	for i := 0; i < 50; i++ {
		deep = `{"type": "object", "properties": {"x": ` + deep + `}}`
	}
	form = BuildForm([]byte(deep))
	depth, f := 0, &form.Fields[0]
	for f.Kind == kindObject {
		depth++
		f = &f.Fields[0]
	}
	if depth != maxFormDepth || f.Kind != kindJSON {
		t.Errorf("nested objects to depth %d then %s, want %d then json", depth, f.Kind, maxFormDepth)
	}
}

func TestReadForm(t *testing.T) {
	form := BuildForm([]byte(`{"properties": {
	  "n": {"type": "integer"}, "x": {"type": "number"}, "s": {"type": "string"}, "b": {"type": "boolean"},
	  "e": {"enum": ["a", 1]}, "l": {"type": "array", "items": {"type": "number"}},
	  "o": {"type": "object", "properties": {"k": {"type": "string"}}},
	  "j": {"type": "array", "items": {"type": "object"}}}}`))
	got, bad := ReadForm(form.Fields, url.Values{
		"p/n": {"12345678901234567890"}, "p/x": {"1.5"}, "p/s": {" spaced "}, "p/b": {"false"},
		"p/e": {"1"}, "p/l": {"1\n\n2.5\r\n"}, "p/o/k": {""}, "p/j": {`[{"a": 1}]`}})
	if len(bad) > 0 {
		t.Fatal(bad)
	}
	b, _ := json.Marshal(got)
	want := `{"b":false,"e":1,"j":[{"a":1}],"l":[1,2.5],"n":12345678901234567890,"s":" spaced ","x":1.5}`
	if string(b) != want {
		t.Errorf("got %s\nwant %s", b, want)
	}

	_, bad = ReadForm(form.Fields, url.Values{"p/n": {"1.5"}, "p/x": {"ten"}, "p/l": {"1\nsecret-value"}, "p/j": {"{secret"}, "p/e": {"nope"}})
	text := fmt.Sprint(bad)
	for _, w := range []string{"/n: must be an integer", "/x: must be a number", "/l: line 2 must be a number", "/j: must be JSON", "/e: must be one of the listed choices"} {
		if !strings.Contains(text, w) {
			t.Errorf("violations %s lack %q", text, w)
		}
	}
	if strings.Contains(text, "secret") || strings.Contains(text, "ten") {
		t.Errorf("violations quote the values: %s", text)
	}
}

func TestMarkErrorsAndFill(t *testing.T) {
	form := BuildForm([]byte(`{"properties": {"o": {"type": "object", "properties": {"k": {"type": "integer"}}}, "e": {"enum": ["a", "b"]}}}`))
	markErrors(form.Fields, []planschema.Violation{{Pointer: "/o/k", Reason: "must be <= 5"}, {Pointer: "/o/z", Reason: "is not allowed"}})
	if f := fieldByPointer(form.Fields, "/o/k"); f.Error != "must be <= 5" {
		t.Errorf("o/k: %q", f.Error)
	}
	if f := fieldByPointer(form.Fields, "/o"); f.Error != "is not allowed" {
		t.Errorf("o: %q", f.Error)
	}
	fillValues(form.Fields, url.Values{"p/o/k": {"9"}, "p/e": {`"b"`}})
	if f := fieldByPointer(form.Fields, "/o/k"); f.Default != "9" {
		t.Errorf("o/k keeps %q", f.Default)
	}
	if f := fieldByPointer(form.Fields, "/e"); f.Options[0].Selected || !f.Options[1].Selected {
		t.Errorf("e: %+v", f.Options)
	}
}

func TestBrowserCommand(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	cases := []struct {
		goos string
		env  map[string]string
		want string
	}{
		{"linux", map[string]string{"DISPLAY": ":0"}, "xdg-open"},
		{"linux", map[string]string{"WAYLAND_DISPLAY": "w"}, "xdg-open"},
		{"linux", map[string]string{}, ""},
		{"linux", map[string]string{"BROWSER": "firefox"}, "firefox"},
		{"darwin", nil, "open"},
		{"windows", nil, "rundll32"},
	}
	for _, c := range cases {
		name, args, err := browserCommand(c.goos, env(c.env), "http://127.0.0.1:1/?token=t")
		if name != c.want || (c.want == "" && err == nil) || (c.want != "" && args[len(args)-1] != "http://127.0.0.1:1/?token=t") {
			t.Errorf("%s %v: %q %v %v", c.goos, c.env, name, args, err)
		}
	}
}

func TestListenOnlyLoopback(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:0", ":0", "192.0.2.1:8080", "example.com:80", "nonsense"} {
		if ln, err := listen(addr); err == nil {
			ln.Close()
			t.Errorf("listen(%q) succeeded", addr)
		} else if !strings.Contains(err.Error(), "--address") {
			t.Errorf("listen(%q): %v", addr, err)
		}
	}
	for _, addr := range []string{"127.0.0.1:0", "localhost:0"} {
		ln, err := listen(addr)
		if err != nil {
			t.Fatalf("listen(%q): %v", addr, err)
		}
		ln.Close()
	}
}

func TestErrorStatus(t *testing.T) {
	cases := map[error]int{
		&apiview.ForbiddenError{Verb: "list"}:  http.StatusForbidden,
		&apiview.NotFoundError{Kind: "class"}:  http.StatusNotFound,
		&planschema.ValidationError{}:          http.StatusUnprocessableEntity,
		&userError{"bad name"}:                 http.StatusUnprocessableEntity,
		fmt.Errorf("create x: %w", errTimeout): http.StatusBadGateway,
	}
	for err, want := range cases {
		if got := errorStatus(err); got != want {
			t.Errorf("%T: %d, want %d", err, got, want)
		}
	}
}

var errTimeout = fmt.Errorf("timeout")

func TestCost(t *testing.T) {
	c := map[string]any{"amount": map[string]any{"usd": 99.5, "eur": 90.0}, "unit": "MONTHLY"}
	if got := cost(c); got != "90 EUR, 99.5 USD / monthly" {
		t.Errorf("cost: %q", got)
	}
	if got := cost("weird"); got != "weird" {
		t.Errorf("cost of a string: %q", got)
	}
}

// FuzzBuildForm: whatever a broker puts in a schema, the form is built
// without panicking, within its bounds, and reading it back never fails
// in ways other than violations.
func FuzzBuildForm(f *testing.F) {
	f.Add(`{"type":"object","required":["a"],"properties":{"a":{"type":"string","pattern":"^x"},"b":{"type":"array","items":{"type":"integer"}},"c":{"type":"object","properties":{"d":{"enum":[1,"x",null]}}}}}`, "p/a", "x")
	f.Add(`{"definitions":{"x":{"$ref":"#/definitions/x"}},"properties":{"y":{"$ref":"#/definitions/x"}}}`, "p/y", "{}")
	f.Add(`{"properties":{"~1":{"type":["null","number"],"default":1e400}}}`, "p/~01", "1e999")
	f.Fuzz(func(t *testing.T, schema, name, value string) {
		form := BuildForm([]byte(schema))
		n := 0
		var count func([]Field, int)
		count = func(fs []Field, depth int) {
			if depth > maxFormDepth+1 {
				t.Fatalf("depth %d", depth)
			}
			for _, f := range fs {
				n++
				count(f.Fields, depth+1)
			}
		}
		count(form.Fields, 0)
		if n > maxFormFields {
			t.Fatalf("%d fields", n)
		}
		_, _ = ReadForm(form.Fields, url.Values{name: {value}})
	})
}
