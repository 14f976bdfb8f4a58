// Package tenant is the tenancy model of the kafka-broker on a Kafka
// cluster: how an instance maps to a topic prefix, how a binding maps to a
// SCRAM user, and the admin calls that create and remove them.
package tenant

import (
	"fmt"
	"regexp"
	"strings"
)

// idPattern keeps IDs free of '.' and '_'.
//
// Without dots, tenant prefixes are prefix-free: "<base><id>." can only be a
// prefix of "<base><other>." when other has a dot after id. Otherwise
// instance "a" would hold ACLs that cover instance "a.b"'s topics.
//
// Without underscores, tenants cannot collide through Kafka's rule that
// topic names differing only in '.' and '_' clash: instance "a"'s topic
// "b.x" would otherwise block instance "a_b"'s topic "x".
var idPattern = regexp.MustCompile(`^[A-Za-z0-9-]{1,100}$`)

// Names derives Kafka names from OSB IDs. Base is prepended to every name so
// that an operator can keep tenants away from other users of the cluster.
type Names struct {
	Base string
}

// CheckID reports whether an instance or binding ID can be used in names.
func CheckID(kind, id string) error {
	if !idPattern.MatchString(id) {
		return fmt.Errorf("%s ID %q must be 1 to 100 letters, digits or '-'", kind, id)
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

// Normalise maps a topic name to the form Kafka uses to detect clashes:
// names that differ only in '.' and '_' cannot both exist.
func Normalise(topic string) string {
	return strings.ReplaceAll(topic, ".", "_")
}
