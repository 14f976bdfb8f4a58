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
	// ReasonMaintenanceUpgradeAvailable: the plan's maintenance_info
	// version differs from the instance's (not in v0.3).
	ReasonMaintenanceUpgradeAvailable = "MaintenanceUpgradeAvailable"
	// ReasonMaintenanceInfoConflict: the broker refused the maintenance_info
	// version sent with 422 MaintenanceInfoConflict (not in v0.3).
	ReasonMaintenanceInfoConflict = "MaintenanceInfoConflict"
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

// Messages whose cause or names follow (a prefix) or are filled in
// (Format, for fmt.Sprintf). Their words are part of what users and
// scripts see.
const (
	MessageReferencesDeletedFormat                    = "The %s was removed from the broker's catalog; nothing new can be provisioned from it"
	MessagePlanChangeNotAllowedFormat                 = "The plan cannot be changed to %q: the class %q does not allow plan changes (planUpdatable is false); set the plan back to %q"
	MessagePlanRemoved                                = "The plan was removed from the broker's catalog; the instance cannot move to it"
	MessageDeprovisionBlockedFormat                   = "The instance has %d binding(s), for example %q; delete them first"
	MessageBrokerFailedToProvision                    = "The broker failed to provision the instance: "
	MessageBrokerFailedToUpdate                       = "The broker failed to update the instance: "
	MessageBrokerFailedToDeprovision                  = "The broker failed to deprovision the instance: "
	MessageReferencesNonexistentServiceClassFormat    = "The instance references a %s with %s %q that %s"
	MessageReferencesNonexistentServicePlanFormat     = "The instance references a %s with %s %q of class %q that %s; the class has: %s"
	MessageNoDefaultPlanFormat                        = "no plan was given and %s %q has %d plans, so none can be chosen by default; set a plan, one of: %s"
	MessageReferencesNonexistentClusterBrokerFormat   = "the ClusterServiceBroker %q of the class does not exist"
	MessageReferencesNonexistentBrokerFormat          = "the ServiceBroker %q of the class does not exist"
	MessageInstanceAbandonedFormat                    = "The finalizer was removed on request (%s) without deprovisioning: the broker may still hold instance %s"
	MessageInstanceDeletedWithoutDeprovisioningFormat = "Deleted without deprovisioning: spec.externalID %q belongs to another ServiceInstance, whose instance at the broker is left alone"
	MessageReferencesNonexistentInstanceFormat        = "The binding references a ServiceInstance %q that does not exist"
	MessageInstanceClassOrPlanNotFound                = "The instance's class or plan cannot be found: "
	MessageInstanceBeingDeletedFormat                 = "The instance %q is being deleted"
	MessageWaitingForInstanceFormat                   = "Waiting for the instance %q to be Ready"
	MessageNonbindableFormat                          = "The plan %q of class %q is not bindable"
	MessageSecretOwnedByAnotherFormat                 = "the Secret %q already exists and does not belong to this binding; delete it or choose another spec.secretName"
	MessageErrorWritingSecret                         = "Error writing the Secret: "
	MessageSecretDeletedFormat                        = "The Secret %q with the credentials was deleted and the broker cannot hand them out again (bindings_retrievable is false); delete and recreate the binding for new credentials"
	MessageSecretDeletedFetchFailed                   = "The Secret was deleted; fetching the credentials again failed: "
	MessageSecretRestoredFormat                       = "The Secret %q was deleted and has been restored from the broker"
	MessageBrokerFailedToBind                         = "The broker failed to create the binding: "
	MessageBrokerFailedToUnbind                       = "The broker failed to delete the binding: "
	MessageServiceBindingNeedsOrphanMitigationSuffix  = "; unbinding at the broker before going on"
	MessageBindingAbandonedFormat                     = "The finalizer was removed on request (%s) without unbinding: the broker may still hold binding %s"
	MessageBindingDeletedWithoutUnbindingFormat       = "Deleted without unbinding: spec.externalID %q belongs to another ServiceBinding, whose binding at the broker is left alone"
	MessageErrorGettingAuthCredentials                = "Error getting broker auth credentials: "
	MessageInvalidCatalog                             = "The broker's catalog is invalid: "
	// The plan's schema cannot be used (the schema named, then the problem).
	MessageErrorInvalidPlanSchemaFormat = "The plan's parameter %s from the broker is unusable, so nothing was sent to the broker; the broker's catalog must be fixed: %v"
	// The parameters do not match the schema (the schema named, then the
	// violations).
	MessageInvalidParametersFormat = "The parameters do not match the plan's %s, so nothing was sent to the broker: %v"
	// ExternalIDInUse names neither the other object nor its namespace:
	// that would tell a tenant where the ID they tried lives. Filled with
	// the ID and the kind three times.
	MessageExternalIDInUseFormat = "spec.externalID %q is already used by another %s in the cluster, so nothing was sent to the broker: " +
		"an external ID names one object at the broker and belongs to the first %s that uses it. " +
		"Delete this %s and create it again without spec.externalID (the controller then generates a new ID)"
	// A deletion whose class, plan or broker cannot be found.
	MessageCannotDeprovisionFormat = "Cannot deprovision: %s; to delete the object without deprovisioning, run svcat deprovision --abandon"
	MessageErrorSyncingCatalog     = "Error syncing catalog from broker: "
	// An upgrade is available: the plan's version, the instance's, the
	// broker's description of the new one, and the instance's name.
	MessageMaintenanceUpgradeAvailableFormat = "Maintenance version %s is available (the instance has %s): %s. Run svcat upgrade instance %s to upgrade"
	// The broker refused the version: the version, the broker's words.
	MessageMaintenanceInfoConflictFormat = "The broker refused maintenance version %s (422 MaintenanceInfoConflict: %s); the instance keeps its version and the upgrade is sent again once the broker's catalog changes"
)

