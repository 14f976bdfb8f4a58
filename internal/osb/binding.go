package osb

import (
	"context"
	"net/http"
)

// Credentials are a binding's secrets. String and GoString are redacted so
// that logging a response by accident does not leak them.
type Credentials map[string]any

func (Credentials) String() string   { return "[redacted]" }
func (Credentials) GoString() string { return "[redacted]" }

type BindResource struct {
	AppGUID string `json:"app_guid,omitempty"`
	Route   string `json:"route,omitempty"`
}

// BindRequest is PUT .../service_instances/:id/service_bindings/:binding_id.
type BindRequest struct {
	InstanceID        string    `json:"-"`
	BindingID         string    `json:"-"`
	AcceptsIncomplete bool      `json:"-"`
	User              *UserInfo `json:"-"`

	ServiceID    string         `json:"service_id"`
	PlanID       string         `json:"plan_id"`
	Context      *Context       `json:"context,omitempty"`
	AppGUID      string         `json:"app_guid,omitempty"`
	BindResource *BindResource  `json:"bind_resource,omitempty"`
	Parameters   map[string]any `json:"parameters,omitempty"`
	// PredecessorBindingID asks the broker to rotate that binding's
	// credentials (plan binding_rotatable).
	PredecessorBindingID string `json:"predecessor_binding_id,omitempty"`
}

type BindingMetadata struct {
	ExpiresAt   string `json:"expires_at,omitempty"`
	RenewBefore string `json:"renew_before,omitempty"`
}

type VolumeMount struct {
	Driver       string       `json:"driver"`
	ContainerDir string       `json:"container_dir"`
	Mode         string       `json:"mode"`
	DeviceType   string       `json:"device_type"`
	Device       VolumeDevice `json:"device"`
}

type VolumeDevice struct {
	VolumeID    string         `json:"volume_id"`
	MountConfig map[string]any `json:"mount_config,omitempty"`
}

// Endpoint ports are strings because the spec allows ranges like "9000-9010".
type Endpoint struct {
	Host     string   `json:"host"`
	Ports    []string `json:"ports"`
	Protocol string   `json:"protocol,omitempty"`
}

// Binding is what bind and get-binding answers have in common.
type Binding struct {
	Credentials     Credentials      `json:"credentials,omitempty"`
	Metadata        *BindingMetadata `json:"metadata,omitempty"`
	SyslogDrainURL  string           `json:"syslog_drain_url,omitempty"`
	RouteServiceURL string           `json:"route_service_url,omitempty"`
	VolumeMounts    []VolumeMount    `json:"volume_mounts,omitempty"`
	Endpoints       []Endpoint       `json:"endpoints,omitempty"`
}

// BindResponse is a 200, 201 or 202 (Async, no credentials yet) answer.
type BindResponse struct {
	ResponseInfo
	Binding
	Operation string `json:"operation,omitempty"`
}

// Bind creates a binding.
func (c *Client) Bind(ctx context.Context, r *BindRequest) (*BindResponse, error) {
	return run[BindResponse](ctx, c, call{
		op: OpBind, method: http.MethodPut, path: bindingPath(r.InstanceID, r.BindingID),
		query: acceptsIncomplete(r.AcceptsIncomplete, nil), body: r, user: r.User,
		ok: []int{http.StatusOK, http.StatusCreated, http.StatusAccepted},
	})
}

// UnbindRequest is DELETE .../service_bindings/:binding_id.
type UnbindRequest struct {
	InstanceID        string
	BindingID         string
	ServiceID         string
	PlanID            string
	AcceptsIncomplete bool
	User              *UserInfo
}

// UnbindResponse is a 200 or 202 (Async) answer; 410 is an error (IsGone)
// that callers treat as success.
type UnbindResponse struct {
	ResponseInfo
	Operation string `json:"operation,omitempty"`
}

// Unbind deletes a binding.
func (c *Client) Unbind(ctx context.Context, r *UnbindRequest) (*UnbindResponse, error) {
	return run[UnbindResponse](ctx, c, call{
		op: OpUnbind, method: http.MethodDelete, path: bindingPath(r.InstanceID, r.BindingID),
		query: acceptsIncomplete(r.AcceptsIncomplete, ids(r.ServiceID, r.PlanID)), user: r.User,
		ok: []int{http.StatusOK, http.StatusAccepted},
	})
}

// GetBindingRequest is GET .../service_bindings/:binding_id; only valid when
// the service is bindings_retrievable.
type GetBindingRequest struct {
	InstanceID string
	BindingID  string
	ServiceID  string
	PlanID     string
	User       *UserInfo
}

type GetBindingResponse struct {
	ResponseInfo
	Binding
	Parameters map[string]any `json:"parameters,omitempty"`
}

// GetBinding fetches a binding, including its credentials.
func (c *Client) GetBinding(ctx context.Context, r *GetBindingRequest) (*GetBindingResponse, error) {
	return run[GetBindingResponse](ctx, c, call{
		op: OpGetBinding, method: http.MethodGet, path: bindingPath(r.InstanceID, r.BindingID),
		query: ids(r.ServiceID, r.PlanID), user: r.User, ok: []int{http.StatusOK},
	})
}

func bindingPath(instanceID, bindingID string) []string {
	return []string{"service_instances", instanceID, "service_bindings", bindingID}
}
