package v1beta1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// PlanReference names the class and plan of an instance, in exactly one of
// six forms: by the broker's names, by the broker's IDs, or by Kubernetes
// object names, each for cluster-scoped or namespaced classes. The class and
// the plan use the same form. The plan may be left out when the class has
// exactly one plan.
type PlanReference struct {
	// ClusterServiceClassExternalName is the broker's name of a
	// cluster-scoped class, for example "cloudkarafka".
	// +kubebuilder:validation:MinLength=1
	// +optional
	ClusterServiceClassExternalName string `json:"clusterServiceClassExternalName,omitempty"`
	// ClusterServicePlanExternalName is the broker's name of a plan of that
	// class, for example "duck".
	// +kubebuilder:validation:MinLength=1
	// +optional
	ClusterServicePlanExternalName string `json:"clusterServicePlanExternalName,omitempty"`

	// ClusterServiceClassExternalID is the broker's ID of a cluster-scoped
	// class.
	// +kubebuilder:validation:MinLength=1
	// +optional
	ClusterServiceClassExternalID string `json:"clusterServiceClassExternalID,omitempty"`
	// ClusterServicePlanExternalID is the broker's ID of a plan of that class.
	// +kubebuilder:validation:MinLength=1
	// +optional
	ClusterServicePlanExternalID string `json:"clusterServicePlanExternalID,omitempty"`

	// ClusterServiceClassName is the Kubernetes name of a ClusterServiceClass.
	// +kubebuilder:validation:MinLength=1
	// +optional
	ClusterServiceClassName string `json:"clusterServiceClassName,omitempty"`
	// ClusterServicePlanName is the Kubernetes name of a ClusterServicePlan.
	// +kubebuilder:validation:MinLength=1
	// +optional
	ClusterServicePlanName string `json:"clusterServicePlanName,omitempty"`

	// ServiceClassExternalName is the broker's name of a class in the
	// instance's namespace.
	// +kubebuilder:validation:MinLength=1
	// +optional
	ServiceClassExternalName string `json:"serviceClassExternalName,omitempty"`
	// ServicePlanExternalName is the broker's name of a plan of that class.
	// +kubebuilder:validation:MinLength=1
	// +optional
	ServicePlanExternalName string `json:"servicePlanExternalName,omitempty"`

	// ServiceClassExternalID is the broker's ID of a class in the instance's
	// namespace.
	// +kubebuilder:validation:MinLength=1
	// +optional
	ServiceClassExternalID string `json:"serviceClassExternalID,omitempty"`
	// ServicePlanExternalID is the broker's ID of a plan of that class.
	// +kubebuilder:validation:MinLength=1
	// +optional
	ServicePlanExternalID string `json:"servicePlanExternalID,omitempty"`

	// ServiceClassName is the Kubernetes name of a ServiceClass in the
	// instance's namespace.
	// +kubebuilder:validation:MinLength=1
	// +optional
	ServiceClassName string `json:"serviceClassName,omitempty"`
	// ServicePlanName is the Kubernetes name of a ServicePlan in the
	// instance's namespace.
	// +kubebuilder:validation:MinLength=1
	// +optional
	ServicePlanName string `json:"servicePlanName,omitempty"`
}

