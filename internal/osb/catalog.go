package osb

import (
	"encoding/json"
)

// CatalogResponse is GET /v2/catalog. Fields the spec does not define are
// ignored, as it requires.
type CatalogResponse struct {
	ResponseInfo
	Services []Service `json:"services"`
	// hold is the catalog's charge to a CatalogBudget, until Release.
	hold *budgetHold
}

type Service struct {
	ID                   string           `json:"id"`
	Name                 string           `json:"name"`
	Description          string           `json:"description"`
	Tags                 []string         `json:"tags,omitempty"`
	Requires             []string         `json:"requires,omitempty"`
	Bindable             bool             `json:"bindable"`
	InstancesRetrievable bool             `json:"instances_retrievable,omitempty"`
	BindingsRetrievable  bool             `json:"bindings_retrievable,omitempty"`
	AllowContextUpdates  bool             `json:"allow_context_updates,omitempty"`
	Metadata             map[string]any   `json:"metadata,omitempty"`
	DashboardClient      *DashboardClient `json:"dashboard_client,omitempty"`
	// PlanUpdateable is spelled as the spec spells it.
	PlanUpdateable bool   `json:"plan_updateable,omitempty"`
	Plans          []Plan `json:"plans"`
}

type DashboardClient struct {
	ID          string `json:"id"`
	Secret      string `json:"secret"`
	RedirectURI string `json:"redirect_uri,omitempty"`
}

// Plan fields that default to the service's value are pointers, so "absent"
// stays distinguishable from false.
type Plan struct {
	ID               string         `json:"id"`
	Name             string         `json:"name"`
	Description      string         `json:"description"`
	Metadata         map[string]any `json:"metadata,omitempty"`
	Free             *bool          `json:"free,omitempty"`
	Bindable         *bool          `json:"bindable,omitempty"`
	BindingRotatable bool           `json:"binding_rotatable,omitempty"`
	PlanUpdateable   *bool          `json:"plan_updateable,omitempty"`
	Schemas          *Schemas       `json:"schemas,omitempty"`
	// MaximumPollingDuration is in seconds.
	MaximumPollingDuration *int             `json:"maximum_polling_duration,omitempty"`
	MaintenanceInfo        *MaintenanceInfo `json:"maintenance_info,omitempty"`
}

// IsFree applies the spec's default of true.
func (p *Plan) IsFree() bool { return p.Free == nil || *p.Free }

// IsBindable applies the plan's override of the service's bindable.
func (p *Plan) IsBindable(s *Service) bool {
	if p.Bindable != nil {
		return *p.Bindable
	}
	return s.Bindable
}

// IsUpdateable applies the plan's override of the service's plan_updateable.
func (p *Plan) IsUpdateable(s *Service) bool {
	if p.PlanUpdateable != nil {
		return *p.PlanUpdateable
	}
	return s.PlanUpdateable
}

type MaintenanceInfo struct {
	Version     string `json:"version"`
	Description string `json:"description,omitempty"`
}

type Schemas struct {
	ServiceInstance *ServiceInstanceSchema `json:"service_instance,omitempty"`
	ServiceBinding  *ServiceBindingSchema  `json:"service_binding,omitempty"`
}

type ServiceInstanceSchema struct {
	Create *InputParametersSchema `json:"create,omitempty"`
	Update *InputParametersSchema `json:"update,omitempty"`
}

type ServiceBindingSchema struct {
	Create *InputParametersSchema `json:"create,omitempty"`
}

// InputParametersSchema holds a JSON Schema, left undecoded beyond maps
// because validation is the caller's business.
type InputParametersSchema struct {
	Parameters map[string]any `json:"parameters,omitempty"`
}

// UnmarshalJSON requires "services": the spec makes it mandatory, and a
// body without it ({} from a misconfigured proxy, say) must not read as an
// empty catalog, which would retire every class and plan of the broker. An
// empty list is a real empty catalog and accepted.
func (c *CatalogResponse) UnmarshalJSON(b []byte) error {
	var body struct {
		Services *[]Service `json:"services"`
	}
	if err := json.Unmarshal(b, &body); err != nil {
		return err
	}
	if body.Services == nil {
		return &decodeError{"the required field services is missing or null", -1}
	}
	c.Services = *body.Services
	return nil
}
