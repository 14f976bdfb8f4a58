package controller

import (
	"slices"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	scv1beta1 "github.com/svcat-io/svcat/api/v1beta1"
)

func TestShareable(t *testing.T) {
	for md, want := range map[string]bool{
		``:                                     false,
		`{}`:                                   false,
		`{"shareable":false}`:                  false,
		`{"shareable":"true"}`:                 false,
		`{"shareable":1}`:                      false,
		`[1]`:                                  false,
		`{"shareable":true}`:                   true,
		`{"displayName":"K","shareable":true}`: true,
	} {
		class := &scv1beta1.CommonServiceClassSpec{}
		if md != "" {
			class.ExternalMetadata = &runtime.RawExtension{Raw: []byte(md)}
		}
		if got := shareable(class); got != want {
			t.Errorf("metadata %s: shareable %v, want %v", md, got, want)
		}
	}
}

func TestShareStates(t *testing.T) {
	list := []scv1beta1.SharedNamespace{{Namespace: "b"}, {Namespace: "a"}, {Namespace: "c"}}
	got := shareStates("a", list, true, "kafka")
	if len(got) != 3 || got[0].State != scv1beta1.ShareStateShared || got[2].State != scv1beta1.ShareStateShared {
		t.Fatalf("shareable service: %+v", got)
	}
	if got[1].State != scv1beta1.ShareStateRefused || got[1].Reason != scv1beta1.ReasonSharedWithOwnNamespace || !strings.Contains(got[1].Message, `"a"`) {
		t.Errorf("own namespace: %+v", got[1])
	}
	got = shareStates("a", list[:1], false, "kafka")
	if got[0].State != scv1beta1.ShareStateRefused || got[0].Reason != scv1beta1.ReasonServiceNotShareable ||
		!strings.Contains(got[0].Message, `"b"`) || !strings.Contains(got[0].Message, `"kafka"`) || !strings.Contains(got[0].Message, `"shareable": true`) {
		t.Errorf("service not shareable: %+v", got[0])
	}
	if shareStates("a", nil, true, "kafka") != nil {
		t.Error("no list, yet states")
	}
}

func TestSharedWith(t *testing.T) {
	yes := &scv1beta1.CommonServiceClassSpec{ExternalMetadata: &runtime.RawExtension{Raw: []byte(`{"shareable":true}`)}}
	no := &scv1beta1.CommonServiceClassSpec{}
	inst := &scv1beta1.ServiceInstance{ObjectMeta: metav1.ObjectMeta{Namespace: "a", Name: "k"},
		Spec: scv1beta1.ServiceInstanceSpec{SharedWith: []scv1beta1.SharedNamespace{{Namespace: "b"}, {Namespace: "a"}}}}
	cases := []struct {
		name  string
		inst  *scv1beta1.ServiceInstance
		class *scv1beta1.CommonServiceClassSpec
		ns    string
		want  bool
	}{
		{"listed, shareable", inst, yes, "b", true},
		{"listed, not shareable", inst, no, "b", false},
		{"not listed", inst, yes, "c", false},
		{"own namespace listed", inst, yes, "a", false},
		{"no instance", nil, yes, "b", false},
	}
	for _, tc := range cases {
		if got := sharedWith(tc.inst, tc.class, tc.ns); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestHoldsBinding(t *testing.T) {
	for _, tc := range []struct {
		st   scv1beta1.ServiceBindingStatus
		want bool
	}{
		{scv1beta1.ServiceBindingStatus{}, false},
		{scv1beta1.ServiceBindingStatus{UnbindStatus: scv1beta1.ServiceBindingUnbindStatusSucceeded}, false},
		{scv1beta1.ServiceBindingStatus{UnbindStatus: scv1beta1.ServiceBindingUnbindStatusRequired}, true},
		{scv1beta1.ServiceBindingStatus{AsyncOpInProgress: true}, true},
		{scv1beta1.ServiceBindingStatus{OrphanMitigationInProgress: true}, true},
	} {
		if got := holdsBinding(&tc.st); got != tc.want {
			t.Errorf("%+v: %v, want %v", tc.st, got, tc.want)
		}
	}
}

func TestMarkerChanges(t *testing.T) {
	st := func(pairs ...string) []scv1beta1.SharedNamespaceStatus {
		var out []scv1beta1.SharedNamespaceStatus
		for i := 0; i < len(pairs); i += 2 {
			out = append(out, scv1beta1.SharedNamespaceStatus{Namespace: pairs[i], State: scv1beta1.ShareState(pairs[i+1])})
		}
		return out
	}
	cases := []struct {
		name          string
		before, after []scv1beta1.SharedNamespaceStatus
		write, drop   string
	}{
		{"first share", nil, st("b", "Shared"), "b", ""},
		{"unshared", st("b", "Shared", "c", "Shared"), st("c", "Shared"), "c", "b"},
		{"refused now", st("b", "Shared"), st("b", "Refused"), "", "b"},
		{"refused all along", st("b", "Refused"), st("b", "Refused"), "", ""},
		{"instance gone", st("b", "Shared", "c", "Refused"), nil, "", "b"},
	}
	for _, tc := range cases {
		write, drop := markerChanges(tc.before, tc.after)
		slices.Sort(write)
		slices.Sort(drop)
		if strings.Join(write, ",") != tc.write || strings.Join(drop, ",") != tc.drop {
			t.Errorf("%s: write %v drop %v; want %q and %q", tc.name, write, drop, tc.write, tc.drop)
		}
	}
}
