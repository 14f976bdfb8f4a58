package catalogspec

import (
	"encoding/json"
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/runtime"

	scv1beta1 "github.com/svcat-io/svcat/api/v1beta1"
	"github.com/svcat-io/svcat/internal/brokertext"
	"github.com/svcat-io/svcat/internal/osb"
)

// Class is one service of a broker's catalog as the cluster holds it.
type Class struct {
	// Name is the Kubernetes object name.
	Name  string
	Spec  scv1beta1.CommonServiceClassSpec
	Plans []Plan
}

// Plan is one plan of a service as the cluster holds it.
type Plan struct {
	// Name is the Kubernetes object name.
	Name string
	Spec scv1beta1.CommonServicePlanSpec
}

// InvalidCatalogError says what in a broker's catalog cannot be turned into
// classes and plans, naming the offending entries.
type InvalidCatalogError struct{ Problems []string }

func (e *InvalidCatalogError) Error() string {
	return "invalid catalog: " + strings.Join(e.Problems, "; ")
}

// MaxNesting bounds how deep a catalog entry's metadata and parameter
// schemas may nest. JSON decoders stop at 10,000 levels; anything near
// that is an attack or a bug, not a catalog, and every client that reads
// the class or plan (kubectl, svcat, the controller's schema compiler)
// would have to walk it.
const MaxNesting = 64

// MaxEntryBytes bounds the JSON of one class or plan spec. The API server
// refuses objects over about 1.5 MiB and requests over 3 MiB; checking
// before any write refuses the catalog as a whole, instead of failing
// halfway through applying it.
const MaxEntryBytes = 512 << 10

// Convert turns the services of an OSB catalog into classes and plans. It
// rejects a catalog whose IDs are missing or repeated: object names derive
// from IDs, so such a catalog cannot be represented without one entry
// overwriting another.
func Convert(services []osb.Service) ([]Class, error) {
	var problems []string
	seen := map[string]string{}
	claim := func(id, what string) {
		if prev, ok := seen[id]; ok {
			problems = append(problems, fmt.Sprintf("%s has the same id %q as %s", what, id, prev))
			return
		}
		seen[id] = what
	}
	classes := make([]Class, 0, len(services))
	for i, s := range services {
		what := fmt.Sprintf("services[%d] (name %q)", i, s.Name)
		switch {
		case s.ID == "":
			problems = append(problems, what+" has no id")
			continue
		case s.Name == "":
			problems = append(problems, fmt.Sprintf("services[%d] (id %q) has no name", i, s.ID))
			continue
		case len(s.Plans) == 0:
			problems = append(problems, what+" has no plans")
			continue
		}
		claim(s.ID, what)
		checkMetadata(&problems, what, "metadata", s.Metadata)
		c := Class{Name: ObjectName(s.ID), Spec: scv1beta1.CommonServiceClassSpec{
			ExternalName:       s.Name,
			ExternalID:         s.ID,
			Description:        s.Description,
			Bindable:           s.Bindable,
			BindingRetrievable: s.BindingsRetrievable,
			PlanUpdatable:      s.PlanUpdateable,
			ExternalMetadata:   raw(s.Metadata),
			Tags:               s.Tags,
			Requires:           s.Requires,
		}}
		for j, p := range s.Plans {
			pwhat := fmt.Sprintf("services[%d].plans[%d] (name %q)", i, j, p.Name)
			switch {
			case p.ID == "":
				problems = append(problems, pwhat+" has no id")
				continue
			case p.Name == "":
				problems = append(problems, fmt.Sprintf("services[%d].plans[%d] (id %q) has no name", i, j, p.ID))
				continue
			}
			claim(p.ID, pwhat)
			checkMetadata(&problems, pwhat, "metadata", p.Metadata)
			if sc := p.Schemas; sc != nil {
				if si := sc.ServiceInstance; si != nil {
					if si.Create != nil {
						checkMetadata(&problems, pwhat, "schemas.service_instance.create.parameters", si.Create.Parameters)
					}
					if si.Update != nil {
						checkMetadata(&problems, pwhat, "schemas.service_instance.update.parameters", si.Update.Parameters)
					}
				}
				if sb := sc.ServiceBinding; sb != nil && sb.Create != nil {
					checkMetadata(&problems, pwhat, "schemas.service_binding.create.parameters", sb.Create.Parameters)
				}
			}
			spec := planSpec(&s, &p)
			checkSize(&problems, pwhat, "plan", spec)
			c.Plans = append(c.Plans, Plan{Name: ObjectName(p.ID), Spec: spec})
		}
		checkSize(&problems, what, "class", c.Spec)
		classes = append(classes, c)
	}
	if len(problems) > 0 {
		return nil, &InvalidCatalogError{Problems: problems}
	}
	return classes, nil
}

