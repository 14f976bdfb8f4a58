package catalogspec

import (
	"errors"
	"strings"
	"testing"

	"github.com/svcat-io/svcat/internal/osb"
)

func nested(levels int) map[string]any {
	var v any = "leaf"
	for i := 0; i < levels; i++ {
		v = map[string]any{"a": v}
	}
	return v.(map[string]any)
}

// Catalog entries that the API server would store badly or not at all are
// refused before any write, naming the entry, the field and the limit.
func TestConvertRefusesDeepAndHugeEntries(t *testing.T) {
	schema := func(p map[string]any) *osb.Schemas {
		return &osb.Schemas{ServiceInstance: &osb.ServiceInstanceSchema{Create: &osb.InputParametersSchema{Parameters: p}}}
	}
	tests := []struct {
		name string
		edit func(s *osb.Service)
		want string
	}{
		{"service metadata too deep", func(s *osb.Service) { s.Metadata = nested(MaxNesting + 1) },
			`services[0] (name "kafka"): metadata is nested more than 64 levels deep`},
		{"array nesting counts too", func(s *osb.Service) {
			var v any = 1
			for i := 0; i < 100; i++ {
				v = []any{v}
			}
			s.Metadata = map[string]any{"x": v}
		}, "metadata is nested more than 64 levels"},
		{"plan schema too deep", func(s *osb.Service) { s.Plans[0].Schemas = schema(nested(200)) },
			`services[0].plans[0] (name "duck"): schemas.service_instance.create.parameters is nested more than 64`},
		{"class too big", func(s *osb.Service) { s.Metadata = map[string]any{"blob": strings.Repeat("b", MaxEntryBytes)} },
			`services[0] (name "kafka"): the class would take`},
		{"plan too big", func(s *osb.Service) {
			s.Plans[1].Schemas = schema(map[string]any{"description": strings.Repeat("d", MaxEntryBytes)})
		}, `services[0].plans[1] (name "big"): the plan would take`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cat := sampleCatalog()
			tt.edit(&cat[0])
			classes, err := Convert(cat)
			var ice *InvalidCatalogError
			if !errors.As(err, &ice) || classes != nil {
				t.Fatalf("Convert = %d classes, %v; want an InvalidCatalogError and nothing", len(classes), err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not say %q", err, tt.want)
			}
		})
	}
	// At the limit is fine.
	cat := sampleCatalog()
	cat[0].Metadata = nested(MaxNesting - 1)
	if _, err := Convert(cat); err != nil {
		t.Fatalf("%d levels: %v", MaxNesting-1, err)
	}
}
