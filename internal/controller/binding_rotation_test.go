package controller_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	scv1beta1 "github.com/svcat-io/svcat/api/v1beta1"
	"github.com/svcat-io/svcat/internal/controller/metrics"
	"github.com/svcat-io/svcat/internal/osb"
	"github.com/svcat-io/svcat/internal/testbroker"
)

// rotationFixture is a fixture whose class "<p>-kafka" has a rotatable
// plan "rot" and a plan "plain" that is not, and whose broker gives
// credentials the lifetime given (0: none).
func rotationFixture(t *testing.T, prefix string, lifetime time.Duration) *fixture {
	t.Helper()
	env := controlPlane(t)
	f := &fixture{t: t, env: env, c: env.Client, ns: env.Namespace(t), prefix: prefix}
	f.broker = testbroker.Start(t, testbroker.Options{BindingLifetime: lifetime, Catalog: []osb.Service{{
		ID: prefix + "-svc", Name: prefix + "-kafka", Description: "Kafka for " + prefix, Bindable: true, BindingsRetrievable: true,
		Plans: []osb.Plan{
			{ID: prefix + "-rot", Name: "rot", Description: "Rotatable", BindingRotatable: true},
			{ID: prefix + "-plain", Name: "plain", Description: "Not rotatable"},
		},
	}}})
	f.proxy = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.times = append(f.times, timedRequest{time.Now(), r.Method, r.URL.Path})
		f.mu.Unlock()
		f.broker.ServeHTTP(w, r)
	}))
	t.Cleanup(func() { f.proxy.Close() })
	f.register(f.proxy.URL)
	return f
}

// withGrace gives a binding a rotation policy with only a grace period.
func withGrace(d time.Duration) func(*scv1beta1.ServiceBinding) {
	return func(b *scv1beta1.ServiceBinding) {
		b.Spec.RotationPolicy = &scv1beta1.BindingRotationPolicy{GracePeriod: &metav1.Duration{Duration: d}}
	}
}

// requestRotation sets the rotation-request annotation to token.
func (f *fixture) requestRotation(name, token string) {
	f.t.Helper()
	update(f.t, f.c, &scv1beta1.ServiceBinding{ObjectMeta: metav1.ObjectMeta{Namespace: f.ns, Name: name}}, func(b *scv1beta1.ServiceBinding) {
		if b.Annotations == nil {
			b.Annotations = map[string]string{}
		}
		b.Annotations[scv1beta1.AnnotationRotationRequest] = token
	})
}

// rotatedFor waits until the request token was honoured with new
// credentials in the Secret.
func (f *fixture) rotatedFor(name, token string) *scv1beta1.ServiceBinding {
	f.t.Helper()
	return waitBinding(f.t, f.c, f.ns, name, func(b *scv1beta1.ServiceBinding) error {
		r := b.Status.Rotation
		if r == nil || r.LastRequest != token || r.Pending != nil {
			return fmt.Errorf("rotation %s not done: %+v", token, r)
		}
		return bindingCondition(scv1beta1.ServiceBindingConditionRotation, scv1beta1.ConditionTrue, scv1beta1.ReasonCredentialsRotated)(b)
	})
}

// bindRequest is the one bind request sent for a broker binding ID.
func (f *fixture) bindRequest(id string) map[string]any {
	f.t.Helper()
	var out []map[string]any
	for _, r := range f.broker.RequestsFor(osb.OpBind) {
		if r.BindingID == id {
			out = append(out, body(f.t, r))
		}
	}
	if len(out) != 1 {
		f.t.Fatalf("%d bind requests for %s, want 1", len(out), id)
	}
	return out[0]
}

// rotationCount reads svcat_binding_rotations_total; the controller runs
// in the test process.
func rotationCount(t *testing.T, trigger, outcome string) float64 {
	t.Helper()
	return testutil.ToFloat64(metrics.BindingRotations.WithLabelValues(trigger, outcome))
}

func (f *fixture) password(secret string) string {
	f.t.Helper()
	s := f.secret(secret)
	if s == nil {
		f.t.Fatalf("no Secret %s", secret)
	}
	return string(s.Data["password"])
}

