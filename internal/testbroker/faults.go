package testbroker

// Fault makes the broker break one rule of the OSB spec, so that a
// conformance checker can be shown to notice. Each fault breaks exactly one
// rule and leaves every other answer correct.
type Fault string

const (
	FaultAcceptMissingAuth       Fault = "accept-missing-auth"         // no credentials → 200
	FaultAcceptWrongAuth         Fault = "accept-wrong-auth"           // wrong credentials → 200
	FaultNoWWWAuthenticate       Fault = "no-www-authenticate"         // 401 without WWW-Authenticate
	FaultRejectOriginating       Fault = "reject-originating-identity" // Originating-Identity header → 400
	FaultAsyncWithoutIncomplete  Fault = "async-without-incomplete"    // provision without accepts_incomplete → 202
	FaultProvisionNewOK          Fault = "provision-new-ok"            // a new instance → 200, not 201
	FaultProvisionIdentical409   Fault = "provision-identical-409"     // identical repeat → 409
	FaultInProgressRepeat409     Fault = "in-progress-repeat-409"      // a repeated provision while in progress → 409
	FaultProvisionConflictOK     Fault = "provision-conflict-ok"       // conflicting repeat → 200
	FaultMalformed422            Fault = "malformed-422"               // invalid JSON → 422
	FaultNonObject422            Fault = "non-object-422"              // a JSON non-object → 422
	FaultAcceptMissingPlanID     Fault = "accept-missing-plan-id"      // provision without plan_id → 201, nothing made
	FaultAcceptEmptyServiceID    Fault = "accept-empty-service-id"     // provision with service_id "" → 201, nothing made
	FaultAcceptEmptyContext      Fault = "accept-empty-context"        // empty context fields accepted
	FaultUnknownService404       Fault = "unknown-service-404"         // unknown service_id on provision → 404
	FaultUnknownPlan422          Fault = "unknown-plan-422"            // unknown plan_id on provision → 422
	FaultLastOperationUnknown410 Fault = "last-operation-unknown-410"  // last_operation of a never-existing instance → 410
	FaultBindingLastOpUnknown410 Fault = "binding-last-op-unknown-410" // binding last_operation of a never-existing binding → 410
	FaultBindUnknownPlan422      Fault = "bind-unknown-plan-422"       // bind with a plan_id not in the catalog → 422
	FaultPollProvisionState      Fault = "poll-provision-state"        // provision polls answer state "ok"
	FaultPollBindState           Fault = "poll-bind-state"             // bind polls answer state "ok"
	FaultGetInstanceNotFound     Fault = "get-instance-404"            // GET of an existing instance → 404
	FaultGetUnknownInstance410   Fault = "get-unknown-instance-410"    // GET of an unknown instance → 410
	FaultUpdateCreated           Fault = "update-201"                  // update → 201
	FaultPlanChange422           Fault = "plan-change-422"             // plan change of an updateable plan → 422
	FaultUpdateNoServiceID       Fault = "update-no-service-id"        // update without service_id accepted
	FaultUpdateUnknownPlan500    Fault = "update-unknown-plan-500"     // update to an unknown plan → 500
	FaultBindNewOK               Fault = "bind-new-ok"                 // a new binding → 200, not 201
	FaultBindIdentical201        Fault = "bind-identical-201"          // identical bind repeat → 201
	FaultBindConflictOK          Fault = "bind-conflict-ok"            // conflicting bind → 200
	FaultBindAcceptMissingPlanID Fault = "bind-accept-missing-plan-id" // bind without plan_id → 201, nothing made
	FaultGetBindingNotFound      Fault = "get-binding-404"             // GET of an existing binding → 404
	FaultGetUnknownBinding410    Fault = "get-unknown-binding-410"     // GET of an unknown binding → 410
	FaultUnbindCreated           Fault = "unbind-201"                  // unbind → 201 (work done)
	FaultUnbindNoServiceID       Fault = "unbind-no-service-id"        // unbind without service_id → 200, nothing done
	FaultUnbindUnknown404        Fault = "unbind-unknown-404"          // unbind of an unknown binding → 404
	FaultDeprovisionCreated      Fault = "deprovision-201"             // deprovision → 201 (work done)
	FaultDeprovisionNoServiceID  Fault = "deprovision-no-service-id"   // deprovision without service_id → 200, nothing done
	FaultDeprovisionUnknown404   Fault = "deprovision-unknown-404"     // deprovision of an unknown instance → 404
	FaultNoRequestIdentityEcho   Fault = "no-request-identity-echo"    // X-Broker-API-Request-Identity not echoed
	FaultErrorBodyMessage        Fault = "error-body-message"          // error text under "message", not "description"
	FaultAcceptMissingVersion    Fault = "accept-missing-version"      // no X-Broker-API-Version accepted
	FaultAcceptOldVersion        Fault = "accept-old-version"          // X-Broker-API-Version 1.x accepted
	FaultBadRetryAfter           Fault = "bad-retry-after"             // Retry-After "soon" on polls
	FaultBindCredentialsString   Fault = "bind-credentials-string"     // credentials a string on GET binding
	FaultIgnoreMaintenanceInfo   Fault = "ignore-maintenance-info"     // a maintenance_info version other than the plan's is accepted
	FaultRejectPredecessor       Fault = "reject-predecessor"          // a bind with predecessor_binding_id → 400
)

// SetFaults replaces the faults the broker has; none makes it correct.
func (b *Broker) SetFaults(f ...Fault) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.faults = map[Fault]bool{}
	for _, x := range f {
		b.faults[x] = true
	}
}

// faulty reports whether f is set; called with b.mu held.
func (b *Broker) faulty(f Fault) bool { return b.faults[f] }

// hasFault is faulty for callers without b.mu.
func (b *Broker) hasFault(f Fault) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.faults[f]
}
