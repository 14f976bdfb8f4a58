package controller_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	scv1beta1 "github.com/svcat-io/svcat/api/v1beta1"
	"github.com/svcat-io/svcat/internal/controller"
	"github.com/svcat-io/svcat/internal/localcluster"
)

// upTenant is a user with rights in one namespace only: svcat's kinds,
// Secrets and reading Events there, as a team's developer has. Nothing
// cluster-wide.
type upTenant struct {
	ns string
	c  client.Client
}

func newUPTenant(t *testing.T, env *localcluster.Env, name string) *upTenant {
	t.Helper()
	ctx := context.Background()
	ns := env.Namespace(t)
	user := "tenant-" + name + "-" + ns
	if err := env.Client.Create(ctx, &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "tenant"}, Rules: []rbacv1.PolicyRule{
		{APIGroups: []string{"servicecatalog.k8s.io"}, Resources: []string{"*"}, Verbs: []string{"*"}},
		{APIGroups: []string{""}, Resources: []string{"secrets"}, Verbs: []string{"*"}},
		{APIGroups: []string{"", "events.k8s.io"}, Resources: []string{"events"}, Verbs: []string{"get", "list", "watch"}},
	}}); err != nil {
		t.Fatal(err)
	}
	if err := env.Client.Create(ctx, &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "tenant"},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: "tenant"},
		Subjects: []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: user}}}); err != nil {
		t.Fatal(err)
	}
	cfg, err := env.User(user)
	if err != nil {
		t.Fatal(err)
	}
	c, err := client.New(cfg, client.Options{Scheme: env.Scheme})
	if err != nil {
		t.Fatal(err)
	}
	tn := &upTenant{ns: ns, c: c}
	// RBAC is cached by the API server's authorizer: wait until the Role
	// applies before the test relies on it.
	eventually(t, 10*time.Second, "the tenant's Role", func() error {
		return c.List(ctx, &scv1beta1.ServiceInstanceList{}, client.InNamespace(ns))
	})
	return tn
}

func (tn *upTenant) secret(t *testing.T, name string, data map[string]string) *corev1.Secret {
	t.Helper()
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: tn.ns, Name: name}, StringData: data}
	if err := tn.c.Create(context.Background(), s); err != nil {
		t.Fatal(err)
	}
	return s
}

func (tn *upTenant) userProvided(t *testing.T, name, secret string) *scv1beta1.ServiceInstance {
	t.Helper()
	inst := &scv1beta1.ServiceInstance{ObjectMeta: metav1.ObjectMeta{Namespace: tn.ns, Name: name},
		Spec: scv1beta1.ServiceInstanceSpec{UserProvided: &scv1beta1.UserProvidedCredentials{
			SecretRef: scv1beta1.UserProvidedSecretReference{Name: secret}}}}
	if err := tn.c.Create(context.Background(), inst); err != nil {
		t.Fatal(err)
	}
	return inst
}

func (tn *upTenant) binding(t *testing.T, name, instance string, transforms ...scv1beta1.SecretTransform) *scv1beta1.ServiceBinding {
	t.Helper()
	b := &scv1beta1.ServiceBinding{ObjectMeta: metav1.ObjectMeta{Namespace: tn.ns, Name: name},
		Spec: scv1beta1.ServiceBindingSpec{InstanceRef: scv1beta1.InstanceReference{Name: instance}, SecretTransforms: transforms}}
	if err := tn.c.Create(context.Background(), b); err != nil {
		t.Fatal(err)
	}
	return b
}

// secretData is the binding Secret's data as strings, read by the tenant.
func (tn *upTenant) secretData(t *testing.T, name string) (map[string]string, error) {
	t.Helper()
	s := &corev1.Secret{}
	if err := tn.c.Get(context.Background(), client.ObjectKey{Namespace: tn.ns, Name: name}, s); err != nil {
		return nil, err
	}
	out := map[string]string{}
	for k, v := range s.Data {
		out[k] = string(v)
	}
	return out, nil
}

func (tn *upTenant) eventReasons(t *testing.T) string {
	t.Helper()
	l := &corev1.EventList{}
	if err := tn.c.List(context.Background(), l, client.InNamespace(tn.ns)); err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, e := range l.Items {
		fmt.Fprintf(&b, "%s: %s\n", e.Reason, e.Message)
	}
	return b.String()
}