// On request, on a rotatable plan: a bind naming the old binding as
// predecessor, the new credentials in the same Secret, the old binding
// kept through its grace period and unbound after it, the request
// honoured once, and every broker binding unbound when the binding goes.
func TestRotationOnRequest(t *testing.T) {
	t.Parallel()
	f := rotationFixture(t, "rot-req", 0)
	f.instance("db", "kafka", "rot", nil)
	f.ready("db")
	grace := 4 * time.Second
	b := f.binding("app", "db", withGrace(grace))
	b = f.bindingReady("app")
	oldID := b.Spec.ExternalID
	before := f.secret("app")
	oldPass := string(before.Data["password"])

	succeeded := rotationCount(t, "request", "succeeded")
	f.requestRotation("app", "t1")
	b = f.rotatedFor("app", "t1")
	rot := b.Status.Rotation
	// Other tests rotate in the same controller: at least this one.
	if n := rotationCount(t, "request", "succeeded"); n < succeeded+1 {
		t.Errorf("svcat_binding_rotations_total{trigger=request,outcome=succeeded} %v after the rotation, was %v", n, succeeded)
	}
	if g := testutil.ToFloat64(metrics.RetiringBindings); g < 1 {
		t.Errorf("svcat_binding_rotations_retiring %v with an old binding retiring", g)
	}
	newID := rot.CurrentBindingID
	if newID == "" || newID == oldID {
		t.Fatalf("currentBindingID %q (the old was %q)", newID, oldID)
	}
	if got := f.bindRequest(newID)["predecessor_binding_id"]; got != oldID {
		t.Errorf("the rotation's bind named predecessor_binding_id %v, want %s", got, oldID)
	}
	after := f.secret("app")
	if after.UID != before.UID || after.Name != "app" {
		t.Errorf("the Secret was replaced (uid %s, was %s): consumers mounting it would not see the new credentials", after.UID, before.UID)
	}
	newPass := string(after.Data["password"])
	if newPass == oldPass || newPass != fmt.Sprint(f.broker.Credentials(newID)["password"]) {
		t.Errorf("the Secret does not hold the new binding's credentials")
	}
	if rot.LastRotationTime == nil || len(rot.Retiring) != 1 || rot.Retiring[0].BindingID != oldID {
		t.Fatalf("status.rotation %+v: want the old binding retiring", rot)
	}
	if b.Spec.ExternalID != oldID {
		t.Errorf("spec.externalID changed to %s", b.Spec.ExternalID)
	}

	// The old binding is unbound at the broker, not before its grace
	// period has passed.
	waitBinding(t, f.c, f.ns, "app", func(b *scv1beta1.ServiceBinding) error {
		if n := len(b.Status.Rotation.Retiring); n != 0 {
			return fmt.Errorf("%d bindings retiring", n)
		}
		return nil
	})
	if n := f.brokerBindings(oldID); n != 0 {
		t.Errorf("the broker still holds the old binding")
	}
	if n := f.brokerBindings(newID); n != 1 {
		t.Errorf("the broker holds %d of the new binding", n)
	}
	unbinds := f.requestTimes(http.MethodDelete, "/service_bindings/"+oldID)
	if len(unbinds) != 1 {
		t.Fatalf("%d unbinds of the old binding", len(unbinds))
	}
	// lastRotationTime has whole seconds.
	if earliest := rot.LastRotationTime.Add(grace - time.Second); unbinds[0].Before(earliest) {
		t.Errorf("the old binding was unbound at %v, before its grace period ended (%v)", unbinds[0], earliest)
	}
	f.waitEvent(scv1beta1.ReasonOldCredentialsUnbound)

	// The same token again asks for nothing; a new one for one rotation.
	f.requestRotation("app", "t1")
	time.Sleep(time.Second)
	if n := len(f.broker.RequestsFor(osb.OpBind)); n != 2 {
		t.Errorf("%d binds after the same request again, want 2", n)
	}
	f.requestRotation("app", "t2")
	b = f.rotatedFor("app", "t2")
	if got := f.bindRequest(b.Status.Rotation.CurrentBindingID)["predecessor_binding_id"]; got != newID {
		t.Errorf("the second rotation named predecessor %v, want %s", got, newID)
	}

	var texts []string
	for _, c := range b.Status.Conditions {
		texts = append(texts, c.Message)
	}
	noneContain(t, "the conditions and events", newPass, append(texts, f.events()...)...)

	// A rotated ID is claimed like spec.externalID: another binding that
	// copies it is refused and sends nothing.
	current := b.Status.Rotation.CurrentBindingID
	copycat := f.binding("copycat", "db", func(c *scv1beta1.ServiceBinding) { c.Spec.ExternalID = current })
	waitBinding(t, f.c, f.ns, "copycat", bindingCondition(scv1beta1.ServiceBindingConditionReady, scv1beta1.ConditionFalse, scv1beta1.ReasonExternalIDInUse))
	if got := f.bindOps(current); got != "bind" {
		t.Errorf("broker saw %s for the rotated ID after another binding copied it", got)
	}
	if err := f.c.Delete(context.Background(), copycat); err != nil {
		t.Fatal(err)
	}
	waitGone(t, f.c, copycat)
	if got := f.bindOps(current); got != "bind" {
		t.Errorf("broker saw %s for the rotated ID after the copy was deleted", got)
	}

	// A deletion unbinds the Secret's binding and the one still retiring.
	if err := f.c.Delete(context.Background(), b); err != nil {
		t.Fatal(err)
	}
	waitGone(t, f.c, b)
	for _, bd := range f.broker.Bindings() {
		if bd.InstanceID == f.id("db") {
			t.Errorf("the broker still holds binding %s after the deletion", bd.ID)
		}
	}
}

