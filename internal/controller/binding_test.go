package controller_test

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	scv1beta1 "github.com/svcat-io/svcat/api/v1beta1"
	"github.com/svcat-io/svcat/internal/osb"
	"github.com/svcat-io/svcat/internal/testbroker"
)

// bindOps is the sequence of bind and unbind requests for one binding.
func (f *fixture) bindOps(bindingID string) string {
	var ops []string
	for _, r := range f.broker.Requests() {
		if r.BindingID == bindingID && (r.Operation == osb.OpBind || r.Operation == osb.OpUnbind) {
			ops = append(ops, string(r.Operation))
		}
	}
	return strings.Join(ops, ",")
}

func (f *fixture) brokerBindings(id string) int {
	n := 0
	for _, b := range f.broker.Bindings() {
		if b.ID == id {
			n++
		}
	}
	return n
}

// secret returns the Secret ns/name, or nil when there is none.
func (f *fixture) secret(name string) *corev1.Secret {
	f.t.Helper()
	s := &corev1.Secret{}
	err := f.c.Get(context.Background(), client.ObjectKey{Namespace: f.ns, Name: name}, s)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		f.t.Fatal(err)
	}
	return s
}

func keysOf(m map[string][]byte) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Asynchronous binds, and the orphan mitigation rows for bindings: a bind
// answered 500 after the broker made the binding is unbound and tried
// again; an asynchronous bind that fails is unbound and the binding Failed.
func TestBindingOrphanMitigation(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "om-bind")
	f.instance("db", "kafka", "small", nil)
	f.ready("db")

	f.broker.On(testbroker.Rule{Operation: osb.OpBind, BindingID: f.id("b500"), Status: 500, ApplyFirst: true, Times: 1})
	f.binding("b500", "db", nil)
	f.broker.On(testbroker.Rule{Operation: osb.OpBind, BindingID: f.id("async-failed"), Async: true, AsyncPolls: 1, AsyncFail: true, Description: "quota exceeded"})
	f.binding("async-failed", "db", nil)
	f.broker.On(testbroker.Rule{Operation: osb.OpBind, BindingID: f.id("async-ok"), Async: true, AsyncPolls: 1})
	f.binding("async-ok", "db", nil)
	f.broker.On(testbroker.Rule{Operation: osb.OpBind, BindingID: f.id("mid-bind"), Async: true, AsyncDelay: 2 * time.Second})
	f.broker.On(testbroker.Rule{Operation: osb.OpUnbind, BindingID: f.id("mid-bind"), Status: 500, Times: 1})
	mid := f.binding("mid-bind", "db", nil)

	t.Run("async", func(t *testing.T) {
		b := f.bindingReady("async-ok")
		if sec := f.secret("async-ok"); sec == nil || string(sec.Data["password"]) != fmt.Sprint(f.broker.Credentials(b.Spec.ExternalID)["password"]) {
			t.Errorf("Secret does not hold the credentials fetched after the asynchronous bind")
		}
	})

	// Deleted while its asynchronous bind runs, and the first unbind fails:
	// the bind's success must not pass for the unbind's.
	t.Run("deleted-mid-bind", func(t *testing.T) {
		waitBinding(t, f.c, f.ns, "mid-bind", func(b *scv1beta1.ServiceBinding) error {
			if !b.Status.AsyncOpInProgress {
				return fmt.Errorf("no operation in progress")
			}
			return nil
		})
		if err := f.c.Delete(context.Background(), mid); err != nil {
			t.Fatal(err)
		}
		waitGone(t, f.c, mid)
		if got := f.bindOps(f.id("mid-bind")); got != "bind,unbind,unbind" {
			t.Errorf("broker saw %s", got)
		}
		if f.brokerBindings(f.id("mid-bind")) != 0 {
			t.Error("left at the broker")
		}
	})

	t.Run("500-after-binding", func(t *testing.T) {
		id := f.id("b500")
		b := f.bindingReady("b500")
		if got := f.bindOps(id); got != "bind,unbind,bind" {
			t.Errorf("broker saw %s", got)
		}
		if n := f.brokerBindings(id); n != 1 {
			t.Errorf("broker holds %d bindings %s", n, id)
		}
		sec := f.secret("b500")
		if sec == nil || string(sec.Data["password"]) != fmt.Sprint(f.broker.Credentials(id)["password"]) || !metav1.IsControlledBy(sec, b) {
			t.Errorf("Secret does not hold the credentials of the binding that was kept")
		}
		if b.Status.OrphanMitigationInProgress || b.Status.GetCondition(scv1beta1.ServiceBindingConditionFailed) != nil {
			t.Errorf("status %+v", b.Status)
		}
	})

	t.Run("async-failed", func(t *testing.T) {
		id := f.id("async-failed")
		b := waitBinding(t, f.c, f.ns, "async-failed", func(b *scv1beta1.ServiceBinding) error {
			if err := bindingCondition(scv1beta1.ServiceBindingConditionFailed, "True", scv1beta1.ReasonBindCallFailed)(b); err != nil {
				return err
			}
			if b.Status.OrphanMitigationInProgress {
				return fmt.Errorf("orphan mitigation in progress")
			}
			return nil
		})
		if c := b.Status.GetCondition(scv1beta1.ServiceBindingConditionFailed); !strings.Contains(c.Message, "quota exceeded") {
			t.Errorf("Failed message %q", c.Message)
		}
		if got := f.bindOps(id); got != "bind,unbind" {
			t.Errorf("broker saw %s", got)
		}
		if f.brokerBindings(id) != 0 || f.secret("async-failed") != nil {
			t.Errorf("failed binding left at the broker or in a Secret")
		}
		if b.Status.UnbindStatus == scv1beta1.ServiceBindingUnbindStatusRequired {
			t.Errorf("unbindStatus %s after mitigation", b.Status.UnbindStatus)
		}
	})
}

