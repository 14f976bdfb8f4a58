package apiview

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/svcat-io/svcat/api/v1beta1"
)

// Describing an instance another namespace shares with the user's one. The
// user may have no right to read it where it lives; what their namespace
// holds of it is the controller's marker and their own bindings to it, and
// describe shows that and nothing more.

// MarkerMayStandIn says whether the marker may be shown in place of the
// instance after reading the instance failed with err: only when it was
// refused or not there, never for errors that say the API is broken or the
// CRDs are missing. Pure.
func MarkerMayStandIn(err error) bool {
	var nf *NotFoundError
	var fb *ForbiddenError
	return errors.As(err, &nf) || errors.As(err, &fb)
}

// BindingsOfShared lists the bindings in ns of the instance owner/name that
// another namespace shares with ns.
func (c *Client) BindingsOfShared(ctx context.Context, ns, owner, name string) ([]v1beta1.ServiceBinding, error) {
	all, err := c.Bindings(ctx, ns)
	if err != nil {
		return nil, err
	}
	return SharedBindingsOf(all, owner, name), nil
}

// SharedBindingsOf keeps the bindings of owner/name. Pure.
func SharedBindingsOf(bindings []v1beta1.ServiceBinding, owner, name string) []v1beta1.ServiceBinding {
	out := []v1beta1.ServiceBinding{}
	for _, b := range bindings {
		if b.Spec.InstanceRef.Name == name && b.InstanceNamespace() == owner {
			out = append(out, b)
		}
	}
	return out
}

// SharedNamed picks, from the markers of a namespace, the one instance
// shared with it under name. ok is false when none is; err says which
// namespaces to choose from when several share an instance of that name.
// Pure.
func SharedNamed(shared []SharedInstance, name string) (s SharedInstance, ok bool, err error) {
	var owners []string
	for _, m := range shared {
		if m.Name == name {
			s = m
			owners = append(owners, m.Namespace)
		}
	}
	switch len(owners) {
	case 0:
		return SharedInstance{}, false, nil
	case 1:
		return s, true, nil
	}
	slices.Sort(owners)
	return SharedInstance{}, false, &RequestError{fmt.Sprintf(
		"instance %q is shared with this namespace by namespaces %s: give NAMESPACE/%s", name, strings.Join(owners, ", "), name)}
}