// checkMetadata reports a value nested deeper than MaxNesting.
func checkMetadata(problems *[]string, what, field string, v map[string]any) {
	if v == nil {
		return
	}
	if d := depth(v, 0); d > MaxNesting {
		*problems = append(*problems, fmt.Sprintf("%s: %s is nested more than %d levels deep (at most %d are allowed)", what, field, MaxNesting, MaxNesting))
	}
}

// depth returns the nesting of v, stopping once past MaxNesting so a
// hostile value costs no more than the limit to measure.
func depth(v any, d int) int {
	if d > MaxNesting {
		return d
	}
	max := d
	switch v := v.(type) {
	case map[string]any:
		for _, e := range v {
			if n := depth(e, d+1); n > max {
				max = n
			}
		}
	case []any:
		for _, e := range v {
			if n := depth(e, d+1); n > max {
				max = n
			}
		}
	}
	return max
}

// checkSize reports a class or plan whose spec exceeds MaxEntryBytes.
func checkSize(problems *[]string, what, kind string, spec any) {
	b, err := json.Marshal(spec)
	if err != nil || len(b) <= MaxEntryBytes {
		return
	}
	*problems = append(*problems, fmt.Sprintf("%s: the %s would take %d bytes of JSON, more than the %d allowed; its metadata and schemas must be smaller",
		what, kind, len(b), MaxEntryBytes))
}

// maxMaintenanceDescription is the CRD's bound on the description (bytes).
const maxMaintenanceDescription = 1024

func planSpec(s *osb.Service, p *osb.Plan) scv1beta1.CommonServicePlanSpec {
	spec := scv1beta1.CommonServicePlanSpec{
		ExternalName:     p.Name,
		ExternalID:       p.ID,
		Description:      p.Description,
		Bindable:         p.Bindable,
		Free:             p.IsFree(),
		ExternalMetadata: raw(p.Metadata),
		PlanUpdatable:    p.PlanUpdateable,
		BindingRotatable: p.BindingRotatable,
	}
	if p.MaximumPollingDuration != nil {
		d := int64(*p.MaximumPollingDuration)
		spec.MaximumPollingDuration = &d
	}
	if mi := p.MaintenanceInfo; mi != nil {
		// The version was checked as semver with the catalog; the
		// description is broker text shown in instance conditions.
		spec.MaintenanceInfo = &scv1beta1.MaintenanceInfo{Version: mi.Version,
			Description: brokertext.Clean(mi.Description, maxMaintenanceDescription)}
	}
	if sc := p.Schemas; sc != nil {
		if si := sc.ServiceInstance; si != nil {
			if si.Create != nil {
				spec.InstanceCreateParameterSchema = raw(si.Create.Parameters)
			}
			if si.Update != nil {
				spec.InstanceUpdateParameterSchema = raw(si.Update.Parameters)
			}
		}
		if sb := sc.ServiceBinding; sb != nil && sb.Create != nil {
			spec.ServiceBindingCreateParameterSchema = raw(sb.Create.Parameters)
		}
	}
	return spec
}

// raw encodes a decoded JSON object for a RawExtension field; nil and empty
// objects stay absent so that specs compare equal across relists.
func raw(m map[string]any) *runtime.RawExtension {
	if len(m) == 0 {
		return nil
	}
	data, err := json.Marshal(m)
	if err != nil {
		// Values decoded from JSON always encode again.
		return nil
	}
	return &runtime.RawExtension{Raw: data}
}
