package broker

import (
	"bytes"
	"encoding/json"
	"errors"
)

// A bind for an instance shared across namespaces comes from the consuming
// namespace: svcat sends context.namespace = the binding's namespace and
// context.instance_namespace = the namespace that provisioned the
// instance. The instance is checked against the owner's context (the one
// it was provisioned from), the binding is recorded with the consumer's.
// The broker trusts the platform's word that the owner shared the
// instance, as it trusts its word on who the namespace is; it adds its own
// rule that only a shareable service is shared.

// instanceNamespace reads context.instance_namespace; "" when absent.
func instanceNamespace(raw json.RawMessage) (string, error) {
	var c struct {
		InstanceNamespace *string `json:"instance_namespace"`
	}
	if raw = bytes.TrimSpace(raw); len(raw) == 0 || raw[0] != '{' {
		return "", nil
	}
	if json.Unmarshal(raw, &c) != nil {
		return "", errors.New("context.instance_namespace must be a string")
	}
	if c.InstanceNamespace == nil {
		return "", nil
	}
	if *c.InstanceNamespace == "" {
		return "", errors.New("context.instance_namespace is empty: send the namespace that owns the instance, or leave it out")
	}
	return *c.InstanceNamespace, nil
}

// bindOwner is the context the instance of a bind from pc must have been
// provisioned from, and whether the bind comes from another namespace.
func (b *Broker) bindOwner(raw json.RawMessage, pc platformContext, serviceID string) (platformContext, bool, error) {
	ns, err := instanceNamespace(raw)
	if err != nil {
		return pc, false, badRequest("%v", err)
	}
	if ns == "" || ns == pc.Namespace {
		return pc, false, nil
	}
	if !b.cfg.Catalog.Shareable(serviceID) {
		return pc, false, badRequest("service %q is not shareable (its catalog metadata does not say \"shareable\": true): a bind must come from the namespace that provisioned the instance", serviceID)
	}
	owner := pc
	owner.Namespace = ns
	return owner, true, nil
}
