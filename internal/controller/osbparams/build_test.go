package osbparams

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/svcat-io/svcat/api/v1beta1"
)

// secrets is a fake store: Secret name -> key -> value.
type secrets map[string]map[string]string

func (s secrets) value(name, key string) ([]byte, error) {
	d, ok := s[name]
	if !ok {
		return nil, fmt.Errorf("get secret %q: %w", name, ErrSecretNotFound)
	}
	v, ok := d[key]
	if !ok {
		return nil, ErrKeyNotFound
	}
	return []byte(v), nil
}

func raw(s string) *runtime.RawExtension { return &runtime.RawExtension{Raw: []byte(s)} }

func from(refs ...string) []v1beta1.ParametersFromSource {
	var out []v1beta1.ParametersFromSource
	for _, r := range refs {
		name, key, _ := strings.Cut(r, "/")
		out = append(out, v1beta1.ParametersFromSource{SecretKeyRef: &v1beta1.SecretKeyReference{Name: name, Key: key}})
	}
	return out
}

func sha(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

func TestBuild(t *testing.T) {
	store := secrets{
		"creds":  {"json": `{"password":"hunter2","user":"bob"}`, "other": `{"token":"t0k"}`, "dup": `{"plan":"x"}`, "null": "null", "empty": ""},
		"broken": {"str": `"hunter2"`, "bad": `{"password":hunter2}`, "arr": `[1,2]`, "two": `{} {}`},
	}
	tests := []struct {
		name       string
		parameters *runtime.RawExtension
		from       []v1beta1.ParametersFromSource
		wantParams string // JSON of Parameters; "" means nil
		wantRed    string // JSON of Redacted
		wantErr    string
		reason     Reason
		retryable  bool
	}{
		{name: "nothing"},
		{name: "empty raw", parameters: raw("")},
		{name: "null", parameters: raw("null")},
		{name: "empty object", parameters: raw("{}")},
		{
			name:       "in-memory object",
			parameters: &runtime.RawExtension{Object: &runtime.Unknown{Raw: []byte(`{"a":"b"}`)}},
			wantParams: `{"a":"b"}`,
			wantRed:    `{"a":"b"}`,
		},
		{
			name:       "plain parameters",
			parameters: raw(`{"plan":"duck","topics":[{"partitions":3}]}`),
			wantParams: `{"plan":"duck","topics":[{"partitions":3}]}`,
			wantRed:    `{"plan":"duck","topics":[{"partitions":3}]}`,
		},
		{
			name:       "secret keys are redacted at the top level",
			parameters: raw(`{"plan":"duck"}`),
			from:       from("creds/json", "creds/other"),
			wantParams: `{"password":"hunter2","plan":"duck","token":"t0k","user":"bob"}`,
			wantRed:    `{"password":"<redacted>","plan":"duck","token":"<redacted>","user":"<redacted>"}`,
		},
		{
			name:       "large integers are kept exactly",
			parameters: raw(`{"n":12345678901234567891}`),
			wantParams: `{"n":12345678901234567891}`,
			wantRed:    `{"n":12345678901234567891}`,
		},
		{
			name:       "a secret holding null adds nothing",
			parameters: raw(`{"a":1}`),
			from:       from("creds/null"),
			wantParams: `{"a":1}`,
			wantRed:    `{"a":1}`,
		},
		{
			name:       "parameters an array",
			parameters: raw(`[1]`),
			wantErr:    `spec.parameters: it is a JSON array`,
			reason:     ReasonParametersNotObject,
		},
		{
			name:       "parameters not JSON",
			parameters: raw(`{"a":`),
			wantErr:    `spec.parameters: it is not valid JSON`,
			reason:     ReasonParametersNotObject,
		},
		{
			name:    "missing secret",
			from:    from("creds/json", "nope/k"),
			wantErr: `spec.parametersFrom[1].secretKeyRef: Secret "nope" does not exist`,
			reason:  ReasonSecretNotFound, retryable: true,
		},
		{
			name:    "missing key",
			from:    from("creds/nokey"),
			wantErr: `spec.parametersFrom[0].secretKeyRef: Secret "creds" has no key "nokey"`,
			reason:  ReasonSecretKeyNotFound, retryable: true,
		},
		{
			name:    "string value",
			from:    from("broken/str"),
			wantErr: `spec.parametersFrom[0].secretKeyRef: the value of key "str" in Secret "broken" is not a JSON object (it is a JSON string)`,
			reason:  ReasonSecretValueNotObject,
		},
		{
			name:    "invalid JSON value is not quoted",
			from:    from("broken/bad"),
			wantErr: `spec.parametersFrom[0].secretKeyRef: the value of key "bad" in Secret "broken" is not a JSON object (it is not valid JSON)`,
			reason:  ReasonSecretValueNotObject,
		},
		{
			name:    "array value",
			from:    from("broken/arr"),
			wantErr: `spec.parametersFrom[0].secretKeyRef: the value of key "arr" in Secret "broken" is not a JSON object (it is a JSON array)`,
			reason:  ReasonSecretValueNotObject,
		},
		{
			name:    "two values",
			from:    from("broken/two"),
			wantErr: `spec.parametersFrom[0].secretKeyRef: the value of key "two" in Secret "broken" is not a JSON object (it is not valid JSON: more than one value)`,
			reason:  ReasonSecretValueNotObject,
		},
		{
			name:    "empty value",
			from:    from("creds/empty"),
			wantErr: `spec.parametersFrom[0].secretKeyRef: the value of key "empty" in Secret "creds" is not a JSON object (it is empty)`,
			reason:  ReasonSecretValueNotObject,
		},
		{
			name:       "duplicate between parameters and a secret",
			parameters: raw(`{"plan":"duck"}`),
			from:       from("creds/json", "creds/dup"),
			wantErr:    `top-level key "plan" appears in both spec.parameters and spec.parametersFrom[1].secretKeyRef`,
			reason:     ReasonDuplicateKey,
		},
		{
			name:    "duplicate between two secrets",
			from:    from("creds/json", "creds/json"),
			wantErr: `top-level key "password" appears in both spec.parametersFrom[0].secretKeyRef and spec.parametersFrom[1].secretKeyRef`,
			reason:  ReasonDuplicateKey,
		},
		{
			name:    "entry without secretKeyRef",
			from:    []v1beta1.ParametersFromSource{{}},
			wantErr: `spec.parametersFrom[0]: secretKeyRef is required`,
			reason:  ReasonMissingSecretKeyRef,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := Build(tt.parameters, tt.from, store.value)
			if tt.wantErr != "" {
				var pe *Error
				if !errors.As(err, &pe) {
					t.Fatalf("err = %v, want *Error", err)
				}
				if err.Error() != tt.wantErr {
					t.Errorf("err = %q\nwant  %q", err, tt.wantErr)
				}
				if pe.Reason != tt.reason || pe.Retryable() != tt.retryable {
					t.Errorf("reason %s retryable %v, want %s %v", pe.Reason, pe.Retryable(), tt.reason, tt.retryable)
				}
				if strings.Contains(err.Error(), "hunter2") {
					t.Errorf("error leaks a secret value: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := jsonOf(t, res.Parameters); got != tt.wantParams {
				t.Errorf("Parameters = %s, want %s", got, tt.wantParams)
			}
			if got := jsonOf(t, res.Redacted); got != tt.wantRed {
				t.Errorf("Redacted = %s, want %s", got, tt.wantRed)
			}
			wantSum := EmptyChecksum
			if tt.wantParams != "" {
				wantSum = sha(tt.wantParams)
			}
			if res.Checksum != wantSum {
				t.Errorf("Checksum = %s, want sha256(%s)", res.Checksum, tt.wantParams)
			}
		})
	}
}

func jsonOf(t *testing.T, m map[string]any) string {
	t.Helper()
	if m == nil {
		return ""
	}
	ext, err := ToRaw(m)
	if err != nil {
		t.Fatal(err)
	}
	return string(ext.Raw)
}

func TestBuildClassifiesCallerErrors(t *testing.T) {
	gr := schema.GroupResource{Resource: "secrets"}
	tests := []struct {
		err    error
		reason Reason
		msg    string
	}{
		{apierrors.NewNotFound(gr, "s"), ReasonSecretNotFound, `spec.parametersFrom[0].secretKeyRef: Secret "s" does not exist`},
		{fmt.Errorf("wrapped: %w", ErrKeyNotFound), ReasonSecretKeyNotFound, `spec.parametersFrom[0].secretKeyRef: Secret "s" has no key "k"`},
		{apierrors.NewForbidden(gr, "s", errors.New("RBAC")), ReasonSecretUnreadable, `spec.parametersFrom[0].secretKeyRef: cannot read key "k" of Secret "s": secrets "s" is forbidden: RBAC`},
	}
	for _, tt := range tests {
		_, err := Build(nil, from("s/k"), func(string, string) ([]byte, error) { return nil, tt.err })
		var pe *Error
		if !errors.As(err, &pe) || pe.Reason != tt.reason || err.Error() != tt.msg || !pe.Retryable() {
			t.Errorf("%v: got %v (%+v), want %s %q", tt.err, err, pe, tt.reason, tt.msg)
		}
		if !errors.Is(err, tt.err) {
			t.Errorf("%v: the caller's error is not wrapped", tt.err)
		}
	}
}

func TestChecksumMatchesV03(t *testing.T) {
	// v0.3 hashed json.Marshal of float64-decoded maps; equal numbers
	// written differently must hash alike, and different ones differ.
	tests := []struct {
		a, b string
		same bool
	}{
		{`{"n":1}`, `{"n":1.0}`, true},
		{`{"n":1000}`, `{"n":1e3}`, true},
		{`{"n":0.1}`, `{"n":0.10}`, true},
		{`{"n":0.1}`, `{"n":0.1000000000000000001}`, false},
		{`{"n":12345678901234567890}`, `{"n":12345678901234567891}`, false},
		{`{"n":1e-999999999}`, `{"n":0}`, false},
		{`{"a":"<&>"}`, `{"a":"<&>"}`, true},
	}
	for _, tt := range tests {
		ra, err := Build(raw(tt.a), nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		rb, err := Build(raw(tt.b), nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		if (ra.Checksum == rb.Checksum) != tt.same {
			t.Errorf("%s vs %s: same checksum = %v, want %v", tt.a, tt.b, ra.Checksum == rb.Checksum, tt.same)
		}
	}

	// What v0.3's generateChecksumOfParameters gives for these parameters.
	var v03 map[string]any
	in := `{"b":"<x&y>","a":[1.50,true,null,{"z":2e2}]}`
	if err := json.Unmarshal([]byte(in), &v03); err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(v03)
	r, err := Build(raw(in), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := sha(string(b)); r.Checksum != want {
		t.Errorf("checksum %s, v0.3 would have %s", r.Checksum, want)
	}
}

func TestRedactedRaw(t *testing.T) {
	r, err := Build(raw(`{"a":1}`), from("s/k"), secrets{"s": {"k": `{"p":"x"}`}}.value)
	if err != nil {
		t.Fatal(err)
	}
	ext, err := r.RedactedRaw()
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(ext.Raw), `{"a":1,"p":"<redacted>"}`; got != want {
		t.Errorf("RedactedRaw = %s, want %s", got, want)
	}
	ext, err = Result{}.RedactedRaw()
	if ext != nil || err != nil {
		t.Errorf("empty RedactedRaw = %v, %v; want nil, nil", ext, err)
	}
}

func FuzzBuild(f *testing.F) {
	f.Add(`{"a":1,"b":[1,2]}`, `{"s":"secret-value-0123"}`)
	f.Add(`{"s":1}`, `{"s":"secret-value-0123"}`)
	f.Add(`[]`, `"secret-value-0123"`)
	f.Add(`null`, `{"x":1e400}`)
	f.Add(``, `{"n":1e-999999999}`)
	f.Fuzz(func(t *testing.T, plain, secret string) {
		read := func(string, string) ([]byte, error) { return []byte(secret), nil }
		res, err := Build(raw(plain), from("s/k"), read)
		if err != nil {
			if len(secret) >= 12 && strings.Contains(err.Error(), secret) {
				t.Fatalf("error quotes the secret value: %v", err)
			}
			var pe *Error
			if !errors.As(err, &pe) {
				t.Fatalf("error is not *Error: %v", err)
			}
			return
		}
		if len(res.Parameters) != len(res.Redacted) {
			t.Fatalf("Parameters and Redacted differ in size: %d vs %d", len(res.Parameters), len(res.Redacted))
		}
		var fromSecret map[string]any
		_ = json.Unmarshal([]byte(secret), &fromSecret)
		for k := range res.Parameters {
			_, isSecret := fromSecret[k]
			if red, ok := res.Redacted[k]; !ok || (isSecret && red != RedactedValue) {
				t.Fatalf("key %q: redacted = %v, from secret = %v", k, red, isSecret)
			}
		}
		again, err := Build(raw(plain), from("s/k"), read)
		if err != nil || again.Checksum != res.Checksum {
			t.Fatalf("checksum not deterministic: %s vs %s (%v)", res.Checksum, again.Checksum, err)
		}
		if (len(res.Parameters) == 0) != (res.Checksum == EmptyChecksum) {
			t.Fatalf("checksum %q for %d parameters", res.Checksum, len(res.Parameters))
		}
		if !reflect.DeepEqual(res.Parameters == nil, res.Redacted == nil) {
			t.Fatal("Parameters and Redacted disagree on nil")
		}
	})
}