// ServiceInstanceSpec describes the instance a user wants.
// +kubebuilder:validation:XValidation:rule="has(self.userProvided) || [has(self.clusterServiceClassExternalName), has(self.clusterServiceClassExternalID), has(self.clusterServiceClassName), has(self.serviceClassExternalName), has(self.serviceClassExternalID), has(self.serviceClassName)].filter(x, x).size() == 1",message="specify exactly one class: clusterServiceClassExternalName, clusterServiceClassExternalID, clusterServiceClassName, serviceClassExternalName, serviceClassExternalID or serviceClassName (or userProvided, for credentials from a Secret without a broker)"
// +kubebuilder:validation:XValidation:rule="!has(self.clusterServicePlanExternalName) || has(self.clusterServiceClassExternalName)",message="clusterServicePlanExternalName must be used with clusterServiceClassExternalName (class and plan in the same form)"
// +kubebuilder:validation:XValidation:rule="!has(self.clusterServicePlanExternalID) || has(self.clusterServiceClassExternalID)",message="clusterServicePlanExternalID must be used with clusterServiceClassExternalID (class and plan in the same form)"
// +kubebuilder:validation:XValidation:rule="!has(self.clusterServicePlanName) || has(self.clusterServiceClassName)",message="clusterServicePlanName must be used with clusterServiceClassName (class and plan in the same form)"
// +kubebuilder:validation:XValidation:rule="!has(self.servicePlanExternalName) || has(self.serviceClassExternalName)",message="servicePlanExternalName must be used with serviceClassExternalName (class and plan in the same form)"
// +kubebuilder:validation:XValidation:rule="!has(self.servicePlanExternalID) || has(self.serviceClassExternalID)",message="servicePlanExternalID must be used with serviceClassExternalID (class and plan in the same form)"
// +kubebuilder:validation:XValidation:rule="!has(self.servicePlanName) || has(self.serviceClassName)",message="servicePlanName must be used with serviceClassName (class and plan in the same form)"
// +kubebuilder:validation:XValidation:rule="!has(oldSelf.externalID) || size(oldSelf.externalID) == 0 || (has(self.externalID) && self.externalID == oldSelf.externalID)",message="externalID is immutable once set"
// +kubebuilder:validation:XValidation:rule="!has(oldSelf.updateRequests) || (has(self.updateRequests) && self.updateRequests >= oldSelf.updateRequests)",message="updateRequests must not decrease: increment it to request an update"
// +kubebuilder:validation:XValidation:rule="!has(self.userProvided) || ![has(self.clusterServiceClassExternalName), has(self.clusterServiceClassExternalID), has(self.clusterServiceClassName), has(self.serviceClassExternalName), has(self.serviceClassExternalID), has(self.serviceClassName), has(self.clusterServicePlanExternalName), has(self.clusterServicePlanExternalID), has(self.clusterServicePlanName), has(self.servicePlanExternalName), has(self.servicePlanExternalID), has(self.servicePlanName), has(self.clusterServiceClassRef), has(self.clusterServicePlanRef), has(self.serviceClassRef), has(self.servicePlanRef), has(self.parametersFrom), has(self.maintenanceInfoVersion), has(self.maintenanceUpgradePolicy), has(self.sharedWith)].exists(x, x)",message="userProvided excludes every class and plan field (clusterServiceClass*, clusterServicePlan*, serviceClass*, servicePlan* and their Refs), parametersFrom, maintenanceInfoVersion, maintenanceUpgradePolicy and sharedWith: a user-provided instance has no broker and is not shared; remove them, or remove userProvided"
// +kubebuilder:validation:XValidation:rule="has(self.userProvided) == has(oldSelf.userProvided)",message="userProvided cannot be added to or removed from an existing instance: create a new ServiceInstance instead"
type ServiceInstanceSpec struct {
	PlanReference `json:",inline"`

	// ClusterServiceClassRef is set by the controller to the
	// ClusterServiceClass the plan reference resolved to.
	// +optional
	ClusterServiceClassRef *ClusterObjectReference `json:"clusterServiceClassRef,omitempty"`
	// ClusterServicePlanRef is set by the controller to the
	// ClusterServicePlan the plan reference resolved to.
	// +optional
	ClusterServicePlanRef *ClusterObjectReference `json:"clusterServicePlanRef,omitempty"`
	// ServiceClassRef is set by the controller to the ServiceClass the plan
	// reference resolved to.
	// +optional
	ServiceClassRef *LocalObjectReference `json:"serviceClassRef,omitempty"`
	// ServicePlanRef is set by the controller to the ServicePlan the plan
	// reference resolved to.
	// +optional
	ServicePlanRef *LocalObjectReference `json:"servicePlanRef,omitempty"`

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

	// ExternalID is the instance's ID in the OSB API. The controller sets a
	// UUID when it is empty; once set it cannot change.
	// +optional
	ExternalID string `json:"externalID"`

	// UserInfo is the user who last changed the spec, sent to the broker as
	// the originating identity.
	// +optional
	UserInfo *UserInfo `json:"userInfo,omitempty"`

	// UpdateRequests is a counter that only goes up; incrementing it makes
	// the controller send an update to the broker (svcat touch instance).
	// +kubebuilder:validation:Minimum=0
	// +optional
	UpdateRequests int64 `json:"updateRequests"`

	// MaintenanceInfoVersion asks for an upgrade to this maintenance_info
	// version of the plan (svcat upgrade instance sets it). It is sent
	// only while it is the plan's current version (svcat addition).
	// +kubebuilder:validation:MaxLength=256
	// +optional
	MaintenanceInfoVersion string `json:"maintenanceInfoVersion,omitempty"`

	// MaintenanceUpgradePolicy is Manual (the default: an available
	// upgrade is only reported) or Automatic (the plan's current
	// maintenance_info version is sent as soon as the catalog has it)
	// (svcat addition).
	// +kubebuilder:validation:Enum="";Manual;Automatic
	// +optional
	MaintenanceUpgradePolicy MaintenanceUpgradePolicy `json:"maintenanceUpgradePolicy,omitempty"`

	// UserProvided makes this a user-provided instance: no class, plan or
	// broker; its credentials are the data of a Secret in the instance's
	// own namespace, copied into the Secret of each of its bindings
	// (svcat addition, after Cloud Foundry's user-provided services).
	// +optional
	UserProvided *UserProvidedCredentials `json:"userProvided,omitempty"`

	// SharedWith lists the namespaces whose ServiceBindings may bind to
	// this instance (instanceRef.namespace). Only whoever may update the
	// instance can change it; only services whose catalog metadata says
	// "shareable": true are shared (svcat addition).
	// +kubebuilder:validation:MaxItems=64
	// +listType=map
	// +listMapKey=namespace
	// +optional
	SharedWith []SharedNamespace `json:"sharedWith,omitempty"`
}