// Credential rotation reasons and messages (not in v0.3). The binding
// stays Ready through a rotation; these are on its Rotation condition and
// in Events.
const (
	// ReasonRotatingCredentials: a rotation's bind is being sent.
	ReasonRotatingCredentials = "RotatingCredentials"
	// ReasonCredentialsRotated: new credentials are in the Secret.
	ReasonCredentialsRotated = "CredentialsRotated"
	// ReasonRotationFailed: the rotation's bind failed and is retried.
	ReasonRotationFailed = "RotationFailed"
	// ReasonRotationRefused: the broker refused the rotation (4xx); it is
	// not sent again until a new request or the next scheduled rotation.
	ReasonRotationRefused = "RotationRefused"
	// ReasonRotationRequestInvalid: the rotation-request annotation is not
	// usable.
	ReasonRotationRequestInvalid = "RotationRequestInvalid"
	// ReasonOldCredentialsUnbound (an Event): an old binding's grace
	// period ended and the broker deleted it.
	ReasonOldCredentialsUnbound = "OldCredentialsUnbound"
	// ReasonUnbindOldCredentialsFailed (an Event): unbinding an old
	// binding failed; it is tried again.
	ReasonUnbindOldCredentialsFailed = "UnbindOldCredentialsFailed"

	// The trigger, then the new binding's ID.
	MessageRotatingCredentialsFormat = "Rotating the credentials (%s): binding %s is being created at the broker"
	// The new binding's ID, the Secret's name, the old binding's ID and
	// when it is unbound.
	MessageCredentialsRotatedFormat = "New credentials (binding %s) are in the Secret %q; the old binding %s is unbound after %s"
	// The cause follows.
	MessageRotationFailed  = "Rotating the credentials failed and is tried again; the Secret keeps the old credentials: "
	MessageRotationRefused = "The broker refused to rotate the credentials; the Secret keeps the old credentials: "
	// After MessageRotationFailed and the broker's 400 to a bind that
	// named a predecessor.
	MessageRotationFreshBindSuffix = "; sending it again without predecessor_binding_id"
	// The annotation, the value's length, the bound.
	MessageRotationRequestTooLongFormat = "The annotation %s is %d bytes long; at most %d are allowed, so it was not honoured"
	// The old binding's ID.
	MessageOldCredentialsUnboundFormat = "The old binding %s was unbound at the broker after its grace period"
	// The old binding's ID, then the cause.
	MessageUnbindOldCredentialsFailedFormat = "Unbinding the old binding %s failed and is tried again: %s"
)

// Watches of parametersFrom Secrets (internal/controller/paramwatch).
const (
	// ReasonParameterSecretsNotWatched: a limit leaves some Secrets named
	// in spec.parametersFrom without a watch, so their changes reach the
	// broker only at the instance's next reconcile (not in v0.3, which
	// watched none).
	ReasonParameterSecretsNotWatched = "ParameterSecretsNotWatched"
	// Filled with the number of unwatched Secrets, their names, the limit
	// (one of the two formats below) and the instance's name.
	MessageParameterSecretsNotWatchedFormat = "%d Secret(s) named in spec.parametersFrom are not watched (%s): %s. " +
		"A change of theirs reaches the broker only at the instance's next reconcile (a change of its spec, or the controller's periodic resync); " +
		"run svcat touch instance %s to send their current values now"
	// The namespace's limit: the namespace, the limit, its flag.
	MessageParameterSecretsNamespaceLimitFormat = "namespace %q already has %d parameter Secrets watched, the most one namespace may have (the controller's --%s)"
	// The controller's limit: the limit, its flag, the namespace, its
	// watches.
	MessageParameterSecretsTotalLimitFormat = "the controller already watches %d parameter Secrets, the most it may (its --%s); namespace %q has %d of them, and no namespace has more than one more"
)

