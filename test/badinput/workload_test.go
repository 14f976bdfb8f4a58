package badinput

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	scv1beta1 "github.com/svcat-io/svcat/api/v1beta1"
	"github.com/svcat-io/svcat/internal/controller/osbparams"
	"github.com/svcat-io/svcat/internal/localcluster"
	"github.com/svcat-io/svcat/internal/osb"
	"github.com/svcat-io/svcat/internal/testbroker"
)

// canary is in every value these tests put in Secrets: no condition or
// event may repeat it.
const canary = "hunter2-canary-0b5e"

// workload is one broker with a good plan and a plan whose schema is not a
// valid JSON Schema, registered and Ready, and a namespace.
type workload struct {
	t   *testing.T
	env *localcluster.Env
	c   client.Client
	ns  string
	p   string
	f   *front
}

func newWorkload(t *testing.T, p string) *workload {
	t.Helper()
	env := controlPlane(t)
	cat := catalog(p)
	cat[0].Plans = append(cat[0].Plans, osb.Plan{ID: p + "-badschema", Name: "badschema", Description: "schema is not a schema",
		Schemas: &osb.Schemas{ServiceInstance: &osb.ServiceInstanceSchema{Create: &osb.InputParametersSchema{Parameters: map[string]any{
			"type": "object", "properties": map[string]any{"size": map[string]any{"type": 12}},
		}}}}})
	w := &workload{t: t, env: env, c: env.Client, ns: env.Namespace(t), p: p, f: newFront(t, cat)}
	registerBroker(t, env, p, w.f.URL())
	brokerReady(t, w.c, p, scv1beta1.ConditionTrue, scv1beta1.ReasonFetchedCatalog)
	return w
}

func (w *workload) secret(name string, data map[string]string) {
	w.t.Helper()
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: w.ns, Name: name}, StringData: data}
	if err := w.c.Create(context.Background(), s); err != nil {
		w.t.Fatal(err)
	}
}

func (w *workload) instance(name, plan string, from ...string) {
	w.t.Helper()
	inst := &scv1beta1.ServiceInstance{ObjectMeta: metav1.ObjectMeta{Namespace: w.ns, Name: name},
		Spec: scv1beta1.ServiceInstanceSpec{
			PlanReference: scv1beta1.PlanReference{ClusterServiceClassExternalName: w.p + "-svc", ClusterServicePlanExternalName: plan},
			ExternalID:    w.p + "-" + name,
		}}
	for _, f := range from {
		n, k, _ := strings.Cut(f, "/")
		inst.Spec.ParametersFrom = append(inst.Spec.ParametersFrom, scv1beta1.ParametersFromSource{SecretKeyRef: &scv1beta1.SecretKeyReference{Name: n, Key: k}})
	}
	if err := w.c.Create(context.Background(), inst); err != nil {
		w.t.Fatal(err)
	}
}

func (w *workload) binding(name, instance string, transforms ...scv1beta1.SecretTransform) {
	w.t.Helper()
	b := &scv1beta1.ServiceBinding{ObjectMeta: metav1.ObjectMeta{Namespace: w.ns, Name: name},
		Spec: scv1beta1.ServiceBindingSpec{InstanceRef: scv1beta1.InstanceReference{Name: instance},
			ExternalID: w.p + "-" + name, SecretName: name + "-secret", SecretTransforms: transforms}}
	if err := w.c.Create(context.Background(), b); err != nil {
		w.t.Fatal(err)
	}
}

// texts gathers, over time, every condition message and event of an object:
// conditions are overwritten as the controller retries, so a message seen
// once is kept.
type texts struct{ seen map[string]bool }

func (x *texts) add(s ...string) {
	if x.seen == nil {
		x.seen = map[string]bool{}
	}
	for _, v := range s {
		x.seen[v] = true
	}
}

func (x *texts) find(wants []string) (string, bool) {
	for s := range x.seen {
		ok := true
		for _, w := range wants {
			ok = ok && strings.Contains(s, w)
		}
		if ok {
			return s, true
		}
	}
	return "", false
}

func (x *texts) all() []string {
	var out []string
	for s := range x.seen {
		out = append(out, s)
	}
	return out
}

// waitText waits until one condition (as "Type/Reason: message") or event
// of the object contains every want, and returns everything seen.
func (w *workload) waitText(obj client.Object, wants ...string) *texts {
	w.t.Helper()
	x := &texts{}
	eventually(w.t, 45*time.Second, fmt.Sprintf("%s %s saying %q", obj.GetObjectKind().GroupVersionKind().Kind, obj.GetName(), wants), func() error {
		if err := w.c.Get(context.Background(), client.ObjectKeyFromObject(obj), obj); err != nil {
			return err
		}
		switch o := obj.(type) {
		case *scv1beta1.ServiceInstance:
			for _, c := range o.Status.Conditions {
				x.add(fmt.Sprintf("%s/%s: %s", c.Type, c.Reason, c.Message))
			}
		case *scv1beta1.ServiceBinding:
			for _, c := range o.Status.Conditions {
				x.add(fmt.Sprintf("%s/%s: %s", c.Type, c.Reason, c.Message))
			}
		}
		x.add(eventTexts(w.t, w.c, w.ns, obj.GetName())...)
		if _, ok := x.find(wants); ok {
			return nil
		}
		return fmt.Errorf("seen %q", x.all())
	})
	msg, _ := x.find(wants)
	w.t.Logf("%s", msg)
	for _, s := range x.all() {
		if strings.Contains(s, canary) {
			w.t.Errorf("a condition or event repeats a Secret's value: %s", s)
		}
	}
	return x
}

