package v1beta1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// ServiceBrokerRelistBehavior says when the controller fetches a broker's
// catalog again.
// +kubebuilder:validation:Enum=Duration;Manual
type ServiceBrokerRelistBehavior string

const (
	// ServiceBrokerRelistBehaviorDuration relists every relistDuration.
	ServiceBrokerRelistBehaviorDuration ServiceBrokerRelistBehavior = "Duration"
	// ServiceBrokerRelistBehaviorManual relists only when the spec changes,
	// for example when relistRequests is incremented.
	ServiceBrokerRelistBehaviorManual ServiceBrokerRelistBehavior = "Manual"
)

// Keys of the Secrets that hold broker credentials.
const (
	// BasicAuthUsernameKey holds the user name for basic authentication.
	BasicAuthUsernameKey = "username"
	// BasicAuthPasswordKey holds the password for basic authentication.
	BasicAuthPasswordKey = "password"
	// BearerTokenKey holds the token for bearer authentication, without the
	// "Bearer" scheme.
	BearerTokenKey = "token"
)

// CommonServiceBrokerSpec is what cluster-scoped and namespaced brokers have
// in common.
// +kubebuilder:validation:XValidation:rule="!(has(self.caBundle) && size(self.caBundle) > 0 && has(self.insecureSkipTLSVerify) && self.insecureSkipTLSVerify)",message="caBundle and insecureSkipTLSVerify are mutually exclusive: set caBundle to trust the broker's certificate, or insecureSkipTLSVerify to skip verification, not both"
// +kubebuilder:validation:XValidation:rule="!has(self.relistDuration) || !has(self.relistBehavior) || self.relistBehavior == 'Duration'",message="relistDuration may only be set when relistBehavior is Duration"
// +kubebuilder:validation:XValidation:rule="!has(oldSelf.relistRequests) || (has(self.relistRequests) && self.relistRequests >= oldSelf.relistRequests)",message="relistRequests must not decrease: increment it to request a relist"
type CommonServiceBrokerSpec struct {
	// URL is the address of the broker's OSB API, for example
	// http://my-broker.brokers.svc.cluster.local. Only http and https are
	// allowed.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=2048
	// +kubebuilder:validation:XValidation:rule="isURL(self) && url(self).getScheme() in ['http', 'https'] && size(url(self).getHostname()) > 0",message="url must be an absolute http:// or https:// URL with a host"
	URL string `json:"url"`

	// InsecureSkipTLSVerify disables verification of the broker's TLS
	// certificate. Strongly discouraged: prefer caBundle.
	// +optional
	InsecureSkipTLSVerify bool `json:"insecureSkipTLSVerify,omitempty"`

	// CABundle is a PEM-encoded CA bundle used to verify the broker's serving
	// certificate.
	// +optional
	CABundle []byte `json:"caBundle,omitempty"`

	// RelistBehavior says when the catalog is fetched again: Duration (every
	// relistDuration) or Manual (only when the spec changes, for example when
	// relistRequests is incremented). Defaults to Duration. (v0.3 always
	// wrote this field; we omit it when empty so that the default applies.)
	// +kubebuilder:default=Duration
	// +optional
	RelistBehavior ServiceBrokerRelistBehavior `json:"relistBehavior,omitempty"`

	// RelistDuration is how often the catalog is fetched again when
	// relistBehavior is Duration, as a Go duration such as 15m. Defaults to
	// the controller's setting (15m). Low values put load on the broker.
	// +kubebuilder:validation:XValidation:rule="duration(self) > duration('0s')",message="relistDuration must be greater than zero"
	// +kubebuilder:validation:Type=string
	// +optional
	RelistDuration *metav1.Duration `json:"relistDuration,omitempty"`

	// RelistRequests is a counter that only goes up; incrementing it makes
	// the controller fetch the catalog now (svcat sync broker does this).
	// +kubebuilder:validation:Minimum=0
	// +optional
	RelistRequests int64 `json:"relistRequests"`

	// CatalogRestrictions filters which classes and plans of the broker's
	// catalog become objects in the cluster.
	// +optional
	CatalogRestrictions *CatalogRestrictions `json:"catalogRestrictions,omitempty"`
}

