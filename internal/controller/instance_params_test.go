package controller_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	scv1beta1 "github.com/svcat-io/svcat/api/v1beta1"
	"github.com/svcat-io/svcat/internal/osb"
)

// Parameters a user gets wrong are reported on the instance, naming what is
// wrong, and nothing is sent to the broker; Secret values never show in the
// status, conditions or events.
func TestInstanceParameters(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "params")
	ctx := context.Background()
	const secretValue = "hunter-two-secret"

	secret := func(name, key, value string) {
		t.Helper()
		s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: f.ns, Name: name}, Data: map[string][]byte{key: []byte(value)}}
		if err := f.c.Create(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	from := func(name, key string) []scv1beta1.ParametersFromSource {
		return []scv1beta1.ParametersFromSource{{SecretKeyRef: &scv1beta1.SecretKeyReference{Name: name, Key: key}}}
	}
	// waitReason waits for the instance's Ready reason, with a message
	// holding every one of want.
	waitReason := func(name, reason string, want ...string) *scv1beta1.ServiceInstance {
		t.Helper()
		return waitInstance(t, f.c, f.ns, name, func(i *scv1beta1.ServiceInstance) error {
			if err := instanceCondition(scv1beta1.ServiceInstanceConditionReady, "False", reason)(i); err != nil {
				return err
			}
			for _, w := range want {
				if !strings.Contains(readyMessage(i), w) {
					return fmt.Errorf("message %q lacks %q", readyMessage(i), w)
				}
			}
			return nil
		})
	}
	noProvision := func(name string) {
		t.Helper()
		if n := len(f.requestsFor(osb.OpProvision, f.id(name))); n != 0 {
			t.Errorf("%s: %d provision requests reached the broker", name, n)
		}
	}

	f.instance("schema", "kafka", "strict", func(i *scv1beta1.ServiceInstance) {
		i.Spec.Parameters = raw(t, map[string]any{"size": 50})
	})
	f.instance("missing-secret", "kafka", "small", func(i *scv1beta1.ServiceInstance) {
		i.Spec.Parameters = raw(t, map[string]any{"size": 3})
		i.Spec.ParametersFrom = from("pw-later", "params")
	})
	secret("not-object", "params", `["`+secretValue+`"]`)
	f.instance("not-object", "kafka", "small", func(i *scv1beta1.ServiceInstance) { i.Spec.ParametersFrom = from("not-object", "params") })
	secret("dup", "params", fmt.Sprintf(`{"size": 4, "password": %q}`, secretValue))
	f.instance("duplicate", "kafka", "small", func(i *scv1beta1.ServiceInstance) {
		i.Spec.Parameters = raw(t, map[string]any{"size": 3})
		i.Spec.ParametersFrom = from("dup", "params")
	})
	// A secret value the schema rejects: the violation names the
	// parameter, never the value.
	secret("bad-pw", "params", `{"password": "`+strings.ToUpper(secretValue)+`"}`)
	f.instance("secret-violation", "kafka", "strict", func(i *scv1beta1.ServiceInstance) { i.Spec.ParametersFrom = from("bad-pw", "params") })

	t.Run("schema-violation", func(t *testing.T) {
		inst := waitReason("schema", scv1beta1.ReasonInvalidParameters, "/size", "nothing was sent to the broker")
		noProvision("schema")
		// Fixed: provisioned with the new value.
		update(t, f.c, inst, func(i *scv1beta1.ServiceInstance) { i.Spec.Parameters = raw(t, map[string]any{"size": 5}) })
		f.ready("schema")
		reqs := f.requestsFor(osb.OpProvision, f.id("schema"))
		if len(reqs) != 1 || !strings.Contains(string(reqs[0].Body), `"parameters":{"size":5}`) {
			t.Errorf("provision requests %d, first %s", len(reqs), reqs[0].Body)
		}
	})

	t.Run("secret-violation", func(t *testing.T) {
		inst := waitReason("secret-violation", scv1beta1.ReasonInvalidParameters, "/password")
		noProvision("secret-violation")
		noneContain(t, "status", strings.ToUpper(secretValue), jsonOf(inst.Status))
	})

	t.Run("secret-created-later", func(t *testing.T) {
		waitReason("missing-secret", scv1beta1.ReasonErrorWithParameters, `"pw-later"`)
		noProvision("missing-secret")
		secret("pw-later", "params", fmt.Sprintf(`{"password": %q}`, secretValue))
		inst := f.ready("missing-secret")
		reqs := f.requestsFor(osb.OpProvision, f.id("missing-secret"))
		if len(reqs) != 1 {
			t.Fatalf("%d provision requests", len(reqs))
		}
		if p := body(t, reqs[0])["parameters"].(map[string]any); p["password"] != secretValue || p["size"] != float64(3) {
			t.Errorf("the broker got parameters %v", p)
		}
		ext := inst.Status.ExternalProperties
		if ext == nil || ext.Parameters == nil || ext.ParameterChecksum == "" {
			t.Fatalf("externalProperties %+v", ext)
		}
		var shown map[string]any
		if err := json.Unmarshal(ext.Parameters.Raw, &shown); err != nil || shown["password"] != "<redacted>" || shown["size"] != float64(3) {
			t.Errorf("externalProperties.parameters %s (%v)", ext.Parameters.Raw, err)
		}
		noneContain(t, "status", secretValue, jsonOf(inst.Status))
	})

	t.Run("not-an-object", func(t *testing.T) {
		inst := waitReason("not-object", scv1beta1.ReasonErrorWithParameters, `"not-object"`, "JSON object")
		noProvision("not-object")
		noneContain(t, "status", secretValue, jsonOf(inst.Status))
	})

	t.Run("duplicate-key", func(t *testing.T) {
		inst := waitReason("duplicate", scv1beta1.ReasonErrorWithParameters, `"size"`)
		noProvision("duplicate")
		noneContain(t, "status", secretValue, jsonOf(inst.Status))
	})

	t.Run("events", func(t *testing.T) {
		f.waitEvent(scv1beta1.ReasonInvalidParameters)
		noneContain(t, "event", secretValue, f.events()...)
		noneContain(t, "event", strings.ToUpper(secretValue), f.events()...)
	})
}

