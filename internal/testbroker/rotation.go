package testbroker

import (
	"fmt"
	"net/http"
	"time"
)

// OSB 2.17 credential rotation and expiry. Like bindings.go, these run
// with b.mu held.

// checkPredecessor refuses a predecessor_binding_id that is not a
// binding of the same instance, as OSB asks (400).
func (b *Broker) checkPredecessor(in *input) (reply, bool) {
	id := in.PredecessorBindingID
	if id == "" {
		return reply{}, false
	}
	if id == in.bindingID {
		return fail(http.StatusBadRequest, "", "predecessor_binding_id must name another binding than the one being created"), true
	}
	prev, ok := b.bindings[id]
	if !ok || prev.InstanceID != in.instanceID || prev.State != StateReady {
		return fail(http.StatusBadRequest, "", fmt.Sprintf("predecessor_binding_id %q is not a binding of this instance", id)), true
	}
	return reply{}, false
}

// expiresAt is a new binding's expiry: none unless a lifetime is set.
func (b *Broker) expiresAt() time.Time {
	if b.opts.BindingLifetime <= 0 {
		return time.Time{}
	}
	return time.Now().Add(b.opts.BindingLifetime).UTC().Truncate(time.Second)
}

// bindingBody is a bind or GET binding answer: the credentials and, for
// credentials that expire, the metadata saying when.
func (b *Broker) bindingBody(bd *Binding) map[string]any {
	body := map[string]any{"credentials": bd.Credentials}
	if !bd.ExpiresAt.IsZero() {
		body["metadata"] = map[string]any{"expires_at": bd.ExpiresAt.Format(time.RFC3339)}
	}
	return body
}
