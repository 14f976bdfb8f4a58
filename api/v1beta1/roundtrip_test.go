package v1beta1_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	scv1beta1 "github.com/svcat-io/svcat/api/v1beta1"
	"github.com/svcat-io/svcat/internal/localcluster"
)

// fixtures are objects shaped exactly as Service Catalog v0.3 writes them.
func fixtures(t *testing.T) map[string][]byte {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join("testdata", "v03", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		out[filepath.Base(p)] = data
	}
	if len(out) < 8 {
		t.Fatalf("want a v0.3 fixture of every kind, found %d files", len(out))
	}
	return out
}

// newObject returns an empty typed object of the fixture's kind.
func newObject(t *testing.T, data []byte) client.Object {
	t.Helper()
	var tm struct{ Kind string }
	if err := json.Unmarshal(data, &tm); err != nil {
		t.Fatal(err)
	}
	s := runtime.NewScheme()
	if err := scv1beta1.AddToScheme(s); err != nil {
		t.Fatal(err)
	}
	obj, err := s.New(scv1beta1.GroupVersion.WithKind(tm.Kind))
	if err != nil {
		t.Fatalf("kind %q: %v", tm.Kind, err)
	}
	return obj.(client.Object)
}

// decodeStrict fails on any field the Go types do not know, which is what
// losing data on decode would look like.
func decodeStrict(t *testing.T, data []byte, into any) {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(into); err != nil {
		t.Fatalf("decoding a v0.3 object: %v", err)
	}
}

func TestV03FixturesRoundTripThroughGoTypes(t *testing.T) {
	for name, data := range fixtures(t) {
		t.Run(name, func(t *testing.T) {
			obj := newObject(t, data)
			decodeStrict(t, data, obj)
			out, err := json.Marshal(obj)
			if err != nil {
				t.Fatal(err)
			}
			var want, got map[string]any
			if err := json.Unmarshal(data, &want); err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(out, &got); err != nil {
				t.Fatal(err)
			}
			// metadata gains creationTimestamp: null from ObjectMeta; only
			// the catalog's own fields are compared.
			for _, k := range []string{"spec", "status"} {
				if !reflect.DeepEqual(want[k], got[k]) {
					wj, _ := json.MarshalIndent(want[k], "", "  ")
					gj, _ := json.MarshalIndent(got[k], "", "  ")
					t.Errorf("%s changed in the round trip\nv0.3 wrote:\n%s\nwe wrote:\n%s", k, wj, gj)
				}
			}
		})
	}
}

// The same fixtures stored through the real API server (spec on create,
// status through the status subresource) come back unchanged: the CRD
// schemas prune nothing v0.3 wrote.
func TestV03FixturesSurviveTheAPIServer(t *testing.T) {
	env := localcluster.Get(t)
	ns := env.Namespace(t)
	ctx := context.Background()
	for name, data := range fixtures(t) {
		t.Run(name, func(t *testing.T) {
			want := newObject(t, data)
			decodeStrict(t, data, want)
			if want.GetNamespace() != "" {
				want.SetNamespace(ns)
			}
			obj := want.DeepCopyObject().(client.Object)
			if err := env.Client.Create(ctx, obj); err != nil {
				t.Fatalf("create: %v", err)
			}
			t.Cleanup(func() {
				obj.SetFinalizers(nil)
				_ = env.Client.Update(ctx, obj)
				_ = env.Client.Delete(ctx, obj)
			})
			setStatus(obj, want)
			if err := env.Client.Status().Update(ctx, obj); err != nil {
				t.Fatalf("status update: %v", err)
			}
			got := newObject(t, data)
			if err := env.Client.Get(ctx, client.ObjectKeyFromObject(obj), got); err != nil {
				t.Fatal(err)
			}
			for _, field := range []string{"Spec", "Status"} {
				w := reflect.ValueOf(want).Elem().FieldByName(field).Interface()
				g := reflect.ValueOf(got).Elem().FieldByName(field).Interface()
				// Embedded JSON (parameters, schemas) comes back with its
				// keys sorted, so compare the JSON documents, not bytes.
				if wm, gm := generic(t, w), generic(t, g); !reflect.DeepEqual(wm, gm) {
					wj, _ := json.MarshalIndent(wm, "", "  ")
					gj, _ := json.MarshalIndent(gm, "", "  ")
					t.Errorf("%s changed in the API server\nstored:\n%s\nread back:\n%s", field, wj, gj)
				}
			}
			if !reflect.DeepEqual(got.GetFinalizers(), want.GetFinalizers()) || !reflect.DeepEqual(got.GetLabels(), want.GetLabels()) {
				t.Errorf("finalizers or labels changed: got %v %v, want %v %v", got.GetFinalizers(), got.GetLabels(), want.GetFinalizers(), want.GetLabels())
			}
		})
	}
}

// setStatus copies the Status field of from into to (same kind).
func setStatus(to, from client.Object) {
	reflect.ValueOf(to).Elem().FieldByName("Status").Set(reflect.ValueOf(from).Elem().FieldByName("Status"))
}

func generic(t *testing.T, v any) any {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out any
	if err := json.Unmarshal(data, &out); err != nil {
		t.Fatal(err)
	}
	return out
}