func (w *workload) noSecret(name string) {
	w.t.Helper()
	err := w.c.Get(context.Background(), client.ObjectKey{Namespace: w.ns, Name: name}, &corev1.Secret{})
	if !apierrors.IsNotFound(err) {
		w.t.Errorf("Secret %s: %v, want it not to exist", name, err)
	}
}

// TestHostileInstanceInput: parametersFrom Secrets that are missing, not
// JSON, not an object or too large, and a plan whose schema is broken. The
// instance says what is wrong and the broker never sees a provision.
func TestHostileInstanceInput(t *testing.T) {
	w := newWorkload(t, "bad-inst")
	w.secret("notjson", map[string]string{"k": "password=" + canary})
	w.secret("array", map[string]string{"k": `["` + canary + `"]`})
	w.secret("huge", map[string]string{"k": `{"blob":"` + strings.Repeat(canary, 300<<10/len(canary)) + `"}`})
	w.secret("fine", map[string]string{"k": `{"size":3}`})

	tests := []struct {
		name, plan string
		from       []string
		wantReason string
		want       []string
	}{
		{"parametersFrom Secret missing", "small", []string{"nope/k"}, scv1beta1.ReasonErrorWithParameters,
			[]string{`spec.parametersFrom[0].secretKeyRef: Secret "nope" does not exist`}},
		{"parametersFrom key missing", "small", []string{"fine/absent"}, scv1beta1.ReasonErrorWithParameters,
			[]string{`spec.parametersFrom[0].secretKeyRef: Secret "fine" has no key "absent"`}},
		{"parametersFrom value not JSON", "small", []string{"notjson/k"}, scv1beta1.ReasonErrorWithParameters,
			[]string{`spec.parametersFrom[0].secretKeyRef: the value of key "k" in Secret "notjson" is not a JSON object (it is not valid JSON)`}},
		{"parametersFrom value a JSON array", "small", []string{"fine/k", "array/k"}, scv1beta1.ReasonErrorWithParameters,
			[]string{`spec.parametersFrom[1].secretKeyRef: the value of key "k" in Secret "array" is not a JSON object (it is a JSON array)`}},
		{"parametersFrom value over 256 KiB", "small", []string{"huge/k"}, scv1beta1.ReasonErrorWithParameters,
			[]string{`spec.parametersFrom[0].secretKeyRef: the value of key "k" in Secret "huge" brings the parameters to`,
				fmt.Sprintf("more than the %d allowed", osbparams.MaxParametersBytes)}},
		{"plan schema from the broker is not a JSON Schema", "badschema", []string{"fine/k"}, "",
			[]string{"the plan's parameter schema from the broker is invalid", "/properties/size/type"}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w.t = t
			name := fmt.Sprintf("i%d", i)
			w.instance(name, tt.plan, tt.from...)
			inst := &scv1beta1.ServiceInstance{ObjectMeta: metav1.ObjectMeta{Namespace: w.ns, Name: name}}
			want := tt.want
			if tt.wantReason != "" {
				want = append([]string{"Ready/" + tt.wantReason + ": "}, want...)
			}
			x := w.waitText(inst, want...)
			time.Sleep(500 * time.Millisecond)
			if n := w.f.broker.ProvisionCount(w.p + "-" + name); n != 0 {
				t.Errorf("the broker got %d provision requests", n)
			}
			if tt.plan == "badschema" {
				if msg, _ := x.find(tt.want); strings.Contains(msg, scv1beta1.ReasonInvalidParameters) || strings.Contains(msg, "parameters do not match") {
					t.Errorf("the condition blames the user's parameters for the broker's schema: %s", msg)
				}
			}

		})
	}
}

