package v1beta1

import metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

// AnnotationRotationRequest asks the controller to rotate a binding's
// credentials once: any new value (an opaque token such as a time stamp)
// is one rotation; the controller records the last value it honoured in
// status.rotation.lastRequest. `svcat rotate binding` sets it.
const AnnotationRotationRequest = "servicecatalog.k8s.io/rotation-request"

// MaxRotationRequestLength bounds the annotation's value (bytes): it is
// copied into the status.
const MaxRotationRequestLength = 128

// MaxRetiringBindings bounds the old broker bindings waiting to be
// unbound; a rotation that would exceed it waits for an unbind.
const MaxRetiringBindings = 8

// ServiceBindingConditionRotation advises on credential rotation: True
// after a rotation, Unknown while one runs, False when one failed. The
// binding stays Ready with its old credentials meanwhile.
const ServiceBindingConditionRotation ServiceBindingConditionType = "Rotation"

// BindingRotationPolicy says when credentials are rotated without being
// asked and how long old credentials stay valid.
// +kubebuilder:validation:XValidation:rule="!has(self.interval) || !has(self.gracePeriod) || duration(self.gracePeriod) < duration(self.interval)",messageExpression="'spec.rotationPolicy.gracePeriod ' + self.gracePeriod + ' must be shorter than spec.rotationPolicy.interval ' + self.interval + ', so that old credentials are unbound before the next rotation'"
type BindingRotationPolicy struct {
	// Interval rotates the credentials this long after the last rotation
	// (or the bind), as a Go duration such as 720h: at least 1m, at most
	// 8760h. Unset: only on request and before expiry.
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:XValidation:rule="duration(self) >= duration('1m') && duration(self) <= duration('8760h')",messageExpression="'spec.rotationPolicy.interval ' + self + ' is not allowed: it must be between 1m and 8760h'"
	// +optional
	Interval *metav1.Duration `json:"interval,omitempty"`

	// GracePeriod is how long the old credentials keep working after the
	// new ones are in the Secret, before the old binding is unbound at the
	// broker: at least 0s, at most 168h. Defaults to the controller's
	// setting (--rotation-grace-period, 10m).
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:XValidation:rule="duration(self) >= duration('0s') && duration(self) <= duration('168h')",messageExpression="'spec.rotationPolicy.gracePeriod ' + self + ' is not allowed: it must be between 0s and 168h'"
	// +optional
	GracePeriod *metav1.Duration `json:"gracePeriod,omitempty"`
}

// RotationTrigger says why a rotation was started.
// +kubebuilder:validation:Enum=Request;Schedule;Expiry
type RotationTrigger string

const (
	// RotationTriggerRequest: the rotation-request annotation changed.
	RotationTriggerRequest RotationTrigger = "Request"
	// RotationTriggerSchedule: spec.rotationPolicy.interval passed.
	RotationTriggerSchedule RotationTrigger = "Schedule"
	// RotationTriggerExpiry: the credentials near their expiresAt.
	RotationTriggerExpiry RotationTrigger = "Expiry"
)

// ServiceBindingRotationStatus is the state of a binding's rotations.
// Every broker binding ID the controller made is in it until unbound, so
// neither a crash nor a failed request leaves one behind.
type ServiceBindingRotationStatus struct {
	// CurrentBindingID is the broker binding whose credentials are in the
	// Secret; empty means spec.externalID (no rotation yet).
	// +kubebuilder:validation:MaxLength=255
	// +optional
	CurrentBindingID string `json:"currentBindingID,omitempty"`

	// Pending is the rotation in progress, written before its bind is
	// sent.
	// +optional
	Pending *PendingRotation `json:"pending,omitempty"`

	// LastRotationTime is when new credentials last went into the Secret.
	// +optional
	LastRotationTime *metav1.Time `json:"lastRotationTime,omitempty"`

	// LastRequest is the last rotation-request annotation value honoured
	// (rotated, or refused by the broker).
	// +kubebuilder:validation:MaxLength=128
	// +optional
	LastRequest string `json:"lastRequest,omitempty"`

	// Retiring are the old broker bindings waiting to be unbound.
	// +kubebuilder:validation:MaxItems=8
	// +optional
	Retiring []RetiringBinding `json:"retiring,omitempty"`

	// IssuedTime is when the broker made the credentials in the Secret:
	// what spec.rotationPolicy.interval and the fraction of the lifetime
	// before expiresAt count from.
	// +optional
	IssuedTime *metav1.Time `json:"issuedTime,omitempty"`

	// FailureTime is when the last rotation failed; the next try waits a
	// while after it.
	// +optional
	FailureTime *metav1.Time `json:"failureTime,omitempty"`
}

