package output

import (
	"io"

	"github.com/svcat-io/svcat/api/v1beta1"
	"github.com/svcat-io/svcat/internal/cli/apiview"
)

// SharedInstanceDetails prints describe instance for an instance shared
// with ns that ns's user may not read: only what the marker in ns says of
// it, then ns's own bindings to it. The instance's status, parameters and
// shares stay in its owner's namespace and are not guessed at.
func SharedInstanceDetails(w io.Writer, s apiview.SharedInstance, ns string, bindings []v1beta1.ServiceBinding) error {
	p := &printer{w: w}
	t := NewDetailsTable()
	t.Append("Name:", s.Name)
	t.Append("Namespace:", s.Namespace)
	t.Append("Status:", SharedStatus+" ("+ns+")")
	t.Append("Class:", s.Class)
	t.Append("Plan:", s.Plan)
	p.table(t)
	p.printf("\nIts status, parameters and shares are kept in namespace %q.\n", s.Namespace)
	p.printf("\nBindings in %s:\n", ns)
	if len(bindings) == 0 {
		p.printf("No bindings defined (bind with: svcat bind %s/%s -n %s)\n", s.Namespace, s.Name, ns)
		return p.err
	}
	bt := NewListTable("Name", "Status")
	for _, b := range bindings {
		bt.Append(b.Name, BindingCondition(b.Status).Short()+rotationNote(b.Status))
	}
	p.table(bt)
	return p.err
}