// A plan without binding_rotatable is rotated with a fresh bind.
func TestRotationNotRotatable(t *testing.T) {
	t.Parallel()
	f := rotationFixture(t, "rot-plain", 0)
	f.instance("db", "kafka", "plain", nil)
	f.ready("db")
	f.binding("app", "db", withGrace(0))
	f.bindingReady("app")
	oldPass := f.password("app")
	f.requestRotation("app", "now")
	b := f.rotatedFor("app", "now")
	id := b.Status.Rotation.CurrentBindingID
	if _, named := f.bindRequest(id)["predecessor_binding_id"]; named {
		t.Errorf("a bind for a plan without binding_rotatable named a predecessor")
	}
	if p := f.password("app"); p == oldPass || p != fmt.Sprint(f.broker.Credentials(id)["password"]) {
		t.Errorf("the Secret does not hold the fresh binding's credentials")
	}
	waitBinding(t, f.c, f.ns, "app", func(b *scv1beta1.ServiceBinding) error {
		if n := len(b.Status.Rotation.Retiring); n != 0 {
			return fmt.Errorf("%d bindings retiring", n)
		}
		return nil
	})
	if f.brokerBindings(f.id("app")) != 0 {
		t.Errorf("the old binding is still at the broker")
	}
}

// The broker failing mid-rotation loses nothing: a 500 keeps the new ID
// and sends the same bind again; a 400 is reported, honoured once, and
// leaves the old credentials in place.
func TestRotationBrokerFailures(t *testing.T) {
	t.Parallel()
	f := rotationFixture(t, "rot-fail", 0)
	f.instance("db", "kafka", "rot", nil)
	f.ready("db")
	f.binding("app", "db", withGrace(0))
	b := f.bindingReady("app")
	oldID := b.Spec.ExternalID

	t.Run("500 after making it", func(t *testing.T) {
		f.broker.On(testbroker.Rule{Operation: osb.OpBind, InstanceID: f.id("db"), Status: 500, ApplyFirst: true, Times: 1})
		f.requestRotation("app", "a")
		f.waitEvent(scv1beta1.ReasonRotationFailed)
		b := f.rotatedFor("app", "a")
		newID := b.Status.Rotation.CurrentBindingID
		if got := f.bindOps(newID); got != "bind,bind" {
			t.Errorf("broker saw %s for the new binding, want the same bind sent again", got)
		}
		if p := f.password("app"); p != fmt.Sprint(f.broker.Credentials(newID)["password"]) {
			t.Errorf("the Secret does not hold the new credentials")
		}
		waitBinding(t, f.c, f.ns, "app", func(b *scv1beta1.ServiceBinding) error {
			if n := len(b.Status.Rotation.Retiring); n != 0 {
				return fmt.Errorf("%d retiring", n)
			}
			return nil
		})
		if f.brokerBindings(oldID) != 0 || f.brokerBindings(newID) != 1 {
			t.Errorf("the broker holds %d old and %d new bindings", f.brokerBindings(oldID), f.brokerBindings(newID))
		}
	})

	t.Run("predecessor refused", func(t *testing.T) {
		f.get(b)
		prev := b.Status.Rotation.CurrentBindingID
		f.broker.SetFaults(testbroker.FaultRejectPredecessor)
		defer f.broker.SetFaults()
		f.requestRotation("app", "fresh")
		b := f.rotatedFor("app", "fresh")
		id := b.Status.Rotation.CurrentBindingID
		var preds []any
		for _, r := range f.broker.RequestsFor(osb.OpBind) {
			if r.BindingID == id {
				preds = append(preds, body(t, r)["predecessor_binding_id"])
			}
		}
		if len(preds) != 2 || preds[0] != prev || preds[1] != nil {
			t.Errorf("predecessor_binding_id of the binds for %s: %v; want %s, then a fresh bind", id, preds, prev)
		}
		if p := f.password("app"); p != fmt.Sprint(f.broker.Credentials(id)["password"]) {
			t.Errorf("the Secret does not hold the fresh binding's credentials")
		}
	})

	t.Run("400", func(t *testing.T) {
		f.get(b)
		cur := b.Status.Rotation.CurrentBindingID
		pass := f.password("app")
		binds := len(f.broker.RequestsFor(osb.OpBind))
		// The bind naming the predecessor, then the fresh one.
		refused := rotationCount(t, "request", "refused")
		f.broker.On(testbroker.Rule{Operation: osb.OpBind, InstanceID: f.id("db"), Status: 400, Description: "rotation is paused", Times: 2})
		f.requestRotation("app", "b")
		b := waitBinding(t, f.c, f.ns, "app", func(b *scv1beta1.ServiceBinding) error {
			if n := len(b.Status.Rotation.Retiring); n != 0 {
				return fmt.Errorf("%d retiring", n) // the refused ID, unbound in case an earlier try made it
			}
			return bindingCondition(scv1beta1.ServiceBindingConditionRotation, scv1beta1.ConditionFalse, scv1beta1.ReasonRotationRefused)(b)
		})
		if c := b.Status.GetCondition(scv1beta1.ServiceBindingConditionRotation); !strings.Contains(c.Message, "rotation is paused") {
			t.Errorf("the condition does not give the broker's words: %q", c.Message)
		}
		if r := b.Status.Rotation; r.LastRequest != "b" || r.Pending != nil || r.CurrentBindingID != cur || len(r.Retiring) != 0 {
			t.Errorf("status.rotation after a refusal: %+v", r)
		}
		if c := b.Status.GetCondition(scv1beta1.ServiceBindingConditionReady); c == nil || c.Status != scv1beta1.ConditionTrue {
			t.Errorf("the binding is not Ready after a refused rotation: %+v", c)
		}
		if f.password("app") != pass {
			t.Errorf("the Secret changed")
		}
		if n := rotationCount(t, "request", "refused"); n < refused+1 {
			t.Errorf("svcat_binding_rotations_total{trigger=request,outcome=refused} %v after the refusal, was %v", n, refused)
		}
		time.Sleep(2 * time.Second)
		if n := len(f.broker.RequestsFor(osb.OpBind)); n != binds+2 {
			t.Errorf("%d binds after a refusal, want the two", n-binds)
		}
	})

	t.Run("request too long", func(t *testing.T) {
		binds := len(f.broker.RequestsFor(osb.OpBind))
		f.requestRotation("app", strings.Repeat("x", 200))
		b := waitBinding(t, f.c, f.ns, "app", bindingCondition(scv1beta1.ServiceBindingConditionRotation, scv1beta1.ConditionFalse, scv1beta1.ReasonRotationRequestInvalid))
		msg := b.Status.GetCondition(scv1beta1.ServiceBindingConditionRotation).Message
		for _, want := range []string{scv1beta1.AnnotationRotationRequest, "200 bytes", "at most 128"} {
			if !strings.Contains(msg, want) {
				t.Errorf("the refusal does not say %q: %s", want, msg)
			}
		}
		if n := len(f.broker.RequestsFor(osb.OpBind)); n != binds {
			t.Errorf("%d binds for a request that was not honoured", n-binds)
		}
		// A usable request clears it and rotates.
		f.requestRotation("app", "c")
		f.rotatedFor("app", "c")
	})
}