// Binding Secrets: transforms applied, someone else's Secret never
// overwritten, a deleted Secret restored from the broker or reported.
func TestBindingSecrets(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "secrets")
	ctx := context.Background()
	f.instance("db", "kafka", "small", nil)
	f.instance("fixed", "fixed", "a", nil)
	f.ready("db")
	f.ready("fixed")

	extra := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: f.ns, Name: "extra"}, Data: map[string][]byte{"region": []byte("eu-north")}}
	foreign := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: f.ns, Name: "taken"}, Data: map[string][]byte{"mine": []byte("keep me")}}
	for _, s := range []*corev1.Secret{extra, foreign} {
		if err := f.c.Create(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	f.binding("transformed", "db", func(b *scv1beta1.ServiceBinding) {
		b.Spec.SecretName = "app-kafka"
		b.Spec.SecretTransforms = []scv1beta1.SecretTransform{
			{RenameKey: &scv1beta1.RenameKeyTransform{From: "password", To: "kafka-password"}},
			{AddKey: &scv1beta1.AddKeyTransform{Key: "mode", StringValue: ptr("tls")}},
			{AddKey: &scv1beta1.AddKeyTransform{Key: "user", JSONPathExpression: ptr("{.username}")}},
			{AddKeysFrom: &scv1beta1.AddKeysFromTransform{SecretRef: &scv1beta1.ObjectReference{Name: "extra"}}},
			{RemoveKey: &scv1beta1.RemoveKeyTransform{Key: "ca"}},
		}
	})
	f.binding("conflict", "db", func(b *scv1beta1.ServiceBinding) { b.Spec.SecretName = "taken" })
	f.binding("retrievable", "db", nil)
	f.binding("not-retrievable", "fixed", nil)

	t.Run("transforms", func(t *testing.T) {
		b := f.bindingReady("transformed")
		sec := f.secret("app-kafka")
		if sec == nil {
			t.Fatal("no Secret app-kafka")
		}
		creds := f.broker.Credentials(b.Spec.ExternalID)
		want := map[string]string{
			"kafka-password": fmt.Sprint(creds["password"]), "mode": "tls", "user": fmt.Sprint(creds["username"]),
			"username": fmt.Sprint(creds["username"]), "region": "eu-north", "type": "", "provider": f.prefix,
		}
		for k, v := range want {
			if got, ok := sec.Data[k]; !ok || (v != "" && string(got) != v) {
				t.Errorf("Secret key %s = %q, want %q (keys %v)", k, got, v, keysOf(sec.Data))
			}
		}
		for _, k := range []string{"password", "ca"} {
			if _, ok := sec.Data[k]; ok {
				t.Errorf("Secret still has %s (keys %v)", k, keysOf(sec.Data))
			}
		}
		if b.Status.Binding == nil || b.Status.Binding.Name != "app-kafka" {
			t.Errorf("status.binding %v", b.Status.Binding)
		}
	})

	t.Run("foreign-secret", func(t *testing.T) {
		b := waitBinding(t, f.c, f.ns, "conflict", bindingCondition(scv1beta1.ServiceBindingConditionReady, "False", scv1beta1.ReasonErrorSecretOwnedByAnother))
		if c := b.Status.GetCondition(scv1beta1.ServiceBindingConditionReady); !strings.Contains(c.Message, `"taken"`) {
			t.Errorf("message %q", c.Message)
		}
		if got := f.bindOps(f.id("conflict")); got != "" {
			t.Errorf("broker saw %s for a binding with nowhere to put the credentials", got)
		}
		if sec := f.secret("taken"); sec == nil || string(sec.Data["mine"]) != "keep me" || len(sec.Data) != 1 || len(sec.OwnerReferences) != 0 {
			t.Errorf("the foreign Secret was changed: %+v", sec)
		}
		// Its owner deletes it: the binding goes ahead.
		if err := f.c.Delete(ctx, foreign); err != nil {
			t.Fatal(err)
		}
		f.bindingReady("conflict")
		if sec := f.secret("taken"); sec == nil || !metav1.IsControlledBy(sec, b) {
			t.Errorf("binding Secret not written")
		}
	})

	// Deleted before any bind outcome was recorded (as after a crash
	// between the request and the status write): unbound anyway, since the
	// instance is provisioned; the broker's 410 means there was nothing.
	t.Run("deleted-without-outcome", func(t *testing.T) {
		other := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: f.ns, Name: "taken-too"}}
		if err := f.c.Create(ctx, other); err != nil {
			t.Fatal(err)
		}
		b := f.binding("never-bound", "db", func(b *scv1beta1.ServiceBinding) { b.Spec.SecretName = "taken-too" })
		waitBinding(t, f.c, f.ns, "never-bound", bindingCondition(scv1beta1.ServiceBindingConditionReady, "False", scv1beta1.ReasonErrorSecretOwnedByAnother))
		if err := f.c.Delete(ctx, b); err != nil {
			t.Fatal(err)
		}
		waitGone(t, f.c, b)
		if got := f.bindOps(f.id("never-bound")); got != "unbind" {
			t.Errorf("broker saw %q", got)
		}
		if f.secret("taken-too") == nil {
			t.Error("someone else's Secret was deleted with the binding")
		}
	})

	t.Run("restored-from-broker", func(t *testing.T) {
		b := f.bindingReady("retrievable")
		before := f.secret("retrievable")
		if err := f.c.Delete(ctx, before); err != nil {
			t.Fatal(err)
		}
		eventually(t, 10*time.Second, "Secret restored", func() error {
			s := f.secret("retrievable")
			if s == nil || s.UID == before.UID {
				return fmt.Errorf("not restored")
			}
			if !bindsecretEqual(s.Data, before.Data) || !metav1.IsControlledBy(s, b) {
				return fmt.Errorf("restored with other data or owner: keys %v", keysOf(s.Data))
			}
			return nil
		})
		if n := len(f.broker.RequestsFor(osb.OpGetBinding)); n == 0 {
			t.Error("not fetched from the broker")
		}
		if got := f.bindOps(b.Spec.ExternalID); got != "bind" {
			t.Errorf("broker saw %s: a new binding instead of the same credentials", got)
		}
		f.waitEvent("SecretRestored")
		f.bindingReady("retrievable")
	})

	t.Run("not-retrievable", func(t *testing.T) {
		f.bindingReady("not-retrievable")
		if err := f.c.Delete(ctx, f.secret("not-retrievable")); err != nil {
			t.Fatal(err)
		}
		b := waitBinding(t, f.c, f.ns, "not-retrievable", bindingCondition(scv1beta1.ServiceBindingConditionReady, "False", scv1beta1.ReasonErrorSecretDeleted))
		if msg := b.Status.GetCondition(scv1beta1.ServiceBindingConditionReady).Message; !strings.Contains(msg, "recreate the binding") {
			t.Errorf("message %q", msg)
		}
		if f.secret("not-retrievable") != nil {
			t.Error("a Secret appeared from nowhere")
		}
	})
}