// CatalogRestrictions filters a broker's catalog with label-selector-like
// predicates: "name", "spec.externalName" and "spec.externalID" (and for
// plans also "spec.free", "spec.serviceClass.name",
// "spec.clusterServiceClass.name"), combined with ==, !=, in and notin, for
// example "spec.externalName in (mysql, postgres)".
type CatalogRestrictions struct {
	// ServiceClass lists predicates a class must all satisfy to be kept.
	// +optional
	ServiceClass []string `json:"serviceClass,omitempty"`
	// ServicePlan lists predicates a plan must all satisfy to be kept.
	// +optional
	ServicePlan []string `json:"servicePlan,omitempty"`
}

// ClusterServiceBrokerSpec describes a cluster-scoped broker.
type ClusterServiceBrokerSpec struct {
	CommonServiceBrokerSpec `json:",inline"`

	// AuthInfo says how the controller authenticates to the broker.
	// +optional
	AuthInfo *ClusterServiceBrokerAuthInfo `json:"authInfo,omitempty"`
}

// ServiceBrokerSpec describes a namespaced broker.
type ServiceBrokerSpec struct {
	CommonServiceBrokerSpec `json:",inline"`

	// AuthInfo says how the controller authenticates to the broker.
	// +optional
	AuthInfo *ServiceBrokerAuthInfo `json:"authInfo,omitempty"`
}

// ClusterServiceBrokerAuthInfo holds one authentication method for a
// cluster-scoped broker: basic or bearer.
// +kubebuilder:validation:XValidation:rule="!(has(self.basic) && has(self.bearer))",message="authInfo: use basic or bearer authentication, not both"
type ClusterServiceBrokerAuthInfo struct {
	// Basic authenticates with a user name and password from a Secret
	// (keys "username" and "password").
	// +optional
	Basic *ClusterBasicAuthConfig `json:"basic,omitempty"`
	// Bearer authenticates with a token from a Secret (key "token").
	// +optional
	Bearer *ClusterBearerTokenAuthConfig `json:"bearer,omitempty"`
}

// ClusterBasicAuthConfig points at the Secret holding basic credentials.
type ClusterBasicAuthConfig struct {
	// SecretRef names the Secret (namespace and name) with the keys
	// "username" and "password".
	// +optional
	SecretRef *ObjectReference `json:"secretRef,omitempty"`
}

// ClusterBearerTokenAuthConfig points at the Secret holding a bearer token.
type ClusterBearerTokenAuthConfig struct {
	// SecretRef names the Secret (namespace and name) with the key "token".
	// +optional
	SecretRef *ObjectReference `json:"secretRef,omitempty"`
}

// ServiceBrokerAuthInfo holds one authentication method for a namespaced
// broker: basic or bearer.
// +kubebuilder:validation:XValidation:rule="!(has(self.basic) && has(self.bearer))",message="authInfo: use basic or bearer authentication, not both"
type ServiceBrokerAuthInfo struct {
	// Basic authenticates with a user name and password from a Secret in the
	// broker's namespace (keys "username" and "password").
	// +optional
	Basic *BasicAuthConfig `json:"basic,omitempty"`
	// Bearer authenticates with a token from a Secret in the broker's
	// namespace (key "token").
	// +optional
	Bearer *BearerTokenAuthConfig `json:"bearer,omitempty"`
}

// BasicAuthConfig points at the Secret holding basic credentials.
type BasicAuthConfig struct {
	// SecretRef names the Secret, in the broker's namespace, with the keys
	// "username" and "password".
	// +optional
	SecretRef *LocalObjectReference `json:"secretRef,omitempty"`
}

// BearerTokenAuthConfig points at the Secret holding a bearer token.
type BearerTokenAuthConfig struct {
	// SecretRef names the Secret, in the broker's namespace, with the key
	// "token".
	// +optional
	SecretRef *LocalObjectReference `json:"secretRef,omitempty"`
}

// ServiceBrokerConditionType is the type of a broker condition.
type ServiceBrokerConditionType string

const (
	// ServiceBrokerConditionReady is True when the catalog was fetched and
	// applied.
	ServiceBrokerConditionReady ServiceBrokerConditionType = "Ready"
	// ServiceBrokerConditionFailed is True when the controller gave up.
	ServiceBrokerConditionFailed ServiceBrokerConditionType = "Failed"
)

// ServiceBrokerCondition is one observation about a broker.
type ServiceBrokerCondition struct {
	// Type of the condition: Ready or Failed.
	Type ServiceBrokerConditionType `json:"type"`
	// Status of the condition: True, False or Unknown.
	Status ConditionStatus `json:"status"`
	// LastTransitionTime is when the status last changed.
	LastTransitionTime metav1.Time `json:"lastTransitionTime"`
	// Reason is a CamelCase word that machines can match on.
	Reason string `json:"reason"`
	// Message says what happened and what to do about it.
	Message string `json:"message"`
}

