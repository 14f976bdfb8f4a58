package version

// The catalog-controller's leader publishes its Info in a ConfigMap so that
// `svcat version` can show the server's version without a new API: the
// names below are the contract between the two, kept here because both
// import this package and the CLI must not import the controller.
const (
	// ControllerInfoName is the ConfigMap's name, in the controller's
	// namespace.
	ControllerInfoName = "svcat-catalog-controller-info"

	// The ConfigMap's labels, which the CLI selects on across namespaces.
	LabelName               = "app.kubernetes.io/name"
	LabelComponent          = "app.kubernetes.io/component"
	ControllerName          = "svcat-catalog-controller"
	ControllerInfoComponent = "info"

	// The ConfigMap's data keys. StartedAt is RFC 3339 in UTC.
	KeyVersion   = "version"
	KeyGitCommit = "gitCommit"
	KeyGoVersion = "goVersion"
	KeyStartedAt = "startedAt"
)

// ControllerInfoLabels are the labels of the controller's info ConfigMap.
func ControllerInfoLabels() map[string]string {
	return map[string]string{LabelName: ControllerName, LabelComponent: ControllerInfoComponent}
}
