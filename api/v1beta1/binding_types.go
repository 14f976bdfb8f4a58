package v1beta1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// ServiceBindingSpec describes the credentials a user wants for an instance.
// +kubebuilder:validation:XValidation:rule="!has(oldSelf.externalID) || size(oldSelf.externalID) == 0 || (has(self.externalID) && self.externalID == oldSelf.externalID)",message="externalID is immutable once set"
// +kubebuilder:validation:XValidation:rule="!has(oldSelf.secretName) || size(oldSelf.secretName) == 0 || (has(self.secretName) && self.secretName == oldSelf.secretName)",message="secretName is immutable once set"
type ServiceBindingSpec struct {
	// InstanceRef names the ServiceInstance to bind to: in the binding's
	// namespace, or in instanceRef.namespace when that namespace shares it
	// with the binding's. Immutable.
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="instanceRef is immutable"
	InstanceRef InstanceReference `json:"instanceRef"`

	// Parameters are sent to the broker as they are. Do not put secrets here:
	// use parametersFrom.
	// +kubebuilder:pruning:PreserveUnknownFields
	// +kubebuilder:validation:Schemaless
	// +optional
	Parameters *runtime.RawExtension `json:"parameters,omitempty"`

	// ParametersFrom lists Secrets whose values (JSON objects) are merged
	// into the parameters. Their values are redacted in the status.
	// +optional
	ParametersFrom []ParametersFromSource `json:"parametersFrom,omitempty"`

	// SecretName is the Secret, in the binding's namespace, that receives the
	// credentials. Defaults to the binding's name. Immutable once set.
	// +kubebuilder:validation:MaxLength=253
	// +optional
	SecretName string `json:"secretName,omitempty"`

	// SecretTransforms change the credentials before they are written to the
	// Secret, applied in order.
	// +kubebuilder:validation:MaxItems=64
	// +optional
	SecretTransforms []SecretTransform `json:"secretTransforms,omitempty"`

	// ExternalID is the binding's ID in the OSB API. The controller sets a
	// UUID when it is empty; once set it cannot change.
	// +optional
	ExternalID string `json:"externalID"`

	// UserInfo is the user who created the binding, sent to the broker as the
	// originating identity.
	// +optional
	UserInfo *UserInfo `json:"userInfo,omitempty"`

	// RotationPolicy rotates the credentials on a schedule and says how
	// long old credentials stay valid after any rotation (svcat addition).
	// +optional
	RotationPolicy *BindingRotationPolicy `json:"rotationPolicy,omitempty"`
}

// InstanceReference names a binding's instance: v0.3's local reference
// plus an optional namespace (svcat addition) for an instance another
// namespace shares.
type InstanceReference struct {
	// Name of the ServiceInstance.
	// +optional
	Name string `json:"name,omitempty"`
	// Namespace of the ServiceInstance when it is not the binding's own;
	// the instance must list the binding's namespace in spec.sharedWith.
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
	// +optional
	Namespace string `json:"namespace,omitempty"`
}

// InstanceNamespace is the namespace of the instance the binding names.
func (b *ServiceBinding) InstanceNamespace() string {
	if b.Spec.InstanceRef.Namespace != "" {
		return b.Spec.InstanceRef.Namespace
	}
	return b.Namespace
}

// SharedInstance is true when the binding names an instance of another
// namespace.
func (b *ServiceBinding) SharedInstance() bool {
	return b.InstanceNamespace() != b.Namespace
}

// SecretTransform is one change to the credentials; set exactly one field.
// +kubebuilder:validation:XValidation:rule="[has(self.renameKey), has(self.addKey), has(self.addKeysFrom), has(self.removeKey)].filter(x, x).size() == 1",message="each secretTransforms entry must set exactly one of renameKey, addKey, addKeysFrom or removeKey"
type SecretTransform struct {
	// RenameKey renames a credential key.
	// +optional
	RenameKey *RenameKeyTransform `json:"renameKey,omitempty"`
	// AddKey adds a key with a fixed value or one computed by JSONPath.
	// +optional
	AddKey *AddKeyTransform `json:"addKey,omitempty"`
	// AddKeysFrom copies every key of another Secret.
	// +optional
	AddKeysFrom *AddKeysFromTransform `json:"addKeysFrom,omitempty"`
	// RemoveKey drops a credential key.
	// +optional
	RemoveKey *RemoveKeyTransform `json:"removeKey,omitempty"`
}