// CommonServiceBrokerStatus is what cluster-scoped and namespaced brokers
// report in common.
type CommonServiceBrokerStatus struct {
	// Conditions are the latest observations: Ready and Failed.
	// +optional
	Conditions []ServiceBrokerCondition `json:"conditions"`

	// ReconciledGeneration is the generation of the spec the controller last
	// processed, whether or not it succeeded.
	// +optional
	ReconciledGeneration int64 `json:"reconciledGeneration"`

	// OperationStartTime is when the current operation began.
	// +optional
	OperationStartTime *metav1.Time `json:"operationStartTime,omitempty"`

	// LastCatalogRetrievalTime is when the catalog was last fetched.
	// +optional
	LastCatalogRetrievalTime *metav1.Time `json:"lastCatalogRetrievalTime,omitempty"`

	// LastConditionState is the type of the last condition if it is True,
	// otherwise its reason; shown by kubectl get.
	// +optional
	LastConditionState string `json:"lastConditionState"`

	// CatalogConflicts lists catalog entries this broker advertised that
	// another broker already owns, so they were not applied (svcat addition).
	// +optional
	CatalogConflicts []CatalogConflict `json:"catalogConflicts,omitempty"`
}

// CatalogConflict records a class or plan ID that two brokers advertise.
type CatalogConflict struct {
	// Kind is the kind of the conflicting object, for example
	// ClusterServiceClass.
	Kind string `json:"kind"`
	// ExternalID is the OSB ID both brokers advertise.
	ExternalID string `json:"externalID"`
	// ExternalName is the name this broker gave the entry.
	// +optional
	ExternalName string `json:"externalName,omitempty"`
	// OwnerBroker is the broker that owns the existing object.
	OwnerBroker string `json:"ownerBroker"`
}

// ClusterServiceBrokerStatus is the status of a cluster-scoped broker.
type ClusterServiceBrokerStatus struct {
	CommonServiceBrokerStatus `json:",inline"`
}

// ServiceBrokerStatus is the status of a namespaced broker.
type ServiceBrokerStatus struct {
	CommonServiceBrokerStatus `json:",inline"`
}

// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Cluster,categories={all,svcat}
// +kubebuilder:printcolumn:name="URL",type=string,JSONPath=`.spec.url`
// +kubebuilder:printcolumn:name="Status",type=string,JSONPath=`.status.lastConditionState`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
// +kubebuilder:metadata:annotations="api-approved.kubernetes.io=unapproved, wire-compatible with the archived Service Catalog v0.3"
// +kubebuilder:metadata:labels="svcat=true"

// ClusterServiceBroker is an Open Service Broker API server whose catalog is
// offered to the whole cluster as ClusterServiceClasses and
// ClusterServicePlans.
type ClusterServiceBroker struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// Spec says where the broker is and how to reach it.
	Spec ClusterServiceBrokerSpec `json:"spec,omitempty"`
	// Status is what the controller observed.
	// +optional
	Status ClusterServiceBrokerStatus `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// ClusterServiceBrokerList is a list of ClusterServiceBrokers.
type ClusterServiceBrokerList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []ClusterServiceBroker `json:"items"`
}

// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Namespaced,categories={all,svcat}
// +kubebuilder:printcolumn:name="URL",type=string,JSONPath=`.spec.url`
// +kubebuilder:printcolumn:name="Status",type=string,JSONPath=`.status.lastConditionState`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
// +kubebuilder:metadata:annotations="api-approved.kubernetes.io=unapproved, wire-compatible with the archived Service Catalog v0.3"
// +kubebuilder:metadata:labels="svcat=true"

// ServiceBroker is an Open Service Broker API server whose catalog is offered
// only in its namespace, as ServiceClasses and ServicePlans.
type ServiceBroker struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// Spec says where the broker is and how to reach it.
	Spec ServiceBrokerSpec `json:"spec,omitempty"`
	// Status is what the controller observed.
	// +optional
	Status ServiceBrokerStatus `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// ServiceBrokerList is a list of ServiceBrokers.
type ServiceBrokerList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []ServiceBroker `json:"items"`
}

func init() {
	SchemeBuilder.Register(&ClusterServiceBroker{}, &ClusterServiceBrokerList{}, &ServiceBroker{}, &ServiceBrokerList{})
}
