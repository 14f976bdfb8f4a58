package v1beta1

// AnnotationAbandon, set to "true" on a ServiceInstance or ServiceBinding
// before it is deleted, asks the controller to remove its finalizer without
// calling the broker: the broker's resources are left behind. It is how
// `svcat deprovision --abandon` and `svcat unbind --abandon` get rid of an
// object whose broker is gone, which v0.3 did by stripping the finalizer
// from the client and racing the controller.
const AnnotationAbandon = "servicecatalog.k8s.io/abandon"

// AnnotationAbandonValue is the value of AnnotationAbandon that the
// controller honours; any other value is ignored.
const AnnotationAbandonValue = "true"
