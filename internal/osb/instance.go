package osb

import (
	"context"
	"net/http"
	"net/url"
)

// InstanceMetadata is the optional metadata of provision, update and fetch
// responses.
type InstanceMetadata struct {
	Labels     map[string]any `json:"labels,omitempty"`
	Attributes map[string]any `json:"attributes,omitempty"`
}

// ProvisionRequest is PUT /v2/service_instances/:instance_id.
type ProvisionRequest struct {
	InstanceID        string    `json:"-"`
	AcceptsIncomplete bool      `json:"-"`
	User              *UserInfo `json:"-"`

	ServiceID string `json:"service_id"`
	PlanID    string `json:"plan_id"`
	// OrganizationGUID and SpaceGUID are deprecated but still required by
	// the spec; Kubernetes platforms conventionally send the cluster ID and
	// the namespace.
	OrganizationGUID string           `json:"organization_guid"`
	SpaceGUID        string           `json:"space_guid"`
	Context          *Context         `json:"context,omitempty"`
	Parameters       map[string]any   `json:"parameters,omitempty"`
	MaintenanceInfo  *MaintenanceInfo `json:"maintenance_info,omitempty"`
}

// InstanceResponse is the answer to provision (200, 201, 202) and update
// (200, 202); Async() tells whether Operation must be polled.
type InstanceResponse struct {
	ResponseInfo
	DashboardURL string            `json:"dashboard_url,omitempty"`
	Operation    string            `json:"operation,omitempty"`
	Metadata     *InstanceMetadata `json:"metadata,omitempty"`
}

// ProvisionInstance creates an instance. 200 (identical instance exists),
// 201 and 202 are success; anything else is an error.
func (c *Client) ProvisionInstance(ctx context.Context, r *ProvisionRequest) (*InstanceResponse, error) {
	return run[InstanceResponse](ctx, c, call{
		op: OpProvision, method: http.MethodPut, path: instancePath(r.InstanceID),
		query: acceptsIncomplete(r.AcceptsIncomplete, nil), body: r, user: r.User,
		ok: []int{http.StatusOK, http.StatusCreated, http.StatusAccepted},
	})
}

// PreviousValues is what the instance was before an update.
type PreviousValues struct {
	ServiceID       string           `json:"service_id,omitempty"`
	PlanID          string           `json:"plan_id,omitempty"`
	MaintenanceInfo *MaintenanceInfo `json:"maintenance_info,omitempty"`
}

// UpdateRequest is PATCH /v2/service_instances/:instance_id.
type UpdateRequest struct {
	InstanceID        string    `json:"-"`
	AcceptsIncomplete bool      `json:"-"`
	User              *UserInfo `json:"-"`

	ServiceID string `json:"service_id"`
	// PlanID is empty unless the plan changes.
	PlanID  string   `json:"plan_id,omitempty"`
	Context *Context `json:"context,omitempty"`
	// omitzero, not omitempty: an empty map means "clear the parameters" and
	// must be sent as {}, while nil means "unchanged" and is left out.
	Parameters      map[string]any   `json:"parameters,omitzero"`
	PreviousValues  *PreviousValues  `json:"previous_values,omitempty"`
	MaintenanceInfo *MaintenanceInfo `json:"maintenance_info,omitempty"`
}

// UpdateInstance changes an instance's plan, parameters, context or
// maintenance_info.
func (c *Client) UpdateInstance(ctx context.Context, r *UpdateRequest) (*InstanceResponse, error) {
	return run[InstanceResponse](ctx, c, call{
		op: OpUpdate, method: http.MethodPatch, path: instancePath(r.InstanceID),
		query: acceptsIncomplete(r.AcceptsIncomplete, nil), body: r, user: r.User,
		ok: []int{http.StatusOK, http.StatusAccepted},
	})
}

// DeprovisionRequest is DELETE /v2/service_instances/:instance_id.
type DeprovisionRequest struct {
	InstanceID        string
	ServiceID         string
	PlanID            string
	AcceptsIncomplete bool
	User              *UserInfo
}

// DeprovisionResponse is a 200 or 202 (Async) answer. A 410 comes back as
// an error (IsGone), which callers treat as success.
type DeprovisionResponse struct {
	ResponseInfo
	Operation string `json:"operation,omitempty"`
}

// DeprovisionInstance deletes an instance.
func (c *Client) DeprovisionInstance(ctx context.Context, r *DeprovisionRequest) (*DeprovisionResponse, error) {
	return run[DeprovisionResponse](ctx, c, call{
		op: OpDeprovision, method: http.MethodDelete, path: instancePath(r.InstanceID),
		query: acceptsIncomplete(r.AcceptsIncomplete, ids(r.ServiceID, r.PlanID)), user: r.User,
		ok: []int{http.StatusOK, http.StatusAccepted},
	})
}

// GetInstanceRequest is GET /v2/service_instances/:instance_id; only valid
// when the service is instances_retrievable.
type GetInstanceRequest struct {
	InstanceID string
	ServiceID  string
	PlanID     string
	User       *UserInfo
}

type GetInstanceResponse struct {
	ResponseInfo
	ServiceID       string            `json:"service_id,omitempty"`
	PlanID          string            `json:"plan_id,omitempty"`
	DashboardURL    string            `json:"dashboard_url,omitempty"`
	Parameters      map[string]any    `json:"parameters,omitempty"`
	MaintenanceInfo *MaintenanceInfo  `json:"maintenance_info,omitempty"`
	Metadata        *InstanceMetadata `json:"metadata,omitempty"`
}

// GetInstance fetches an instance.
func (c *Client) GetInstance(ctx context.Context, r *GetInstanceRequest) (*GetInstanceResponse, error) {
	return run[GetInstanceResponse](ctx, c, call{
		op: OpGetInstance, method: http.MethodGet, path: instancePath(r.InstanceID),
		query: ids(r.ServiceID, r.PlanID), user: r.User, ok: []int{http.StatusOK},
	})
}

func instancePath(id string) []string { return []string{"service_instances", id} }

// ids builds the optional service_id/plan_id query.
func ids(serviceID, planID string) url.Values {
	q := url.Values{}
	if serviceID != "" {
		q.Set("service_id", serviceID)
	}
	if planID != "" {
		q.Set("plan_id", planID)
	}
	return q
}

func acceptsIncomplete(yes bool, q url.Values) url.Values {
	if q == nil {
		q = url.Values{}
	}
	if yes {
		q.Set("accepts_incomplete", "true")
	}
	return q
}
