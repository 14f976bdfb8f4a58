package controller_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	scv1beta1 "github.com/svcat-io/svcat/api/v1beta1"
	"github.com/svcat-io/svcat/internal/osb"
	"github.com/svcat-io/svcat/internal/testbroker"
)

// quiet is how long a test waits to see that nothing is sent: several
// times what a watched Secret's event takes to reach a reconcile and its
// broker call.
const quiet = 4 * time.Second

// A change to a Secret named in an instance's parametersFrom reaches the
// broker as one update with the new parameters, as a change of
// spec.parameters does; a change the parameters do not depend on (another
// key, another Secret) sends nothing; a Secret deleted or without its key
// is reported on the instance and nothing is sent; bindings, immutable as
// in v0.3, are not updated.
func TestParameterSecretChanges(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "psec")
	ctx := context.Background()

	secret := func(name string, data map[string]string) *corev1.Secret {
		t.Helper()
		s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: f.ns, Name: name}, StringData: data}
		if err := f.c.Create(ctx, s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	setSecret := func(s *corev1.Secret, data map[string]string) {
		t.Helper()
		update(t, f.c, s, func(s *corev1.Secret) {
			s.Data = map[string][]byte{}
			for k, v := range data {
				s.Data[k] = []byte(v)
			}
		})
	}
	from := func(name, key string) []scv1beta1.ParametersFromSource {
		return []scv1beta1.ParametersFromSource{{SecretKeyRef: &scv1beta1.SecretKeyReference{Name: name, Key: key}}}
	}
	updates := func(name string) []map[string]any {
		var out []map[string]any
		for _, r := range f.requestsFor(osb.OpUpdate, f.id(name)) {
			out = append(out, body(t, r))
		}
		return out
	}
	waitUpdates := func(name string, n int) []map[string]any {
		t.Helper()
		eventually(t, 30*time.Second, fmt.Sprintf("%d update requests for %s", n, name), func() error {
			if got := len(updates(name)); got < n {
				return fmt.Errorf("%d update requests", got)
			}
			return nil
		})
		return updates(name)
	}
	checksum := func(name string) string {
		inst := f.ready(name)
		if inst.Status.ExternalProperties == nil {
			t.Fatalf("%s: no externalProperties", name)
		}
		return inst.Status.ExternalProperties.ParameterChecksum
	}

	creds := secret("creds", map[string]string{"params": `{"password":"one"}`, "other": "not referenced"})
	unrelated := secret("unrelated", map[string]string{"params": `{"password":"zzz"}`})
	f.instance("watched", "kafka", "small", func(i *scv1beta1.ServiceInstance) {
		i.Spec.Parameters = raw(t, map[string]any{"size": 3})
		i.Spec.ParametersFrom = from("creds", "params")
	})
	first := checksum("watched")

	t.Run("referenced-key", func(t *testing.T) {
		setSecret(creds, map[string]string{"params": `{"password":"two"}`, "other": "not referenced"})
		got := waitUpdates("watched", 1)
		if p := fmt.Sprint(got[0]["parameters"]); p != "map[password:two size:3]" {
			t.Errorf("the update carried parameters %s", p)
		}
		if _, ok := got[0]["plan_id"]; ok {
			t.Errorf("the update changes the plan: %v", got[0])
		}
		inst := waitInstance(t, f.c, f.ns, "watched", instanceCondition(scv1beta1.ServiceInstanceConditionReady, "True", scv1beta1.ReasonInstanceUpdatedSuccessfully))
		if inst.Status.ExternalProperties.ParameterChecksum == first {
			t.Errorf("the checksum in the status did not change")
		}
		noneContain(t, "status", "two", string(inst.Status.ExternalProperties.Parameters.Raw))
		time.Sleep(quiet)
		if n := len(updates("watched")); n != 1 {
			t.Errorf("%d update requests for one change of the Secret", n)
		}
	})

	t.Run("unreferenced-key-and-unrelated-secret", func(t *testing.T) {
		before := checksum("watched")
		setSecret(creds, map[string]string{"params": `{"password":"two"}`, "other": "changed"})
		// The same value written again (formatted differently) is the same
		// parameters: nothing to send.
		setSecret(creds, map[string]string{"params": `{ "password": "two" }`, "other": "changed"})
		setSecret(unrelated, map[string]string{"params": `{"password":"yyy"}`})
		time.Sleep(quiet)
		if n := len(updates("watched")); n != 1 {
			t.Errorf("%d update requests; want still the 1 of the earlier change", n)
		}
		if after := checksum("watched"); after != before {
			t.Errorf("checksum moved from %s to %s", before, after)
		}
	})

	t.Run("key-removed", func(t *testing.T) {
		setSecret(creds, map[string]string{"other": "changed"})
		inst := waitInstance(t, f.c, f.ns, "watched", instanceCondition(scv1beta1.ServiceInstanceConditionReady, "False", scv1beta1.ReasonErrorWithParameters))
		if msg := readyMessage(inst); !strings.Contains(msg, `"creds"`) || !strings.Contains(msg, `"params"`) {
			t.Errorf("message %q names neither the Secret nor the key", msg)
		}
		if n := len(updates("watched")); n != 1 {
			t.Errorf("%d update requests while the key is missing", n)
		}
	})

	t.Run("deleted-then-recreated", func(t *testing.T) {
		if err := f.c.Delete(ctx, creds); err != nil {
			t.Fatal(err)
		}
		waitInstance(t, f.c, f.ns, "watched", func(inst *scv1beta1.ServiceInstance) error {
			if err := instanceCondition(scv1beta1.ServiceInstanceConditionReady, "False", scv1beta1.ReasonErrorWithParameters)(inst); err != nil {
				return err
			}
			if msg := readyMessage(inst); !strings.Contains(msg, `"creds"`) || !strings.Contains(msg, "does not exist") {
				return fmt.Errorf("message %q", msg)
			}
			return nil
		})
		if n := len(updates("watched")); n != 1 {
			t.Errorf("%d update requests while the Secret is gone", n)
		}
		creds = secret("creds", map[string]string{"params": `{"password":"three"}`})
		got := waitUpdates("watched", 2)
		if p := fmt.Sprint(got[1]["parameters"]); p != "map[password:three size:3]" {
			t.Errorf("the update carried parameters %s", p)
		}
		waitInstance(t, f.c, f.ns, "watched", instanceCondition(scv1beta1.ServiceInstanceConditionReady, "True", scv1beta1.ReasonInstanceUpdatedSuccessfully))
		time.Sleep(quiet)
		if n := len(updates("watched")); n != 2 {
			t.Errorf("%d update requests; want 2", n)
		}
	})

	// A value that is not JSON is not retried (no change of the spec or the
	// Secret can be waited out): the Secret's fix is what brings the next
	// reconcile.
	t.Run("not-json-then-fixed", func(t *testing.T) {
		setSecret(creds, map[string]string{"params": `{"password": "four`})
		inst := waitInstance(t, f.c, f.ns, "watched", instanceCondition(scv1beta1.ServiceInstanceConditionReady, "False", scv1beta1.ReasonErrorWithParameters))
		if msg := readyMessage(inst); !strings.Contains(msg, "not valid JSON") || strings.Contains(msg, "four") {
			t.Errorf("message %q: want the reason, never the value", msg)
		}
		setSecret(creds, map[string]string{"params": `{"password":"four"}`})
		got := waitUpdates("watched", 3)
		if p := fmt.Sprint(got[2]["parameters"]); p != "map[password:four size:3]" {
			t.Errorf("the update carried parameters %s", p)
		}
		waitInstance(t, f.c, f.ns, "watched", instanceCondition(scv1beta1.ServiceInstanceConditionReady, "True", scv1beta1.ReasonInstanceUpdatedSuccessfully))
		if n := len(updates("watched")); n != 3 {
			t.Errorf("%d update requests; want 3", n)
		}
	})

	t.Run("binding-not-updated", func(t *testing.T) {
		bp := secret("bind-params", map[string]string{"params": `{"role":"reader"}`})
		f.instance("plain", "kafka", "small", nil)
		f.ready("plain")
		f.binding("bound", "plain", func(b *scv1beta1.ServiceBinding) { b.Spec.ParametersFrom = from("bind-params", "params") })
		f.bindingReady("bound")
		setSecret(bp, map[string]string{"params": `{"role":"writer"}`})
		time.Sleep(quiet)
		var binds, unbinds int
		for _, r := range f.broker.Requests() {
			if r.BindingID != f.id("bound") {
				continue
			}
			switch r.Operation {
			case osb.OpBind:
				binds++
			case osb.OpUnbind:
				unbinds++
			}
		}
		if binds != 1 || unbinds != 0 {
			t.Errorf("%d bind and %d unbind requests after the binding's Secret changed; want 1 and 0", binds, unbinds)
		}
		f.bindingReady("bound")
		if n := len(updates("plain")); n != 0 {
			t.Errorf("%d update requests for the binding's instance", n)
		}
	})
}

