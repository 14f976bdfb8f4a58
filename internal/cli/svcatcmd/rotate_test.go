package svcatcmd_test

import (
	"context"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/svcat-io/svcat/api/v1beta1"
	"github.com/svcat-io/svcat/internal/cli/svcatcmd"
	"github.com/svcat-io/svcat/internal/localcluster"
)

// rotationNS holds bindings in the states of a rotation, as the
// controller reports them.
const rotationNS = "rotations"

var (
	rotationTime = metav1.NewTime(time.Date(2019, 2, 1, 9, 0, 0, 0, time.UTC))
	expiryTime   = metav1.NewTime(time.Date(2019, 3, 3, 9, 0, 0, 0, time.UTC))
	renewTime    = metav1.NewTime(time.Date(2019, 2, 25, 9, 0, 0, 0, time.UTC))
	unbindTime   = metav1.NewTime(time.Date(2019, 2, 1, 9, 10, 0, 0, time.UTC))
)

// rotationFixtures makes, in rotationNS, "rotated" (rotated once, the old
// binding waiting for unbind, credentials that expire), "rotating" (a
// rotation's bind in flight) and "refused" (the broker refused one).
func rotationFixtures(t *testing.T, env *localcluster.Env) {
	t.Helper()
	ctx := context.Background()
	if err := env.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: rotationNS}}); err != nil {
		t.Fatal(err)
	}
	if _, err := createInstance(ctx, env.Client, rotationNS, "kafka", "6a0e5b8a-42c1-4f0e-9a57-1b2c3d4e5f70", nil); err != nil {
		t.Fatal(err)
	}
	for _, f := range []struct {
		name, id string
		set      func(b *v1beta1.ServiceBinding)
	}{
		{"rotated", "6a0e5b8a-42c1-4f0e-9a57-1b2c3d4e5f71", func(b *v1beta1.ServiceBinding) {
			b.Status.Rotation = &v1beta1.ServiceBindingRotationStatus{CurrentBindingID: "9f1d0c1e-0000-4000-8000-000000000001",
				LastRotationTime: &rotationTime, IssuedTime: &rotationTime, LastRequest: "t1",
				Retiring: []v1beta1.RetiringBinding{{BindingID: b.Spec.ExternalID, UnbindAfter: unbindTime}}}
			b.Status.ExpiresAt, b.Status.RenewBefore = &expiryTime, &renewTime
			b.Status.SetAdvisoryCondition(v1beta1.ServiceBindingConditionRotation, v1beta1.ConditionTrue, v1beta1.ReasonCredentialsRotated,
				"New credentials (binding 9f1d0c1e-0000-4000-8000-000000000001) are in the Secret \"rotated\"; the old binding 6a0e5b8a-42c1-4f0e-9a57-1b2c3d4e5f71 is unbound after 2019-02-01T09:10:00Z", rotationTime)
		}},
		{"rotating", "6a0e5b8a-42c1-4f0e-9a57-1b2c3d4e5f72", func(b *v1beta1.ServiceBinding) {
			b.Status.Rotation = &v1beta1.ServiceBindingRotationStatus{
				Pending: &v1beta1.PendingRotation{BindingID: "9f1d0c1e-0000-4000-8000-000000000002", Trigger: v1beta1.RotationTriggerSchedule, StartTime: rotationTime}}
			b.Status.SetAdvisoryCondition(v1beta1.ServiceBindingConditionRotation, v1beta1.ConditionUnknown, v1beta1.ReasonRotatingCredentials,
				"Rotating the credentials (Schedule): binding 9f1d0c1e-0000-4000-8000-000000000002 is being created at the broker", rotationTime)
		}},
		{"refused", "6a0e5b8a-42c1-4f0e-9a57-1b2c3d4e5f73", func(b *v1beta1.ServiceBinding) {
			b.Status.Rotation = &v1beta1.ServiceBindingRotationStatus{LastRequest: "t1", FailureTime: &rotationTime}
			b.Status.SetAdvisoryCondition(v1beta1.ServiceBindingConditionRotation, v1beta1.ConditionFalse, v1beta1.ReasonRotationRefused,
				v1beta1.MessageRotationRefused+"400 Bad Request: rotation is paused", rotationTime)
		}},
	} {
		b := &v1beta1.ServiceBinding{ObjectMeta: metav1.ObjectMeta{Namespace: rotationNS, Name: f.name}}
		b.Spec.InstanceRef.Name = "kafka"
		b.Spec.SecretName = f.name
		b.Spec.ExternalID = f.id
		if f.name == "rotated" {
			b.Spec.RotationPolicy = &v1beta1.BindingRotationPolicy{Interval: &metav1.Duration{Duration: 720 * time.Hour}, GracePeriod: &metav1.Duration{Duration: 10 * time.Minute}}
		}
		if err := env.Client.Create(ctx, b); err != nil {
			t.Fatal(err)
		}
		b.Status.Conditions = []v1beta1.ServiceBindingCondition{{Type: v1beta1.ServiceBindingConditionReady, Status: v1beta1.ConditionTrue,
			LastTransitionTime: bindTime, Reason: "InjectedBindResult", Message: "Injected bind result"}}
		b.Status.LastConditionState = "Ready"
		b.Status.UnbindStatus = v1beta1.ServiceBindingUnbindStatusRequired
		f.set(b)
		if err := env.Client.Status().Update(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
}

// TestRotateOutput: get and describe show rotations, rotate binding asks
// for one through the annotation.
func TestRotateOutput(t *testing.T) {
	env := localcluster.Get(t)
	seedCatalog(t, env)
	rotationFixtures(t, env)
	checkGoldens(t, env, []goldenCase{
		{"get-bindings-rotations", []string{"-n", rotationNS, "get", "bindings"}},
		{"describe-binding-rotated", []string{"-n", rotationNS, "describe", "binding", "rotated"}},
		{"describe-binding-rotating", []string{"-n", rotationNS, "describe", "binding", "rotating"}},
		{"rotate-binding", []string{"-n", rotationNS, "rotate", "binding", "rotated"}},
	})
	b := &v1beta1.ServiceBinding{}
	if err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: rotationNS, Name: "rotated"}, b); err != nil {
		t.Fatal(err)
	}
	token := b.Annotations[v1beta1.AnnotationRotationRequest]
	if token == "" || token == "t1" {
		t.Errorf("rotation-request annotation %q after rotate binding, want a new token", token)
	}
	r := svcat(t, env, "", "-n", rotationNS, "rotate", "binding", "nope")
	if r.code != svcatcmd.ExitError || !strings.Contains(r.stderr, `binding "nope" not found in namespace "rotations"`) {
		t.Errorf("rotate binding nope: exit %d, stderr %q", r.code, r.stderr)
	}
}