func upReady(i *scv1beta1.ServiceInstance) error {
	return instanceCondition(scv1beta1.ServiceInstanceConditionReady, scv1beta1.ConditionTrue, scv1beta1.ReasonUserProvidedSecretFound)(i)
}

func upBound(b *scv1beta1.ServiceBinding) error {
	return bindingCondition(scv1beta1.ServiceBindingConditionReady, scv1beta1.ConditionTrue, scv1beta1.ReasonInjectedBindResult)(b)
}

// A tenant with rights in their namespace only creates a user-provided
// instance from their Secret, binds to it with secretTransforms, sees a
// change of the Secret reach the binding's Secret, and cannot delete the
// instance while the binding exists. No broker is involved at any point.
func TestUserProvidedLifecycle(t *testing.T) {
	t.Parallel()
	env := controlPlane(t)
	ctx := context.Background()
	tn := newUPTenant(t, env, "alice")
	tn.secret(t, "db-creds", map[string]string{"hostname": "db.example", "username": "app", "password": "pa55-one", "debug": "on"})
	tn.userProvided(t, "db", "db-creds")

	inst := waitInstance(t, tn.c, tn.ns, "db", upReady)
	if inst.Status.UserSpecifiedClassName != "" || inst.Status.UserSpecifiedPlanName != "" || inst.Spec.ClusterServiceClassRef != nil || inst.Spec.ServiceClassRef != nil {
		t.Errorf("a user-provided instance got a class or plan: %q %q %+v %+v", inst.Status.UserSpecifiedClassName, inst.Status.UserSpecifiedPlanName,
			inst.Spec.ClusterServiceClassRef, inst.Spec.ServiceClassRef)
	}
	if inst.Status.LastConditionState != "Ready" || inst.Status.UserProvidedChecksum == "" {
		t.Errorf("lastConditionState %q, checksum %q; want Ready and a checksum", inst.Status.LastConditionState, inst.Status.UserProvidedChecksum)
	}
	if msg := readyMessage(inst); !strings.Contains(msg, `"db-creds"`) || strings.Contains(msg, "pa55") {
		t.Errorf("Ready message %q: want the Secret named and no value", msg)
	}

	tn.binding(t, "app", "db",
		scv1beta1.SecretTransform{RenameKey: &scv1beta1.RenameKeyTransform{From: "hostname", To: "host"}},
		scv1beta1.SecretTransform{AddKey: &scv1beta1.AddKeyTransform{Key: "uri", JSONPathExpression: ptr("postgres://{.username}@{.host}")}},
		scv1beta1.SecretTransform{RemoveKey: &scv1beta1.RemoveKeyTransform{Key: "debug"}})
	b := waitBinding(t, tn.c, tn.ns, "app", upBound)
	if b.Status.Binding == nil || b.Status.Binding.Name != "app" {
		t.Errorf("status.binding %+v, want the Secret app", b.Status.Binding)
	}
	got, err := tn.secretData(t, "app")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"host": "db.example", "username": "app", "password": "pa55-one", "uri": "postgres://app@db.example", "type": "user-provided"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("binding Secret\n got  %v\n want %v (no provider: there is no broker)", got, want)
	}

	t.Run("kubectl get", func(t *testing.T) {
		out := kubectl(t, env, "get", "serviceinstances", "-n", tn.ns)
		lines := strings.Split(strings.TrimSpace(out), "\n")
		if len(lines) != 2 || !strings.Contains(lines[0], "USER-PROVIDED") || strings.Join(strings.Fields(lines[1])[:3], " ") != "db Ready db-creds" {
			t.Errorf("kubectl get serviceinstances:\n%s\nwant a row with no class or plan, Ready, and the Secret under USER-PROVIDED", out)
		}
	})

	// The source changes: the binding's Secret follows, with its
	// transforms, and an Event says so.
	src := &corev1.Secret{}
	if err := tn.c.Get(ctx, client.ObjectKey{Namespace: tn.ns, Name: "db-creds"}, src); err != nil {
		t.Fatal(err)
	}
	src.Data["password"] = []byte("pa55-two")
	src.Data["hostname"] = []byte("db2.example")
	if err := tn.c.Update(ctx, src); err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*time.Second, "the changed credentials in the binding's Secret", func() error {
		got, err := tn.secretData(t, "app")
		if err != nil {
			return err
		}
		if got["password"] != "pa55-two" || got["uri"] != "postgres://app@db2.example" || got["host"] != "db2.example" {
			return fmt.Errorf("binding Secret %v", got)
		}
		return nil
	})
	eventually(t, 15*time.Second, "the copy's Event", func() error {
		if ev := tn.eventReasons(t); !strings.Contains(ev, scv1beta1.ReasonUserProvidedCredentialsCopied+`: The credentials of user-provided instance "db" changed`) {
			return fmt.Errorf("events:\n%s", ev)
		}
		return nil
	})

	// The binding's Secret deleted by hand comes back.
	if err := tn.c.Delete(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: tn.ns, Name: "app"}}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*time.Second, "the binding's Secret restored", func() error {
		got, err := tn.secretData(t, "app")
		if err != nil {
			return err
		}
		if got["password"] != "pa55-two" {
			return fmt.Errorf("binding Secret %v", got)
		}
		return nil
	})

	// Deleting the instance waits for the binding, as for a brokered one.
	if err := tn.c.Delete(ctx, inst); err != nil {
		t.Fatal(err)
	}
	waitInstance(t, tn.c, tn.ns, "db", instanceCondition(scv1beta1.ServiceInstanceConditionReady, scv1beta1.ConditionFalse, scv1beta1.ReasonDeprovisionBlockedByExistingCredentials))
	if err := tn.c.Delete(ctx, b); err != nil {
		t.Fatal(err)
	}
	waitGone(t, tn.c, b)
	waitGone(t, tn.c, inst)
	if _, err := tn.secretData(t, "app"); !apierrors.IsNotFound(err) {
		t.Errorf("the binding's Secret after the binding's deletion: %v, want it gone", err)
	}
	if _, err := tn.secretData(t, "db-creds"); err != nil {
		t.Errorf("the user's own Secret after the instance's deletion: %v, want it kept", err)
	}
}