// UserProvidedCredentials says where a user-provided instance's
// credentials come from.
type UserProvidedCredentials struct {
	// SecretRef names a Secret in the instance's namespace; each of its
	// keys becomes a credential. There is no namespace field: the
	// controller reads the Secret with its own rights, so a tenant may
	// only name Secrets of their own namespace.
	SecretRef UserProvidedSecretReference `json:"secretRef"`
}

// UserProvidedSecretReference names a Secret in the instance's namespace.
type UserProvidedSecretReference struct {
	// Name of the Secret.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name"`
}

// SharedNamespace is one namespace an instance is shared with.
type SharedNamespace struct {
	// Namespace whose bindings may bind to the instance: a DNS-1123 label,
	// not the instance's own namespace.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
	Namespace string `json:"namespace"`
}

// ShareState says whether an instance is shared with a namespace.
// +kubebuilder:validation:Enum=Shared;Refused
type ShareState string

const (
	// ShareStateShared: bindings in the namespace may bind to the instance.
	ShareStateShared ShareState = "Shared"
	// ShareStateRefused: the share is listed but not in effect (the service
	// is not shareable, or it is the instance's own namespace).
	ShareStateRefused ShareState = "Refused"
)

// SharedNamespaceStatus is the state of one share of an instance.
type SharedNamespaceStatus struct {
	// Namespace the instance is listed as shared with.
	Namespace string `json:"namespace"`
	// State is Shared or Refused.
	State ShareState `json:"state"`
	// Reason is a CamelCase word for a refusal.
	// +optional
	Reason string `json:"reason,omitempty"`
	// Message says why a share is refused and what to do.
	// +optional
	Message string `json:"message,omitempty"`
}

// MaintenanceUpgradePolicy says whether maintenance upgrades are sent
// without being asked for.
type MaintenanceUpgradePolicy string

const (
	// MaintenanceUpgradeManual reports an available upgrade and waits for
	// spec.maintenanceInfoVersion.
	MaintenanceUpgradeManual MaintenanceUpgradePolicy = "Manual"
	// MaintenanceUpgradeAutomatic sends each new version of the plan.
	MaintenanceUpgradeAutomatic MaintenanceUpgradePolicy = "Automatic"
)

// ServiceInstanceConditionType is the type of an instance condition.
type ServiceInstanceConditionType string

