package admissionpolicy_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	scv1beta1 "github.com/svcat-io/svcat/api/v1beta1"
	"github.com/svcat-io/svcat/internal/localcluster"
	"github.com/svcat-io/svcat/internal/osb"
	"github.com/svcat-io/svcat/internal/testbroker"
)

// v03Client sends the recorded v0.3 request bodies of testdata/v03requests
// as they are, byte for byte but for the placeholders, as a user.
type v03Client struct {
	t    *testing.T
	cfg  *rest.Config
	http *http.Client
}

func newV03Client(t *testing.T, cfg *rest.Config) *v03Client {
	t.Helper()
	hc, err := rest.HTTPClientFor(cfg)
	must(t, err)
	return &v03Client{t: t, cfg: cfg, http: hc}
}

// send sends the file's body to path with the placeholders in vars filled
// in, and returns the HTTP status and the answer's body.
func (c *v03Client) send(method, path, file string, vars map[string]string) (int, []byte) {
	c.t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "v03requests", file))
	must(c.t, err)
	for k, v := range vars {
		b = bytes.ReplaceAll(b, []byte("$"+k), []byte(v))
	}
	req, err := http.NewRequest(method, strings.TrimSuffix(c.cfg.Host, "/")+path, bytes.NewReader(b))
	must(c.t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	resp, err := c.http.Do(req)
	must(c.t, err)
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	must(c.t, err)
	return resp.StatusCode, out
}

// ok sends and fails the test unless the API server accepted the request.
// vars is called for each try: an update reads the resourceVersion again
// after a conflict with the controller's writes, as v0.3's svcat does.
func (c *v03Client) ok(method, path, file string, vars func() map[string]string) {
	c.t.Helper()
	var status int
	var body []byte
	// The policies take effect once the API server's informers see them.
	localcluster.Eventually(c.t, 30*time.Second, file+" accepted", func() error {
		status, body = c.send(method, path, file, vars())
		if status >= 300 {
			return fmt.Errorf("%s %s (%s): HTTP %d: %s", method, path, file, status, body)
		}
		return nil
	})
}

const v03Group = "/apis/servicecatalog.k8s.io/v1beta1"