// RenameKeyTransform renames a credential key, for example "brokers" to
// "bootstrap.servers".
type RenameKeyTransform struct {
	// From is the key to rename.
	// +kubebuilder:validation:MinLength=1
	From string `json:"from"`
	// To is its new name.
	// +kubebuilder:validation:MinLength=1
	To string `json:"to"`
}

// AddKeyTransform adds a key; set exactly one of value, stringValue and
// jsonPathExpression.
// +kubebuilder:validation:XValidation:rule="[has(self.value), has(self.stringValue), has(self.jsonPathExpression)].filter(x, x).size() == 1",message="addKey must set exactly one of value, stringValue or jsonPathExpression"
type AddKeyTransform struct {
	// Key to add.
	// +kubebuilder:validation:MinLength=1
	Key string `json:"key"`
	// Value is the value as bytes (base64 in YAML and JSON).
	// +optional
	Value []byte `json:"value"`
	// StringValue is the value as a string.
	// +optional
	StringValue *string `json:"stringValue"`
	// JSONPathExpression is evaluated over the credentials, for example
	// "{.host}:{.port}", and its result is the value.
	// +optional
	JSONPathExpression *string `json:"jsonPathExpression"`
}

// AddKeysFromTransform copies the keys of another Secret into the
// credentials.
// +kubebuilder:validation:XValidation:rule="has(self.secretRef)",message="addKeysFrom needs a secretRef"
type AddKeysFromTransform struct {
	// SecretRef names the Secret to copy from.
	// +optional
	SecretRef *ObjectReference `json:"secretRef,omitempty"`
}

// RemoveKeyTransform drops a credential key.
type RemoveKeyTransform struct {
	// Key to drop.
	// +kubebuilder:validation:MinLength=1
	Key string `json:"key"`
}

// ServiceBindingConditionType is the type of a binding condition.
type ServiceBindingConditionType string

const (
	// ServiceBindingConditionReady is True when the credentials are in the
	// Secret.
	ServiceBindingConditionReady ServiceBindingConditionType = "Ready"
	// ServiceBindingConditionFailed is True when binding failed for good.
	ServiceBindingConditionFailed ServiceBindingConditionType = "Failed"
)

// ServiceBindingCondition is one observation about a binding.
type ServiceBindingCondition struct {
	// Type of the condition: Ready or Failed.
	Type ServiceBindingConditionType `json:"type"`
	// Status of the condition: True, False or Unknown.
	Status ConditionStatus `json:"status"`
	// LastTransitionTime is when the status last changed.
	LastTransitionTime metav1.Time `json:"lastTransitionTime"`
	// Reason is a CamelCase word that machines can match on.
	Reason string `json:"reason"`
	// Message says what happened and what to do about it.
	Message string `json:"message"`
}

// ServiceBindingOperation is an operation the controller runs on a binding.
// +kubebuilder:validation:Enum="";Bind;Unbind
type ServiceBindingOperation string

const (
	// ServiceBindingOperationBind creates the binding at the broker.
	ServiceBindingOperationBind ServiceBindingOperation = "Bind"
	// ServiceBindingOperationUnbind deletes it at the broker.
	ServiceBindingOperationUnbind ServiceBindingOperation = "Unbind"
)

// ServiceBindingUnbindStatus says whether the broker must be asked to unbind
// before the binding is deleted.
// +kubebuilder:validation:Enum="";NotRequired;Required;Succeeded;Failed
type ServiceBindingUnbindStatus string

const (
	// ServiceBindingUnbindStatusNotRequired means the broker holds nothing
	// for this binding.
	ServiceBindingUnbindStatusNotRequired ServiceBindingUnbindStatus = "NotRequired"
	// ServiceBindingUnbindStatusRequired means the broker may hold it.
	ServiceBindingUnbindStatusRequired ServiceBindingUnbindStatus = "Required"
	// ServiceBindingUnbindStatusSucceeded means the broker deleted it.
	ServiceBindingUnbindStatusSucceeded ServiceBindingUnbindStatus = "Succeeded"
	// ServiceBindingUnbindStatusFailed means the controller gave up.
	ServiceBindingUnbindStatusFailed ServiceBindingUnbindStatus = "Failed"
)