// rotate binding --wait ends when the controller reports the rotation it
// asked for: with success, or with the broker's refusal.
func TestRotateWait(t *testing.T) {
	env := localcluster.Get(t)
	ns := env.Namespace(t)
	ctx := context.Background()
	if _, err := createInstance(ctx, env.Client, ns, "kafka", "6a0e5b8a-42c1-4f0e-9a57-1b2c3d4e5f80", nil); err != nil {
		t.Fatal(err)
	}
	b := &v1beta1.ServiceBinding{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "app"}}
	b.Spec.InstanceRef.Name, b.Spec.ExternalID = "kafka", "6a0e5b8a-42c1-4f0e-9a57-1b2c3d4e5f81"
	if err := env.Client.Create(ctx, b); err != nil {
		t.Fatal(err)
	}
	// The controller's part: answer the request that appears.
	answer := func(status v1beta1.ConditionStatus, reason, msg string) {
		go func() {
			deadline := time.Now().Add(30 * time.Second)
			for time.Now().Before(deadline) {
				time.Sleep(200 * time.Millisecond)
				cur := &v1beta1.ServiceBinding{}
				if err := env.Client.Get(ctx, client.ObjectKeyFromObject(b), cur); err != nil {
					continue
				}
				tok := cur.Annotations[v1beta1.AnnotationRotationRequest]
				if tok == "" || (cur.Status.Rotation != nil && cur.Status.Rotation.LastRequest == tok) {
					continue
				}
				cur.Status.Rotation = &v1beta1.ServiceBindingRotationStatus{LastRequest: tok}
				cur.Status.SetAdvisoryCondition(v1beta1.ServiceBindingConditionRotation, status, reason, msg, metav1.Now())
				if env.Client.Status().Update(ctx, cur) == nil {
					return
				}
			}
		}()
	}
	answer(v1beta1.ConditionTrue, v1beta1.ReasonCredentialsRotated, "New credentials are in the Secret")
	r := svcat(t, env, "", "-n", ns, "rotate", "binding", "app", "--wait", "--interval", "100ms", "--timeout", "30s")
	if r.code != 0 {
		t.Fatalf("rotate binding --wait: exit %d, stderr %q", r.code, r.stderr)
	}
	answer(v1beta1.ConditionFalse, v1beta1.ReasonRotationRefused, v1beta1.MessageRotationRefused+"400: rotation is paused")
	r = svcat(t, env, "", "-n", ns, "rotate", "binding", "app", "--wait", "--interval", "100ms", "--timeout", "30s")
	if r.code != svcatcmd.ExitError || !strings.Contains(r.stderr, `the rotation of binding "app" failed`) || !strings.Contains(r.stderr, "rotation is paused") {
		t.Errorf("a refused rotation: exit %d, stderr %q", r.code, r.stderr)
	}
}
