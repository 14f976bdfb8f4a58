package output

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/svcat-io/svcat/api/v1beta1"
	"github.com/svcat-io/svcat/internal/cli/apiview"
)

// printer keeps the first write error so views read as a list of sections.
type printer struct {
	w   io.Writer
	err error
}

func (p *printer) printf(format string, a ...any) {
	if p.err == nil {
		_, p.err = fmt.Fprintf(p.w, format, a...)
	}
}

func (p *printer) table(t *Table) {
	if p.err == nil {
		p.err = t.Render(p.w)
	}
}

func (p *printer) yaml(v any) {
	if p.err == nil {
		p.err = writeIndentedYAML(p.w, v)
	}
}

// Brokers prints the brokers table.
func Brokers(w io.Writer, brokers []apiview.Broker) error {
	t := NewListTable("Name", "Namespace", "URL", "Status")
	for _, b := range brokers {
		t.Append(b.Name, b.Namespace, b.Spec.URL, BrokerCondition(*b.Status).Short())
	}
	return t.Render(w)
}

// BrokerDetails prints describe broker.
func BrokerDetails(w io.Writer, b apiview.Broker) error {
	p := &printer{w: w}
	t := NewDetailsTable()
	t.Append("Name:", b.Name)
	t.Append("Scope:", string(b.Scope()))
	if b.Namespace != "" {
		t.Append("Namespace:", b.Namespace)
	}
	t.Append("URL:", b.Spec.URL)
	t.Append("Status:", BrokerCondition(*b.Status).Full())
	p.table(t)
	if len(b.Status.CatalogConflicts) > 0 {
		p.printf("\nCatalog Conflicts:\n")
		ct := NewListTable("Kind", "External ID", "External Name", "Owner Broker")
		for _, c := range b.Status.CatalogConflicts {
			ct.Append(c.Kind, c.ExternalID, c.ExternalName, c.OwnerBroker)
		}
		p.table(ct)
	}
	return p.err
}

// Classes prints the classes table.
func Classes(w io.Writer, classes []apiview.Class) error {
	t := NewListTable("Name", "Namespace", "Broker", "Description")
	t.SetVariableColumn(3)
	for _, c := range classes {
		t.Append(c.Spec.ExternalName, c.Namespace, c.Broker, c.Spec.Description)
	}
	return t.Render(w)
}

// ClassDetails prints describe class with the class's plans.
func ClassDetails(w io.Writer, c apiview.Class, plans []apiview.Plan) error {
	p := &printer{w: w}
	t := NewDetailsTable()
	t.Append("Name:", c.Spec.ExternalName)
	if c.Namespace != "" {
		t.Append("Namespace:", c.Namespace)
	}
	t.Append("Scope:", string(c.Scope()))
	t.Append("Description:", c.Spec.Description)
	t.Append("Kubernetes Name:", c.Name)
	t.Append("Status:", catalogStatus(c.Removed))
	t.Append("Tags:", strings.Join(c.Spec.Tags, ", "))
	t.Append("Broker:", c.Broker)
	p.table(t)

	p.printf("\nPlans:\n")
	if len(plans) == 0 {
		p.printf("No plans defined\n")
		return p.err
	}
	pt := NewListTable("Name", "Description")
	pt.SetVariableColumn(1)
	for _, pl := range plans {
		pt.Append(pl.Spec.ExternalName, pl.Spec.Description)
	}
	p.table(pt)
	return p.err
}

// ClassNames maps a plan to its class's external name.
type ClassNames func(apiview.Plan) string

// Plans prints the plans table.
func Plans(w io.Writer, plans []apiview.Plan, className ClassNames) error {
	t := NewListTable("Name", "Namespace", "Class", "Description")
	t.SetVariableColumn(3)
	for _, pl := range plans {
		t.Append(pl.Spec.ExternalName, pl.Namespace, className(pl), pl.Spec.Description)
	}
	return t.Render(w)
}

