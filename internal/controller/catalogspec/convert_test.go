package catalogspec

import (
	"errors"
	"strings"
	"testing"

	scv1beta1 "github.com/svcat-io/svcat/api/v1beta1"
	"github.com/svcat-io/svcat/internal/osb"
)

func ptr[T any](v T) *T { return &v }

func sampleCatalog() []osb.Service {
	return []osb.Service{
		{ID: "svc-kafka", Name: "kafka", Description: "Kafka", Bindable: true, Tags: []string{"kafka"},
			Metadata: map[string]any{"displayName": "Kafka"},
			Plans: []osb.Plan{
				{ID: "plan-duck", Name: "duck", Description: "Developer Duck", Metadata: map[string]any{"bullets": []any{"Shared"}},
					Schemas:                &osb.Schemas{ServiceInstance: &osb.ServiceInstanceSchema{Create: &osb.InputParametersSchema{Parameters: map[string]any{"type": "object"}}}},
					MaximumPollingDuration: ptr(600)},
				{ID: "plan-big", Name: "big", Description: "Dedicated", Free: ptr(false), PlanUpdateable: ptr(true), Bindable: ptr(false)},
			}},
		{ID: "svc-redis", Name: "redis", Description: "Redis", Bindable: true, PlanUpdateable: true, BindingsRetrievable: true,
			Plans: []osb.Plan{{ID: "plan-small", Name: "small", Description: "Small"}}},
	}
}

func TestConvert(t *testing.T) {
	classes, err := Convert(sampleCatalog())
	if err != nil {
		t.Fatal(err)
	}
	if len(classes) != 2 || len(classes[0].Plans) != 2 || len(classes[1].Plans) != 1 {
		t.Fatalf("got %d classes", len(classes))
	}
	k := classes[0]
	if k.Name != "svc-kafka" || k.Spec.ExternalName != "kafka" || !k.Spec.Bindable || string(k.Spec.ExternalMetadata.Raw) != `{"displayName":"Kafka"}` {
		t.Errorf("class: %+v", k)
	}
	duck, big := k.Plans[0].Spec, k.Plans[1].Spec
	if !duck.Free || duck.Bindable != nil || string(duck.InstanceCreateParameterSchema.Raw) != `{"type":"object"}` || *duck.MaximumPollingDuration != 600 {
		t.Errorf("duck: %+v", duck)
	}
	if big.Free || *big.Bindable || !*big.PlanUpdatable || big.ExternalMetadata != nil {
		t.Errorf("big: %+v", big)
	}
	r := classes[1].Spec
	if !r.PlanUpdatable || !r.BindingRetrievable {
		t.Errorf("redis: %+v", r)
	}
}

func TestConvertRejectsInvalidCatalogs(t *testing.T) {
	cases := []struct {
		name string
		edit func([]osb.Service) []osb.Service
		want string
	}{
		{"service without id", func(s []osb.Service) []osb.Service { s[0].ID = ""; return s }, `services[0] (name "kafka") has no id`},
		{"service without name", func(s []osb.Service) []osb.Service { s[1].Name = ""; return s }, `services[1] (id "svc-redis") has no name`},
		{"service without plans", func(s []osb.Service) []osb.Service { s[1].Plans = nil; return s }, `services[1] (name "redis") has no plans`},
		{"plan without id", func(s []osb.Service) []osb.Service { s[0].Plans[1].ID = ""; return s }, `services[0].plans[1] (name "big") has no id`},
		{"duplicate plan id", func(s []osb.Service) []osb.Service { s[1].Plans[0].ID = "plan-duck"; return s },
			`services[1].plans[0] (name "small") has the same id "plan-duck" as services[0].plans[0] (name "duck")`},
		{"service id equal to a plan id", func(s []osb.Service) []osb.Service { s[1].ID = "plan-big"; return s }, `has the same id "plan-big"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Convert(tc.edit(sampleCatalog()))
			var ice *InvalidCatalogError
			if !errors.As(err, &ice) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an InvalidCatalogError containing %q", err, tc.want)
			}
		})
	}
}

func TestRestrict(t *testing.T) {
	names := func(cs []Class) string {
		var out []string
		for _, c := range cs {
			var ps []string
			for _, p := range c.Plans {
				ps = append(ps, p.Spec.ExternalName)
			}
			out = append(out, c.Spec.ExternalName+"("+strings.Join(ps, ",")+")")
		}
		return strings.Join(out, " ")
	}
	cases := []struct {
		name string
		r    *scv1beta1.CatalogRestrictions
		want string
	}{
		{"none", nil, "kafka(duck,big) redis(small)"},
		{"class by external name", &scv1beta1.CatalogRestrictions{ServiceClass: []string{"spec.externalName in (kafka)"}}, "kafka(duck,big)"},
		{"class by k8s name", &scv1beta1.CatalogRestrictions{ServiceClass: []string{"name!=svc-kafka"}}, "redis(small)"},
		{"free plans only", &scv1beta1.CatalogRestrictions{ServicePlan: []string{"spec.free==true"}}, "kafka(duck) redis(small)"},
		{"class dropped when no plan passes", &scv1beta1.CatalogRestrictions{ServicePlan: []string{"spec.externalName notin (small, duck)"}}, "kafka(big)"},
		{"plan by class", &scv1beta1.CatalogRestrictions{ServicePlan: []string{"spec.clusterServiceClass.name==svc-redis"}}, "redis(small)"},
		{"several restrictions all apply", &scv1beta1.CatalogRestrictions{ServiceClass: []string{"spec.externalID!=svc-redis"}, ServicePlan: []string{"spec.free==true", "name==plan-duck"}}, "kafka(duck)"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			classes, _ := Convert(sampleCatalog())
			got, err := Restrict(classes, tc.r)
			if err != nil {
				t.Fatal(err)
			}
			if names(got) != tc.want {
				t.Errorf("got %s, want %s", names(got), tc.want)
			}
		})
	}
}

func TestRestrictRejectsBadRestrictions(t *testing.T) {
	cases := []struct {
		r    scv1beta1.CatalogRestrictions
		want string
	}{
		{scv1beta1.CatalogRestrictions{ServiceClass: []string{"spec.externalName in kafka"}}, `spec.catalogRestrictions.serviceClass[0]: invalid value "spec.externalName in kafka"`},
		{scv1beta1.CatalogRestrictions{ServiceClass: []string{"spec.free==true"}}, `unknown property "spec.free"; allowed: name, spec.externalName, spec.externalID`},
		{scv1beta1.CatalogRestrictions{ServicePlan: []string{"name==a", "spec.colour==red"}}, `servicePlan[1]: invalid value "spec.colour==red": unknown property "spec.colour"`},
	}
	for _, tc := range cases {
		classes, _ := Convert(sampleCatalog())
		_, err := Restrict(classes, &tc.r)
		var ire *InvalidRestrictionError
		if !errors.As(err, &ire) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("got %v, want %q", err, tc.want)
		}
	}
}