// ServiceBindingPropertiesState is what was (or is being) sent to the broker
// for a binding.
type ServiceBindingPropertiesState struct {
	// Parameters sent, with values that came from Secrets shown as
	// "<redacted>".
	// +kubebuilder:pruning:PreserveUnknownFields
	// +kubebuilder:validation:Schemaless
	// +optional
	Parameters *runtime.RawExtension `json:"parameters,omitempty"`
	// ParameterChecksum is the SHA-256 (hex) of the parameters sent.
	// +optional
	ParameterChecksum string `json:"parameterChecksum,omitempty"`
	// UserInfo is the user whose request was sent.
	// +optional
	UserInfo *UserInfo `json:"userInfo,omitempty"`
}

// ServiceBindingStatus is what the controller observed of a binding.
type ServiceBindingStatus struct {
	// Conditions are the latest observations: Ready and Failed.
	// +optional
	Conditions []ServiceBindingCondition `json:"conditions"`

	// AsyncOpInProgress is true while the broker works on an asynchronous
	// bind or unbind that the controller polls.
	// +optional
	AsyncOpInProgress bool `json:"asyncOpInProgress"`

	// LastOperation is the broker's key for the asynchronous operation in
	// progress.
	// +optional
	LastOperation *string `json:"lastOperation,omitempty"`

	// CurrentOperation is the operation in progress: Bind or Unbind.
	// +optional
	CurrentOperation ServiceBindingOperation `json:"currentOperation,omitempty"`

	// ReconciledGeneration is the generation of the spec the controller last
	// acted on.
	// +optional
	ReconciledGeneration int64 `json:"reconciledGeneration"`

	// OperationStartTime is when the current operation began.
	// +optional
	OperationStartTime *metav1.Time `json:"operationStartTime,omitempty"`

	// InProgressProperties is what is being sent by the current operation.
	// +optional
	InProgressProperties *ServiceBindingPropertiesState `json:"inProgressProperties,omitempty"`

	// ExternalProperties is what the broker last accepted.
	// +optional
	ExternalProperties *ServiceBindingPropertiesState `json:"externalProperties,omitempty"`

	// OrphanMitigationInProgress is true while the controller unbinds what a
	// failed bind may have left at the broker.
	// +optional
	OrphanMitigationInProgress bool `json:"orphanMitigationInProgress"`

	// UnbindStatus says whether the broker must be asked to unbind before the
	// object goes away.
	// +optional
	UnbindStatus ServiceBindingUnbindStatus `json:"unbindStatus"`

	// LastConditionState is the type of the last condition if it is True,
	// otherwise its reason; shown by kubectl get.
	// +optional
	LastConditionState string `json:"lastConditionState"`

	// Binding names the Secret holding the credentials, so the binding is a
	// servicebinding.io Provisioned Service (svcat addition).
	// +optional
	Binding *LocalObjectReference `json:"binding,omitempty"`

	// Rotation records the credential rotations: the broker binding whose
	// credentials are in the Secret, the one being made, and the old ones
	// waiting to be unbound (svcat addition).
	// +optional
	Rotation *ServiceBindingRotationStatus `json:"rotation,omitempty"`

	// ExpiresAt is when the broker says the credentials in the Secret stop
	// working (OSB metadata.expires_at; svcat addition).
	// +optional
	ExpiresAt *metav1.Time `json:"expiresAt,omitempty"`

	// RenewBefore is when the broker asks for new credentials at the
	// latest (OSB metadata.renew_before; svcat addition).
	// +optional
	RenewBefore *metav1.Time `json:"renewBefore,omitempty"`
}

// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Namespaced,categories={all,svcat}
// +kubebuilder:printcolumn:name="Service-Instance",type=string,JSONPath=`.spec.instanceRef.name`
// +kubebuilder:printcolumn:name="Secret-Name",type=string,JSONPath=`.spec.secretName`
// +kubebuilder:printcolumn:name="Status",type=string,JSONPath=`.status.lastConditionState`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
// +kubebuilder:metadata:annotations="api-approved.kubernetes.io=unapproved, wire-compatible with the archived Service Catalog v0.3"
// +kubebuilder:metadata:labels="svcat=true"

// ServiceBinding asks the broker for credentials to a ServiceInstance and
// writes them to a Secret in the binding's namespace.
type ServiceBinding struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// Spec is the binding the user wants.
	Spec ServiceBindingSpec `json:"spec,omitempty"`
	// Status is what the controller observed.
	// +optional
	Status ServiceBindingStatus `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// ServiceBindingList is a list of ServiceBindings.
type ServiceBindingList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []ServiceBinding `json:"items"`
}

func init() {
	SchemeBuilder.Register(&ServiceBinding{}, &ServiceBindingList{})
}
