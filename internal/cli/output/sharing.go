package output

import (
	"io"

	"github.com/svcat-io/svcat/api/v1beta1"
	"github.com/svcat-io/svcat/internal/cli/apiview"
)

// SharedStatus is the STATUS of an instance shared with the namespace.
const SharedStatus = "Shared with this namespace"

// InstancesWithShared prints the instances table followed by the instances
// other namespaces share with this one, marked as shared.
func InstancesWithShared(w io.Writer, instances []v1beta1.ServiceInstance, names func(*v1beta1.ServiceInstance) (string, string), shared []apiview.SharedInstance) error {
	t := NewListTable("Name", "Namespace", "Class", "Plan", "Status")
	for i := range instances {
		in := &instances[i]
		class, plan := names(in)
		t.Append(in.Name, in.Namespace, class, plan, InstanceCondition(in.Status).Short()+upgradeNote(in.Status))
	}
	for _, s := range shared {
		t.Append(s.Name, s.Namespace, s.Class, s.Plan, SharedStatus)
	}
	return t.Render(w)
}

// appendShares adds describe instance's rows for spec.sharedWith, each
// with its state as the controller reports it.
func appendShares(t *Table, in *v1beta1.ServiceInstance) {
	label := "Shared with:"
	for _, s := range apiview.Shares(in) {
		state := s.State
		if s.Reason != "" {
			state += ": " + s.Reason
		}
		t.Append(label, s.Namespace+" ("+state+")")
		label = ""
	}
}

// instanceOf names a binding's instance: NAMESPACE/NAME when another
// namespace shares it.
func instanceOf(b *v1beta1.ServiceBinding) string {
	if b.SharedInstance() {
		return b.InstanceNamespace() + "/" + b.Spec.InstanceRef.Name
	}
	return b.Spec.InstanceRef.Name
}
