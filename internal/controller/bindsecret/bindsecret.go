// Package bindsecret turns a broker's binding credentials into the data of
// the binding's Secret: one key per credential (strings raw, other values
// JSON, as v0.3 wrote them), then the binding's secretTransforms in order.
// It does no I/O: other Secrets are read through a function the caller
// passes.
//
// Error messages name transforms, keys and Secrets, never a value: they end
// up in conditions that anyone who can read the binding sees.
package bindsecret

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/client-go/util/jsonpath"

	"github.com/svcat-io/svcat/api/v1beta1"
)

// ErrSecretNotFound is what readSecret returns (possibly wrapped) when the
// Secret of an addKeysFrom transform does not exist. A Kubernetes NotFound
// API error is understood the same way.
var ErrSecretNotFound = errors.New("secret not found")

// Reason says what went wrong; CamelCase, usable as a condition reason.
type Reason string

const (
	// ReasonInvalidTransform: a transform sets no field or several, or
	// addKeysFrom has no secretRef.
	ReasonInvalidTransform Reason = "InvalidSecretTransform"
	// ReasonJSONPathInvalid: an addKey jsonPathExpression does not parse.
	ReasonJSONPathInvalid Reason = "InvalidJSONPathExpression"
	// ReasonJSONPathFailed: it parses but does not evaluate over the
	// credentials (a key it names is missing, say).
	ReasonJSONPathFailed Reason = "JSONPathExpressionFailed"
	// ReasonSourceSecretNotFound: the Secret of an addKeysFrom is missing.
	ReasonSourceSecretNotFound Reason = "SecretTransformSecretNotFound"
	// ReasonSourceSecretUnreadable: reading it failed for another reason.
	ReasonSourceSecretUnreadable Reason = "SecretTransformSecretUnreadable"
	// ReasonUnencodable: a credential value cannot be encoded as JSON.
	ReasonUnencodable Reason = "CredentialNotEncodable"
	// ReasonInvalidKey: a key of the result cannot be a Secret key.
	ReasonInvalidKey Reason = "InvalidSecretKey"
	// ReasonTooLarge: the result exceeds the API server's Secret size limit.
	ReasonTooLarge Reason = "SecretTooLarge"
	// ReasonOtherNamespace: addKeysFrom names a Secret outside the binding's
	// namespace.
	ReasonOtherNamespace Reason = "SecretTransformOtherNamespace"
)

// Error is a problem rendering the Secret.
type Error struct {
	Reason Reason
	// Field locates the transform, e.g. "spec.secretTransforms[2].addKey";
	// empty for problems with the result as a whole.
	Field string
	// Keys are the keys concerned (several for ReasonInvalidKey).
	Keys []string
	// Secret is "namespace/name" for the addKeysFrom reasons.
	Secret string
	// Detail explains, without any value.
	Detail string
	Err    error
}