// TestHostileBindInput: bind answers whose credentials are not a JSON
// object, and secret transforms that cannot be applied. No Secret is
// written, and a binding the broker made but the cluster cannot use is
// unbound (orphan mitigation) rather than left behind.
func TestHostileBindInput(t *testing.T) {
	w := newWorkload(t, "bad-bind")
	w.instance("inst", "small")
	eventually(t, 45*time.Second, "instance ready", func() error {
		inst := &scv1beta1.ServiceInstance{}
		if err := w.c.Get(context.Background(), client.ObjectKey{Namespace: w.ns, Name: "inst"}, inst); err != nil {
			return err
		}
		if c := inst.Status.GetCondition(scv1beta1.ServiceInstanceConditionReady); c == nil || c.Status != scv1beta1.ConditionTrue {
			return fmt.Errorf("conditions %+v", inst.Status.Conditions)
		}
		return nil
	})
	jp := func(key, expr string) scv1beta1.SecretTransform {
		return scv1beta1.SecretTransform{AddKey: &scv1beta1.AddKeyTransform{Key: key, JSONPathExpression: &expr}}
	}
	tests := []struct {
		name       string
		bindBody   string // replaces the broker's bind answer when set
		transforms []scv1beta1.SecretTransform
		want       []string
		// unbound: the broker's binding must be unbound (orphan mitigation).
		unbound bool
		// foreign: a Secret of that name exists already, not the binding's.
		foreign bool
	}{
		{name: "credentials a string", bindBody: `{"credentials":"user=admin password=` + canary + `"}`, unbound: true,
			want: []string{"broker answered 201 with a malformed body: field credentials has JSON type string"}},
		{name: "credentials an array", bindBody: `{"credentials":["` + canary + `"]}`, unbound: true,
			want: []string{"broker answered 201 with a malformed body: field credentials has JSON type array"}},
		{name: "addKey jsonPath naming a missing key", transforms: []scv1beta1.SecretTransform{jp("uri", "{.host}:{.port}")}, unbound: true,
			want: []string{scv1beta1.ReasonErrorInjectingBindResult, `spec.secretTransforms[0].addKey: key "uri": jsonPathExpression "{.host}:{.port}" does not evaluate over the credentials`, "host is not found"}},
		{name: "addKeysFrom a missing Secret", transforms: []scv1beta1.SecretTransform{{AddKeysFrom: &scv1beta1.AddKeysFromTransform{SecretRef: &scv1beta1.ObjectReference{Name: "nope"}}}},
			want: []string{"Ready/" + scv1beta1.ReasonErrorInjectingBindResult, `spec.secretTransforms[0].addKeysFrom: Secret "` + w.ns + `/nope" does not exist`}},
		{name: "secretName of a Secret the binding does not own", foreign: true,
			want: []string{"Ready/" + scv1beta1.ReasonErrorSecretOwnedByAnother, `the Secret "b4-secret" already exists and does not belong to this binding; delete it or choose another spec.secretName`}},
		{name: "renameKey of a missing key (no error by design; v0.3 did the same)", transforms: []scv1beta1.SecretTransform{{RenameKey: &scv1beta1.RenameKeyTransform{From: "absent", To: "x"}}},
			want: []string{"Ready/" + scv1beta1.ReasonInjectedBindResult}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w.t = t
			name := fmt.Sprintf("b%d", i)
			id := w.p + "-" + name
			if tt.bindBody != "" {
				w.f.broker.On(testbroker.Rule{Operation: osb.OpBind, BindingID: id, Body: []byte(tt.bindBody)})
			}
			var foreign *corev1.Secret
			if tt.foreign {
				w.secret(name+"-secret", map[string]string{"keep": canary})
				foreign = &corev1.Secret{}
				if err := w.c.Get(context.Background(), client.ObjectKey{Namespace: w.ns, Name: name + "-secret"}, foreign); err != nil {
					t.Fatal(err)
				}
			}
			w.binding(name, "inst", tt.transforms...)
			b := &scv1beta1.ServiceBinding{ObjectMeta: metav1.ObjectMeta{Namespace: w.ns, Name: name}}
			w.waitText(b, tt.want...)
			if foreign != nil {
				// The user's Secret is untouched and the broker was never
				// asked for credentials that would have nowhere to go.
				time.Sleep(500 * time.Millisecond)
				now := &corev1.Secret{}
				if err := w.c.Get(context.Background(), client.ObjectKeyFromObject(foreign), now); err != nil {
					t.Fatal(err)
				}
				if now.ResourceVersion != foreign.ResourceVersion || string(now.Data["keep"]) != canary || len(now.Data) != 1 {
					t.Errorf("the foreign Secret changed: rv %s -> %s, keys %v", foreign.ResourceVersion, now.ResourceVersion, keys(now.Data))
				}
				for _, r := range w.f.broker.RequestsFor(osb.OpBind) {
					if r.BindingID == id {
						t.Error("the broker got a bind request")
					}
				}
				return
			}
			if tt.transforms != nil && tt.transforms[0].RenameKey != nil {
				s := &corev1.Secret{}
				if err := w.c.Get(context.Background(), client.ObjectKey{Namespace: w.ns, Name: name + "-secret"}, s); err != nil {
					t.Fatal(err)
				}
				if _, ok := s.Data["password"]; !ok || s.Data["x"] != nil {
					t.Errorf("Secret keys %v", keys(s.Data))
				}
				return
			}
			w.noSecret(name + "-secret")
			if tt.unbound {
				eventually(t, 30*time.Second, "orphan mitigation unbinds", func() error {
					for _, r := range w.f.broker.RequestsFor(osb.OpUnbind) {
						if r.BindingID == id {
							return nil
						}
					}
					return fmt.Errorf("no unbind")
				})
			} else {
				for _, r := range w.f.broker.RequestsFor(osb.OpUnbind) {
					if r.BindingID == id {
						t.Errorf("a retryable problem unbound the binding")
					}
				}
			}
			w.noSecret(name + "-secret")
		})
	}
}

func keys(m map[string][]byte) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