// A missing Secret is a condition that names it and its namespace; the
// binding waits; creating the Secret makes both Ready without any other
// change. A Secret over the bound is refused by name, without its values.
func TestUserProvidedSecretMissingThenCreated(t *testing.T) {
	t.Parallel()
	env := controlPlane(t)
	ctx := context.Background()
	tn := newUPTenant(t, env, "bob")
	tn.userProvided(t, "later", "not-yet")
	inst := waitInstance(t, tn.c, tn.ns, "later", instanceCondition(scv1beta1.ServiceInstanceConditionReady, scv1beta1.ConditionFalse, scv1beta1.ReasonUserProvidedSecretNotFound))
	if msg := readyMessage(inst); !strings.Contains(msg, `"not-yet"`) || !strings.Contains(msg, tn.ns) {
		t.Errorf("message %q: want the Secret and the namespace named", msg)
	}
	tn.binding(t, "waits", "later")
	waitBinding(t, tn.c, tn.ns, "waits", bindingCondition(scv1beta1.ServiceBindingConditionReady, scv1beta1.ConditionFalse, scv1beta1.ReasonErrorInstanceNotReady))

	tn.secret(t, "not-yet", map[string]string{"token": "t0ken", "type": "redis"})
	waitInstance(t, tn.c, tn.ns, "later", upReady)
	waitBinding(t, tn.c, tn.ns, "waits", upBound)
	got, err := tn.secretData(t, "waits")
	if err != nil {
		t.Fatal(err)
	}
	if got["token"] != "t0ken" || got["type"] != "redis" {
		t.Errorf("binding Secret %v: want the token, and the Secret's own type kept", got)
	}

	// Grown past the bound: refused by name and size, no value.
	src := &corev1.Secret{}
	if err := tn.c.Get(ctx, client.ObjectKey{Namespace: tn.ns, Name: "not-yet"}, src); err != nil {
		t.Fatal(err)
	}
	src.Data["blob"] = bytes.Repeat([]byte("z"), controller.MaxUserProvidedBytes)
	if err := tn.c.Update(ctx, src); err != nil {
		t.Fatal(err)
	}
	inst = waitInstance(t, tn.c, tn.ns, "later", instanceCondition(scv1beta1.ServiceInstanceConditionReady, scv1beta1.ConditionFalse, scv1beta1.ReasonUserProvidedSecretTooLarge))
	if msg := readyMessage(inst); !strings.Contains(msg, `"not-yet"`) || strings.Contains(msg, "t0ken") || strings.Contains(msg, "zzz") {
		t.Errorf("message %q: want the Secret named and no value", msg)
	}
	// The binding keeps what it had and says why it does not follow.
	waitBinding(t, tn.c, tn.ns, "waits", bindingCondition(scv1beta1.ServiceBindingConditionReady, scv1beta1.ConditionFalse, scv1beta1.ReasonErrorInstanceNotReady))
	if got, _ := tn.secretData(t, "waits"); got["blob"] != "" || got["token"] != "t0ken" {
		t.Errorf("binding Secret after the refusal has keys %d, blob %d bytes; want the old credentials", len(got), len(got["blob"]))
	}
}

