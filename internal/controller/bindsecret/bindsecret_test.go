package bindsecret

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/svcat-io/svcat/api/v1beta1"
)

func ptr[T any](v T) *T { return &v }

func rename(from, to string) v1beta1.SecretTransform {
	return v1beta1.SecretTransform{RenameKey: &v1beta1.RenameKeyTransform{From: from, To: to}}
}

func remove(key string) v1beta1.SecretTransform {
	return v1beta1.SecretTransform{RemoveKey: &v1beta1.RemoveKeyTransform{Key: key}}
}

func addString(key, v string) v1beta1.SecretTransform {
	return v1beta1.SecretTransform{AddKey: &v1beta1.AddKeyTransform{Key: key, StringValue: &v}}
}

func addBytes(key string, v []byte) v1beta1.SecretTransform {
	return v1beta1.SecretTransform{AddKey: &v1beta1.AddKeyTransform{Key: key, Value: v}}
}

func addPath(key, expr string) v1beta1.SecretTransform {
	return v1beta1.SecretTransform{AddKey: &v1beta1.AddKeyTransform{Key: key, JSONPathExpression: &expr}}
}

func addFrom(ns, name string) v1beta1.SecretTransform {
	return v1beta1.SecretTransform{AddKeysFrom: &v1beta1.AddKeysFromTransform{SecretRef: &v1beta1.ObjectReference{Namespace: ns, Name: name}}}
}

// store is namespace/name -> data.
type store map[string]map[string][]byte

func (s store) read(ns, name string) (map[string][]byte, error) {
	d, ok := s[ns+"/"+name]
	if !ok {
		return nil, fmt.Errorf("get: %w", ErrSecretNotFound)
	}
	return d, nil
}

// strs turns Secret data into strings for readable comparisons.
func strs(d map[string][]byte) map[string]string {
	if d == nil {
		return nil
	}
	out := map[string]string{}
	for k, v := range d {
		out[k] = string(v)
	}
	return out
}

func TestRender(t *testing.T) {
	creds := map[string]any{
		"host":     "db.example.com",
		"port":     float64(5432),
		"password": "s3cr3t&<x>",
		"tls":      true,
		"nothing":  nil,
		"hosts":    []any{"a", "b"},
		"nested":   map[string]any{"user": "bob", "n": 1.5},
	}
	secrets := store{
		"app/extra":   {"extra": []byte("from-app"), "host": []byte("overridden")},
		"other/extra": {"cross": []byte("ns")},
	}
	base := map[string]string{
		"host": "db.example.com", "port": "5432", "password": "s3cr3t&<x>", "tls": "true",
		"nothing": "null", "hosts": `["a","b"]`, "nested": `{"n":1.5,"user":"bob"}`,
	}
	with := func(changes ...string) map[string]string {
		out := map[string]string{}
		for k, v := range base {
			out[k] = v
		}
		for _, c := range changes {
			k, v, ok := strings.Cut(c, "=")
			if !ok {
				delete(out, k)
				continue
			}
			out[k] = v
		}
		return out
	}

	tests := []struct {
		name       string
		transforms []v1beta1.SecretTransform
		want       map[string]string
	}{
		{name: "strings raw, the rest JSON", want: base},
		{name: "rename", transforms: []v1beta1.SecretTransform{rename("host", "hostname")}, want: with("host", "hostname=db.example.com")},
		{name: "rename of a missing key does nothing (v0.3)", transforms: []v1beta1.SecretTransform{rename("absent", "x")}, want: base},
		{name: "rename onto itself", transforms: []v1beta1.SecretTransform{rename("host", "host")}, want: base},
		{name: "rename overwrites", transforms: []v1beta1.SecretTransform{rename("host", "port")}, want: with("host", "port=db.example.com")},
		{name: "remove", transforms: []v1beta1.SecretTransform{remove("password"), remove("absent")}, want: with("password")},
		{name: "add string", transforms: []v1beta1.SecretTransform{addString("k", "v")}, want: with("k=v")},
		{name: "add bytes", transforms: []v1beta1.SecretTransform{addBytes("k", []byte{0xff, 'a'})}, want: with("k=\xffa")},
		{name: "add empty bytes", transforms: []v1beta1.SecretTransform{addBytes("k", nil)}, want: with("k=")},
		{name: "jsonpath", transforms: []v1beta1.SecretTransform{addPath("url", "postgres://{.nested.user}@{.host}:{.port}/{.hosts[1]}")}, want: with("url=postgres://bob@db.example.com:5432/b")},
		{name: "jsonpath over a non-string prints JSON", transforms: []v1beta1.SecretTransform{addPath("h", "{.hosts}")}, want: with(`h=["a","b"]`)},
		{
			name:       "jsonpath sees earlier transforms and bytes as strings",
			transforms: []v1beta1.SecretTransform{rename("host", "server"), addBytes("b", []byte("raw")), addPath("k", "{.server}/{.b}")},
			want:       with("host", "server=db.example.com", "b=raw", "k=db.example.com/raw"),
		},
		{name: "addKeysFrom defaults to the binding's namespace", transforms: []v1beta1.SecretTransform{addFrom("", "extra")}, want: with("extra=from-app", "host=overridden")},
		{name: "addKeysFrom naming its own namespace", transforms: []v1beta1.SecretTransform{addFrom("app", "extra")}, want: with("extra=from-app", "host=overridden")},
		{name: "in order", transforms: []v1beta1.SecretTransform{addString("a", "1"), rename("a", "b"), remove("b"), addString("b", "2")}, want: with("b=2")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Render(creds, tt.transforms, secrets.read, "app")
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(strs(got), tt.want) {
				t.Errorf("got  %q\nwant %q", strs(got), tt.want)
			}
		})
	}
	if _, ok := creds["k"]; ok || len(creds) != 7 {
		t.Error("Render changed the caller's credentials")
	}
}