const (
	// ServiceInstanceConditionReady is True when the instance is provisioned
	// and usable.
	ServiceInstanceConditionReady ServiceInstanceConditionType = "Ready"
	// ServiceInstanceConditionFailed is True when the last operation failed
	// for good.
	ServiceInstanceConditionFailed ServiceInstanceConditionType = "Failed"
	// ServiceInstanceConditionOrphanMitigation is True while the controller
	// deletes what a failed provision may have left at the broker.
	ServiceInstanceConditionOrphanMitigation ServiceInstanceConditionType = "OrphanMitigation"
	// ServiceInstanceConditionShareRefused is True while a namespace in
	// spec.sharedWith cannot be shared with (svcat addition).
	ServiceInstanceConditionShareRefused ServiceInstanceConditionType = "ShareRefused"
	// ServiceInstanceConditionUpgradeAvailable is True when the plan's
	// maintenance_info version differs from the one the instance was
	// provisioned or last upgraded with (svcat addition).
	ServiceInstanceConditionUpgradeAvailable ServiceInstanceConditionType = "UpgradeAvailable"
	// ServiceInstanceConditionParameterSecretsWatched is False while some
	// Secrets named in spec.parametersFrom have no watch, because the
	// instance's namespace or the controller holds the most watches
	// allowed (svcat addition); absent otherwise.
	ServiceInstanceConditionParameterSecretsWatched ServiceInstanceConditionType = "ParameterSecretsWatched"
)

// ServiceInstanceCondition is one observation about an instance.
type ServiceInstanceCondition struct {
	// Type of the condition: Ready, Failed or OrphanMitigation.
	Type ServiceInstanceConditionType `json:"type"`
	// Status of the condition: True, False or Unknown.
	Status ConditionStatus `json:"status"`
	// LastTransitionTime is when the status last changed.
	LastTransitionTime metav1.Time `json:"lastTransitionTime"`
	// Reason is a CamelCase word that machines can match on.
	Reason string `json:"reason"`
	// Message says what happened and what to do about it.
	Message string `json:"message"`
}

// ServiceInstanceOperation is an operation the controller runs on an
// instance.
// +kubebuilder:validation:Enum="";Provision;Update;Deprovision
type ServiceInstanceOperation string

const (
	// ServiceInstanceOperationProvision creates the instance at the broker.
	ServiceInstanceOperationProvision ServiceInstanceOperation = "Provision"
	// ServiceInstanceOperationUpdate changes its plan or parameters.
	ServiceInstanceOperationUpdate ServiceInstanceOperation = "Update"
	// ServiceInstanceOperationDeprovision deletes it at the broker.
	ServiceInstanceOperationDeprovision ServiceInstanceOperation = "Deprovision"
)

// ServiceInstanceProvisionStatus says whether the broker holds the instance.
// +kubebuilder:validation:Enum="";Provisioned;NotProvisioned
type ServiceInstanceProvisionStatus string

const (
	// ServiceInstanceProvisionStatusProvisioned means the broker provisioned
	// the instance.
	ServiceInstanceProvisionStatusProvisioned ServiceInstanceProvisionStatus = "Provisioned"
	// ServiceInstanceProvisionStatusNotProvisioned means it did not, or not
	// yet.
	ServiceInstanceProvisionStatusNotProvisioned ServiceInstanceProvisionStatus = "NotProvisioned"
)

// ServiceInstanceDeprovisionStatus says whether the broker must be asked to
// deprovision the instance before it is deleted.
// +kubebuilder:validation:Enum="";NotRequired;Required;Succeeded;Failed
type ServiceInstanceDeprovisionStatus string

const (
	// ServiceInstanceDeprovisionStatusNotRequired means the broker holds
	// nothing for this instance.
	ServiceInstanceDeprovisionStatusNotRequired ServiceInstanceDeprovisionStatus = "NotRequired"
	// ServiceInstanceDeprovisionStatusRequired means the broker may hold the
	// instance and must be asked to delete it.
	ServiceInstanceDeprovisionStatusRequired ServiceInstanceDeprovisionStatus = "Required"
	// ServiceInstanceDeprovisionStatusSucceeded means the broker deleted it.
	ServiceInstanceDeprovisionStatusSucceeded ServiceInstanceDeprovisionStatus = "Succeeded"
	// ServiceInstanceDeprovisionStatusFailed means the controller gave up.
	ServiceInstanceDeprovisionStatusFailed ServiceInstanceDeprovisionStatus = "Failed"
)

