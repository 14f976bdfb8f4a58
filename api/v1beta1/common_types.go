package v1beta1

// FinalizerServiceCatalog is the finalizer v0.3 put on instances and
// bindings. We keep its exact value so that objects v0.3 created are
// deprovisioned by us and not silently dropped.
const FinalizerServiceCatalog = "kubernetes-incubator/service-catalog"

// ConditionStatus is the status of a condition: True, False or Unknown.
// +kubebuilder:validation:Enum=True;False;Unknown
type ConditionStatus string

const (
	// ConditionTrue means the object is in the condition.
	ConditionTrue ConditionStatus = "True"
	// ConditionFalse means the object is not in the condition.
	ConditionFalse ConditionStatus = "False"
	// ConditionUnknown means the controller cannot tell.
	ConditionUnknown ConditionStatus = "Unknown"
)

// ObjectReference names an object in a given namespace.
type ObjectReference struct {
	// Namespace of the referenced object.
	// +optional
	Namespace string `json:"namespace,omitempty"`
	// Name of the referenced object.
	// +optional
	Name string `json:"name,omitempty"`
}

// LocalObjectReference names an object in the namespace of the referring
// object.
type LocalObjectReference struct {
	// Name of the referenced object.
	// +optional
	Name string `json:"name,omitempty"`
}

// ClusterObjectReference names a cluster-scoped object.
type ClusterObjectReference struct {
	// Name of the referenced object.
	// +optional
	Name string `json:"name,omitempty"`
}

// SecretKeyReference names one key of a Secret in the namespace of the
// referring object.
type SecretKeyReference struct {
	// Name of the Secret.
	// +kubebuilder:validation:MinLength=1
	Name string `json:"name"`
	// Key within the Secret whose value is used.
	// +kubebuilder:validation:MinLength=1
	Key string `json:"key"`
}

// ParametersFromSource is a source of parameters to send to the broker.
// +kubebuilder:validation:XValidation:rule="has(self.secretKeyRef)",message="each parametersFrom entry needs a secretKeyRef"
type ParametersFromSource struct {
	// SecretKeyRef names a key of a Secret whose value is a JSON object; its
	// top-level keys are merged into the parameters. A top-level key that
	// appears in more than one source is an error.
	// +optional
	SecretKeyRef *SecretKeyReference `json:"secretKeyRef,omitempty"`
}

// ExtraValue holds the values of one extra attribute of a user.
type ExtraValue []string

// UserInfo identifies the user who asked for a change, as sent to the broker
// in the X-Broker-API-Originating-Identity header.
type UserInfo struct {
	// Username of the user.
	Username string `json:"username"`
	// UID of the user.
	UID string `json:"uid"`
	// Groups the user belongs to.
	// +optional
	Groups []string `json:"groups,omitempty"`
	// Extra attributes of the user, from the authenticator.
	// +optional
	Extra map[string]ExtraValue `json:"extra,omitempty"`
}
