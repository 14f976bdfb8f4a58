package osbparams

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"sort"
	"strconv"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/svcat-io/svcat/api/v1beta1"
)

// RedactedValue replaces, in the status, every top-level parameter that
// came from a Secret (the string v0.3 used, which users and tools know).
const RedactedValue = "<redacted>"

// EmptyChecksum is the checksum of no parameters. It is the empty string, as
// in v0.3, so an instance v0.3 provisioned without parameters is not seen as
// changed (and sent a needless update) after the upgrade.
const EmptyChecksum = ""

// Result is the parameters of one instance or binding, built from its spec.
type Result struct {
	// Parameters are sent to the broker. Nil when there are none, so the
	// request omits them as v0.3 did. Numbers are json.Number, so large
	// integers reach the broker exactly as the user wrote them.
	Parameters map[string]any
	// Redacted has the same keys; those from a Secret hold RedactedValue.
	// Nil when there are no parameters.
	Redacted map[string]any
	// Checksum is the SHA-256 (hex) of the parameters including Secret
	// values; see Checksum.
	Checksum string
}

// RedactedRaw encodes Redacted for inProgressProperties.parameters; nil when
// there are no parameters, so the field is omitted.
func (r Result) RedactedRaw() (*runtime.RawExtension, error) {
	return ToRaw(r.Redacted)
}

