// Package tenant is the tenancy model of the kafka-broker on a Kafka
// cluster: how an instance maps to a topic prefix, how a binding maps to a
// SCRAM user, and the admin calls that create and remove them.
package tenant

import (
	"fmt"
	"regexp"
)

// idPattern keeps IDs free of '.', which is what makes tenant prefixes
// prefix-free: "<base><id>." can only be a prefix of "<base><other>." when
// other contains a dot after id. Without that rule instance "a" would hold
// ACLs that cover instance "a.b"'s topics.
var idPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,100}$`)

// Names derives Kafka names from OSB IDs. Base is prepended to every name so
// that an operator can keep tenants away from other users of the cluster.
type Names struct {
	Base string
}

// CheckID reports whether an instance or binding ID can be used in names.
func CheckID(kind, id string) error {
	if !idPattern.MatchString(id) {
		return fmt.Errorf("%s ID %q must be 1 to 100 letters, digits, '_' or '-'", kind, id)
	}
	return nil
}

// Prefix is the instance's prefix for topics, consumer groups and
// transactional IDs.
func (n Names) Prefix(instanceID string) string {
	return n.Base + instanceID + "."
}

// User is the SCRAM user name of a binding. It starts with the instance's
// prefix so that deprovision can find users left by a binding that failed
// halfway.
func (n Names) User(instanceID, bindingID string) string {
	return n.Prefix(instanceID) + bindingID
}