// User-provided instances and their bindings (svcat addition): reasons and
// messages. Messages name the Secret and the namespace, never a value.
const (
	// ReasonUserProvidedSecretFound: the instance's Secret exists and its
	// credentials are copied to the bindings.
	ReasonUserProvidedSecretFound = "UserProvidedSecretFound"
	// ReasonUserProvidedSecretNotFound: spec.userProvided.secretRef names a
	// Secret that does not exist in the instance's namespace.
	ReasonUserProvidedSecretNotFound = "UserProvidedSecretNotFound"
	// ReasonUserProvidedSecretTooLarge: the Secret holds more than a
	// user-provided instance takes.
	ReasonUserProvidedSecretTooLarge = "UserProvidedSecretTooLarge"
	// ReasonUserProvidedSecretUnreadable: reading the Secret failed.
	ReasonUserProvidedSecretUnreadable = "UserProvidedSecretUnreadable"
	// ReasonUserProvidedParameters: a user-provided instance, or a binding
	// to one, has parameters, which no broker would receive.
	ReasonUserProvidedParameters = "UserProvidedParameters"
	// ReasonUserProvidedCredentialsCopied (an Event on a binding): the
	// instance's changed credentials were copied into the binding's Secret.
	ReasonUserProvidedCredentialsCopied = "UserProvidedCredentialsCopied"

	// Filled with the Secret's name.
	MessageUserProvidedSecretFoundFormat = "The credentials come from the Secret %q"
	// Filled with the Secret's name and the instance's namespace.
	MessageUserProvidedSecretNotFoundFormat = "The Secret %q named in spec.userProvided.secretRef does not exist in namespace %q; create it there (a user-provided instance reads Secrets of its own namespace only)"
	// Filled with the Secret's name, its size and the limit.
	MessageUserProvidedSecretTooLargeFormat = "The Secret %q holds %d bytes of keys and values, more than the %d bytes a user-provided instance takes (each binding's Secret holds a copy, with room for its transforms); split the credentials or shorten them"
	// Filled with the Secret's name; the API server's error follows.
	MessageUserProvidedSecretUnreadableFormat = "Cannot read the Secret %q: "
	MessageUserProvidedInstanceParameters     = "spec.parameters is set, but a user-provided instance has no broker to send parameters to; remove spec.parameters"
	MessageUserProvidedBindingParameters      = "spec.parameters and spec.parametersFrom are set, but a binding to a user-provided instance has no broker to send them to; create the binding without them (secretTransforms can add keys)"
	// Filled with the instance's and the binding Secret's names.
	MessageUserProvidedCredentialsCopiedFormat = "The credentials of user-provided instance %q changed and were copied into the Secret %q"
)

// Sharing an instance across namespaces (svcat addition).
const (
	// ReasonInstanceNotShared: a binding names an instance of another
	// namespace that does not exist or is not shared with the binding's
	// namespace; the two read the same, so a binding tells its namespace
	// nothing about instances not shared with it.
	ReasonInstanceNotShared = "InstanceNotShared"
	// ReasonServiceNotShareable: spec.sharedWith lists namespaces, but the
	// service's catalog metadata does not say "shareable": true.
	ReasonServiceNotShareable = "ServiceNotShareable"
	// ReasonSharedWithOwnNamespace: spec.sharedWith lists the instance's
	// own namespace.
	ReasonSharedWithOwnNamespace = "SharedWithOwnNamespace"
	// ReasonUnboundUnshared: a binding of a namespace the instance is no
	// longer shared with was unbound, and its Secret removed.
	ReasonUnboundUnshared = "UnboundUnshared"
	// ReasonShareMarkerLeft: a deleted instance's marker could not be
	// removed from a namespace it was shared with (an event).
	ReasonShareMarkerLeft = "ShareMarkerLeft"

	// The instance's name, its namespace, the binding's namespace.
	MessageInstanceNotSharedFormat = "The binding references ServiceInstance %q in namespace %q, which does not exist or is not shared with namespace %q; " +
		"its owner can share it by adding this namespace to the instance's spec.sharedWith (svcat share instance)"
	// The class's name, the namespaces refused.
	MessageServiceNotShareableFormat = "spec.sharedWith lists %s, but the service %q is not shareable (its catalog metadata does not say \"shareable\": true), so the instance is shared with no namespace"
	// The namespace.
	MessageSharedWithOwnNamespaceFormat = "spec.sharedWith lists %q, the instance's own namespace; bindings there need no share, remove it from the list"
	// The binding's namespace and name, the instance's namespace and name.
	// The namespaces, the marker label.
	MessageShareMarkerLeftFormat = "The marker ConfigMap that lists this instance could not be removed from %s (label %s); it names the instance only, and binding to it is refused"
	MessageUnboundUnsharedFormat = "Unbound the binding %s/%s and removed its Secret: the instance %s/%s is no longer shared with its namespace"
)
