package params

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/runtime"

	"github.com/svcat-io/svcat/api/v1beta1"
)

func TestParseAssignments(t *testing.T) {
	tests := []struct {
		name    string
		in      []string
		want    map[string]any
		wantErr bool
	}{
		{name: "none", in: nil, want: map[string]any{}},
		{name: "one", in: []string{"a=b"}, want: map[string]any{"a": "b"}},
		{name: "value keeps later equals signs", in: []string{"url=http://x/?a=b"}, want: map[string]any{"url": "http://x/?a=b"}},
		{name: "empty value", in: []string{"a="}, want: map[string]any{"a": ""}},
		{name: "name is trimmed", in: []string{" a =b"}, want: map[string]any{"a": "b"}},
		{name: "repeated name makes a list", in: []string{"tag=x", "n=1", "tag=y", "tag=z"},
			want: map[string]any{"tag": []string{"x", "y", "z"}, "n": "1"}},
		{name: "missing equals", in: []string{"a"}, wantErr: true},
		{name: "missing name", in: []string{"=b"}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseAssignments(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("error = %v, want error %v", err, tt.wantErr)
			}
			if !tt.wantErr && !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %#v, want %#v", got, tt.want)
			}
		})
	}
}

func TestParseSecretRefs(t *testing.T) {
	ref := func(name, key string) v1beta1.ParametersFromSource {
		return v1beta1.ParametersFromSource{SecretKeyRef: &v1beta1.SecretKeyReference{Name: name, Key: key}}
	}
	tests := []struct {
		in      []string
		want    []v1beta1.ParametersFromSource
		wantErr bool
	}{
		{in: nil, want: nil},
		{in: []string{"creds[params]"}, want: []v1beta1.ParametersFromSource{ref("creds", "params")}},
		{in: []string{"a[x]", "a[y]", "b[x]"}, want: []v1beta1.ParametersFromSource{ref("a", "x"), ref("a", "y"), ref("b", "x")}},
		{in: []string{"creds[my.key]"}, want: []v1beta1.ParametersFromSource{ref("creds", "my.key")}},
		{in: []string{"a[x]", "a[x]"}, wantErr: true},
		{in: []string{"creds"}, wantErr: true},
		{in: []string{"creds[]"}, wantErr: true},
		{in: []string{"[key]"}, wantErr: true},
		{in: []string{"creds[key"}, wantErr: true},
		{in: []string{"creds[a][b]"}, wantErr: true},
		{in: []string{"cr]eds[a]"}, wantErr: true},
		{in: []string{" creds [ a ] "}, wantErr: true}, // the ] must end it
		{in: []string{" creds [ a ]"}, want: []v1beta1.ParametersFromSource{ref("creds", "a")}},
	}
	for _, tt := range tests {
		got, err := ParseSecretRefs(tt.in)
		if (err != nil) != tt.wantErr {
			t.Errorf("ParseSecretRefs(%q) error = %v, want error %v", tt.in, err, tt.wantErr)
			continue
		}
		if !tt.wantErr && !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParseSecretRefs(%q) = %+v, want %+v", tt.in, got, tt.want)
		}
	}
}

func TestBuild(t *testing.T) {
	tests := []struct {
		name    string
		pairs   []string
		json    string
		want    string
		wantErr bool
	}{
		{name: "nothing", want: ""},
		{name: "pairs", pairs: []string{"a=1", "a=2", "b=x"}, want: `{"a":["1","2"],"b":"x"}`},
		{name: "json keeps types", json: `{"size": 10, "ha": true, "zones": ["a"]}`, want: `{"ha":true,"size":10,"zones":["a"]}`},
		{name: "json must be an object", json: `[1]`, wantErr: true},
		{name: "json null is not an object", json: `null`, wantErr: true},
		{name: "bad json", json: `{`, wantErr: true},
		{name: "both", pairs: []string{"a=1"}, json: `{}`, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Build(tt.pairs, tt.json)
			if (err != nil) != tt.wantErr {
				t.Fatalf("error = %v, want error %v", err, tt.wantErr)
			}
			if tt.wantErr {
				return
			}
			if tt.want == "" {
				if got != nil {
					t.Errorf("got %s, want nil", got.Raw)
				}
				return
			}
			var g, w any
			if err := json.Unmarshal(got.Raw, &g); err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal([]byte(tt.want), &w); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(g, w) {
				t.Errorf("got %s, want %s", got.Raw, tt.want)
			}
		})
	}
}

// Merge changes only the parameters named, and refuses to guess when the
// current ones are not an object.
func TestMerge(t *testing.T) {
	tests := []struct {
		name    string
		current string
		pairs   []string
		want    string
		wantErr string
	}{
		{"no parameters yet", "", []string{"partitions=10"}, `{"partitions":"10"}`, ""},
		{"one changed, others kept", `{"partitions":3,"retention":"7d"}`, []string{"partitions=10"}, `{"partitions":"10","retention":"7d"}`, ""},
		{"a repeated name is a list", `{"a":1}`, []string{"tags=x", "tags=y"}, `{"a":1,"tags":["x","y"]}`, ""},
		{"not an object", `[1,2]`, []string{"a=b"}, "", "spec.parameters is not a JSON object"},
		{"bad pair", `{}`, []string{"novalue"}, "", `invalid parameter "novalue"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var cur *runtime.RawExtension
			if tt.current != "" {
				cur = &runtime.RawExtension{Raw: []byte(tt.current)}
			}
			got, err := Merge(cur, tt.pairs)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Merge error %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if string(got.Raw) != tt.want {
				t.Errorf("Merge = %s, want %s", got.Raw, tt.want)
			}
		})
	}
}