// A Secret that changes while an asynchronous provision runs: the
// reconciles its events bring can only poll, so the change goes out as one
// update once the provision has ended, not lost until the next resync.
func TestParameterSecretChangesDuringOperation(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "psecop")
	ctx := context.Background()
	f.broker.On(testbroker.Rule{Operation: osb.OpProvision, InstanceID: f.id("async"), Async: true, AsyncDelay: 3 * time.Second})
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: f.ns, Name: "async-params"}, StringData: map[string]string{"params": `{"password":"before"}`}}
	if err := f.c.Create(ctx, s); err != nil {
		t.Fatal(err)
	}
	f.instance("async", "kafka", "small", func(i *scv1beta1.ServiceInstance) {
		i.Spec.ParametersFrom = []scv1beta1.ParametersFromSource{{SecretKeyRef: &scv1beta1.SecretKeyReference{Name: "async-params", Key: "params"}}}
	})
	waitInstance(t, f.c, f.ns, "async", func(i *scv1beta1.ServiceInstance) error {
		if !i.Status.AsyncOpInProgress {
			return fmt.Errorf("no operation in progress")
		}
		return nil
	})
	update(t, f.c, s, func(s *corev1.Secret) { s.Data = map[string][]byte{"params": []byte(`{"password":"after"}`)} })

	waitInstance(t, f.c, f.ns, "async", instanceCondition(scv1beta1.ServiceInstanceConditionReady, "True", scv1beta1.ReasonInstanceUpdatedSuccessfully))
	prov, upd := f.requestsFor(osb.OpProvision, f.id("async")), f.requestsFor(osb.OpUpdate, f.id("async"))
	if len(prov) != 1 || fmt.Sprint(body(t, prov[0])["parameters"]) != "map[password:before]" {
		t.Errorf("%d provision requests; the first %s", len(prov), prov[0].Body)
	}
	if len(upd) != 1 || fmt.Sprint(body(t, upd[0])["parameters"]) != "map[password:after]" {
		t.Fatalf("%d update requests, want one with the new password", len(upd))
	}
	time.Sleep(quiet)
	if n := len(f.requestsFor(osb.OpUpdate, f.id("async"))); n != 1 {
		t.Errorf("%d update requests for one change", n)
	}
}