// PlanDetails prints describe plan: the plan, its default parameters, the
// instances using it and, when asked, its parameter schemas.
func PlanDetails(w io.Writer, pl apiview.Plan, class apiview.Class, instances []v1beta1.ServiceInstance, showSchemas bool) error {
	p := &printer{w: w}
	t := NewDetailsTable()
	t.Append("Name:", pl.Spec.ExternalName)
	if pl.Namespace != "" {
		t.Append("Namespace:", pl.Namespace)
	}
	t.Append("Description:", pl.Spec.Description)
	t.Append("Kubernetes Name:", pl.Name)
	t.Append("Status:", catalogStatus(pl.Removed))
	t.Append("Free:", strconv.FormatBool(pl.Spec.Free))
	t.Append("Class:", class.Spec.ExternalName)
	p.table(t)

	if raw := pl.Spec.DefaultProvisionParameters; hasRaw(raw) {
		p.printf("\nDefault Provision Parameters:\n")
		p.yaml(raw)
	}

	p.printf("\nInstances:\n")
	if len(instances) == 0 {
		p.printf("No instances defined\n")
	} else {
		it := NewListTable("Name", "Namespace", "Status")
		for _, in := range instances {
			it.Append(in.Name, in.Namespace, InstanceCondition(in.Status).Short())
		}
		p.table(it)
	}

	if !showSchemas {
		return p.err
	}
	for _, s := range []struct {
		title string
		raw   *runtime.RawExtension
	}{
		{"Instance Create Parameter Schema", pl.Spec.InstanceCreateParameterSchema},
		{"Instance Update Parameter Schema", pl.Spec.InstanceUpdateParameterSchema},
		{"Binding Create Parameter Schema", pl.Spec.ServiceBindingCreateParameterSchema},
	} {
		if hasRaw(s.raw) {
			p.printf("\n%s:\n", s.title)
			p.yaml(s.raw)
		}
	}
	if !hasRaw(pl.Spec.InstanceCreateParameterSchema) && !hasRaw(pl.Spec.InstanceUpdateParameterSchema) &&
		!hasRaw(pl.Spec.ServiceBindingCreateParameterSchema) {
		p.printf("\nNo parameter schemas defined\n")
	}
	return p.err
}

// Marketplace prints classes with their plans, one row per plan; the class
// name and description appear on its first plan's row only.
func Marketplace(w io.Writer, classes []apiview.Class, plansOf func(apiview.Class) []apiview.Plan) error {
	t := NewListTable("Class", "Plans", "Description")
	t.SetVariableColumn(2)
	for _, c := range classes {
		plans := plansOf(c)
		if len(plans) == 0 {
			t.Append(c.Spec.ExternalName, "", c.Spec.Description)
		}
		for i, pl := range plans {
			if i == 0 {
				t.Append(c.Spec.ExternalName, pl.Spec.ExternalName, c.Spec.Description)
			} else {
				t.Append("", pl.Spec.ExternalName, "")
			}
		}
	}
	return t.Render(w)
}

// Instances prints the instances table; names says what to call each
// instance's class and plan.
func Instances(w io.Writer, instances []v1beta1.ServiceInstance, names func(*v1beta1.ServiceInstance) (string, string)) error {
	t := NewListTable("Name", "Namespace", "Class", "Plan", "Status")
	for i := range instances {
		in := &instances[i]
		class, plan := names(in)
		t.Append(in.Name, in.Namespace, class, plan, InstanceCondition(in.Status).Short()+upgradeNote(in.Status))
	}
	return t.Render(w)
}

// upgradeNote is what the STATUS column adds for a maintenance upgrade:
// one the plan offers, or one the broker refused.
func upgradeNote(st v1beta1.ServiceInstanceStatus) string {
	c := st.GetCondition(v1beta1.ServiceInstanceConditionUpgradeAvailable)
	switch {
	case c == nil || c.Status != v1beta1.ConditionTrue:
		return ""
	case c.Reason == v1beta1.ReasonMaintenanceInfoConflict:
		return ", upgrade refused"
	}
	return ", upgrade available"
}