// Credentials with an expiry are rotated at the fraction of their lifetime
// (0.8 by default), before they expire; the expiry is in the status.
func TestRotationBeforeExpiry(t *testing.T) {
	t.Parallel()
	lifetime := 10 * time.Second
	f := rotationFixture(t, "rot-exp", lifetime)
	f.instance("db", "kafka", "rot", nil)
	f.ready("db")
	f.binding("app", "db", withGrace(time.Second))
	b := f.bindingReady("app")
	if b.Status.ExpiresAt == nil {
		t.Fatalf("no status.expiresAt after a bind whose answer had metadata.expires_at")
	}
	firstExpiry := b.Status.ExpiresAt.Time
	b = waitBinding(t, f.c, f.ns, "app", func(b *scv1beta1.ServiceBinding) error {
		if r := b.Status.Rotation; r == nil || r.LastRotationTime == nil {
			return fmt.Errorf("not rotated yet")
		}
		return nil
	})
	at := b.Status.Rotation.LastRotationTime.Time
	if !at.Before(firstExpiry) {
		t.Errorf("rotated at %v, not before the expiry %v", at, firstExpiry)
	}
	if b.Status.ExpiresAt == nil || !b.Status.ExpiresAt.After(firstExpiry) {
		t.Errorf("status.expiresAt %v after the rotation, want later than %v", b.Status.ExpiresAt, firstExpiry)
	}
	if !strings.Contains(f.waitEvent(scv1beta1.ReasonRotatingCredentials), string(scv1beta1.RotationTriggerExpiry)) {
		t.Errorf("the rotation does not say it was for the expiry")
	}
}

