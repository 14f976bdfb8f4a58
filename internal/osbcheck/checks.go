// Package osbcheck checks a broker against the Open Service Broker API 2.17.
// It is independent of Kubernetes: it needs only the broker's URL and
// credentials, so `svcat broker check` and tests call it alike.
package osbcheck

// Force is how strongly the spec asks for what a check verifies.
type Force string

const (
	Must   Force = "MUST"
	Should Force = "SHOULD"
	May    Force = "MAY"
)

// Check is one rule of the spec, as data: what the checker sends and what it
// expects back.
type Check struct {
	ID      string `json:"id"`
	Section string `json:"section"`
	Force   Force  `json:"force"`
	Sends   string `json:"sends"`
	Expects string `json:"expects"`
}

// Sections of the OSB 2.17 spec (spec.md headings).
const (
	secCatalog     = "Catalog Management"
	secVersion     = "API Version Header"
	secAuth        = "Platform to Service Broker Authentication"
	secIdentity    = "Originating Identity"
	secRequestID   = "Request Identity"
	secErrors      = "Service Broker Errors"
	secProvision   = "Provisioning"
	secPolling     = "Polling Last Operation for Service Instances"
	secFetchInst   = "Fetching a Service Instance"
	secUpdate      = "Updating a Service Instance"
	secBinding     = "Binding"
	secBindPolling = "Polling Last Operation for Service Bindings"
	secFetchBind   = "Fetching a Service Binding"
	secUnbind      = "Unbinding"
	secDeprovision = "Deprovisioning"
	secProfile     = "Kubernetes profile: Context Object"
	secAsync       = "Asynchronous Operations"
)