// Requests shaped as v0.3's client sends them succeed and are stored as
// v0.3 stored them, for every field v0.3's defaulting and mutating
// admission touched (see config/admission/v03-defaults-policy.yaml and
// v03-broker-defaults-policy.yaml).
func TestV03ClientRequests(t *testing.T) {
	env := cluster(t)
	ctx := context.Background()
	ns := env.Namespace(t)
	admin := newV03Client(t, env.Config)
	tenantCfg, err := env.User("v03-tenant")
	must(t, err)
	tenant(t, env, "v03-tenant", ns)
	user := newV03Client(t, tenantCfg)

	// svcat register: relistBehavior "" is Duration.
	t.Run("register-cluster-broker", func(t *testing.T) {
		admin.t = t
		admin.ok("POST", v03Group+"/clusterservicebrokers", "register-clusterservicebroker.json", func() map[string]string { return map[string]string{"NAME": "v03-register"} })
		b := &scv1beta1.ClusterServiceBroker{}
		must(t, env.Client.Get(ctx, client.ObjectKey{Name: "v03-register"}, b))
		if b.Spec.RelistBehavior != scv1beta1.ServiceBrokerRelistBehaviorDuration || b.Spec.RelistRequests != 0 || b.Spec.URL != "http://127.0.0.1:9/" {
			t.Errorf("stored spec %+v, want relistBehavior Duration, relistRequests 0", b.Spec.CommonServiceBrokerSpec)
		}
	})
	t.Run("register-namespaced-broker", func(t *testing.T) {
		user.t = t
		user.ok("POST", v03Group+"/namespaces/"+ns+"/servicebrokers", "register-servicebroker.json", func() map[string]string { return map[string]string{"NAME": "v03-register", "NS": ns} })
		b := &scv1beta1.ServiceBroker{}
		must(t, env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: "v03-register"}, b))
		if b.Spec.RelistBehavior != scv1beta1.ServiceBrokerRelistBehaviorDuration {
			t.Errorf("stored relistBehavior %q, want Duration", b.Spec.RelistBehavior)
		}
	})

	// A typed update that leaves relistBehavior and relistRequests at their
	// zero values keeps the stored ones; svcat sync increments.
	t.Run("update-broker-zero-values", func(t *testing.T) {
		admin.t = t
		b := &scv1beta1.ClusterServiceBroker{ObjectMeta: metav1.ObjectMeta{Name: "v03-update"}, Spec: scv1beta1.ClusterServiceBrokerSpec{
			CommonServiceBrokerSpec: scv1beta1.CommonServiceBrokerSpec{URL: "http://127.0.0.1:9/", RelistBehavior: scv1beta1.ServiceBrokerRelistBehaviorManual, RelistRequests: 3}}}
		must(t, env.Client.Create(ctx, b))
		admin.ok("PUT", v03Group+"/clusterservicebrokers/v03-update", "update-clusterservicebroker.json",
			func() map[string]string {
				return map[string]string{"NAME": "v03-update", "RV": currentRV(t, env.Client, b)}
			})
		must(t, env.Client.Get(ctx, client.ObjectKeyFromObject(b), b))
		if b.Spec.URL != "http://127.0.0.1:10/" || b.Spec.RelistBehavior != scv1beta1.ServiceBrokerRelistBehaviorManual || b.Spec.RelistRequests != 3 {
			t.Errorf("stored spec %+v, want the new URL with relistBehavior Manual and relistRequests 3 kept", b.Spec.CommonServiceBrokerSpec)
		}
		admin.ok("PUT", v03Group+"/clusterservicebrokers/v03-update", "sync-clusterservicebroker.json",
			func() map[string]string {
				return map[string]string{"NAME": "v03-update", "RV": currentRV(t, env.Client, b)}
			})
		must(t, env.Client.Get(ctx, client.ObjectKeyFromObject(b), b))
		if b.Spec.RelistRequests != 4 {
			t.Errorf("relistRequests %d after svcat sync, want 4", b.Spec.RelistRequests)
		}
	})

	// svcat provision with the Kubernetes names it resolved: externalID ""
	// is generated (by the controller, before its first broker request).
	broker := testbroker.Start(t, testbroker.Options{Catalog: []osb.Service{{ID: "v03-compat-svc", Name: "v03-compat", Description: "compat", Bindable: true,
		Plans: []osb.Plan{{ID: "v03-compat-small", Name: "small", Description: "small"}}}}})
	must(t, env.Client.Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "v03-broker-creds"},
		Data: map[string][]byte{"username": []byte(testbroker.DefaultUsername), "password": []byte(testbroker.DefaultPassword)}}))
	must(t, env.Client.Create(ctx, &scv1beta1.ClusterServiceBroker{ObjectMeta: metav1.ObjectMeta{Name: "v03-compat"}, Spec: scv1beta1.ClusterServiceBrokerSpec{
		CommonServiceBrokerSpec: scv1beta1.CommonServiceBrokerSpec{URL: broker.URL(), RelistBehavior: scv1beta1.ServiceBrokerRelistBehaviorManual},
		AuthInfo:                &scv1beta1.ClusterServiceBrokerAuthInfo{Basic: &scv1beta1.ClusterBasicAuthConfig{SecretRef: &scv1beta1.ObjectReference{Namespace: ns, Name: "v03-broker-creds"}}}}}))
	plan := &scv1beta1.ClusterServicePlan{}
	localcluster.Eventually(t, 30*time.Second, "the compat broker's plan", func() error {
		plans := &scv1beta1.ClusterServicePlanList{}
		must(t, env.Client.List(ctx, plans))
		for _, p := range plans.Items {
			if p.Spec.ExternalID == "v03-compat-small" {
				*plan = p
				return nil
			}
		}
		return fmt.Errorf("no plan yet")
	})
	t.Run("provision", func(t *testing.T) {
		user.t = t
		user.ok("POST", v03Group+"/namespaces/"+ns+"/serviceinstances", "provision.json",
			func() map[string]string {
				return map[string]string{"NAME": "v03-provision", "NS": ns, "CLASS": plan.Spec.ClusterServiceClassRef.Name, "PLAN": plan.Name}
			})
		inst := &scv1beta1.ServiceInstance{}
		localcluster.Eventually(t, 30*time.Second, "instance Ready", func() error {
			must(t, env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: "v03-provision"}, inst))
			if c := inst.Status.GetCondition(scv1beta1.ServiceInstanceConditionReady); c == nil || c.Status != scv1beta1.ConditionTrue {
				return fmt.Errorf("conditions %+v", inst.Status.Conditions)
			}
			return nil
		})
		if len(inst.Spec.ExternalID) != 36 || inst.Spec.UpdateRequests != 0 || inst.Spec.UserInfo == nil || inst.Spec.UserInfo.Username != "v03-tenant" {
			t.Errorf("stored spec %+v, want a generated externalID and the tenant's userInfo", inst.Spec)
		}
	})

	// The class and plan references are the controller's: a create drops
	// them, a change of plan drops the plan's, and updateRequests 0 keeps
	// the stored count.
	t.Run("instance-references-and-update-requests", func(t *testing.T) {
		user.t = t
		user.ok("POST", v03Group+"/namespaces/"+ns+"/serviceinstances", "create-instance-with-refs.json", func() map[string]string { return map[string]string{"NAME": "v03-refs", "NS": ns} })
		inst := &scv1beta1.ServiceInstance{}
		must(t, env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: "v03-refs"}, inst))
		if inst.Spec.ClusterServiceClassRef != nil || inst.Spec.ClusterServicePlanRef != nil {
			t.Errorf("created with references %v %v, want none", inst.Spec.ClusterServiceClassRef, inst.Spec.ClusterServicePlanRef)
		}
		// As the controller would resolve them, and a touch.
		update(t, env.Client, inst, func(i *scv1beta1.ServiceInstance) {
			i.Spec.ClusterServiceClassRef = &scv1beta1.ClusterObjectReference{Name: "the-class"}
			i.Spec.ClusterServicePlanRef = &scv1beta1.ClusterObjectReference{Name: "the-small-plan"}
			i.Spec.UpdateRequests = 2
		})
		// The class does not exist, so the controller leaves externalID
		// empty, as the recorded body sends it.
		user.ok("PUT", v03Group+"/namespaces/"+ns+"/serviceinstances/v03-refs", "update-instance.json", func() map[string]string {
			return map[string]string{"NAME": "v03-refs", "NS": ns, "RV": currentRV(t, env.Client, inst)}
		})
		must(t, env.Client.Get(ctx, client.ObjectKeyFromObject(inst), inst))
		if inst.Spec.ClusterServicePlanExternalName != "large" || inst.Spec.ClusterServicePlanRef != nil ||
			inst.Spec.ClusterServiceClassRef == nil || inst.Spec.ClusterServiceClassRef.Name != "the-class" || inst.Spec.UpdateRequests != 2 {
			t.Errorf("stored spec %+v, want plan large without a plan reference, the class reference and updateRequests 2 kept", inst.Spec)
		}
	})

	// svcat bind: secretName defaults to the binding's name at once, and
	// the controller generates externalID; an update keeps the spec.
	t.Run("bind-and-update-binding", func(t *testing.T) {
		user.t = t
		user.ok("POST", v03Group+"/namespaces/"+ns+"/servicebindings", "bind.json", func() map[string]string {
			return map[string]string{"NAME": "v03-bind", "NS": ns, "INSTANCE": "v03-provision"}
		})
		b := &scv1beta1.ServiceBinding{}
		must(t, env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: "v03-bind"}, b))
		if b.Spec.SecretName != "v03-bind" {
			t.Errorf("stored secretName %q, want the binding's name", b.Spec.SecretName)
		}
		localcluster.Eventually(t, 30*time.Second, "binding Ready", func() error {
			must(t, env.Client.Get(ctx, client.ObjectKeyFromObject(b), b))
			if c := b.Status.GetCondition(scv1beta1.ServiceBindingConditionReady); c == nil || c.Status != scv1beta1.ConditionTrue {
				return fmt.Errorf("conditions %+v", b.Status.Conditions)
			}
			if len(b.Spec.ExternalID) != 36 {
				return fmt.Errorf("externalID %q, want a UUID", b.Spec.ExternalID)
			}
			return nil
		})
		before := b.Spec
		cur := b.DeepCopy()
		user.ok("PUT", v03Group+"/namespaces/"+ns+"/servicebindings/v03-bind", "update-binding.json",
			func() map[string]string {
				return map[string]string{"NAME": "v03-bind", "NS": ns, "RV": currentRV(t, env.Client, cur), "EXTERNAL_ID": b.Spec.ExternalID, "INSTANCE": "v03-provision"}
			})
		must(t, env.Client.Get(ctx, client.ObjectKeyFromObject(b), b))
		if jsonOf(b.Spec) != jsonOf(before) {
			t.Errorf("binding spec changed by an update:\n got %s\nwant %s", jsonOf(b.Spec), jsonOf(before))
		}
	})

	// A class's broker and a plan's broker and class stay as they are.
	t.Run("class-and-plan-references", func(t *testing.T) {
		admin.t = t
		class := &scv1beta1.ClusterServiceClass{ObjectMeta: metav1.ObjectMeta{Name: "v03-compat-class"}, Spec: scv1beta1.ClusterServiceClassSpec{
			CommonServiceClassSpec:   scv1beta1.CommonServiceClassSpec{ExternalName: "compat", ExternalID: "compat-class-id", Description: "compat", Bindable: true},
			ClusterServiceBrokerName: "v03-register"}}
		must(t, env.Client.Create(ctx, class))
		plan := &scv1beta1.ClusterServicePlan{ObjectMeta: metav1.ObjectMeta{Name: "v03-compat-plan"}, Spec: scv1beta1.ClusterServicePlanSpec{
			CommonServicePlanSpec:    scv1beta1.CommonServicePlanSpec{ExternalName: "small", ExternalID: "compat-plan-id", Description: "small"},
			ClusterServiceBrokerName: "v03-register", ClusterServiceClassRef: scv1beta1.ClusterObjectReference{Name: "v03-compat-class"}}}
		must(t, env.Client.Create(ctx, plan))
		admin.ok("PUT", v03Group+"/clusterserviceclasses/v03-compat-class", "update-clusterserviceclass.json",
			func() map[string]string {
				return map[string]string{"NAME": "v03-compat-class", "RV": currentRV(t, env.Client, class)}
			})
		admin.ok("PUT", v03Group+"/clusterserviceplans/v03-compat-plan", "update-clusterserviceplan.json",
			func() map[string]string {
				return map[string]string{"NAME": "v03-compat-plan", "RV": currentRV(t, env.Client, plan)}
			})
		must(t, env.Client.Get(ctx, client.ObjectKeyFromObject(class), class))
		must(t, env.Client.Get(ctx, client.ObjectKeyFromObject(plan), plan))
		if class.Spec.ClusterServiceBrokerName != "v03-register" || class.Spec.Description != "now elsewhere" {
			t.Errorf("class spec %+v, want the broker kept and the description changed", class.Spec)
		}
		if plan.Spec.ClusterServiceBrokerName != "v03-register" || plan.Spec.ClusterServiceClassRef.Name != "v03-compat-class" || plan.Spec.Description != "now elsewhere" {
			t.Errorf("plan spec %+v, want the broker and class kept and the description changed", plan.Spec)
		}
	})
}