func TestRenderErrors(t *testing.T) {
	creds := map[string]any{"host": "h", "password": "hunter2-secret", "list": []any{"hunter2-secret"}, "ok": "v"}
	gr := schema.GroupResource{Resource: "secrets"}
	tests := []struct {
		name       string
		creds      map[string]any
		transforms []v1beta1.SecretTransform
		read       func(ns, name string) (map[string][]byte, error)
		want       string
		reason     Reason
		retryable  bool
	}{
		{
			name:       "jsonpath missing key",
			transforms: []v1beta1.SecretTransform{addString("a", "b"), addPath("url", "{.hostname}")},
			want:       `spec.secretTransforms[1].addKey: key "url": jsonPathExpression "{.hostname}" does not evaluate over the credentials: hostname is not found`,
			reason:     ReasonJSONPathFailed,
		},
		{
			name:       "jsonpath error that would print a value",
			transforms: []v1beta1.SecretTransform{addPath("x", "{.password[?(@.a==1)]}")},
			want:       `spec.secretTransforms[0].addKey: key "x": jsonPathExpression "{.password[?(@.a==1)]}" does not evaluate over the credentials: - is not array or slice and cannot be filtered`,
			reason:     ReasonJSONPathFailed,
		},
		{
			name:       "jsonpath does not parse",
			transforms: []v1beta1.SecretTransform{addPath("x", "{.host")},
			want:       `spec.secretTransforms[0].addKey: key "x": jsonPathExpression "{.host" does not parse: unclosed action`,
			reason:     ReasonJSONPathInvalid,
		},
		{
			name:       "addKeysFrom missing Secret",
			transforms: []v1beta1.SecretTransform{remove("ok"), addFrom("", "nope")},
			want:       `spec.secretTransforms[1].addKeysFrom: Secret "app/nope" does not exist`,
			reason:     ReasonSourceSecretNotFound, retryable: true,
		},
		{
			name:       "addKeysFrom API NotFound",
			transforms: []v1beta1.SecretTransform{addFrom("app", "nope")},
			read:       func(string, string) (map[string][]byte, error) { return nil, apierrors.NewNotFound(gr, "nope") },
			want:       `spec.secretTransforms[0].addKeysFrom: Secret "app/nope" does not exist`,
			reason:     ReasonSourceSecretNotFound, retryable: true,
		},
		{
			name:       "addKeysFrom forbidden",
			transforms: []v1beta1.SecretTransform{addFrom("app", "s")},
			read: func(string, string) (map[string][]byte, error) {
				return nil, apierrors.NewForbidden(gr, "s", errors.New("RBAC"))
			},
			want:   `spec.secretTransforms[0].addKeysFrom: cannot read Secret "app/s": secrets "s" is forbidden: RBAC`,
			reason: ReasonSourceSecretUnreadable, retryable: true,
		},
		{
			name:       "addKeysFrom another namespace",
			transforms: []v1beta1.SecretTransform{addFrom("team-b", "creds")},
			read: func(string, string) (map[string][]byte, error) {
				return map[string][]byte{"password": []byte("theirs")}, nil
			},
			want:   `spec.secretTransforms[0].addKeysFrom.secretRef.namespace: only Secrets in the binding's namespace "app" may be copied; "team-b" is another namespace`,
			reason: ReasonOtherNamespace,
		},
		{
			name:       "addKeysFrom without secretRef",
			transforms: []v1beta1.SecretTransform{{AddKeysFrom: &v1beta1.AddKeysFromTransform{}}},
			want:       `spec.secretTransforms[0].addKeysFrom: secretRef.name is required`,
			reason:     ReasonInvalidTransform,
		},
		{
			name:       "empty transform",
			transforms: []v1beta1.SecretTransform{remove("ok"), {}},
			want:       `spec.secretTransforms[1]: set exactly one of renameKey, addKey, addKeysFrom or removeKey`,
			reason:     ReasonInvalidTransform,
		},
		{
			name:       "two fields in one transform",
			transforms: []v1beta1.SecretTransform{{RemoveKey: &v1beta1.RemoveKeyTransform{Key: "a"}, RenameKey: &v1beta1.RenameKeyTransform{From: "a", To: "b"}}},
			want:       `spec.secretTransforms[0]: set exactly one of renameKey, addKey, addKeysFrom or removeKey`,
			reason:     ReasonInvalidTransform,
		},
		{
			name:   "broker keys that cannot be Secret keys",
			creds:  map[string]any{"db url": "x", "ok": "y", "ünï": "z", strings.Repeat("k", 254): "w"},
			want:   `not valid as Secret keys: "db url" (only letters, digits, '-', '_' and '.' are allowed), "kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk…" (longer than 253 characters), "ünï" (only letters, digits, '-', '_' and '.' are allowed); rename them with a renameKey transform`,
			reason: ReasonInvalidKey,
		},
		{
			name:       "a transform can introduce a bad key",
			transforms: []v1beta1.SecretTransform{rename("ok", "..")},
			want:       `not valid as Secret keys: ".." ('.', '..' and a leading '..' are not allowed); rename them with a renameKey transform`,
			reason:     ReasonInvalidKey,
		},
		{
			name:   "unencodable value",
			creds:  map[string]any{"f": func() {}},
			want:   `key "f": the value cannot be encoded as JSON`,
			reason: ReasonUnencodable,
		},
		{
			name:   "too large",
			creds:  map[string]any{"a": strings.Repeat("x", 600<<10), "b": strings.Repeat("x", 600<<10)},
			want:   `the credentials take 1228800 bytes, more than a Secret holds (1048576)`,
			reason: ReasonTooLarge,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, read := tt.creds, tt.read
			if c == nil {
				c = creds
			}
			if read == nil {
				read = store{}.read
			}
			_, err := Render(c, tt.transforms, read, "app")
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("err = %v (%T), want *Error", err, err)
			}
			if err.Error() != tt.want {
				t.Errorf("err =\n%s\nwant\n%s", err, tt.want)
			}
			if e.Reason != tt.reason || e.Retryable() != tt.retryable {
				t.Errorf("reason %s retryable %v; want %s %v", e.Reason, e.Retryable(), tt.reason, tt.retryable)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("the error quotes a credential: %v", err)
			}
		})
	}
}

