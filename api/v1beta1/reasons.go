package v1beta1

// Condition reasons and the Event reasons that go with them. Each constant
// is named for its value, which is what scripts, dashboards and `kubectl
// get` (lastConditionState) read: v0.3's value wherever v0.3 had a reason
// for the situation (pkg/controller/controller_instance.go,
// controller_binding.go and controller_*servicebroker.go of v0.3.1).

// ServiceInstance reasons.
const (
	ReasonProvisionedSuccessfully     = "ProvisionedSuccessfully"
	ReasonProvisioning                = "Provisioning"
	ReasonProvisionCallFailed         = "ProvisionCallFailed"
	ReasonInstanceUpdatedSuccessfully = "InstanceUpdatedSuccessfully"
	ReasonUpdatingInstance            = "UpdatingInstance"
	ReasonUpdateInstanceCallFailed    = "UpdateInstanceCallFailed"
	ReasonDeprovisioning              = "Deprovisioning"
	ReasonDeprovisionedSuccessfully   = "DeprovisionedSuccessfully"
	ReasonDeprovisionCallFailed       = "DeprovisionCallFailed"
	ReasonErrorPollingLastOperation   = "ErrorPollingLastOperation"
	// ReasonDeprovisionBlockedByExistingCredentials: bindings of the
	// instance still exist.
	ReasonDeprovisionBlockedByExistingCredentials = "DeprovisionBlockedByExistingCredentials"
	ReasonStartingInstanceOrphanMitigation        = "StartingInstanceOrphanMitigation"
	ReasonOrphanMitigationSuccessful              = "OrphanMitigationSuccessful"
	ReasonErrorWithParameters                     = "ErrorWithParameters"
	// ReasonInvalidParameters: the parameters do not match the plan's
	// schema (not in v0.3).
	ReasonInvalidParameters = "InvalidParameters"
	// ReasonErrorInvalidPlanSchema: the broker's schema itself is unusable
	// (not in v0.3).
	ReasonErrorInvalidPlanSchema = "ErrorInvalidPlanSchema"
	// ReasonPlanChangeNotAllowed: the class does not allow plan changes
	// (v0.3's webhook refused them).
	ReasonPlanChangeNotAllowed              = "PlanChangeNotAllowed"
	ReasonReferencesNonexistentServiceClass = "ReferencesNonexistentServiceClass"
	ReasonReferencesNonexistentServicePlan  = "ReferencesNonexistentServicePlan"
	ReasonReferencesNonexistentBroker       = "ReferencesNonexistentBroker"
	ReasonReferencesDeletedServiceClass     = "ReferencesDeletedServiceClass"
	ReasonReferencesDeletedServicePlan      = "ReferencesDeletedServicePlan"
)

// ServiceBinding reasons.
const (
	ReasonInjectedBindResult                  = "InjectedBindResult"
	ReasonBinding                             = "Binding"
	ReasonBindCallFailed                      = "BindCallFailed"
	ReasonErrorInstanceNotReady               = "ErrorInstanceNotReady"
	ReasonReferencesNonexistentInstance       = "ReferencesNonexistentInstance"
	ReasonErrorNonbindableServiceClass        = "ErrorNonbindableServiceClass"
	ReasonErrorInjectingBindResult            = "ErrorInjectingBindResult"
	ReasonUnbinding                           = "Unbinding"
	ReasonUnbindCallFailed                    = "UnbindCallFailed"
	ReasonServiceBindingNeedsOrphanMitigation = "ServiceBindingNeedsOrphanMitigation"
	ReasonUnboundSuccessfully                 = "UnboundSuccessfully"
	ReasonFetchingBindingFailed               = "FetchingBindingFailed"
	ReasonErrorEjectingServiceBinding         = "ErrorEjectingServiceBinding"
	ReasonAsyncOperationTimeout               = "AsyncOperationTimeout"
	// ReasonErrorSecretOwnedByAnother: spec.secretName names a Secret the
	// binding does not own (not in v0.3).
	ReasonErrorSecretOwnedByAnother = "ErrorSecretOwnedByAnother"
	// ReasonErrorSecretDeleted: the binding's Secret is gone and the broker
	// cannot hand out the credentials again (not in v0.3).
	ReasonErrorSecretDeleted = "ErrorSecretDeleted"
	// ReasonSecretRestored (an Event): the Secret was fetched again.
	ReasonSecretRestored = "SecretRestored"
)

