package osb

import (
	"context"
	"net/http"

	"github.com/svcat-io/svcat/internal/brokertext"
)

// LastOperationState is the state field of a last_operation answer.
type LastOperationState string

const (
	StateInProgress LastOperationState = "in progress"
	StateSucceeded  LastOperationState = "succeeded"
	StateFailed     LastOperationState = "failed"
)

// LastOperationRequest is GET .../service_instances/:id/last_operation.
type LastOperationRequest struct {
	InstanceID string
	ServiceID  string
	PlanID     string
	// Operation is the key from the 202 answer, sent back verbatim
	// (percent-encoded on the wire).
	Operation string
	User      *UserInfo
}

// LastOperationResponse carries ResponseInfo.RetryAfter, the broker's hint
// for the next poll.
type LastOperationResponse struct {
	ResponseInfo
	State            LastOperationState `json:"state"`
	Description      string             `json:"description,omitempty"`
	InstanceUsable   *bool              `json:"instance_usable,omitempty"`
	UpdateRepeatable *bool              `json:"update_repeatable,omitempty"`
}

// PollLastOperation asks for the state of an instance's async operation. A
// 410 while deprovisioning (IsGone) means the delete succeeded.
func (c *Client) PollLastOperation(ctx context.Context, r *LastOperationRequest) (*LastOperationResponse, error) {
	return poll(ctx, c, OpPollLastOperation, append(instancePath(r.InstanceID), "last_operation"), r.ServiceID, r.PlanID, r.Operation, r.User)
}

// BindingLastOperationRequest is
// GET .../service_instances/:id/service_bindings/:binding_id/last_operation.
type BindingLastOperationRequest struct {
	InstanceID string
	BindingID  string
	ServiceID  string
	PlanID     string
	Operation  string
	User       *UserInfo
}

// PollBindingLastOperation asks for the state of a binding's async
// operation. A 410 while unbinding (IsGone) means the unbind succeeded.
func (c *Client) PollBindingLastOperation(ctx context.Context, r *BindingLastOperationRequest) (*LastOperationResponse, error) {
	return poll(ctx, c, OpPollBindingLastOperation, append(bindingPath(r.InstanceID, r.BindingID), "last_operation"), r.ServiceID, r.PlanID, r.Operation, r.User)
}

func poll(ctx context.Context, c *Client, op Operation, path []string, serviceID, planID, operation string, user *UserInfo) (*LastOperationResponse, error) {
	q := ids(serviceID, planID)
	if operation != "" {
		q.Set("operation", operation)
	}
	out, err := run[LastOperationResponse](ctx, c, call{
		op: op, method: http.MethodGet, path: path, query: q, user: user, ok: []int{http.StatusOK},
	})
	if err == nil && !out.State.valid() {
		return nil, &MalformedResponseError{Operation: op, StatusCode: out.StatusCode, RequestIdentity: out.RequestIdentity,
			Err: &decodeError{"unknown state " + brokertext.Clean(string(out.State), 64), -1}}
	}
	if err == nil {
		// Platforms show the description (svcat: in the Ready condition).
		out.Description = brokertext.Clean(out.Description, brokertext.MaxBytes)
	}
	return out, err
}

func (s LastOperationState) valid() bool {
	return s == StateInProgress || s == StateSucceeded || s == StateFailed
}
