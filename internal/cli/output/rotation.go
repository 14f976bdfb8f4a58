package output

import (
	"fmt"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/svcat-io/svcat/api/v1beta1"
)

// rotationNote is what the STATUS column of get bindings adds while a
// rotation runs or after one failed; the binding keeps its credentials
// either way.
func rotationNote(st v1beta1.ServiceBindingStatus) string {
	c := st.GetCondition(v1beta1.ServiceBindingConditionRotation)
	switch {
	case st.Rotation != nil && st.Rotation.Pending != nil:
		return ", rotating"
	case c != nil && c.Status == v1beta1.ConditionFalse:
		return ", rotation failed"
	}
	return ""
}

func stamp(t *metav1.Time) string { return t.UTC().Format(timeLayout) }

// bindingRotationRows adds describe binding's rows about expiry and
// rotation; none for a binding that has neither.
func bindingRotationRows(t *Table, b *v1beta1.ServiceBinding) {
	st := &b.Status
	if st.ExpiresAt != nil {
		exp := stamp(st.ExpiresAt)
		if st.RenewBefore != nil {
			exp += " (renew before " + stamp(st.RenewBefore) + ")"
		}
		t.Append("Expires:", exp)
	}
	if p := b.Spec.RotationPolicy; p != nil {
		policy := "on request and before expiry"
		if p.Interval != nil {
			policy = "every " + p.Interval.Duration.String()
		}
		if p.GracePeriod != nil {
			policy += ", old credentials kept " + p.GracePeriod.Duration.String()
		}
		t.Append("Rotation Policy:", policy)
	}
	if r := st.Rotation; r != nil && r.LastRotationTime != nil {
		t.Append("Last Rotation:", stamp(r.LastRotationTime))
	}
	if c := st.GetCondition(v1beta1.ServiceBindingConditionRotation); c != nil {
		t.Append("Rotation:", Condition{c.Reason, c.Status, c.Reason, c.Message, c.LastTransitionTime}.Full())
	}
}

// writeRotation prints the broker bindings of a binding that was or is
// being rotated: the IDs only, never credentials.
func writeRotation(p *printer, b *v1beta1.ServiceBinding) {
	r := b.Status.Rotation
	if r == nil || (r.Pending == nil && len(r.Retiring) == 0 && r.CurrentBindingID == "") {
		return
	}
	t := NewListTable("ID", "State", "Since or until")
	t.Append(b.BrokerBindingID(), "current, in the Secret", "")
	if pr := r.Pending; pr != nil {
		t.Append(pr.BindingID, fmt.Sprintf("being created (%s)", pr.Trigger), "since "+pr.StartTime.UTC().Format(time.RFC3339))
	}
	for _, rb := range r.Retiring {
		t.Append(rb.BindingID, "old, waiting for unbind", "until "+rb.UnbindAfter.UTC().Format(time.RFC3339))
	}
	p.printf("\nBroker Bindings:\n")
	p.table(t)
}
