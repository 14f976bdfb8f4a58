package osb

// Operation names one kind of OSB request. The values are stable, short and
// low-cardinality because callers use them as metric labels.
type Operation string

const (
	OpGetCatalog               Operation = "get_catalog"
	OpProvision                Operation = "provision"
	OpUpdate                   Operation = "update"
	OpDeprovision              Operation = "deprovision"
	OpPollLastOperation        Operation = "poll_last_operation"
	OpGetInstance              Operation = "get_instance"
	OpBind                     Operation = "bind"
	OpUnbind                   Operation = "unbind"
	OpPollBindingLastOperation Operation = "poll_binding_last_operation"
	OpGetBinding               Operation = "get_binding"
)