func TestRenderRenameFixesBadKey(t *testing.T) {
	got, err := Render(map[string]any{"db url": "x"}, []v1beta1.SecretTransform{rename("db url", "db-url")}, nil, "app")
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string]string{"db-url": "x"}; !reflect.DeepEqual(strs(got), want) {
		t.Errorf("got %q, want %q", strs(got), want)
	}
}

func TestEqual(t *testing.T) {
	a := map[string][]byte{"k": []byte("v")}
	tests := []struct {
		x, y map[string][]byte
		want bool
	}{
		{nil, map[string][]byte{}, true},
		{a, map[string][]byte{"k": []byte("v")}, true},
		{a, map[string][]byte{"k": []byte("w")}, false},
		{a, map[string][]byte{"j": []byte("v")}, false},
		{a, map[string][]byte{"k": []byte("v"), "j": nil}, false},
	}
	for i, tt := range tests {
		if got := Equal(tt.x, tt.y); got != tt.want {
			t.Errorf("%d: Equal = %v, want %v", i, got, tt.want)
		}
	}
}

// A jsonPathExpression is user input evaluated inside the controller: it
// must never panic, and its errors must never quote a credential.
func FuzzRenderJSONPath(f *testing.F) {
	f.Add("{.password}", "hunter2-secret-value")
	f.Add("{.password[?(@.a==1)]}", "hunter2-secret-value")
	f.Add("{range .list[*]}{.x}{end}", "hunter2-secret-value")
	f.Add("{.list[5:1]}", "hunter2-secret-value")
	f.Add(`{.nested.*}{"\n"}`, "hunter2-secret-value")
	f.Fuzz(func(t *testing.T, expr, secret string) {
		creds := map[string]any{
			"password": secret,
			"list":     []any{secret, map[string]any{"x": secret}},
			"nested":   map[string]any{"p": secret, "n": 1.5},
		}
		_, err := Render(creds, []v1beta1.SecretTransform{addPath("k", expr)}, nil, "app")
		if err == nil {
			return
		}
		var e *Error
		if !errors.As(err, &e) {
			t.Fatalf("err %v is not *Error", err)
		}
		if len(secret) >= 12 && !strings.Contains(expr, secret) && strings.Contains(err.Error(), secret) {
			t.Fatalf("error quotes the credential: %v", err)
		}
	})
}
