package svcatcmd_test

import (
	"context"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/svcat-io/svcat/api/v1beta1"
	"github.com/svcat-io/svcat/internal/cli/svcatcmd"
	"github.com/svcat-io/svcat/internal/localcluster"
)

// updateNS holds namespaced classes whose plans can and cannot change, so
// the cluster-wide listings of the other golden files do not change.
const updateNS = "updates"

// updateFixtures makes, in updateNS, the class "kafka" (plans duck and
// bear, plan_updateable) and "fixed" (plans a and b, not updatable), and
// instances: "tenant" (kafka/duck with parameters), "pinned" (fixed/a),
// and "refused" (on bear, asked for duck, which the broker refused).
func updateFixtures(t *testing.T, env *localcluster.Env) {
	t.Helper()
	ctx := context.Background()
	create := func(o client.Object) {
		t.Helper()
		if err := env.Client.Create(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	create(&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: updateNS}})
	class := func(name string, updatable bool, plans ...string) {
		c := &v1beta1.ServiceClass{ObjectMeta: metav1.ObjectMeta{Namespace: updateNS, Name: "upd-" + name}}
		c.Spec.ExternalName, c.Spec.ExternalID, c.Spec.Description = name, "upd-"+name, "Class "+name
		c.Spec.Bindable, c.Spec.PlanUpdatable, c.Spec.ServiceBrokerName = true, updatable, "updates"
		create(c)
		for _, p := range plans {
			plan := &v1beta1.ServicePlan{ObjectMeta: metav1.ObjectMeta{Namespace: updateNS, Name: "upd-" + name + "-" + p}}
			plan.Spec.ExternalName, plan.Spec.ExternalID, plan.Spec.Description = p, "upd-"+name+"-"+p, "Plan "+p
			plan.Spec.ServiceBrokerName, plan.Spec.ServiceClassRef.Name = "updates", c.Name
			create(plan)
		}
	}
	class("kafka", true, "duck", "bear")
	class("fixed", false, "a", "b")
	instance := func(name, class, plan, atBroker, params string) *v1beta1.ServiceInstance {
		t.Helper()
		in := &v1beta1.ServiceInstance{ObjectMeta: metav1.ObjectMeta{Namespace: updateNS, Name: name}}
		in.Spec.ServiceClassExternalName, in.Spec.ServicePlanExternalName = class, plan
		in.Spec.ExternalID = "5c3e1a2b-0000-4000-8000-" + strings.Repeat("0", 12-len(name)) + name
		if params != "" {
			in.Spec.Parameters = &runtime.RawExtension{Raw: []byte(params)}
		}
		create(in)
		in.Spec.ServiceClassRef = &v1beta1.LocalObjectReference{Name: "upd-" + class}
		in.Spec.ServicePlanRef = &v1beta1.LocalObjectReference{Name: "upd-" + class + "-" + plan}
		if err := env.Client.Update(ctx, in); err != nil {
			t.Fatal(err)
		}
		markProvisioned(in)
		in.Status.UserSpecifiedClassName, in.Status.UserSpecifiedPlanName = "ServiceClass/"+class, plan
		in.Status.ExternalProperties = &v1beta1.ServiceInstancePropertiesState{ServicePlanExternalName: atBroker, ServicePlanExternalID: "upd-" + class + "-" + atBroker}
		return in
	}
	for _, in := range []*v1beta1.ServiceInstance{
		instance("tenant", "kafka", "duck", "duck", `{"partitions":"3","retention":"1d"}`),
		instance("pinned", "fixed", "a", "a", ""),
	} {
		if err := env.Client.Status().Update(ctx, in); err != nil {
			t.Fatal(err)
		}
	}
	refused := instance("refused", "kafka", "duck", "bear", "")
	refused.Status.SetCondition(v1beta1.ServiceInstanceConditionReady, v1beta1.ConditionFalse, v1beta1.ReasonUpdateInstanceCallFailed,
		v1beta1.MessageErrorUpdating+"osb update: broker answered 422 Unprocessable Entity: instance 5c3e1a2b-0000-4000-8000-00000refused cannot change from plan bear to plan duck: plan duck allows 2 topics and the instance would have 3; the instance keeps plan bear", provisionTime)
	refused.Status.SetCondition(v1beta1.ServiceInstanceConditionFailed, v1beta1.ConditionTrue, v1beta1.ReasonUpdateInstanceCallFailed,
		v1beta1.MessageErrorUpdating+"osb update: broker answered 422 Unprocessable Entity: instance 5c3e1a2b-0000-4000-8000-00000refused cannot change from plan bear to plan duck: plan duck allows 2 topics and the instance would have 3; the instance keeps plan bear", provisionTime)
	refused.Status.LastConditionState = v1beta1.ReasonUpdateInstanceCallFailed
	if err := env.Client.Status().Update(ctx, refused); err != nil {
		t.Fatal(err)
	}
}