func bindsecretEqual(a, b map[string][]byte) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if string(b[k]) != string(v) {
			return false
		}
	}
	return true
}

// A deletion stuck at the broker is let go when the user asks, with an
// event that says what may be left behind.
func TestAbandon(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "abandon")
	ctx := context.Background()
	inst := f.instance("stuck", "kafka", "small", nil)
	f.ready("stuck")
	b := f.binding("stuck-b", "stuck", nil)
	f.bindingReady("stuck-b")
	f.broker.On(testbroker.Rule{Operation: osb.OpUnbind, BindingID: f.id("stuck-b"), Status: 500})
	f.broker.On(testbroker.Rule{Operation: osb.OpDeprovision, InstanceID: f.id("stuck"), Status: 500})
	abandon := func(o client.Object) {
		t.Helper()
		patch := client.RawPatch("application/merge-patch+json", []byte(`{"metadata":{"annotations":{"`+scv1beta1.AnnotationAbandon+`":"true"}}}`))
		if err := f.c.Patch(ctx, o, patch); err != nil {
			t.Fatal(err)
		}
	}

	if err := f.c.Delete(ctx, b); err != nil {
		t.Fatal(err)
	}
	waitBinding(t, f.c, f.ns, "stuck-b", bindingCondition(scv1beta1.ServiceBindingConditionReady, "False", scv1beta1.ReasonUnbindCallFailed))
	if f.secret("stuck-b") != nil {
		t.Error("credentials kept while unbinding fails")
	}
	abandon(b)
	waitGone(t, f.c, b)
	if note := f.waitEvent(scv1beta1.ReasonAbandoned); !strings.Contains(note, f.id("stuck-b")) {
		t.Errorf("event %q does not name the binding's ID", note)
	}

	if err := f.c.Delete(ctx, inst); err != nil {
		t.Fatal(err)
	}
	waitInstance(t, f.c, f.ns, "stuck", instanceCondition(scv1beta1.ServiceInstanceConditionReady, "False", scv1beta1.ReasonDeprovisionCallFailed))
	abandon(inst)
	waitGone(t, f.c, inst)
	eventually(t, 10*time.Second, "abandon event for the instance", func() error {
		for _, e := range f.events() {
			if strings.HasPrefix(e, scv1beta1.ReasonAbandoned+": ") && strings.Contains(e, f.id("stuck")+"") && strings.Contains(e, "instance") {
				return nil
			}
		}
		return fmt.Errorf("none in %v", f.events())
	})
	// Abandoned, not deprovisioned: the broker still has them.
	if f.brokerInstances(f.id("stuck")) != 1 || f.brokerBindings(f.id("stuck-b")) != 1 {
		t.Errorf("broker: %d instances, %d bindings", f.brokerInstances(f.id("stuck")), f.brokerBindings(f.id("stuck-b")))
	}
}