// The same for namespaced classes and plans.
func TestV03ClientRequestsNamespacedCatalog(t *testing.T) {
	env := cluster(t)
	ctx := context.Background()
	ns := env.Namespace(t)
	admin := newV03Client(t, env.Config)
	class := &scv1beta1.ServiceClass{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "v03-compat-class"}, Spec: scv1beta1.ServiceClassSpec{
		CommonServiceClassSpec: scv1beta1.CommonServiceClassSpec{ExternalName: "compat", ExternalID: "compat-ns-class-id", Description: "compat", Bindable: true},
		ServiceBrokerName:      "v03-ns-broker"}}
	must(t, env.Client.Create(ctx, class))
	plan := &scv1beta1.ServicePlan{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "v03-compat-plan"}, Spec: scv1beta1.ServicePlanSpec{
		CommonServicePlanSpec: scv1beta1.CommonServicePlanSpec{ExternalName: "small", ExternalID: "compat-ns-plan-id", Description: "small"},
		ServiceBrokerName:     "v03-ns-broker", ServiceClassRef: scv1beta1.LocalObjectReference{Name: "v03-compat-class"}}}
	must(t, env.Client.Create(ctx, plan))
	admin.ok("PUT", v03Group+"/namespaces/"+ns+"/serviceclasses/v03-compat-class", "update-serviceclass.json", func() map[string]string {
		return map[string]string{"NAME": "v03-compat-class", "NS": ns, "RV": currentRV(t, env.Client, class)}
	})
	admin.ok("PUT", v03Group+"/namespaces/"+ns+"/serviceplans/v03-compat-plan", "update-serviceplan.json", func() map[string]string {
		return map[string]string{"NAME": "v03-compat-plan", "NS": ns, "RV": currentRV(t, env.Client, plan)}
	})
	must(t, env.Client.Get(ctx, client.ObjectKeyFromObject(class), class))
	must(t, env.Client.Get(ctx, client.ObjectKeyFromObject(plan), plan))
	if class.Spec.ServiceBrokerName != "v03-ns-broker" || class.Spec.Description != "now elsewhere" {
		t.Errorf("class spec %+v, want the broker kept and the description changed", class.Spec)
	}
	if plan.Spec.ServiceBrokerName != "v03-ns-broker" || plan.Spec.ServiceClassRef.Name != "v03-compat-class" || plan.Spec.Description != "now elsewhere" {
		t.Errorf("plan spec %+v, want the broker and class kept and the description changed", plan.Spec)
	}
}

