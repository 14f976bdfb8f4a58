// Package v1beta1 holds the servicecatalog.k8s.io/v1beta1 API: the eight
// kinds of the Kubernetes Service Catalog, wire-compatible with Service
// Catalog v0.3 so that its manifests and stored objects work unchanged.
//
// +kubebuilder:object:generate=true
// +groupName=servicecatalog.k8s.io
package v1beta1

import (
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/scheme"
)

var (
	// GroupVersion is the group and version of every kind in this package.
	GroupVersion = schema.GroupVersion{Group: "servicecatalog.k8s.io", Version: "v1beta1"}

	// SchemeBuilder registers the kinds of this package with a scheme.
	SchemeBuilder = &scheme.Builder{GroupVersion: GroupVersion}

	// AddToScheme adds the kinds of this package to a scheme.
	AddToScheme = SchemeBuilder.AddToScheme
)
