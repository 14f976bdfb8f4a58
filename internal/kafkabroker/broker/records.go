package broker

import (
	"bytes"
	"encoding/json"
	"reflect"
	"time"

	"github.com/svcat-io/svcat/internal/kafkabroker/catalog"
)

// Instance states kept in the record. An instance is written once it is
// complete, so there is no provisioning state: a record means the tenant
// exists.
const (
	stateReady             = "ready"
	stateDeprovisioning    = "deprovisioning"
	stateDeprovisionFailed = "deprovision failed"
)

type instanceRecord struct {
	ID        string `json:"id"`
	ServiceID string `json:"serviceID"`
	PlanID    string `json:"planID"`
	Name      string `json:"name"`
	Prefix    string `json:"prefix"`
	// Context is nil in records written before contexts were stored.
	Context    *platformContext    `json:"context,omitempty"`
	Parameters json.RawMessage     `json:"parameters,omitempty"`
	Topics     []catalog.TopicSpec `json:"topics,omitempty"`
	State      string              `json:"state"`
	Operation  string              `json:"operation,omitempty"`
	// Error is a failed deprovision's full error, for the log and for
	// whoever reads the state topic; Reason is what last_operation may
	// tell the platform (see publicReason).
	Error   string    `json:"error,omitempty"`
	Reason  string    `json:"reason,omitempty"`
	Updated time.Time `json:"updated"`
	// Maintenance is the plan's maintenance_info the instance was
	// provisioned or last upgraded with; nil in records of instances made
	// before plans had one.
	Maintenance *catalog.MaintenanceInfo `json:"maintenance,omitempty"`
	// TopicConfig is the plan's topicConfig of that version: topics the
	// instance gets later are made with it, so an instance changes its
	// topic settings only through an upgrade.
	TopicConfig map[string]string `json:"topicConfig,omitempty"`
}

// bindingRecord holds the password because OSB requires that a repeated
// bind and GET binding return the same credentials. The state topic is
// readable only by the broker's admin principal.
type bindingRecord struct {
	ID         string          `json:"id"`
	InstanceID string          `json:"instanceID"`
	ServiceID  string          `json:"serviceID"`
	PlanID     string          `json:"planID"`
	Username   string          `json:"username"`
	Password   string          `json:"password"`
	AppGUID    string          `json:"appGUID,omitempty"`
	Parameters json.RawMessage `json:"parameters,omitempty"`
	// Context is nil in records written before contexts were stored.
	Context *platformContext `json:"context,omitempty"`
	Created time.Time        `json:"created"`
	// Predecessor is the binding this one rotated (predecessor_binding_id).
	Predecessor string `json:"predecessor,omitempty"`
	// ExpiresAt is when the credentials stop working; nil: never.
	ExpiresAt *time.Time `json:"expiresAt,omitempty"`
	// Revoked is set once the sweep removed the user of an expired
	// binding; the record stays until the platform unbinds.
	Revoked bool `json:"revoked,omitempty"`
}

// expired reports whether the binding's credentials have run out at now.
func (r *bindingRecord) expired(now time.Time) bool {
	return r.ExpiresAt != nil && !now.Before(*r.ExpiresAt)
}

func instanceKey(id string) string { return "instance/" + id }

func bindingsPrefix(instanceID string) string { return "binding/" + instanceID + "/" }

func bindingKey(instanceID, bindingID string) string {
	return bindingsPrefix(instanceID) + bindingID
}

// sameJSON compares parameters by meaning: key order and spacing do not
// matter, and absent, null and {} are the same request.
func sameJSON(a, b json.RawMessage) bool {
	va, errA := decodeParams(a)
	vb, errB := decodeParams(b)
	if errA != nil || errB != nil {
		return bytes.Equal(a, b)
	}
	return reflect.DeepEqual(va, vb)
}

func decodeParams(raw json.RawMessage) (any, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return map[string]any{}, nil
	}
	var v any
	err := json.Unmarshal(raw, &v)
	return v, err
}