// An asynchronous bind that outlasts the plan's maximum_polling_duration
// counts as failed, as the OSB spec says for bindings too: the binding is
// Failed with a message that says so, and what the broker may have made is
// unbound.
func TestBindingMaximumPollingDuration(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "maxpoll-bind")
	f.instance("db", "kafka", "slow", nil)
	f.ready("db")
	f.broker.On(testbroker.Rule{Operation: osb.OpBind, BindingID: f.id("too-slow"), Async: true, AsyncDelay: time.Minute})
	f.binding("too-slow", "db", nil)

	b := waitBinding(t, f.c, f.ns, "too-slow", func(b *scv1beta1.ServiceBinding) error {
		if err := bindingCondition(scv1beta1.ServiceBindingConditionFailed, "True", scv1beta1.ReasonAsyncOperationTimeout)(b); err != nil {
			return err
		}
		if b.Status.OrphanMitigationInProgress {
			return fmt.Errorf("orphan mitigation in progress")
		}
		return nil
	})
	// v0.3's reasons: the timeout, then the orphan mitigation's success.
	if c := b.Status.GetCondition(scv1beta1.ServiceBindingConditionReady); c.Reason != scv1beta1.ReasonOrphanMitigationSuccessful {
		t.Errorf("Ready %+v, want reason %s", c, scv1beta1.ReasonOrphanMitigationSuccessful)
	}
	if c := b.Status.GetCondition(scv1beta1.ServiceBindingConditionFailed); !strings.Contains(c.Message, "maximum_polling_duration of 2s") {
		t.Errorf("Failed message %q", c.Message)
	}
	if got := f.bindOps(f.id("too-slow")); got != "bind,unbind" {
		t.Errorf("broker saw %s", got)
	}
	if f.brokerBindings(f.id("too-slow")) != 0 {
		t.Error("the abandoned binding is left at the broker")
	}
	if f.secret("too-slow") != nil {
		t.Error("a Secret was written for a binding that failed")
	}
}
