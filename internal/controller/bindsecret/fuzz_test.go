package bindsecret

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/svcat-io/svcat/api/v1beta1"
)

// canary is planted in every credential value; no error may contain it.
const canary = "fz-canary-secret-7731"

// FuzzRender runs the whole transform engine on arbitrary credentials (as a
// broker sends them) and arbitrary transforms (as a user writes them): it
// must never panic, fail only with *Error, never quote a credential in an
// error, be deterministic, and produce only what the API server accepts.
func FuzzRender(f *testing.F) {
	f.Add([]byte(`{"username":"u","password":"p","uri":"kafka://h:9092"}`),
		[]byte(`[{"renameKey":{"from":"username","to":"user"}},{"removeKey":{"key":"uri"}}]`), "src")
	f.Add([]byte(`{"nested":{"list":[1,{"x":"y"}]}}`), []byte(`[{"addKey":{"key":"x","jsonPathExpression":"{.nested.list[1].x}"}}]`), "src")
	f.Add([]byte(`{"a":"b"}`), []byte(`[{"addKey":{"key":"x","jsonPathExpression":"{.missing}"}}]`), "src")
	f.Add([]byte(`{"a":"b"}`), []byte(`[{"addKeysFrom":{"secretRef":{"name":"absent"}}}]`), "absent")
	f.Add([]byte(`{"a":"b"}`), []byte(`[{"addKeysFrom":{"secretRef":{"name":"src"}}},{"renameKey":{"from":"from-secret","to":"bad key!"}}]`), "src")
	f.Add([]byte(`{"a":"b"}`), []byte(`[{}]`), "src")
	f.Add([]byte(`{"a":"b"}`), []byte(`[{"renameKey":{"from":"a","to":"b"},"removeKey":{"key":"a"}}]`), "src")
	f.Add([]byte(`{"a":1e308,"b":null,"c":true}`), []byte(`[{"addKey":{"key":"v","value":"aGVsbG8="}},{"addKey":{"key":"s","stringValue":""}}]`), "src")
	f.Add([]byte(`{"..":"x"}`), []byte(`[]`), "src")
	f.Fuzz(func(t *testing.T, credsJSON, transformsJSON []byte, secretName string) {
		var creds map[string]any
		if json.Unmarshal(credsJSON, &creds) != nil {
			return
		}
		plant(creds)
		var transforms []v1beta1.SecretTransform
		if json.Unmarshal(transformsJSON, &transforms) != nil {
			return
		}
		read := func(ns, name string) (map[string][]byte, error) {
			if ns != "app" || name != secretName {
				return nil, ErrSecretNotFound
			}
			return map[string][]byte{"from-secret": []byte(canary)}, nil
		}
		data, err := Render(creds, transforms, read, "app")
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %T is not *Error: %v", err, err)
			}
			if strings.Contains(err.Error(), canary) && !bytes.Contains(transformsJSON, []byte(canary)) {
				t.Fatalf("error quotes a credential: %v", err)
			}
			return
		}
		size := 0
		for k, v := range data {
			if errs := validation.IsConfigMapKey(k); len(errs) > 0 {
				t.Fatalf("invalid key %q in the result: %v", k, errs)
			}
			size += len(v)
		}
		if size > corev1.MaxSecretSize {
			t.Fatalf("result of %d bytes", size)
		}
		again, err := Render(creds, transforms, read, "app")
		if err != nil || !reflect.DeepEqual(again, data) {
			t.Fatalf("not deterministic: %v", err)
		}
	})
}

// plant replaces every string leaf with the canary, so a leak is visible
// whatever the fuzzer put in the credentials.
func plant(v any) {
	switch v := v.(type) {
	case map[string]any:
		for k, e := range v {
			if _, ok := e.(string); ok {
				v[k] = canary
			} else {
				plant(e)
			}
		}
	case []any:
		for i, e := range v {
			if _, ok := e.(string); ok {
				v[i] = canary
			} else {
				plant(e)
			}
		}
	}
}
