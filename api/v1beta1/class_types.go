package v1beta1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// CommonServiceClassSpec is what cluster-scoped and namespaced classes have
// in common. The controller copies it from the broker's catalog.
type CommonServiceClassSpec struct {
	// ExternalName is the service's name in the broker's catalog, the name
	// users provision by (for example "cloudkarafka").
	ExternalName string `json:"externalName"`

	// ExternalID is the service's ID in the broker's catalog, its identity in
	// the OSB API.
	ExternalID string `json:"externalID"`

	// Description is the broker's short description of the service.
	Description string `json:"description"`

	// Bindable says whether instances of this class can be bound. A plan's
	// bindable field overrides it.
	Bindable bool `json:"bindable"`

	// BindingRetrievable says whether the broker serves GET on bindings, so
	// binding credentials can be fetched again.
	// +optional
	BindingRetrievable bool `json:"bindingRetrievable"`

	// PlanUpdatable says whether an instance of this class may change plans.
	// +optional
	PlanUpdatable bool `json:"planUpdatable"`

	// ExternalMetadata is the broker's display metadata for the service
	// (displayName, imageUrl, longDescription, ...).
	// +kubebuilder:pruning:PreserveUnknownFields
	// +kubebuilder:validation:Schemaless
	// +optional
	ExternalMetadata *runtime.RawExtension `json:"externalMetadata,omitempty"`

	// Tags classify the service, for example "kafka".
	// +optional
	Tags []string `json:"tags,omitempty"`

	// Requires lists permissions the service needs from the platform
	// (syslog_drain, route_forwarding, volume_mount).
	// +optional
	Requires []string `json:"requires,omitempty"`

	// DefaultProvisionParameters are merged under the parameters of every
	// instance of this class.
	// +kubebuilder:pruning:PreserveUnknownFields
	// +kubebuilder:validation:Schemaless
	// +optional
	DefaultProvisionParameters *runtime.RawExtension `json:"defaultProvisionParameters,omitempty"`
}

// CommonServiceClassStatus is what cluster-scoped and namespaced classes
// report in common.
type CommonServiceClassStatus struct {
	// RemovedFromBrokerCatalog is true when the broker no longer lists the
	// service; the class is deleted once no instance uses it.
	// +optional
	RemovedFromBrokerCatalog bool `json:"removedFromBrokerCatalog"`
}

// ClusterServiceClassSpec describes a service offered to the whole cluster.
type ClusterServiceClassSpec struct {
	CommonServiceClassSpec `json:",inline"`

	// ClusterServiceBrokerName is the broker that offers this class.
	ClusterServiceBrokerName string `json:"clusterServiceBrokerName"`
}

// ServiceClassSpec describes a service offered in one namespace.
type ServiceClassSpec struct {
	CommonServiceClassSpec `json:",inline"`

	// ServiceBrokerName is the namespaced broker that offers this class.
	ServiceBrokerName string `json:"serviceBrokerName"`
}

// ClusterServiceClassStatus is the status of a ClusterServiceClass.
type ClusterServiceClassStatus struct {
	CommonServiceClassStatus `json:",inline"`
}

// ServiceClassStatus is the status of a ServiceClass.
type ServiceClassStatus struct {
	CommonServiceClassStatus `json:",inline"`
}

// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Cluster,categories={all,svcat}
// +kubebuilder:printcolumn:name="External-Name",type=string,JSONPath=`.spec.externalName`
// +kubebuilder:printcolumn:name="Broker",type=string,JSONPath=`.spec.clusterServiceBrokerName`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
// +kubebuilder:metadata:annotations="api-approved.kubernetes.io=unapproved, wire-compatible with the archived Service Catalog v0.3"
// +kubebuilder:metadata:labels="svcat=true"

// ClusterServiceClass is a service offered by a ClusterServiceBroker to the
// whole cluster. The controller creates it from the broker's catalog.
type ClusterServiceClass struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// Spec is the service as the broker describes it.
	Spec ClusterServiceClassSpec `json:"spec,omitempty"`
	// Status is what the controller observed.
	// +optional
	Status ClusterServiceClassStatus `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// ClusterServiceClassList is a list of ClusterServiceClasses.
type ClusterServiceClassList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []ClusterServiceClass `json:"items"`
}

// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Namespaced,categories={all,svcat}
// +kubebuilder:printcolumn:name="External-Name",type=string,JSONPath=`.spec.externalName`
// +kubebuilder:printcolumn:name="Broker",type=string,JSONPath=`.spec.serviceBrokerName`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
// +kubebuilder:metadata:annotations="api-approved.kubernetes.io=unapproved, wire-compatible with the archived Service Catalog v0.3"
// +kubebuilder:metadata:labels="svcat=true"

// ServiceClass is a service offered by a namespaced ServiceBroker in its
// namespace. The controller creates it from the broker's catalog.
type ServiceClass struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// Spec is the service as the broker describes it.
	Spec ServiceClassSpec `json:"spec,omitempty"`
	// Status is what the controller observed.
	// +optional
	Status ServiceClassStatus `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// ServiceClassList is a list of ServiceClasses.
type ServiceClassList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []ServiceClass `json:"items"`
}

func init() {
	SchemeBuilder.Register(&ClusterServiceClass{}, &ClusterServiceClassList{}, &ServiceClass{}, &ServiceClassList{})
}