// A policy's interval rotates without being asked.
func TestRotationSchedule(t *testing.T) {
	t.Parallel()
	f := rotationFixture(t, "rot-sched", 0)
	f.instance("db", "kafka", "rot", nil)
	f.ready("db")
	f.binding("app", "db", func(b *scv1beta1.ServiceBinding) {
		b.Spec.RotationPolicy = &scv1beta1.BindingRotationPolicy{Interval: &metav1.Duration{Duration: time.Minute}, GracePeriod: &metav1.Duration{}}
	})
	b := f.bindingReady("app")
	issued := time.Now()
	old := b.Spec.ExternalID
	b = waitBindingFor(t, f, 90*time.Second, func(b *scv1beta1.ServiceBinding) error {
		if r := b.Status.Rotation; r == nil || r.LastRotationTime == nil {
			return fmt.Errorf("not rotated yet")
		}
		return nil
	})
	if took := time.Since(issued); took < 55*time.Second {
		t.Errorf("rotated %v after the bind, before the 1m interval", took)
	}
	if b.Status.Rotation.CurrentBindingID == old {
		t.Errorf("no new binding")
	}
}

// waitBindingFor is waitBinding with a longer wait.
func waitBindingFor(t *testing.T, f *fixture, d time.Duration, check func(*scv1beta1.ServiceBinding) error) *scv1beta1.ServiceBinding {
	t.Helper()
	b := &scv1beta1.ServiceBinding{}
	eventually(t, d, "binding app", func() error {
		if err := f.c.Get(context.Background(), client.ObjectKey{Namespace: f.ns, Name: "app"}, b); err != nil {
			return err
		}
		return check(b)
	})
	return b
}

// A binding deleted while its rotation's bind is at the broker: the
// deletion waits for that bind, then unbinds the new binding and the old,
// and the broker is left with neither.
func TestRotationDeletedMidRotation(t *testing.T) {
	t.Parallel()
	f := rotationFixture(t, "rot-del", 0)
	f.instance("db", "kafka", "rot", nil)
	f.ready("db")
	f.binding("app", "db", withGrace(time.Hour))
	b := f.bindingReady("app")
	f.broker.On(testbroker.Rule{Operation: osb.OpBind, InstanceID: f.id("db"), Hang: 3 * time.Second, Times: 1})
	f.requestRotation("app", "doomed")
	var newID string
	waitBinding(t, f.c, f.ns, "app", func(b *scv1beta1.ServiceBinding) error {
		if r := b.Status.Rotation; r == nil || r.Pending == nil {
			return fmt.Errorf("no rotation pending")
		}
		newID = b.Status.Rotation.Pending.BindingID
		if f.brokerBindings(newID) == 0 {
			return fmt.Errorf("the new binding is not at the broker yet")
		}
		return nil
	})
	f.get(b)
	if err := f.c.Delete(context.Background(), b); err != nil {
		t.Fatal(err)
	}
	waitGone(t, f.c, b)
	if n := f.brokerBindings(newID) + f.brokerBindings(f.id("app")); n != 0 {
		t.Errorf("the broker still holds %d of the binding's broker bindings", n)
	}
	if got := f.bindOps(newID); !strings.HasSuffix(got, "unbind") {
		t.Errorf("broker saw %s for the rotation's binding", got)
	}
}

