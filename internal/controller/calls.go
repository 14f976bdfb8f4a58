package controller

// Broker call operations: with the object's UID, they key a call in the
// runner.
const (
	callProvision   = "provision"
	callUpdate      = "update"
	callDeprovision = "deprovision"
	callPoll        = "poll"
	callBind        = "bind"
	callUnbind      = "unbind"
	callGetBinding  = "get-binding"
	callCatalog     = "catalog"
)