// currentRV is obj's resourceVersion as a client reads it before an update.
func currentRV(t *testing.T, c client.Client, obj client.Object) string {
	t.Helper()
	must(t, c.Get(context.Background(), client.ObjectKeyFromObject(obj), obj))
	return obj.GetResourceVersion()
}

// update applies edit to the latest version of obj until it does not
// conflict with the controller's writes.
func update[T client.Object](t *testing.T, c client.Client, obj T, edit func(T)) {
	t.Helper()
	localcluster.Eventually(t, 10*time.Second, "update "+obj.GetName(), func() error {
		if err := c.Get(context.Background(), client.ObjectKeyFromObject(obj), obj); err != nil {
			return err
		}
		edit(obj)
		return c.Update(context.Background(), obj)
	})
}

func jsonOf(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// waitMutatingPolicies waits until the API server can apply the mutating
// policies to every catalog kind: until it has loaded a CRD's schema for
// them it answers writes of that kind 503 ("Resource kind ... not found"),
// for a few seconds after the CRDs and the policies are created.
func waitMutatingPolicies(t *testing.T, env *localcluster.Env) {
	t.Helper()
	const group = "servicecatalog.k8s.io/v1beta1"
	ns := "default"
	probes := []map[string]any{
		{"kind": "ClusterServiceBroker", "metadata": map[string]any{"name": "policy-probe"}, "spec": map[string]any{"url": "https://probe.invalid"}},
		{"kind": "ServiceBroker", "spec": map[string]any{"url": "https://probe.invalid"}},
		{"kind": "ServiceInstance", "spec": map[string]any{"clusterServiceClassExternalName": "probe", "clusterServicePlanExternalName": "probe"}},
		{"kind": "ServiceBinding", "spec": map[string]any{"instanceRef": map[string]any{"name": "probe"}}},
		{"kind": "ClusterServiceClass", "metadata": map[string]any{"name": "policy-probe"}},
		{"kind": "ServiceClass"},
		{"kind": "ClusterServicePlan", "metadata": map[string]any{"name": "policy-probe"}},
		{"kind": "ServicePlan"},
	}
	for _, p := range probes {
		p["apiVersion"] = group
		if _, ok := p["metadata"]; !ok {
			p["metadata"] = map[string]any{"name": "policy-probe", "namespace": ns}
		}
		localcluster.Eventually(t, time.Minute, fmt.Sprintf("the mutating policies apply to %s", p["kind"]), func() error {
			err := env.Client.Create(context.Background(), &unstructured.Unstructured{Object: p}, client.DryRunAll)
			if apierrors.IsServiceUnavailable(err) {
				return err
			}
			return nil // created, or refused for what it is: the policies ran
		})
	}
}
