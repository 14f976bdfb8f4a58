package resolve

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/svcat-io/svcat/api/v1beta1"
	"github.com/svcat-io/svcat/internal/cli/apiview"
)

func TestSuggest(t *testing.T) {
	candidates := []string{"cloudkarafka", "cloudamqp", "mysql", "postgresql", "redis", "mysql-ha"}
	tests := []struct {
		name string
		want []string
	}{
		{"cloudkarafak", []string{"cloudkarafka"}}, // swapped letters
		{"cloudkafka", []string{"cloudkarafka"}},   // missing letters
		{"mysq", []string{"mysql", "mysql-ha"}},    // typo first, then partial
		{"MYSQL", []string{"mysql", "mysql-ha"}},   // case
		{"postgres", []string{"postgresql"}},       // prefix
		{"oracle", nil},
		{"redis", nil}, // an exact match is not a suggestion
	}
	for _, tt := range tests {
		got := Suggest(tt.name, candidates)
		if len(got) == 0 && len(tt.want) == 0 {
			continue
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Suggest(%q) = %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestDistance(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"", "", 0}, {"abc", "", 3}, {"", "abc", 3}, {"abc", "abc", 0},
		{"abc", "acb", 1}, {"kitten", "sitting", 3}, {"duck", "dcuk", 1}, {"カフカ", "カフコ", 1},
	}
	for _, tt := range tests {
		if got := distance(tt.a, tt.b); got != tt.want {
			t.Errorf("distance(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
	}
}

func class(ns, name, external, broker string) apiview.Class {
	return apiview.Class{Name: name, Namespace: ns, Broker: broker, Spec: &v1beta1.CommonServiceClassSpec{ExternalName: external}}
}

func plan(ns, name, external, className string) apiview.Plan {
	return apiview.Plan{Name: name, Namespace: ns, ClassName: className, Spec: &v1beta1.CommonServicePlanSpec{ExternalName: external}}
}

func TestClass(t *testing.T) {
	classes := []apiview.Class{
		class("", "id-karafka", "cloudkarafka", "cloudkarafka"),
		class("", "id-mysql", "mysql", "aws"),
		class("dev", "id-mysql-dev", "mysql", "local"),
	}
	tests := []struct {
		name      string
		kube      bool
		wantName  string
		wantError string
	}{
		{name: "cloudkarafka", wantName: "id-karafka"},
		{name: "id-karafka", kube: true, wantName: "id-karafka"},
		{name: "cloudkarafak", wantError: "class \"cloudkarafak\" not found\nDid you mean: cloudkarafka?\nAvailable classes: cloudkarafka, mysql"},
		{name: "mysql", wantError: "class \"mysql\" is ambiguous, it matches: ClusterServiceClass id-mysql (broker aws), ServiceClass dev/id-mysql-dev (broker local)"},
		{name: "id-mysql-dev", kube: true, wantName: "id-mysql-dev"},
	}
	for _, tt := range tests {
		got, err := Class(classes, tt.name, tt.kube)
		if tt.wantError != "" {
			if err == nil || !strings.HasPrefix(err.Error(), tt.wantError) {
				t.Errorf("Class(%q) error = %v, want %q", tt.name, err, tt.wantError)
			}
			continue
		}
		if err != nil || got.Name != tt.wantName {
			t.Errorf("Class(%q) = %q, %v; want %q", tt.name, got.Name, err, tt.wantName)
		}
	}
}

func TestPlan(t *testing.T) {
	c := class("", "id-karafka", "cloudkarafka", "b")
	plans := []apiview.Plan{
		plan("", "p1", "duck", "id-karafka"),
		plan("", "p2", "bunny", "id-karafka"),
		plan("", "p3", "dock", "id-other"),
		plan("dev", "p4", "dusk", "id-karafka"), // same class name in a namespace: another class
	}
	if got, err := Plan(plans, c, "duck", false); err != nil || got.Name != "p1" {
		t.Errorf("Plan(duck) = %q, %v", got.Name, err)
	}
	_, err := Plan(plans, c, "duk", false)
	var nf *NotFoundError
	if !errors.As(err, &nf) {
		t.Fatalf("Plan(duk) error = %v, want NotFoundError", err)
	}
	want := "plan \"duk\" not found in class \"cloudkarafka\"\nDid you mean: duck?\nAvailable plans: bunny, duck"
	if err.Error() != want {
		t.Errorf("Plan(duk) error =\n%s\nwant\n%s", err, want)
	}

	if _, err := DefaultPlan(plans, c); err == nil || !strings.Contains(err.Error(), "choose one with --plan: bunny, duck") {
		t.Errorf("DefaultPlan with two plans: %v", err)
	}
	if got, err := DefaultPlan(plans, class("", "id-other", "other", "b")); err != nil || got.Name != "p3" {
		t.Errorf("DefaultPlan with one plan = %q, %v", got.Name, err)
	}
}

func TestNotFoundWithoutClasses(t *testing.T) {
	_, err := Class(nil, "cloudkarafka", false)
	if err == nil || !strings.Contains(err.Error(), "No classes are available: register a broker") {
		t.Errorf("error = %v", err)
	}
}
