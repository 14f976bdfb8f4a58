package apiview

import (
	"errors"
	"fmt"
	"slices"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/svcat-io/svcat/api/v1beta1"
)

func TestMarkerMayStandIn(t *testing.T) {
	for _, tt := range []struct {
		err  error
		want bool
	}{
		{&NotFoundError{Kind: "instance", Name: "k"}, true},
		{fmt.Errorf("wrapped: %w", &ForbiddenError{Verb: "get", Resource: ResServiceInstances}), true},
		{&NotInstalledError{Err: errors.New("no match")}, false},
		{errors.New("get serviceinstances: connection refused"), false},
	} {
		if got := MarkerMayStandIn(tt.err); got != tt.want {
			t.Errorf("MarkerMayStandIn(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
}

func TestSharedBindingsOf(t *testing.T) {
	b := func(name, refNS, refName string) v1beta1.ServiceBinding {
		return v1beta1.ServiceBinding{ObjectMeta: metav1.ObjectMeta{Namespace: "b", Name: name},
			Spec: v1beta1.ServiceBindingSpec{InstanceRef: v1beta1.InstanceReference{Namespace: refNS, Name: refName}}}
	}
	all := []v1beta1.ServiceBinding{b("shared", "a", "kafka"), b("local", "", "kafka"), b("own-ns", "b", "kafka"),
		b("other-owner", "c", "kafka"), b("other-name", "a", "db")}
	var got []string
	for _, x := range SharedBindingsOf(all, "a", "kafka") {
		got = append(got, x.Name)
	}
	if !slices.Equal(got, []string{"shared"}) {
		t.Errorf("SharedBindingsOf = %v, want [shared]", got)
	}
	if out := SharedBindingsOf(nil, "a", "kafka"); out == nil || len(out) != 0 {
		t.Errorf("SharedBindingsOf(nil) = %#v, want an empty list", out)
	}
}

func TestSharedNamed(t *testing.T) {
	shared := []SharedInstance{{Namespace: "a", Name: "kafka"}, {Namespace: "a", Name: "db"}, {Namespace: "c", Name: "db"}}
	for _, tt := range []struct {
		name    string
		want    SharedInstance
		ok      bool
		wantErr string
	}{
		{"kafka", SharedInstance{Namespace: "a", Name: "kafka"}, true, ""},
		{"nothing", SharedInstance{}, false, ""},
		{"db", SharedInstance{}, false, `instance "db" is shared with this namespace by namespaces a, c: give NAMESPACE/db`},
	} {
		s, ok, err := SharedNamed(shared, tt.name)
		if s != tt.want || ok != tt.ok || (err == nil) != (tt.wantErr == "") || err != nil && err.Error() != tt.wantErr {
			t.Errorf("SharedNamed(%q) = %+v, %v, %v; want %+v, %v, %q", tt.name, s, ok, err, tt.want, tt.ok, tt.wantErr)
		}
	}
}