// A broker that binds asynchronously: the rotation's bind is polled, the
// credentials fetched with a GET and written as for a synchronous one.
func TestRotationAsync(t *testing.T) {
	t.Parallel()
	f := rotationFixture(t, "rot-async", 0)
	f.instance("db", "kafka", "rot", nil)
	f.ready("db")
	f.binding("app", "db", withGrace(0))
	f.bindingReady("app")
	f.broker.On(testbroker.Rule{Operation: osb.OpBind, InstanceID: f.id("db"), Async: true, AsyncPolls: 1, Times: 1})
	f.requestRotation("app", "async")
	b := f.rotatedFor("app", "async")
	newID := b.Status.Rotation.CurrentBindingID
	if got := f.bindOps(newID); got != "bind" {
		t.Errorf("broker saw %s for the new binding, want one bind", got)
	}
	polls := 0
	for _, r := range f.broker.RequestsFor(osb.OpPollBindingLastOperation) {
		if r.BindingID == newID {
			polls++
		}
	}
	if polls < 2 {
		t.Errorf("%d polls of the asynchronous bind, want at least 2 (one in progress)", polls)
	}
	if p := f.password("app"); p != fmt.Sprint(f.broker.Credentials(newID)["password"]) {
		t.Errorf("the Secret does not hold the credentials fetched after the asynchronous bind")
	}
	waitBinding(t, f.c, f.ns, "app", func(b *scv1beta1.ServiceBinding) error {
		if n := len(b.Status.Rotation.Retiring); n != 0 {
			return fmt.Errorf("%d retiring", n)
		}
		return nil
	})
	if f.brokerBindings(f.id("app")) != 0 || f.brokerBindings(newID) != 1 {
		t.Errorf("the broker holds %d old and %d new bindings", f.brokerBindings(f.id("app")), f.brokerBindings(newID))
	}

	// An asynchronous bind that fails: nothing changes in the Secret and
	// the failed binding is unbound.
	pass := f.password("app")
	f.broker.On(testbroker.Rule{Operation: osb.OpBind, InstanceID: f.id("db"), Async: true, AsyncFail: true, Description: "no capacity", Times: 1})
	f.requestRotation("app", "async-fail")
	b = waitBinding(t, f.c, f.ns, "app", func(b *scv1beta1.ServiceBinding) error {
		r := b.Status.Rotation
		if r.LastRequest != "async-fail" || r.Pending != nil || len(r.Retiring) != 0 {
			return fmt.Errorf("status.rotation %+v", r)
		}
		return bindingCondition(scv1beta1.ServiceBindingConditionRotation, scv1beta1.ConditionFalse, scv1beta1.ReasonRotationFailed)(b)
	})
	if c := b.Status.GetCondition(scv1beta1.ServiceBindingConditionRotation); !strings.Contains(c.Message, "no capacity") {
		t.Errorf("the condition does not give the broker's words: %s", c.Message)
	}
	if f.password("app") != pass || b.Status.Rotation.CurrentBindingID != newID {
		t.Errorf("a failed rotation changed the credentials")
	}
	for _, bd := range f.broker.Bindings() {
		if bd.InstanceID == f.id("db") && bd.ID != newID {
			t.Errorf("the broker holds binding %s (%s) besides the current one", bd.ID, bd.State)
		}
	}
}

// A rotation asked for while the binding is still being bound is done once
// the bind is: nothing else would reconcile the binding.
func TestRotationRequestedWhileBinding(t *testing.T) {
	t.Parallel()
	f := rotationFixture(t, "rot-early", 0)
	f.instance("db", "kafka", "rot", nil)
	f.ready("db")
	f.broker.On(testbroker.Rule{Operation: osb.OpBind, BindingID: f.id("app"), Async: true, AsyncDelay: 2 * time.Second})
	f.binding("app", "db", func(b *scv1beta1.ServiceBinding) {
		withGrace(0)(b)
		b.Annotations = map[string]string{scv1beta1.AnnotationRotationRequest: "early"}
	})
	f.rotatedFor("app", "early")
}