// TestUpdateOutput: update instance writes the plan in the instance's own
// form and merges -p into the parameters; describe shows the plan the
// broker still has after a refusal; what cannot be sent is refused before
// anything is written, with the class's plans named.
func TestUpdateOutput(t *testing.T) {
	env := localcluster.Get(t)
	seedCatalog(t, env)
	updateFixtures(t, env)
	get := func(name string) *v1beta1.ServiceInstance {
		t.Helper()
		in := &v1beta1.ServiceInstance{}
		if err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: updateNS, Name: name}, in); err != nil {
			t.Fatal(err)
		}
		return in
	}
	checkGoldens(t, env, []goldenCase{
		{"update-instance-plan-and-param", []string{"-n", updateNS, "update", "instance", "tenant", "--plan", "bear", "-p", "retention=7d"}},
		{"describe-instance-update-refused", []string{"-n", updateNS, "describe", "instance", "refused"}},
	})
	in := get("tenant")
	if in.Spec.ServicePlanExternalName != "bear" || in.Spec.ServicePlanRef == nil || in.Spec.ServicePlanRef.Name != "upd-kafka-bear" {
		t.Errorf("after --plan bear: servicePlanExternalName %q, servicePlanRef %v", in.Spec.ServicePlanExternalName, in.Spec.ServicePlanRef)
	}
	if got := string(in.Spec.Parameters.Raw); got != `{"partitions":"3","retention":"7d"}` {
		t.Errorf("after -p retention=7d: parameters %s", got)
	}

	r := svcat(t, env, "", "-n", updateNS, "update", "instance", "tenant", "--params-json", `{"partitions": 12}`, "-s", "kafka-params[params]")
	mustSucceed(t, r)
	in = get("tenant")
	if got := string(in.Spec.Parameters.Raw); got != `{"partitions":12}` {
		t.Errorf("after --params-json: parameters %s, want them replaced", got)
	}
	if len(in.Spec.ParametersFrom) != 1 || in.Spec.ParametersFrom[0].SecretKeyRef.Name != "kafka-params" {
		t.Errorf("after -s: parametersFrom %+v", in.Spec.ParametersFrom)
	}
	gen := get("pinned").Generation

	for _, tt := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"unknown plan", []string{"-n", updateNS, "update", "instance", "tenant", "--plan", "cow"}, svcatcmd.ExitError,
			"plan \"cow\" not found in class \"kafka\"\nAvailable plans: bear, duck"},
		{"plan not updatable", []string{"-n", updateNS, "update", "instance", "pinned", "--plan", "b"}, svcatcmd.ExitError,
			`class "fixed" does not allow plan changes (plan_updateable is false in broker updates's catalog): nothing was changed`},
		{"nothing to update", []string{"-n", updateNS, "update", "instance", "tenant"}, svcatcmd.ExitUsage,
			"nothing to update: give --plan, --param, --params-json or --secret"},
		{"both parameter flags", []string{"-n", updateNS, "update", "instance", "tenant", "-p", "a=b", "--params-json", "{}"}, svcatcmd.ExitUsage,
			"--param and --params-json cannot be used together"},
		{"no such instance", []string{"-n", updateNS, "update", "instance", "nope", "--plan", "bear"}, svcatcmd.ExitError,
			`instance "nope" not found in namespace "updates"`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := svcat(t, env, "", tt.args...)
			if r.code != tt.code || !strings.Contains(r.stderr, tt.want) {
				t.Errorf("exit %d, stderr %q; want exit %d and %q", r.code, r.stderr, tt.code, tt.want)
			}
		})
	}
	if g := get("pinned").Generation; g != gen {
		t.Errorf("the refused plan change wrote the instance (generation %d, was %d)", g, gen)
	}
}
