package v1beta1

import (
	"crypto/sha256"
	"encoding/hex"
)

// A namespace an instance is shared with gets a marker: a ConfigMap that
// the controller writes into that namespace, so that its users can list
// what is shared with them (svcat get instances) without any right in the
// owner's namespace. It holds no credentials and no parameters: only the
// instance's namespace, name, class and plan. A user of the namespace can
// change or delete it, which changes only their own view: what a binding
// may use is decided by the instance's spec.sharedWith.
const (
	// LabelSharedInstance is on every marker ("true").
	LabelSharedInstance = GroupName + "/shared-instance"
	// Keys of a marker's data.
	SharedMarkerNamespace = "namespace"
	SharedMarkerName      = "name"
	SharedMarkerClass     = "class"
	SharedMarkerPlan      = "plan"
)

// SharedMarkerObjectName is the name of the marker, in a consuming
// namespace, of the instance ns/name: a digest, since the two names
// together can be longer than an object name may be.
func SharedMarkerObjectName(ns, name string) string {
	sum := sha256.Sum256([]byte(ns + "/" + name))
	return "svcat-shared-" + hex.EncodeToString(sum[:10])
}