// The controller reads the Secret with its own rights, so a tenant must not
// be able to make it read another namespace's: the reference has no
// namespace (a namespace field is dropped by the API server, or refused
// with strict validation), and the Secret is looked up in the instance's
// own namespace only.
func TestUserProvidedOtherNamespaceRefused(t *testing.T) {
	t.Parallel()
	env := controlPlane(t)
	ctx := context.Background()
	victim := env.Namespace(t)
	if err := env.Client.Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: victim, Name: "prod-db"},
		StringData: map[string]string{"password": "victims-secret"}}); err != nil {
		t.Fatal(err)
	}
	tn := newUPTenant(t, env, "mallory")
	if err := tn.c.Get(ctx, client.ObjectKey{Namespace: victim, Name: "prod-db"}, &corev1.Secret{}); !apierrors.IsForbidden(err) {
		t.Fatalf("the tenant reading the other namespace's Secret: %v, want Forbidden (the test's premise)", err)
	}

	u := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "servicecatalog.k8s.io/v1beta1", "kind": "ServiceInstance",
		"metadata": map[string]any{"namespace": tn.ns, "name": "steal"},
		"spec":     map[string]any{"userProvided": map[string]any{"secretRef": map[string]any{"namespace": victim, "name": "prod-db"}}},
	}}
	if err := tn.c.Create(ctx, u.DeepCopy(), client.FieldValidation("Strict")); err == nil || !strings.Contains(err.Error(), "unknown field") {
		t.Errorf("strict create naming another namespace: %v, want the field refused", err)
	}
	if err := tn.c.Create(ctx, u); err != nil {
		t.Fatal(err)
	}
	inst := waitInstance(t, tn.c, tn.ns, "steal", instanceCondition(scv1beta1.ServiceInstanceConditionReady, scv1beta1.ConditionFalse, scv1beta1.ReasonUserProvidedSecretNotFound))
	if msg := readyMessage(inst); !strings.Contains(msg, fmt.Sprintf("namespace %q", tn.ns)) || strings.Contains(msg, victim) {
		t.Errorf("message %q: want the tenant's own namespace and nothing of the other", msg)
	}
	tn.binding(t, "loot", "steal")
	waitBinding(t, tn.c, tn.ns, "loot", bindingCondition(scv1beta1.ServiceBindingConditionReady, scv1beta1.ConditionFalse, scv1beta1.ReasonErrorInstanceNotReady))
	// Give the controller time it would need to copy anything, then check
	// nothing was.
	time.Sleep(time.Second)
	if _, err := tn.secretData(t, "loot"); !apierrors.IsNotFound(err) {
		t.Errorf("the binding's Secret: %v, want none", err)
	}
}

