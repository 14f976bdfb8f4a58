package output

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"
)

// Format is the value of -o/--output.
type Format string

const (
	FormatTable Format = "table"
	FormatJSON  Format = "json"
	FormatYAML  Format = "yaml"
)

// Formats lists the allowed -o values, for help text and errors.
var Formats = []Format{FormatTable, FormatJSON, FormatYAML}

// ParseFormat checks an -o value.
func ParseFormat(s string) (Format, error) {
	for _, f := range Formats {
		if Format(s) == f {
			return f, nil
		}
	}
	return "", fmt.Errorf("invalid --output %q: use table, json or yaml", s)
}

// list is what a listing prints as in JSON and YAML: a v1 List, the shape
// kubectl prints, so the output can be fed back to kubectl.
type list struct {
	APIVersion string          `json:"apiVersion"`
	Kind       string          `json:"kind"`
	Items      []client.Object `json:"items"`
}

// WriteObjects prints objects as a v1 List in JSON or YAML.
func WriteObjects(w io.Writer, f Format, objs []client.Object) error {
	items := make([]client.Object, len(objs))
	for i, o := range objs {
		items[i] = clean(o)
	}
	return writeData(w, f, list{APIVersion: "v1", Kind: "List", Items: items})
}

// WriteObject prints one object in JSON or YAML.
func WriteObject(w io.Writer, f Format, obj client.Object) error {
	return writeData(w, f, clean(obj))
}

// clean drops managed fields: they are bookkeeping for server-side apply
// that nobody reading svcat's output wants (kubectl hides them too).
func clean(o client.Object) client.Object {
	if len(o.GetManagedFields()) == 0 {
		return o
	}
	c := o.DeepCopyObject().(client.Object)
	c.SetManagedFields(nil)
	return c
}

func writeData(w io.Writer, f Format, v any) error {
	var (
		b   []byte
		err error
	)
	switch f {
	case FormatJSON:
		b, err = json.MarshalIndent(v, "", "    ")
		b = append(b, '\n')
	case FormatYAML:
		b, err = yaml.Marshal(v)
	default:
		return fmt.Errorf("format %q cannot print objects", f)
	}
	if err != nil {
		return err
	}
	_, err = w.Write(b)
	return err
}

// writeIndentedYAML prints v as YAML indented by two spaces, as describe
// shows parameters and schemas.
func writeIndentedYAML(w io.Writer, v any) error {
	b, err := yaml.Marshal(v)
	if err != nil {
		return err
	}
	var sb strings.Builder
	for _, line := range strings.SplitAfter(string(b), "\n") {
		if line != "" {
			sb.WriteString("  " + line)
		}
	}
	_, err = io.WriteString(w, sb.String())
	return err
}
