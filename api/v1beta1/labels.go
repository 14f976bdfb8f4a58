package v1beta1

import (
	"crypto/sha256"
	"encoding/hex"
)

// Lookup labels. CRDs have no field selectors, so v0.3 stamped these labels
// on classes, plans and instances and looked objects up by them. Their values
// are SHA-224 hex digests of the field (field values can be longer than a
// label value may be). We write and read the same labels so that objects
// v0.3 created are found.
const (
	LabelExternalName               = GroupName + "/spec.externalName"
	LabelExternalID                 = GroupName + "/spec.externalID"
	LabelClusterServiceBrokerName   = GroupName + "/spec.clusterServiceBrokerName"
	LabelServiceBrokerName          = GroupName + "/spec.serviceBrokerName"
	LabelClusterServiceClassRefName = GroupName + "/spec.clusterServiceClassRef.name"
	LabelServiceClassRefName        = GroupName + "/spec.serviceClassRef.name"
	LabelClusterServicePlanRefName  = GroupName + "/spec.clusterServicePlanRef.name"
	LabelServicePlanRefName         = GroupName + "/spec.servicePlanRef.name"
	GroupName                       = "servicecatalog.k8s.io"
)

// LabelValue is the value v0.3 stored in a lookup label for a field value:
// its SHA-224 in hex. It must never change, or objects become unfindable.
func LabelValue(field string) string {
	sum := sha256.Sum224([]byte(field))
	return hex.EncodeToString(sum[:])
}

// LabelManagedBy marks the Secrets the controller writes for bindings, so
// that it caches those and no other Secrets.
const (
	LabelManagedBy = "app.kubernetes.io/managed-by"
	ManagedByValue = "svcat"
)