// Reasons of both instances and bindings.
const (
	// ReasonExternalIDInUse: another live object owns the external ID, so
	// nothing is sent to the broker for this one.
	ReasonExternalIDInUse = "ExternalIDInUse"
	// ReasonAbandoned (an Event): the finalizer was removed on request
	// without a broker call.
	ReasonAbandoned = "Abandoned"
)

// Broker reasons.
const (
	ReasonFetchedCatalog              = "FetchedCatalog"
	ReasonErrorFetchingCatalog        = "ErrorFetchingCatalog"
	ReasonErrorSyncingCatalog         = "ErrorSyncingCatalog"
	ReasonErrorGettingAuthCredentials = "ErrorGettingAuthCredentials"
	// ReasonErrorInvalidCatalogRestrictions: a catalog restriction names
	// an unknown property (not in v0.3).
	ReasonErrorInvalidCatalogRestrictions = "ErrorInvalidCatalogRestrictions"
	// ReasonCatalogConflict (an Event): entries skipped because another
	// broker offers their IDs (not in v0.3).
	ReasonCatalogConflict = "CatalogConflict"
	// ReasonErrorBrokerURLNotAllowed: the URL points at the API server, a
	// link-local or a cloud metadata address (not in v0.3).
	ReasonErrorBrokerURLNotAllowed = "ErrorBrokerURLNotAllowed"
	// Events v0.3 recorded when a broker's deletion was done.
	ReasonDeletedClusterServiceBrokerSuccessfully = "DeletedClusterServiceBrokerSuccessfully"
	ReasonDeletedSuccessfully                     = "DeletedSuccessfully"
)

// Messages that go with the reasons, v0.3's words where v0.3 had them.
// Failure messages start with v0.3's words and go on with the cause.
const (
	MessageProvisionedSuccessfully     = "The instance was provisioned successfully"
	MessageInstanceUpdatedSuccessfully = "The instance was updated successfully"
	MessageDeprovisionedSuccessfully   = "The instance was deprovisioned successfully"
	MessageProvisioning                = "The instance is being provisioned asynchronously"
	MessageUpdatingInstance            = "The instance is being updated asynchronously"
	MessageDeprovisioning              = "The instance is being deprovisioned asynchronously"
	MessageStartingOrphanMitigation    = "The instance provision call failed with an ambiguous error; attempting to deprovision the instance in order to mitigate an orphaned resource"
	MessageOrphanMitigationSuccessful  = "Orphan mitigation was completed successfully"
	MessageInjectedBindResult          = "Injected bind result"
	MessageBinding                     = "The binding is being created asynchronously"
	MessageUnbinding                   = "The binding is being deleted asynchronously"
	MessageUnboundSuccessfully         = "The binding was deleted successfully"
	MessageFetchedCatalog              = "Successfully fetched catalog entries from broker."

	// Prefixes of failure messages; the cause follows.
	MessageErrorProvisioning           = "Error provisioning: "
	MessageErrorUpdating               = "Error updating: "
	MessageErrorDeprovisioning         = "Error deprovisioning: "
	MessageErrorBinding                = "Error binding: "
	MessageErrorUnbinding              = "Error unbinding: "
	MessageErrorPollingLastOperation   = "Error polling last operation: "
	MessageFetchingBindingFailed       = "Could not do a GET on binding resource: "
	MessageErrorFetchingCatalog        = "Error fetching catalog: "
	MessageErrorBuildingParameters     = "Error building the parameters: "
	MessageErrorInjectingBindResult    = "Error injecting the bind result: "
	MessageErrorEjectingServiceBinding = "Error ejecting binding. Error deleting secret: "
)