// An update is sent when the parameters, the plan or updateRequests
// change, with only what changed; a plan change the class forbids, or onto
// a removed plan, is refused with a condition and nothing is sent.
func TestInstanceUpdate(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "update")
	inst := f.instance("upd", "kafka", "small", func(i *scv1beta1.ServiceInstance) { i.Spec.Parameters = raw(t, map[string]any{"size": 1}) })
	fixed := f.instance("fixed", "fixed", "a", nil)
	f.ready("upd")
	f.ready("fixed")
	id := f.id("upd")

	lastUpdate := func(n int) map[string]any {
		t.Helper()
		eventually(t, 10*time.Second, fmt.Sprintf("update request %d", n), func() error {
			if got := len(f.requestsFor(osb.OpUpdate, id)); got < n {
				return fmt.Errorf("%d update requests", got)
			}
			return nil
		})
		reqs := f.requestsFor(osb.OpUpdate, id)
		if len(reqs) != n {
			t.Errorf("%d update requests, want %d", len(reqs), n)
		}
		return body(t, reqs[len(reqs)-1])
	}
	waitUpdated := func() *scv1beta1.ServiceInstance {
		t.Helper()
		return waitInstance(t, f.c, f.ns, "upd", func(i *scv1beta1.ServiceInstance) error {
			if err := instanceCondition(scv1beta1.ServiceInstanceConditionReady, "True", scv1beta1.ReasonInstanceUpdatedSuccessfully)(i); err != nil {
				return err
			}
			if i.Status.ObservedGeneration != i.Generation {
				return fmt.Errorf("observedGeneration %d of %d", i.Status.ObservedGeneration, i.Generation)
			}
			return nil
		})
	}

	t.Run("parameters", func(t *testing.T) {
		update(t, f.c, inst, func(i *scv1beta1.ServiceInstance) { i.Spec.Parameters = raw(t, map[string]any{"size": 2}) })
		b := lastUpdate(1)
		if _, ok := b["plan_id"]; ok || fmt.Sprint(b["parameters"]) != "map[size:2]" {
			t.Errorf("PATCH body %v: want parameters only", b)
		}
		got := waitUpdated()
		if !strings.Contains(string(got.Status.ExternalProperties.Parameters.Raw), `"size":2`) {
			t.Errorf("externalProperties %s", got.Status.ExternalProperties.Parameters.Raw)
		}
	})

	t.Run("plan", func(t *testing.T) {
		update(t, f.c, inst, func(i *scv1beta1.ServiceInstance) { i.Spec.ClusterServicePlanExternalName = "large" })
		b := lastUpdate(2)
		if _, ok := b["parameters"]; ok || b["plan_id"] != f.prefix+"-large" {
			t.Errorf("PATCH body %v: want plan_id only", b)
		}
		got := waitUpdated()
		if got.Status.ExternalProperties.ClusterServicePlanExternalID != f.prefix+"-large" || got.Spec.ClusterServicePlanRef.Name != f.prefix+"-large" {
			t.Errorf("after the plan change: spec ref %v, externalProperties %+v", got.Spec.ClusterServicePlanRef, got.Status.ExternalProperties)
		}
		if bi, _ := f.broker.Instance(id); bi.PlanID != f.prefix+"-large" {
			t.Errorf("the broker has plan %s", bi.PlanID)
		}
	})

	t.Run("updateRequests", func(t *testing.T) {
		update(t, f.c, inst, func(i *scv1beta1.ServiceInstance) { i.Spec.UpdateRequests++ })
		b := lastUpdate(3)
		if _, ok := b["parameters"]; ok {
			t.Errorf("PATCH body %v: want neither plan_id nor parameters", b)
		}
		if _, ok := b["plan_id"]; ok {
			t.Errorf("PATCH body %v: want neither plan_id nor parameters", b)
		}
		waitUpdated()
	})

	t.Run("plan-not-updatable", func(t *testing.T) {
		update(t, f.c, fixed, func(i *scv1beta1.ServiceInstance) { i.Spec.ClusterServicePlanExternalName = "b" })
		got := waitInstance(t, f.c, f.ns, "fixed", instanceCondition(scv1beta1.ServiceInstanceConditionReady, "False", scv1beta1.ReasonPlanChangeNotAllowed))
		if msg := readyMessage(got); !strings.Contains(msg, `"b"`) || !strings.Contains(msg, `set the plan back to "a"`) {
			t.Errorf("message %q", msg)
		}
		if n := len(f.requestsFor(osb.OpUpdate, f.id("fixed"))); n != 0 {
			t.Errorf("%d update requests sent", n)
		}
		// Set back: Ready again. The spec changed twice, so (as in v0.3)
		// an update may go out, but never one that changes the plan.
		update(t, f.c, fixed, func(i *scv1beta1.ServiceInstance) { i.Spec.ClusterServicePlanExternalName = "a" })
		f.ready("fixed")
		for _, r := range f.requestsFor(osb.OpUpdate, f.id("fixed")) {
			if _, ok := body(t, r)["plan_id"]; ok {
				t.Errorf("update request %s changes the plan", r.Body)
			}
		}
		if bi, _ := f.broker.Instance(f.id("fixed")); bi.PlanID != f.prefix+"-fixed-a" {
			t.Errorf("the broker has plan %s", bi.PlanID)
		}
	})

	t.Run("removed-plan", func(t *testing.T) {
		// The catalog drops "small": an existing instance on it may still
		// change parameters, but nothing new is provisioned onto it and no
		// instance moves to it.
		onSmall := f.instance("on-small", "kafka", "small", nil)
		f.ready("on-small")
		cat := fixtureCatalog(f.prefix)
		cat[0].Plans = cat[0].Plans[1:]
		if err := f.broker.SetCatalog(cat); err != nil {
			t.Fatal(err)
		}
		b := &scv1beta1.ClusterServiceBroker{ObjectMeta: metav1.ObjectMeta{Name: f.prefix}}
		update(t, f.c, b, func(b *scv1beta1.ClusterServiceBroker) { b.Spec.RelistRequests++ })
		plan := &scv1beta1.ClusterServicePlan{ObjectMeta: metav1.ObjectMeta{Name: f.prefix + "-small"}}
		eventually(t, 10*time.Second, "plan small marked removed", func() error {
			f.get(plan)
			if !plan.Status.RemovedFromBrokerCatalog {
				return fmt.Errorf("not marked")
			}
			return nil
		})

		f.instance("new-on-small", "kafka", "small", nil)
		waitInstance(t, f.c, f.ns, "new-on-small", instanceCondition(scv1beta1.ServiceInstanceConditionReady, "False", scv1beta1.ReasonReferencesDeletedServicePlan))
		update(t, f.c, inst, func(i *scv1beta1.ServiceInstance) { i.Spec.ClusterServicePlanExternalName = "small" })
		waitInstance(t, f.c, f.ns, "upd", instanceCondition(scv1beta1.ServiceInstanceConditionReady, "False", scv1beta1.ReasonReferencesDeletedServicePlan))
		// A parameter change on the removed plan is still sent (what the
		// broker makes of it is its business: this one refuses it).
		update(t, f.c, onSmall, func(i *scv1beta1.ServiceInstance) { i.Spec.Parameters = raw(t, map[string]any{"size": 7}) })
		eventually(t, 10*time.Second, "parameter update on a removed plan sent", func() error {
			for _, r := range f.requestsFor(osb.OpUpdate, f.id("on-small")) {
				if b := body(t, r); b["plan_id"] == nil && fmt.Sprint(b["parameters"]) == "map[size:7]" {
					return nil
				}
			}
			return fmt.Errorf("not sent")
		})

		if n := len(f.requestsFor(osb.OpProvision, f.id("new-on-small"))); n != 0 {
			t.Errorf("provisioned onto a removed plan")
		}
		if n := len(f.requestsFor(osb.OpUpdate, id)); n != 3 {
			t.Errorf("%d update requests for the instance moved to a removed plan; want the 3 before", n)
		}
		// Put the plan back so the broker's cleanup is not held up.
		if err := f.broker.SetCatalog(fixtureCatalog(f.prefix)); err != nil {
			t.Fatal(err)
		}
	})
}
