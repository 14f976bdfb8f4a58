package v1beta1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// CommonServicePlanSpec is what cluster-scoped and namespaced plans have in
// common. The controller copies it from the broker's catalog.
type CommonServicePlanSpec struct {
	// ExternalName is the plan's name in the broker's catalog, the name users
	// provision by (for example "duck").
	ExternalName string `json:"externalName"`

	// ExternalID is the plan's ID in the broker's catalog, its identity in
	// the OSB API.
	ExternalID string `json:"externalID"`

	// Description is the broker's short description of the plan.
	Description string `json:"description"`

	// Bindable, when set, overrides the class's bindable for this plan.
	// +optional
	Bindable *bool `json:"bindable,omitempty"`

	// Free says whether the plan costs nothing.
	// +optional
	Free bool `json:"free"`

	// ExternalMetadata is the broker's display metadata for the plan
	// (displayName, bullets, costs, ...).
	// +kubebuilder:pruning:PreserveUnknownFields
	// +kubebuilder:validation:Schemaless
	// +optional
	ExternalMetadata *runtime.RawExtension `json:"externalMetadata,omitempty"`

	// InstanceCreateParameterSchema is the JSON schema of the parameters
	// accepted when an instance is provisioned on this plan.
	// +kubebuilder:pruning:PreserveUnknownFields
	// +kubebuilder:validation:Schemaless
	// +optional
	InstanceCreateParameterSchema *runtime.RawExtension `json:"instanceCreateParameterSchema,omitempty"`

	// InstanceUpdateParameterSchema is the JSON schema of the parameters
	// accepted when an instance on this plan is updated.
	// +kubebuilder:pruning:PreserveUnknownFields
	// +kubebuilder:validation:Schemaless
	// +optional
	InstanceUpdateParameterSchema *runtime.RawExtension `json:"instanceUpdateParameterSchema,omitempty"`

	// ServiceBindingCreateParameterSchema is the JSON schema of the
	// parameters accepted when an instance on this plan is bound.
	// +kubebuilder:pruning:PreserveUnknownFields
	// +kubebuilder:validation:Schemaless
	// +optional
	ServiceBindingCreateParameterSchema *runtime.RawExtension `json:"serviceBindingCreateParameterSchema,omitempty"`

	// DefaultProvisionParameters are merged under the parameters of every
	// instance on this plan.
	// +kubebuilder:pruning:PreserveUnknownFields
	// +kubebuilder:validation:Schemaless
	// +optional
	DefaultProvisionParameters *runtime.RawExtension `json:"defaultProvisionParameters,omitempty"`

	// PlanUpdatable, when set, overrides the class's planUpdatable for this
	// plan (OSB plan_updateable; svcat addition).
	// +optional
	PlanUpdatable *bool `json:"planUpdatable,omitempty"`

	// MaximumPollingDuration is the broker's limit, in seconds, on how long
	// an asynchronous operation on this plan may be polled (svcat addition).
	// +optional
	MaximumPollingDuration *int64 `json:"maximumPollingDuration,omitempty"`

	// MaintenanceInfo is the plan's current maintenance version in the
	// broker's catalog (OSB maintenance_info; svcat addition). Instances
	// provisioned with another version can be upgraded to it.
	// +optional
	MaintenanceInfo *MaintenanceInfo `json:"maintenanceInfo,omitempty"`

	// BindingRotatable says the broker can rotate this plan's bindings: a
	// rotation's bind names the old binding as predecessor_binding_id (OSB
	// binding_rotatable; svcat addition).
	// +optional
	BindingRotatable bool `json:"bindingRotatable,omitempty"`
}

// MaintenanceInfo is a plan's maintenance version, as the broker's catalog
// states it.
type MaintenanceInfo struct {
	// Version is the broker's Semantic Version of the plan's maintenance.
	// +kubebuilder:validation:MaxLength=256
	Version string `json:"version"`
	// Description is the broker's text on what the version changes.
	// +kubebuilder:validation:MaxLength=1024
	// +optional
	Description string `json:"description,omitempty"`
}