// Checks lists every check in the order a report shows them.
var Checks = []Check{
	{"catalog.fetch", secCatalog, Must, "GET /v2/catalog", "200 with a JSON object whose services is an array"},
	{"catalog.required-fields", secCatalog, Must, "GET /v2/catalog", "every offering has id, name, description, bindable and a non-empty plans; every plan id, name, description"},
	{"catalog.unique-ids", secCatalog, Must, "GET /v2/catalog", "offering and plan IDs unique across the catalog"},
	{"catalog.unique-names", secCatalog, Must, "GET /v2/catalog", "offering names unique in the catalog, plan names unique in their offering"},
	{"catalog.cli-names", secCatalog, Should, "GET /v2/catalog", "names are CLI-friendly: lowercase letters, digits, '-' and '.'"},
	{"catalog.field-types", secCatalog, Must, "GET /v2/catalog", "bindable, plan_updateable, instances_retrievable, bindings_retrievable, allow_context_updates, free are booleans"},
	{"catalog.schemas", secCatalog, Must, "GET /v2/catalog", "every schemas.*.parameters compiles as a JSON Schema"},
	{"catalog.maintenance-info", secCatalog, Must, "GET /v2/catalog", "maintenance_info.version is a Semantic Version 2.0"},
	{"catalog.maximum-polling-duration", secCatalog, Must, "GET /v2/catalog", "maximum_polling_duration is a positive integer"},

	{"version.missing", secVersion, Should, "GET /v2/catalog without X-Broker-API-Version", "412 Precondition Failed"},
	{"version.unsupported", secVersion, Should, "GET /v2/catalog with X-Broker-API-Version: 1.0", "412 Precondition Failed"},
	{"auth.missing", secAuth, Must, "GET /v2/catalog without credentials", "401 Unauthorized"},
	{"auth.wrong", secAuth, Must, "GET /v2/catalog with wrong credentials", "401 Unauthorized"},
	{"auth.www-authenticate", secAuth, Must, "GET /v2/catalog without credentials", "the 401 carries WWW-Authenticate (RFC 7235 section 3.1)"},
	{"identity.request-echo", secRequestID, Should, "every request with X-Broker-API-Request-Identity", "the same value in the answer's X-Broker-API-Request-Identity"},
	{"identity.originating", secIdentity, Must, "GET /v2/catalog with X-Broker-API-Originating-Identity", "200: the header is accepted"},
	{"errors.body", secErrors, Should, "every request answered 4xx/5xx (except 401)", "a JSON object; error, if present, one CamelCase word; the message under description, a string"},

	{"provision.async-required", secProvision, Must, "PUT instance without accepts_incomplete", "201, or 422 with error AsyncRequired; never 202"},
	{"provision.create", secProvision, Must, "PUT instance with accepts_incomplete=true", "201 or 202; a 202's operation at most 10,000 characters; dashboard_url a string"},
	{"provision.repeat-in-progress", secProvision, Must, "the same PUT again while the provision is in progress", "202 Accepted"},
	{"provision.identical", secProvision, Must, "the same PUT again", "200 once provisioned (202 while in progress)"},
	{"provision.conflict", secProvision, Must, "PUT the same instance ID with another plan", "409 Conflict"},
	{"provision.malformed", secProvision, Must, "PUT instance with truncated JSON", "400 Bad Request"},
	{"provision.non-object", secProvision, Must, "PUT instance with a JSON array body", "400 Bad Request"},
	{"provision.missing-field", secProvision, Must, "PUT instance without service_id, or plan_id", "400 Bad Request"},
	{"provision.empty-field", secProvision, Must, "PUT instance with service_id or plan_id \"\"", "400 Bad Request"},
	{"provision.empty-context", secProfile, Must, "PUT instance whose context has platform, namespace or clusterid \"\"", "400 Bad Request"},
	{"provision.unknown-service", secProvision, Must, "PUT instance with a service_id not in the catalog", "400 Bad Request"},
	{"provision.unknown-plan", secProvision, Must, "PUT instance with a plan_id not in the offering", "400 Bad Request"},

	{"last-operation.poll", secPolling, Must, "GET last_operation of an asynchronous operation, honouring Retry-After", "200 with state in progress, succeeded or failed, ending succeeded"},
	{"last-operation.retry-after", secPolling, Should, "GET last_operation", "Retry-After, when present, is seconds or an HTTP date"},
	{"last-operation.unknown", secPolling, Must, "GET last_operation of an instance that never existed", "404 Not Found"},

	{"instance.get", secFetchInst, Must, "GET instance (instances_retrievable)", "200 with service_id and plan_id of the instance"},
	{"instance.get-unknown", secFetchInst, Must, "GET an instance that never existed (instances_retrievable)", "404 Not Found"},

	{"update.parameters", secUpdate, Must, "PATCH instance with parameters", "200 or 202"},
	{"update.plan", secUpdate, Must, "PATCH instance to another plan (plan_updateable)", "200 or 202"},
	{"update.missing-service-id", secUpdate, Must, "PATCH instance without service_id, or with service_id \"\"", "400 Bad Request"},
	{"update.unknown-plan", secUpdate, Must, "PATCH instance with a plan_id not in the offering", "400 Bad Request"},
	{"maintenance-info.conflict", secUpdate, Must, "PUT a new instance, and PATCH the instance, with a maintenance_info.version other than the plan's (plans with maintenance_info)", "422 with error MaintenanceInfoConflict"},

	{"bind.create", secBinding, Must, "PUT binding", "201 with credentials a JSON object, or 202 without credentials, then last_operation"},
	{"bind.identical", secBinding, Must, "the same PUT binding again", "200 with credentials"},
	{"bind.conflict", secBinding, Must, "PUT the same binding ID with other parameters", "409 Conflict"},
	{"bind.missing-field", secBinding, Must, "PUT binding without service_id or plan_id, or with either \"\"", "400 Bad Request"},
	{"bind.unknown-plan", secBinding, Must, "PUT binding with a plan_id not in the catalog", "400 Bad Request"},
	{"bind.rotate", secBinding, Must, "PUT a new binding with predecessor_binding_id of the check's binding (plans with binding_rotatable)", "201 with credentials a JSON object, or 202, then last_operation"},
	{"bind.expiry-metadata", secBinding, Must, "every bind and GET binding answer with metadata", "metadata.expires_at and renew_before are ISO 8601 date-times, renew_before not after expires_at"},
	{"binding.last-operation-unknown", secBindPolling, Must, "GET binding last_operation of a binding that never existed", "404 Not Found"},
	{"bind.last-operation", secBindPolling, Must, "GET binding last_operation of an asynchronous bind", "200 with a valid state, ending succeeded"},
	{"binding.get", secFetchBind, Must, "GET binding (bindings_retrievable)", "200 with credentials a JSON object"},
	{"binding.get-unknown", secFetchBind, Must, "GET a binding that never existed (bindings_retrievable)", "404 Not Found"},
	{"unbind.delete", secUnbind, Must, "DELETE binding", "200 (or 202, then last_operation)"},
	{"unbind.missing-field", secUnbind, Must, "DELETE binding without service_id or plan_id, or with either \"\"", "400 Bad Request"},
	{"unbind.unknown", secUnbind, Must, "DELETE a binding that does not exist", "410 Gone"},

	{"deprovision.delete", secDeprovision, Must, "DELETE instance", "200, or 202 and last_operation until succeeded or 410"},
	{"deprovision.missing-field", secDeprovision, Must, "DELETE instance without service_id or plan_id, or with either \"\"", "400 Bad Request"},
	{"deprovision.unknown", secDeprovision, Must, "DELETE an instance that does not exist", "410 Gone"},
}

// CheckByID returns the check with that ID.
func CheckByID(id string) (Check, bool) {
	for _, c := range Checks {
		if c.ID == id {
			return c, true
		}
	}
	return Check{}, false
}