func (e *Error) Error() string {
	var b strings.Builder
	if e.Field != "" {
		b.WriteString(e.Field + ": ")
	}
	switch e.Reason {
	case ReasonSourceSecretNotFound:
		fmt.Fprintf(&b, "Secret %q does not exist", e.Secret)
	case ReasonSourceSecretUnreadable:
		fmt.Fprintf(&b, "cannot read Secret %q: %v", e.Secret, e.Err)
	case ReasonInvalidKey:
		fmt.Fprintf(&b, "not valid as Secret keys: %s; rename them with a renameKey transform", e.Detail)
	default:
		if len(e.Keys) == 1 {
			fmt.Fprintf(&b, "key %q: ", e.Keys[0])
		}
		b.WriteString(e.Detail)
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// Retryable reports whether trying again later with the same spec may
// succeed: only a Secret that addKeysFrom reads can appear or become
// readable. Everything else needs the binding (or the broker) to change.
func (e *Error) Retryable() bool {
	return e.Reason == ReasonSourceSecretNotFound || e.Reason == ReasonSourceSecretUnreadable
}

// Render builds the Secret data for credentials. readSecret reads a whole
// Secret for addKeysFrom, whose namespace defaults to bindingNamespace.
// addKeysFrom may only name the binding's own namespace: v0.3 allowed any,
// which let anyone who can create a binding copy, through the controller,
// Secrets of other namespaces (another team's credentials, a broker's) that
// they cannot read themselves. Errors are *Error.
//
// Transforms run in order on the credentials before they are encoded, as in
// v0.3, so a jsonPathExpression sees the keys as earlier transforms left
// them. A renameKey whose "from" is missing does nothing (v0.3 did the same;
// the broker may leave out an optional credential); renameKey and addKey
// overwrite an existing key.
func Render(credentials map[string]any, transforms []v1beta1.SecretTransform, readSecret func(namespace, name string) (map[string][]byte, error), bindingNamespace string) (map[string][]byte, error) {
	state := make(map[string]any, len(credentials))
	for k, v := range credentials {
		state[k] = v
	}
	for i, t := range transforms {
		if err := apply(state, i, t, readSecret, bindingNamespace); err != nil {
			return nil, err
		}
	}

	data := make(map[string][]byte, len(state))
	size := 0
	for _, k := range sortedKeys(state) {
		b, err := encode(state[k])
		if err != nil {
			return nil, &Error{Reason: ReasonUnencodable, Keys: []string{k}, Detail: "the value cannot be encoded as JSON", Err: err}
		}
		data[k] = b
		size += len(b)
	}
	if err := checkKeys(data); err != nil {
		return nil, err
	}
	if size > corev1.MaxSecretSize {
		return nil, &Error{Reason: ReasonTooLarge, Detail: fmt.Sprintf("the credentials take %d bytes, more than a Secret holds (%d)", size, corev1.MaxSecretSize)}
	}
	return data, nil
}

func apply(state map[string]any, i int, t v1beta1.SecretTransform, readSecret func(namespace, name string) (map[string][]byte, error), bindingNamespace string) error {
	field := fmt.Sprintf("spec.secretTransforms[%d]", i)
	set := 0
	for _, p := range []bool{t.RenameKey != nil, t.AddKey != nil, t.AddKeysFrom != nil, t.RemoveKey != nil} {
		if p {
			set++
		}
	}
	if set != 1 {
		return &Error{Reason: ReasonInvalidTransform, Field: field, Detail: "set exactly one of renameKey, addKey, addKeysFrom or removeKey"}
	}

	switch {
	case t.RenameKey != nil:
		v, ok := state[t.RenameKey.From]
		if ok && t.RenameKey.From != t.RenameKey.To {
			state[t.RenameKey.To] = v
			delete(state, t.RenameKey.From)
		}
	case t.RemoveKey != nil:
		delete(state, t.RemoveKey.Key)
	case t.AddKey != nil:
		a := t.AddKey
		field += ".addKey"
		// v0.3's precedence, should the API let more than one through.
		switch {
		case a.JSONPathExpression != nil:
			v, err := evalJSONPath(*a.JSONPathExpression, state)
			if err != nil {
				err.Field, err.Keys = field, []string{a.Key}
				return err
			}
			state[a.Key] = v
		case a.StringValue != nil:
			state[a.Key] = *a.StringValue
		default:
			state[a.Key] = a.Value
		}
	case t.AddKeysFrom != nil:
		field += ".addKeysFrom"
		ref := t.AddKeysFrom.SecretRef
		if ref == nil || ref.Name == "" {
			return &Error{Reason: ReasonInvalidTransform, Field: field, Detail: "secretRef.name is required"}
		}
		ns := ref.Namespace
		if ns == "" {
			ns = bindingNamespace
		}
		if ns != bindingNamespace {
			return &Error{Reason: ReasonOtherNamespace, Field: field + ".secretRef.namespace", Secret: ns + "/" + ref.Name,
				Detail: fmt.Sprintf("only Secrets in the binding's namespace %q may be copied; %q is another namespace", bindingNamespace, ns)}
		}
		d, err := readSecret(ns, ref.Name)
		if err != nil {
			reason := ReasonSourceSecretUnreadable
			if errors.Is(err, ErrSecretNotFound) || apierrors.IsNotFound(err) {
				reason = ReasonSourceSecretNotFound
			}
			return &Error{Reason: reason, Field: field, Secret: ns + "/" + ref.Name, Err: err}
		}
		for k, v := range d {
			state[k] = v
		}
	}
	return nil
}

// encode writes strings and bytes raw and everything else as JSON, so a
// password is usable as it is and structured values stay parseable. HTML
// characters are not escaped: "a&b" reads better than "a\u0026b" to a
// person, and is the same to a JSON parser.
func encode(v any) ([]byte, error) {
	switch v := v.(type) {
	case []byte:
		return v, nil
	case string:
		return []byte(v), nil
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

func checkKeys(data map[string][]byte) error {
	var bad, why []string
	for _, k := range sortedKeys(data) {
		// The API server's own rule, so we fail here with a clear message
		// rather than on the write.
		if len(validation.IsConfigMapKey(k)) == 0 {
			continue
		}
		bad = append(bad, k)
		why = append(why, fmt.Sprintf("%q (%s)", shorten(k), keyProblem(k)))
	}
	if bad == nil {
		return nil
	}
	return &Error{Reason: ReasonInvalidKey, Keys: bad, Detail: strings.Join(why, ", ")}
}

func keyProblem(k string) string {
	switch {
	case len(k) > validation.DNS1123SubdomainMaxLength:
		return fmt.Sprintf("longer than %d characters", validation.DNS1123SubdomainMaxLength)
	case k == "." || k == ".." || strings.HasPrefix(k, ".."):
		return "'.', '..' and a leading '..' are not allowed"
	}
	return "only letters, digits, '-', '_' and '.' are allowed"
}

func shorten(k string) string {
	const max = 40
	if len(k) <= max {
		return k
	}
	return k[:max] + "…"
}

// evalJSONPath runs expr over the credentials. Bytes (from addKey value or
// addKeysFrom) are shown to it as strings: otherwise "{.ca}" would print a
// list of numbers.
func evalJSONPath(expr string, state map[string]any) (string, *Error) {
	j := jsonpath.New("addKey")
	if err := j.Parse(expr); err != nil {
		return "", &Error{Reason: ReasonJSONPathInvalid, Detail: fmt.Sprintf("jsonPathExpression %q does not parse: %v", expr, err), Err: err}
	}
	var out bytes.Buffer
	err := j.Execute(&out, stringBytes(state))
	if err == nil {
		return out.String(), nil
	}
	// The library's messages may print the value it stumbled on. Running
	// the expression again over a copy with every leaf replaced gives the
	// same structural error without any credential in it.
	detail := fmt.Sprintf("jsonPathExpression %q does not evaluate over the credentials", expr)
	if err2 := j.Execute(&bytes.Buffer{}, shadow(state)); err2 != nil {
		detail += ": " + err2.Error()
	}
	return "", &Error{Reason: ReasonJSONPathFailed, Detail: detail}
}

func stringBytes(state map[string]any) map[string]any {
	out := make(map[string]any, len(state))
	for k, v := range state {
		if b, ok := v.([]byte); ok {
			v = string(b)
		}
		out[k] = v
	}
	return out
}

// shadow copies v keeping keys, lengths and JSON types but no value.
func shadow(v any) any {
	switch v := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, e := range v {
			out[k] = shadow(e)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = shadow(e)
		}
		return out
	case string, []byte:
		return "-"
	case bool:
		return false
	case nil:
		return nil
	}
	return 0
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Equal reports whether a Secret already holds data, so the reconciler can
// skip a write that would change nothing.
func Equal(existing, data map[string][]byte) bool {
	if len(existing) != len(data) {
		return false
	}
	for k, v := range data {
		e, ok := existing[k]
		if !ok || !bytes.Equal(e, v) {
			return false
		}
	}
	return true
}
