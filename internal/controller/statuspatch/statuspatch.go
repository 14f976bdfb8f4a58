// Package statuspatch writes a reconcile's status changes: one merge patch
// per reconcile, none when nothing changed.
package statuspatch

import (
	"context"
	"encoding/json"
	"reflect"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	kerrors "k8s.io/apimachinery/pkg/util/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// SameJSON compares two values by their JSON documents, so embedded JSON
// whose keys the API server reordered does not count as a change.
func SameJSON(a, b any) bool {
	var x, y any
	ja, err1 := json.Marshal(a)
	jb, err2 := json.Marshal(b)
	if err1 != nil || err2 != nil {
		return false
	}
	if json.Unmarshal(ja, &x) != nil || json.Unmarshal(jb, &y) != nil {
		return false
	}
	return reflect.DeepEqual(x, y)
}

// Patch is every reconciler's one status write: it sends obj's status
// changes since orig as a merge patch, unless there are none or the step's
// changes are to be dropped (made from a stale cache), and joins a failure
// to the reconcile's own error. An object already gone is not an error: its
// finalizer was just removed.
func Patch(ctx context.Context, c client.Client, obj, orig client.Object, before, after any, discard bool, retErr *error) {
	if discard || SameJSON(before, after) {
		return
	}
	if err := c.Status().Patch(ctx, obj, client.MergeFrom(orig)); err != nil && !apierrors.IsNotFound(err) {
		*retErr = kerrors.NewAggregate([]error{*retErr, err})
	}
}
