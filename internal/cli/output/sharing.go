package output

import (
	"io"

	"github.com/svcat-io/svcat/api/v1beta1"
)

// SharedInstance is an instance another namespace shares with the one
// listed, as its marker tells it: no status, which the owner's namespace
// keeps.
type SharedInstance struct {
	Namespace, Name, Class, Plan string
}

// SharedStatus is the STATUS of an instance shared with the namespace.
const SharedStatus = "Shared with this namespace"

// InstancesWithShared prints the instances table followed by the instances
// other namespaces share with this one, marked as shared.
func InstancesWithShared(w io.Writer, instances []v1beta1.ServiceInstance, names func(*v1beta1.ServiceInstance) (string, string), shared []SharedInstance) error {
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
	states := map[string]v1beta1.SharedNamespaceStatus{}
	for _, s := range in.Status.SharedWith {
		states[s.Namespace] = s
	}
	label := "Shared with:"
	for _, s := range in.Spec.SharedWith {
		state := "pending"
		if st, ok := states[s.Namespace]; ok {
			state = string(st.State)
			if st.Reason != "" {
				state += ": " + st.Reason
			}
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