// ServiceInstancePropertiesState is what was (or is being) sent to the
// broker for an instance.
type ServiceInstancePropertiesState struct {
	// ClusterServicePlanExternalName is the broker's name of the plan.
	// +optional
	ClusterServicePlanExternalName string `json:"clusterServicePlanExternalName"`
	// ClusterServicePlanExternalID is the broker's ID of the plan.
	// +optional
	ClusterServicePlanExternalID string `json:"clusterServicePlanExternalID"`
	// ServicePlanExternalName is the broker's name of a namespaced plan.
	// +optional
	ServicePlanExternalName string `json:"servicePlanExternalName,omitempty"`
	// ServicePlanExternalID is the broker's ID of a namespaced plan.
	// +optional
	ServicePlanExternalID string `json:"servicePlanExternalID,omitempty"`
	// Parameters sent, with values that came from Secrets shown as
	// "<redacted>".
	// +kubebuilder:pruning:PreserveUnknownFields
	// +kubebuilder:validation:Schemaless
	// +optional
	Parameters *runtime.RawExtension `json:"parameters,omitempty"`
	// ParameterChecksum is the SHA-256 (hex) of the parameters sent,
	// including secret values, so changes are detected without storing them.
	// +optional
	ParameterChecksum string `json:"parameterChecksum,omitempty"`
	// UserInfo is the user whose change was sent.
	// +optional
	UserInfo *UserInfo `json:"userInfo,omitempty"`
	// MaintenanceInfoVersion is the plan's maintenance_info version the
	// instance was provisioned or last upgraded with; empty when the plan
	// had none or the instance predates svcat recording it (svcat
	// addition).
	// +optional
	MaintenanceInfoVersion string `json:"maintenanceInfoVersion,omitempty"`
}

// ServiceInstanceStatus is what the controller observed of an instance.
type ServiceInstanceStatus struct {
	// Conditions are the latest observations: Ready, Failed,
	// OrphanMitigation.
	// +optional
	Conditions []ServiceInstanceCondition `json:"conditions"`

	// AsyncOpInProgress is true while the broker works on an asynchronous
	// operation that the controller polls.
	// +optional
	AsyncOpInProgress bool `json:"asyncOpInProgress"`

	// OrphanMitigationInProgress is true while the controller deletes what a
	// failed provision may have left at the broker.
	// +optional
	OrphanMitigationInProgress bool `json:"orphanMitigationInProgress"`

	// LastOperation is the broker's key for the asynchronous operation in
	// progress, echoed when polling.
	// +optional
	LastOperation *string `json:"lastOperation,omitempty"`

	// DashboardURL is the broker's dashboard for this instance.
	// +optional
	DashboardURL *string `json:"dashboardURL,omitempty"`

	// CurrentOperation is the operation in progress: Provision, Update or
	// Deprovision.
	// +optional
	CurrentOperation ServiceInstanceOperation `json:"currentOperation,omitempty"`

	// ReconciledGeneration is deprecated; see observedGeneration.
	// +optional
	ReconciledGeneration int64 `json:"reconciledGeneration"`

	// ObservedGeneration is the generation of the spec the controller last
	// acted on.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration"`

	// OperationStartTime is when the current operation began.
	// +optional
	OperationStartTime *metav1.Time `json:"operationStartTime,omitempty"`

	// InProgressProperties is what is being sent to the broker by the
	// current operation.
	// +optional
	InProgressProperties *ServiceInstancePropertiesState `json:"inProgressProperties,omitempty"`

	// ExternalProperties is what the broker last accepted.
	// +optional
	ExternalProperties *ServiceInstancePropertiesState `json:"externalProperties,omitempty"`

	// ProvisionStatus says whether the broker provisioned the instance.
	// +optional
	ProvisionStatus ServiceInstanceProvisionStatus `json:"provisionStatus"`

	// DeprovisionStatus says whether the broker must be asked to deprovision
	// before the object goes away.
	// +optional
	DeprovisionStatus ServiceInstanceDeprovisionStatus `json:"deprovisionStatus"`

	// DefaultProvisionParameters are the class and plan defaults that were
	// merged into the parameters.
	// +kubebuilder:pruning:PreserveUnknownFields
	// +kubebuilder:validation:Schemaless
	// +optional
	DefaultProvisionParameters *runtime.RawExtension `json:"defaultProvisionParameters,omitempty"`

	// LastConditionState is the type of the last condition if it is True,
	// otherwise its reason; shown by kubectl get.
	// +optional
	LastConditionState string `json:"lastConditionState"`

	// UserSpecifiedPlanName is the plan as the user named it.
	// +optional
	UserSpecifiedPlanName string `json:"userSpecifiedPlanName"`

	// UserSpecifiedClassName is the class as the user named it, prefixed
	// with its kind, for example "ClusterServiceClass/cloudkarafka".
	// +optional
	UserSpecifiedClassName string `json:"userSpecifiedClassName"`

	// MaintenanceInfoConflict is the plan's maintenance_info version the
	// broker refused with 422 MaintenanceInfoConflict; the upgrade is not
	// sent again until the catalog's version differs (svcat addition).
	// +optional
	MaintenanceInfoConflict string `json:"maintenanceInfoConflict,omitempty"`

	// UserProvidedChecksum is the SHA-256 (hex) of a user-provided
	// instance's Secret data as last read; its change is what brings the
	// instance's bindings to copy the new credentials (svcat addition).
	// +optional
	UserProvidedChecksum string `json:"userProvidedChecksum,omitempty"`

	// SharedWith is the state of each namespace spec.sharedWith lists
	// (svcat addition).
	// +listType=atomic
	// +optional
	SharedWith []SharedNamespaceStatus `json:"sharedWith,omitempty"`

	// LastFailedUpdate is what the last update the broker refused for good
	// carried. The same request is not sent again (a resync or a Secret
	// event that changes nothing would only be refused again); a different
	// plan, parameters or maintenance version, or a spec change, is
	// (svcat addition).
	// +optional
	LastFailedUpdate *ServiceInstanceFailedUpdate `json:"lastFailedUpdate,omitempty"`
}