// InstanceDetails prints describe instance. Bindings are printed only when
// bindings is not nil, so that provision can reuse the view.
func InstanceDetails(w io.Writer, in *v1beta1.ServiceInstance, class, plan string, bindings []v1beta1.ServiceBinding) error {
	p := &printer{w: w}
	t := NewDetailsTable()
	t.Append("Name:", in.Name)
	t.Append("Namespace:", in.Namespace)
	t.Append("Status:", InstanceCondition(in.Status).Full())
	if in.Status.DashboardURL != nil {
		t.Append("DashboardURL:", *in.Status.DashboardURL)
	}
	t.Append("Class:", class)
	t.Append("Plan:", plan)
	if up := in.Spec.UserProvided; up != nil {
		t.Append("Credentials:", "Secret "+up.SecretRef.Name)
	}
	if at := planAtBroker(in.Status); at != "" && at != plan {
		// A plan change in flight, or one the broker refused: the
		// instance still has the old plan.
		t.Append("Plan at broker:", at)
	}
	if ext := in.Status.ExternalProperties; ext != nil && ext.MaintenanceInfoVersion != "" {
		t.Append("Maintenance:", ext.MaintenanceInfoVersion)
	}
	if c := in.Status.GetCondition(v1beta1.ServiceInstanceConditionUpgradeAvailable); c != nil && c.Status == v1beta1.ConditionTrue {
		t.Append("Upgrade:", Condition{c.Reason, c.Status, c.Reason, c.Message, c.LastTransitionTime}.Full())
	}
	if c := in.Status.GetCondition(v1beta1.ServiceInstanceConditionParameterSecretsWatched); c != nil && c.Status == v1beta1.ConditionFalse {
		t.Append("Parameter Secrets:", Condition{c.Reason, c.Status, c.Reason, c.Message, c.LastTransitionTime}.Full())
	}
	appendShares(t, in)
	p.table(t)

	writeParameters(p, in.Spec.Parameters, in.Spec.ParametersFrom)

	if bindings == nil {
		return p.err
	}
	p.printf("\nBindings:\n")
	if len(bindings) == 0 {
		p.printf("No bindings defined\n")
		return p.err
	}
	bt := NewListTable("Name", "Status")
	for _, b := range bindings {
		bt.Append(b.Name, BindingCondition(b.Status).Short())
	}
	p.table(bt)
	return p.err
}

// planAtBroker is the external name of the plan the broker last accepted.
func planAtBroker(st v1beta1.ServiceInstanceStatus) string {
	if ext := st.ExternalProperties; ext != nil {
		return ext.ClusterServicePlanExternalName + ext.ServicePlanExternalName
	}
	return ""
}

// Bindings prints the bindings table.
func Bindings(w io.Writer, bindings []v1beta1.ServiceBinding) error {
	t := NewListTable("Name", "Namespace", "Instance", "Status")
	for _, b := range bindings {
		t.Append(b.Name, b.Namespace, instanceOf(&b), BindingCondition(b.Status).Short()+rotationNote(b.Status))
	}
	return t.Render(w)
}

// BindingDetails prints describe binding. The secret section is left out
// while the secret does not exist yet; secretErr explains why it could not
// be read. Values are shown only with showSecrets, sizes otherwise.
func BindingDetails(w io.Writer, b *v1beta1.ServiceBinding, secret *corev1.Secret, secretErr error, showSecrets bool) error {
	p := &printer{w: w}
	t := NewDetailsTable()
	t.Append("Name:", b.Name)
	t.Append("Namespace:", b.Namespace)
	t.Append("Status:", BindingCondition(b.Status).Full())
	t.Append("Secret:", b.Spec.SecretName)
	t.Append("Instance:", instanceOf(b))
	bindingRotationRows(t, b)
	p.table(t)

	writeRotation(p, b)
	writeParameters(p, b.Spec.Parameters, b.Spec.ParametersFrom)

	switch {
	case secretErr != nil:
		p.printf("\nSecret Data:\n  %v\n", secretErr)
	case secret != nil:
		p.printf("\nSecret Data:\n")
		keys := make([]string, 0, len(secret.Data))
		for k := range secret.Data {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		st := NewDetailsTable()
		for _, k := range keys {
			if showSecrets {
				st.Append(k, string(secret.Data[k]))
			} else {
				st.Append(k, fmt.Sprintf("%d bytes", len(secret.Data[k])))
			}
		}
		p.table(st)
	}
	return p.err
}

func writeParameters(p *printer, params *runtime.RawExtension, from []v1beta1.ParametersFromSource) {
	p.printf("\nParameters:\n")
	var m map[string]any
	switch {
	case !hasRaw(params):
		p.printf("  No parameters defined\n")
	case json.Unmarshal(params.Raw, &m) != nil:
		// Not an object: show it as it is rather than hide it.
		p.printf("  %s\n", params.Raw)
	case len(m) == 0:
		p.printf("  No parameters defined\n")
	default:
		p.yaml(m)
	}
	header := false
	for _, f := range from {
		if f.SecretKeyRef == nil {
			continue
		}
		if !header {
			p.printf("\nParameters From:\n")
			header = true
		}
		p.printf("  Secret: %s.%s\n", f.SecretKeyRef.Name, f.SecretKeyRef.Key)
	}
}

func hasRaw(r *runtime.RawExtension) bool {
	return r != nil && len(r.Raw) > 0 && string(r.Raw) != "null"
}

// Deleted prints what delete commands print.
func Deleted(w io.Writer, name string) error {
	_, err := fmt.Fprintf(w, "deleted %s\n", name)
	return err
}
