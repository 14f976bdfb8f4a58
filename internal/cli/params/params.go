// Package params parses the parameter flags of provision and bind:
// -p/--param NAME=VALUE, --params-json and -s/--secret SECRET[KEY].
package params

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/runtime"

	"github.com/svcat-io/svcat/api/v1beta1"
)

// ParseAssignments turns NAME=VALUE pairs into parameters. A name given more
// than once collects its values into an array in the order given, which is
// how v0.3 let users pass lists on the command line.
func ParseAssignments(pairs []string) (map[string]any, error) {
	out := map[string]any{}
	for _, pair := range pairs {
		name, value, ok := strings.Cut(pair, "=")
		name = strings.TrimSpace(name)
		if !ok || name == "" {
			return nil, fmt.Errorf("invalid parameter %q: use NAME=VALUE", pair)
		}
		switch prev := out[name].(type) {
		case nil:
			out[name] = value
		case string:
			out[name] = []string{prev, value}
		case []string:
			out[name] = append(prev, value)
		}
	}
	return out, nil
}

// ParseSecretRefs turns SECRET[KEY] values into parametersFrom entries.
func ParseSecretRefs(refs []string) ([]v1beta1.ParametersFromSource, error) {
	var out []v1beta1.ParametersFromSource
	seen := map[string]bool{}
	for _, ref := range refs {
		name, key, err := parseSecretRef(ref)
		if err != nil {
			return nil, err
		}
		if seen[name+"\x00"+key] {
			return nil, fmt.Errorf("secret %s[%s] is given twice", name, key)
		}
		seen[name+"\x00"+key] = true
		out = append(out, v1beta1.ParametersFromSource{SecretKeyRef: &v1beta1.SecretKeyReference{Name: name, Key: key}})
	}
	return out, nil
}

func parseSecretRef(ref string) (name, key string, err error) {
	open := strings.Index(ref, "[")
	if open <= 0 || !strings.HasSuffix(ref, "]") || open == len(ref)-2 {
		return "", "", fmt.Errorf("invalid secret %q: use SECRET[KEY], for example mysecret[params]", ref)
	}
	name, key = strings.TrimSpace(ref[:open]), strings.TrimSpace(ref[open+1:len(ref)-1])
	if name == "" || key == "" || strings.ContainsAny(name, "[]") || strings.ContainsAny(key, "[]") {
		return "", "", fmt.Errorf("invalid secret %q: use SECRET[KEY], for example mysecret[params]", ref)
	}
	return name, key, nil
}

// ParseJSON reads --params-json, which must be a JSON object.
func ParseJSON(s string) (map[string]any, error) {
	var out map[string]any
	if err := json.Unmarshal([]byte(s), &out); err != nil {
		return nil, fmt.Errorf("invalid --params-json: %w", err)
	}
	if out == nil {
		return nil, errors.New("invalid --params-json: it must be a JSON object such as {\"name\": \"value\"}")
	}
	return out, nil
}

// Build combines --param and --params-json into the raw parameters of an
// instance or binding; nil when none are given. The two flags cannot be
// mixed: it would be unclear which value wins.
func Build(pairs []string, jsonParams string) (*runtime.RawExtension, error) {
	if len(pairs) > 0 && jsonParams != "" {
		return nil, errors.New("--param and --params-json cannot be used together")
	}
	var (
		m   map[string]any
		err error
	)
	switch {
	case jsonParams != "":
		m, err = ParseJSON(jsonParams)
	case len(pairs) > 0:
		m, err = ParseAssignments(pairs)
	default:
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	raw, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	return &runtime.RawExtension{Raw: raw}, nil
}

// Merge sets the NAME=VALUE pairs in an instance's current parameters,
// leaving its other parameters as they are: svcat update instance -p
// changes one setting without restating the others. Current parameters
// that are not a JSON object cannot be merged into, and are named so.
func Merge(current *runtime.RawExtension, pairs []string) (*runtime.RawExtension, error) {
	set, err := ParseAssignments(pairs)
	if err != nil {
		return nil, err
	}
	m := map[string]any{}
	if current != nil && len(current.Raw) > 0 {
		if err := json.Unmarshal(current.Raw, &m); err != nil || m == nil {
			return nil, errors.New("spec.parameters is not a JSON object, so --param cannot change one of them; replace them all with --params-json")
		}
	}
	for k, v := range set {
		m[k] = v
	}
	raw, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	return &runtime.RawExtension{Raw: raw}, nil
}