// Parameters have nowhere to go without a broker: refused with the fields
// named, on the instance (the schema cannot see schemaless parameters) and
// on a binding.
func TestUserProvidedParametersRefused(t *testing.T) {
	t.Parallel()
	env := controlPlane(t)
	tn := newUPTenant(t, env, "carol")
	tn.secret(t, "creds", map[string]string{"k": "v"})
	inst := &scv1beta1.ServiceInstance{ObjectMeta: metav1.ObjectMeta{Namespace: tn.ns, Name: "with-params"},
		Spec: scv1beta1.ServiceInstanceSpec{Parameters: raw(t, map[string]any{"size": 3}),
			UserProvided: &scv1beta1.UserProvidedCredentials{SecretRef: scv1beta1.UserProvidedSecretReference{Name: "creds"}}}}
	if err := tn.c.Create(context.Background(), inst); err != nil {
		t.Fatal(err)
	}
	got := waitInstance(t, tn.c, tn.ns, "with-params", instanceCondition(scv1beta1.ServiceInstanceConditionReady, scv1beta1.ConditionFalse, scv1beta1.ReasonUserProvidedParameters))
	if !strings.Contains(readyMessage(got), "spec.parameters") {
		t.Errorf("message %q does not name spec.parameters", readyMessage(got))
	}

	tn.userProvided(t, "plain", "creds")
	waitInstance(t, tn.c, tn.ns, "plain", upReady)
	b := &scv1beta1.ServiceBinding{ObjectMeta: metav1.ObjectMeta{Namespace: tn.ns, Name: "with-params"},
		Spec: scv1beta1.ServiceBindingSpec{InstanceRef: scv1beta1.InstanceReference{Name: "plain"}, Parameters: raw(t, map[string]any{"role": "admin"})}}
	if err := tn.c.Create(context.Background(), b); err != nil {
		t.Fatal(err)
	}
	gotB := waitBinding(t, tn.c, tn.ns, "with-params", bindingCondition(scv1beta1.ServiceBindingConditionFailed, scv1beta1.ConditionTrue, scv1beta1.ReasonUserProvidedParameters))
	if c := gotB.Status.GetCondition(scv1beta1.ServiceBindingConditionFailed); !strings.Contains(c.Message, "spec.parameters") {
		t.Errorf("message %q does not name spec.parameters", c.Message)
	}
	// A failed binding still goes away on deletion: nothing to unbind.
	if err := tn.c.Delete(context.Background(), gotB); err != nil {
		t.Fatal(err)
	}
	waitGone(t, tn.c, gotB)
}

// A transform that cannot apply to the Secret's keys is reported on the
// binding, naming the transform and not a value; since the user can fix
// the Secret, the binding is not failed for good: fixing it binds.
func TestUserProvidedTransformFollowsTheSecret(t *testing.T) {
	t.Parallel()
	env := controlPlane(t)
	ctx := context.Background()
	tn := newUPTenant(t, env, "dave")
	tn.secret(t, "creds", map[string]string{"user": "dave", "password": "d4ve-pass"})
	tn.userProvided(t, "svc", "creds")
	waitInstance(t, tn.c, tn.ns, "svc", upReady)
	tn.binding(t, "app", "svc",
		scv1beta1.SecretTransform{AddKey: &scv1beta1.AddKeyTransform{Key: "url", JSONPathExpression: ptr("https://{.user}@{.host}")}})
	b := waitBinding(t, tn.c, tn.ns, "app", bindingCondition(scv1beta1.ServiceBindingConditionReady, scv1beta1.ConditionFalse, scv1beta1.ReasonErrorInjectingBindResult))
	msg := b.Status.GetCondition(scv1beta1.ServiceBindingConditionReady).Message
	if !strings.Contains(msg, "spec.secretTransforms[0]") || strings.Contains(msg, "d4ve-pass") {
		t.Errorf("message %q: want the transform named and no value", msg)
	}
	if b.Status.GetCondition(scv1beta1.ServiceBindingConditionFailed) != nil {
		t.Errorf("the binding is Failed; want it to wait for the Secret to change")
	}

	src := &corev1.Secret{}
	if err := tn.c.Get(ctx, client.ObjectKey{Namespace: tn.ns, Name: "creds"}, src); err != nil {
		t.Fatal(err)
	}
	src.Data["host"] = []byte("api.example")
	if err := tn.c.Update(ctx, src); err != nil {
		t.Fatal(err)
	}
	waitBinding(t, tn.c, tn.ns, "app", upBound)
	if got, err := tn.secretData(t, "app"); err != nil || got["url"] != "https://dave@api.example" {
		t.Errorf("binding Secret %v (%v), want the url built from the fixed Secret", got, err)
	}
}