// PendingRotation is a rotation whose bind was or is about to be sent.
type PendingRotation struct {
	// BindingID is the new broker binding's ID.
	// +kubebuilder:validation:MaxLength=255
	BindingID string `json:"bindingID"`
	// Trigger says why it started.
	Trigger RotationTrigger `json:"trigger"`
	// Request is the rotation-request value it honours, if any.
	// +kubebuilder:validation:MaxLength=128
	// +optional
	Request string `json:"request,omitempty"`
	// StartTime is when it started.
	StartTime metav1.Time `json:"startTime"`
	// Accepted is true once the broker accepted the bind asynchronously;
	// its operation is polled and the credentials fetched with a GET.
	// +optional
	Accepted bool `json:"accepted,omitempty"`
	// Operation is the broker's key for that operation.
	// +kubebuilder:validation:MaxLength=10000
	// +optional
	Operation string `json:"operation,omitempty"`
	// Fresh is true once the broker refused the predecessor_binding_id
	// (for example of credentials it already removed for their expiry):
	// the bind is sent again without it, as for a plan that is not
	// binding_rotatable.
	// +optional
	Fresh bool `json:"fresh,omitempty"`
}

// RetiringBinding is an old broker binding waiting to be unbound.
type RetiringBinding struct {
	// BindingID is its ID at the broker.
	// +kubebuilder:validation:MaxLength=255
	BindingID string `json:"bindingID"`
	// UnbindAfter is the end of its grace period.
	UnbindAfter metav1.Time `json:"unbindAfter"`
}

// BrokerBindingID is the ID of the broker binding whose credentials are in
// the binding's Secret: the rotated one, or spec.externalID.
func (b *ServiceBinding) BrokerBindingID() string {
	if r := b.Status.Rotation; r != nil && r.CurrentBindingID != "" {
		return r.CurrentBindingID
	}
	return b.Spec.ExternalID
}

// BrokerBindingIDs are every broker binding the binding holds: its
// spec.externalID and those of its rotations (current, pending, retiring).
func (b *ServiceBinding) BrokerBindingIDs() []string {
	ids := []string{b.Spec.ExternalID}
	if r := b.Status.Rotation; r != nil {
		if r.CurrentBindingID != "" {
			ids = append(ids, r.CurrentBindingID)
		}
		if r.Pending != nil {
			ids = append(ids, r.Pending.BindingID)
		}
		for _, rb := range r.Retiring {
			ids = append(ids, rb.BindingID)
		}
	}
	return ids
}

// SetAdvisoryCondition is ServiceInstanceStatus.SetAdvisoryCondition for
// bindings: a new advisory condition goes first, so lastConditionState
// stays Ready or Failed.
func (s *ServiceBindingStatus) SetAdvisoryCondition(t ServiceBindingConditionType, status ConditionStatus, reason, message string, now metav1.Time) bool {
	isNew := s.GetCondition(t) == nil
	changed := s.SetCondition(t, status, reason, message, now)
	if isNew && len(s.Conditions) > 1 {
		n := len(s.Conditions) - 1
		added := s.Conditions[n]
		copy(s.Conditions[1:], s.Conditions[:n])
		s.Conditions[0] = added
		s.LastConditionState = lastConditionState(s.Conditions, bindingCondFrom)
	}
	return changed
}