// ServiceInstanceFailedUpdate identifies a refused update request by what
// decides its answer; the parameters themselves are in the checksum only.
type ServiceInstanceFailedUpdate struct {
	// PlanExternalID is the plan the update asked for.
	PlanExternalID string `json:"planExternalID"`
	// ParameterChecksum is the checksum of the parameters it carried,
	// values from parametersFrom Secrets included.
	// +optional
	ParameterChecksum string `json:"parameterChecksum,omitempty"`
	// MaintenanceInfoVersion is the maintenance version the instance
	// would have had once the update was accepted.
	// +optional
	MaintenanceInfoVersion string `json:"maintenanceInfoVersion,omitempty"`
	// Generation is the instance's generation the update was sent for.
	Generation int64 `json:"generation"`
}

// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Namespaced,categories={all,svcat}
// +kubebuilder:printcolumn:name="Class",type=string,JSONPath=`.status.userSpecifiedClassName`
// +kubebuilder:printcolumn:name="Plan",type=string,JSONPath=`.status.userSpecifiedPlanName`
// +kubebuilder:printcolumn:name="Status",type=string,JSONPath=`.status.lastConditionState`
// +kubebuilder:printcolumn:name="User-Provided",type=string,JSONPath=`.spec.userProvided.secretRef.name`,description="The Secret a user-provided instance's credentials come from; empty for brokered instances (svcat addition)"
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
// +kubebuilder:metadata:annotations="api-approved.kubernetes.io=unapproved, wire-compatible with the archived Service Catalog v0.3"
// +kubebuilder:metadata:labels="svcat=true"

// ServiceInstance is a provisioned instance of a service class and plan,
// such as a Kafka tenant. The controller provisions, updates and
// deprovisions it at the broker.
type ServiceInstance struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// Spec is the instance the user wants.
	Spec ServiceInstanceSpec `json:"spec,omitempty"`
	// Status is what the controller observed.
	// +optional
	Status ServiceInstanceStatus `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// ServiceInstanceList is a list of ServiceInstances.
type ServiceInstanceList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []ServiceInstance `json:"items"`
}

func init() {
	SchemeBuilder.Register(&ServiceInstance{}, &ServiceInstanceList{})
}
