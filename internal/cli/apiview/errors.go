package apiview

import (
	"errors"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
)

// InstallHint says how to install the catalog's API; it is printed whenever
// the API turns out to be missing.
const InstallHint = "kubectl apply -f config/crd/bases"

// NotInstalledError means the cluster does not serve
// servicecatalog.k8s.io/v1beta1: the CRDs are not installed.
type NotInstalledError struct{ Err error }

func (e *NotInstalledError) Error() string {
	return "the service catalog is not installed in this cluster: the API servicecatalog.k8s.io/v1beta1 is not served.\n" +
		"Install its CustomResourceDefinitions with: " + InstallHint
}

func (e *NotInstalledError) Unwrap() error { return e.Err }

// ForbiddenError means RBAC denied one verb on one resource.
type ForbiddenError struct {
	Verb, Resource, Namespace string
	Err                       error
}

func (e *ForbiddenError) Error() string {
	where, ns, role := "at cluster scope", "", "ClusterRole"
	if e.Namespace != "" {
		where, ns, role = fmt.Sprintf("in namespace %q", e.Namespace), " -n "+e.Namespace, "Role"
	}
	return fmt.Sprintf("permission denied: you may not %s %s %s.\n"+
		"Ask a cluster administrator for a %s granting it; check with: kubectl auth can-i %s %s%s",
		e.Verb, e.Resource, where, role, e.Verb, e.Resource, ns)
}

func (e *ForbiddenError) Unwrap() error { return e.Err }

// NotFoundError means a named object does not exist.
type NotFoundError struct {
	Kind, Name, Namespace string
	// Hint, when set, is a sentence on what to try instead.
	Hint string
	Err  error
}

func (e *NotFoundError) Error() string {
	msg := fmt.Sprintf("%s %q not found", e.Kind, e.Name)
	if e.Namespace != "" {
		msg += fmt.Sprintf(" in namespace %q", e.Namespace)
	}
	if e.Hint != "" {
		msg += "\n" + e.Hint
	}
	return msg
}

func (e *NotFoundError) Unwrap() error { return e.Err }

// apiError turns the API errors a person can act on into errors that say
// what to do; others pass through with the operation added.
func apiError(err error, verb, resource, namespace string) error {
	if err == nil {
		return nil
	}
	switch {
	case meta.IsNoMatchError(err), isGroupNotServed(err):
		return &NotInstalledError{Err: err}
	case apierrors.IsForbidden(err):
		return &ForbiddenError{Verb: verb, Resource: resource, Namespace: namespace, Err: err}
	}
	return fmt.Errorf("%s %s: %w", verb, resource, err)
}

// isGroupNotServed catches a 404 for the whole resource path, which is what
// a client with a cached mapping sees after the CRDs were deleted.
func isGroupNotServed(err error) bool {
	var se apierrors.APIStatus
	if !errors.As(err, &se) {
		return false
	}
	st := se.Status()
	return apierrors.IsNotFound(err) && (st.Details == nil || st.Details.Name == "")
}

// RequestError is a request that cannot be carried out as asked, whatever
// the user's rights (a name already taken, a Secret that is missing); its
// message says what to do instead.
type RequestError struct{ Msg string }

func (e *RequestError) Error() string { return e.Msg }