// ToRaw encodes a parameters map as a RawExtension; nil for an empty map.
func ToRaw(m map[string]any) (*runtime.RawExtension, error) {
	if len(m) == 0 {
		return nil, nil
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	// Status is read by people: "<redacted>" rather than "\u003credacted\u003e".
	enc.SetEscapeHTML(false)
	if err := enc.Encode(m); err != nil {
		return nil, err
	}
	return &runtime.RawExtension{Raw: bytes.TrimSuffix(buf.Bytes(), []byte("\n"))}, nil
}

// MaxParametersBytes bounds the JSON of all parameter sources together.
// Secrets hold up to 1 MiB each and parametersFrom may name many of them:
// without a bound one instance could make the controller hold, and send
// to a broker, any amount of data. OSB parameters are settings, not
// payloads; 256 KiB is far beyond any catalog's schema.
const MaxParametersBytes = 256 << 10

// Build merges spec.parameters and spec.parametersFrom. secretValue reads
// one key of a Secret in the object's namespace; it returns
// ErrSecretNotFound or ErrKeyNotFound (or a NotFound API error) when they do
// not exist. Errors are *Error.
//
// A top-level key may come from only one source: merging would silently
// pick a winner, and v0.3 refused it too.
func Build(parameters *runtime.RawExtension, from []v1beta1.ParametersFromSource, secretValue func(name, key string) ([]byte, error)) (Result, error) {
	params := map[string]any{}
	redacted := map[string]any{}
	origin := map[string]string{}
	total := 0
	// tooLarge checks the running total before a source is decoded, so an
	// oversized source costs no decoding.
	tooLarge := func(field, secret, key string, n int) error {
		total += n
		if total <= MaxParametersBytes {
			return nil
		}
		return &Error{Reason: ReasonTooLarge, Field: field, Secret: secret, Key: key,
			Detail: fmt.Sprintf("brings the parameters to %d bytes of JSON, more than the %d allowed", total, MaxParametersBytes)}
	}

	add := func(field string, m map[string]any, secret bool) error {
		// Sorted, so the reported duplicate does not depend on map order.
		for _, k := range sortedKeys(m) {
			if prev, ok := origin[k]; ok {
				return &Error{Reason: ReasonDuplicateKey, Field: field, Parameter: k, OtherField: prev}
			}
			origin[k] = field
			params[k] = m[k]
			if secret {
				redacted[k] = RedactedValue
			} else {
				redacted[k] = m[k]
			}
		}
		return nil
	}

	if parameters != nil {
		rawParams := parameters.Raw
		if len(rawParams) == 0 && parameters.Object != nil {
			// Built in memory rather than decoded from the API server.
			b, err := json.Marshal(parameters.Object)
			if err != nil {
				return Result{}, &Error{Reason: ReasonParametersNotObject, Field: "spec.parameters", Detail: "it cannot be encoded as JSON", Err: err}
			}
			rawParams = b
		}
		if err := tooLarge("spec.parameters", "", "", len(rawParams)); err != nil {
			return Result{}, err
		}
		m, detail := decodeObject(rawParams)
		if detail != "" {
			return Result{}, &Error{Reason: ReasonParametersNotObject, Field: "spec.parameters", Detail: detail}
		}
		if err := add("spec.parameters", m, false); err != nil {
			return Result{}, err
		}
	}

	for i, src := range from {
		field := fmt.Sprintf("spec.parametersFrom[%d]", i)
		if src.SecretKeyRef == nil {
			return Result{}, &Error{Reason: ReasonMissingSecretKeyRef, Field: field}
		}
		field += ".secretKeyRef"
		ref := src.SecretKeyRef
		raw, err := secretValue(ref.Name, ref.Key)
		if err != nil {
			reason := ReasonSecretUnreadable
			switch {
			case errors.Is(err, ErrKeyNotFound):
				reason = ReasonSecretKeyNotFound
			case errors.Is(err, ErrSecretNotFound), apierrors.IsNotFound(err):
				reason = ReasonSecretNotFound
			}
			return Result{}, &Error{Reason: reason, Field: field, Secret: ref.Name, Key: ref.Key, Err: err}
		}
		if err := tooLarge(field, ref.Name, ref.Key, len(raw)); err != nil {
			return Result{}, err
		}
		m, detail := decodeObject(raw)
		if len(bytes.TrimSpace(raw)) == 0 {
			// v0.3 failed here too; null, which it accepted, still adds nothing.
			detail = "it is empty"
		}
		if detail != "" {
			return Result{}, &Error{Reason: ReasonSecretValueNotObject, Field: field, Secret: ref.Name, Key: ref.Key, Detail: detail}
		}
		if err := add(field, m, true); err != nil {
			return Result{}, err
		}
	}

	if len(params) == 0 {
		return Result{Checksum: EmptyChecksum}, nil
	}
	sum, err := Checksum(params)
	if err != nil {
		return Result{}, err
	}
	return Result{Parameters: params, Redacted: redacted, Checksum: sum}, nil
}

// decodeObject decodes a JSON object. Empty input and null mean no
// parameters (m == nil). Otherwise a non-empty detail says, without quoting
// the input (it may be a Secret's value), why it is not an object.
func decodeObject(raw []byte) (m map[string]any, detail string) {
	if len(bytes.TrimSpace(raw)) == 0 {
		return nil, ""
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, "it is not valid JSON"
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, "it is not valid JSON: more than one value"
	}
	switch v := v.(type) {
	case nil:
		return nil, ""
	case map[string]any:
		return v, ""
	default:
		return nil, "it is a JSON " + jsonType(v)
	}
}

func jsonType(v any) string {
	switch v.(type) {
	case string:
		return "string"
	case json.Number, float64:
		return "number"
	case bool:
		return "boolean"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	case nil:
		return "null"
	}
	return fmt.Sprintf("%T", v)
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Checksum is the SHA-256 (hex) of the parameters' canonical JSON: the
// encoding v0.3 hashed (encoding/json with sorted keys, HTML-escaped, numbers
// as float64), so instances v0.3 provisioned keep their checksum and are not
// updated for nothing. Unlike v0.3, a number float64 cannot hold exactly
// (large integers, long decimals) is hashed as written, so changing it is
// still detected. An empty map has EmptyChecksum.
func Checksum(params map[string]any) (string, error) {
	if len(params) == 0 {
		return EmptyChecksum, nil
	}
	b, err := json.Marshal(canonicalNumbers(params))
	if err != nil {
		return "", fmt.Errorf("encoding parameters for the checksum: %w", err)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), nil
}

// canonicalNumbers returns a copy of v in which every json.Number that a
// float64 holds exactly (same value as the float's shortest decimal form)
// is that float64: then 1, 1.0 and 1e0 hash alike, as in v0.3.
func canonicalNumbers(v any) any {
	switch v := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, e := range v {
			out[k] = canonicalNumbers(e)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = canonicalNumbers(e)
		}
		return out
	case json.Number:
		f, err := strconv.ParseFloat(string(v), 64)
		if err != nil || hugeExponent(string(v)) {
			return v
		}
		exact, ok := new(big.Rat).SetString(string(v))
		short, ok2 := new(big.Rat).SetString(strconv.FormatFloat(f, 'g', -1, 64))
		if ok && ok2 && exact.Cmp(short) == 0 {
			return f
		}
		return v
	}
	return v
}

// hugeExponent guards big.Rat, which would expand "1e-999999999" into a
// billion digits; no float64 needs an exponent that large.
func hugeExponent(n string) bool {
	i := strings.IndexAny(n, "eE")
	if i < 0 {
		return false
	}
	e, err := strconv.Atoi(strings.TrimPrefix(n[i+1:], "+"))
	return err != nil || e > 400 || e < -400
}
