package apiview

import (
	"reflect"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/svcat-io/svcat/api/v1beta1"
)

func TestShareNamespaceProblem(t *testing.T) {
	for _, tc := range []struct {
		ns     string
		adding bool
		want   string
	}{
		{"analytics", true, ""},
		{"analytics", false, ""},
		{"team-a", true, "is the instance's own namespace"},
		// Taking the own namespace out of a list the policy did not refuse
		// is a repair, not a mistake.
		{"team-a", false, ""},
		{"Team_B", true, "is not a namespace name: a lowercase RFC 1123 label"},
		{"", false, "is not a namespace name"},
		{strings.Repeat("a", 64), true, "is not a namespace name: must be no more than 63 characters"},
	} {
		got := ShareNamespaceProblem("team-a", tc.ns, tc.adding)
		if tc.want == "" && got != "" || !strings.HasPrefix(got, tc.want) {
			t.Errorf("ShareNamespaceProblem(team-a, %q, %v) = %q, want %q", tc.ns, tc.adding, got, tc.want)
		}
	}
}

func shared(ns ...string) []v1beta1.SharedNamespace {
	var out []v1beta1.SharedNamespace
	for _, n := range ns {
		out = append(out, v1beta1.SharedNamespace{Namespace: n})
	}
	return out
}

func TestSharedAfter(t *testing.T) {
	for _, tc := range []struct {
		name       string
		list       []v1beta1.SharedNamespace
		namespaces []string
		remove     bool
		want       []v1beta1.SharedNamespace
	}{
		{"add to none", nil, []string{"a", "b"}, false, shared("a", "b")},
		{"add again", shared("a"), []string{"a", "b"}, false, shared("a", "b")},
		{"remove one", shared("a", "b", "c"), []string{"b"}, true, shared("a", "c")},
		{"remove unlisted", shared("a"), []string{"x"}, true, shared("a")},
		{"remove all", shared("a"), []string{"a"}, true, nil},
	} {
		list := append([]v1beta1.SharedNamespace(nil), tc.list...)
		got := SharedAfter(list, tc.namespaces, tc.remove)
		if len(got) == 0 && len(tc.want) == 0 {
			continue
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
		if !reflect.DeepEqual(list, tc.list) {
			t.Errorf("%s: the input list changed to %v", tc.name, list)
		}
	}
}

func TestShares(t *testing.T) {
	in := &v1beta1.ServiceInstance{}
	in.Spec.SharedWith = shared("b", "a", "c")
	in.Status.SharedWith = []v1beta1.SharedNamespaceStatus{
		{Namespace: "a", State: v1beta1.ShareStateShared},
		{Namespace: "b", State: v1beta1.ShareStateRefused, Reason: v1beta1.ReasonServiceNotShareable, Message: "not shareable"},
		// No longer in the spec: not shown.
		{Namespace: "old", State: v1beta1.ShareStateShared},
	}
	want := []Share{
		{Namespace: "b", State: "Refused", Reason: v1beta1.ReasonServiceNotShareable, Message: "not shareable"},
		{Namespace: "a", State: "Shared"},
		{Namespace: "c", State: SharePending},
	}
	if got := Shares(in); !reflect.DeepEqual(got, want) {
		t.Errorf("Shares = %+v, want %+v", got, want)
	}
}

func TestMarkerInstance(t *testing.T) {
	marker := func(name string, data map[string]string) *corev1.ConfigMap {
		return &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: name}, Data: data}
	}
	good := map[string]string{"namespace": "team-a", "name": "orders", "class": "ClusterServiceClass/kafka", "plan": "duck"}
	right := v1beta1.SharedMarkerObjectName("team-a", "orders")
	if got, ok := markerInstance(marker(right, good), "analytics"); !ok || got != (SharedInstance{"team-a", "orders", "kafka", "duck"}) {
		t.Errorf("a controller's marker reads as %+v, %v", got, ok)
	}
	for _, tc := range []struct {
		name string
		cm   *corev1.ConfigMap
	}{
		{"named for another instance", marker(v1beta1.SharedMarkerObjectName("team-a", "other"), good)},
		{"naming the namespace itself", marker(v1beta1.SharedMarkerObjectName("analytics", "orders"),
			map[string]string{"namespace": "analytics", "name": "orders"})},
		{"no instance name", marker(v1beta1.SharedMarkerObjectName("team-a", ""), map[string]string{"namespace": "team-a"})},
		{"a namespace that is no name", marker(v1beta1.SharedMarkerObjectName("../x", "orders"),
			map[string]string{"namespace": "../x", "name": "orders"})},
		{"an instance that is no name", marker(v1beta1.SharedMarkerObjectName("team-a", "<b>"),
			map[string]string{"namespace": "team-a", "name": "<b>"})},
		{"a plan name longer than names are", marker(right,
			map[string]string{"namespace": "team-a", "name": "orders", "plan": strings.Repeat("p", 254)})},
	} {
		if got, ok := markerInstance(tc.cm, "analytics"); ok {
			t.Errorf("%s: read as %+v", tc.name, got)
		}
	}
}