// CommonServicePlanStatus is what cluster-scoped and namespaced plans report
// in common.
type CommonServicePlanStatus struct {
	// RemovedFromBrokerCatalog is true when the broker no longer lists the
	// plan; the plan is deleted once no instance uses it.
	// +optional
	RemovedFromBrokerCatalog bool `json:"removedFromBrokerCatalog"`
}

// ClusterServicePlanSpec describes a plan offered to the whole cluster.
type ClusterServicePlanSpec struct {
	CommonServicePlanSpec `json:",inline"`

	// ClusterServiceBrokerName is the broker that offers this plan.
	ClusterServiceBrokerName string `json:"clusterServiceBrokerName"`

	// ClusterServiceClassRef is the class this plan belongs to.
	ClusterServiceClassRef ClusterObjectReference `json:"clusterServiceClassRef"`
}

// ServicePlanSpec describes a plan offered in one namespace.
type ServicePlanSpec struct {
	CommonServicePlanSpec `json:",inline"`

	// ServiceBrokerName is the namespaced broker that offers this plan.
	ServiceBrokerName string `json:"serviceBrokerName"`

	// ServiceClassRef is the class this plan belongs to.
	ServiceClassRef LocalObjectReference `json:"serviceClassRef"`
}

// ClusterServicePlanStatus is the status of a ClusterServicePlan.
type ClusterServicePlanStatus struct {
	CommonServicePlanStatus `json:",inline"`
}

// ServicePlanStatus is the status of a ServicePlan.
type ServicePlanStatus struct {
	CommonServicePlanStatus `json:",inline"`
}

// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Cluster,categories={all,svcat}
// +kubebuilder:printcolumn:name="External-Name",type=string,JSONPath=`.spec.externalName`
// +kubebuilder:printcolumn:name="Broker",type=string,JSONPath=`.spec.clusterServiceBrokerName`
// +kubebuilder:printcolumn:name="Class",type=string,JSONPath=`.spec.clusterServiceClassRef.name`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
// +kubebuilder:metadata:annotations="api-approved.kubernetes.io=unapproved, wire-compatible with the archived Service Catalog v0.3"
// +kubebuilder:metadata:labels="svcat=true"

// ClusterServicePlan is a tier of a ClusterServiceClass, such as "duck" or
// "standard". The controller creates it from the broker's catalog.
type ClusterServicePlan struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// Spec is the plan as the broker describes it.
	Spec ClusterServicePlanSpec `json:"spec,omitempty"`
	// Status is what the controller observed.
	// +optional
	Status ClusterServicePlanStatus `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// ClusterServicePlanList is a list of ClusterServicePlans.
type ClusterServicePlanList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []ClusterServicePlan `json:"items"`
}

// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Namespaced,categories={all,svcat}
// +kubebuilder:printcolumn:name="External-Name",type=string,JSONPath=`.spec.externalName`
// +kubebuilder:printcolumn:name="Broker",type=string,JSONPath=`.spec.serviceBrokerName`
// +kubebuilder:printcolumn:name="Class",type=string,JSONPath=`.spec.serviceClassRef.name`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
// +kubebuilder:metadata:annotations="api-approved.kubernetes.io=unapproved, wire-compatible with the archived Service Catalog v0.3"
// +kubebuilder:metadata:labels="svcat=true"

// ServicePlan is a tier of a ServiceClass, offered in one namespace. The
// controller creates it from the broker's catalog.
type ServicePlan struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// Spec is the plan as the broker describes it.
	Spec ServicePlanSpec `json:"spec,omitempty"`
	// Status is what the controller observed.
	// +optional
	Status ServicePlanStatus `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// ServicePlanList is a list of ServicePlans.
type ServicePlanList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []ServicePlan `json:"items"`
}

func init() {
	SchemeBuilder.Register(&ClusterServicePlan{}, &ClusterServicePlanList{}, &ServicePlan{}, &ServicePlanList{})
}
