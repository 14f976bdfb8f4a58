package controller_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	scv1beta1 "github.com/svcat-io/svcat/api/v1beta1"
	"github.com/svcat-io/svcat/internal/localcluster"
	"github.com/svcat-io/svcat/internal/osb"
	"github.com/svcat-io/svcat/internal/testbroker"
)

// seedManifest reads one of the seed's manifests into obj, in namespace ns.
func seedManifest(t *testing.T, name, ns string, obj client.Object) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "test", "testdata", "seed", name))
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.UnmarshalStrict(data, obj); err != nil {
		t.Fatal(err)
	}
	obj.SetNamespace(ns)
}

func waitInstance(t *testing.T, c client.Client, ns, name string, check func(*scv1beta1.ServiceInstance) error) *scv1beta1.ServiceInstance {
	t.Helper()
	inst := &scv1beta1.ServiceInstance{}
	eventually(t, 30*time.Second, "instance "+name, func() error {
		if err := c.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, inst); err != nil {
			return err
		}
		if err := check(inst); err != nil {
			return fmt.Errorf("%v; conditions %+v", err, inst.Status.Conditions)
		}
		return nil
	})
	return inst
}

func waitBinding(t *testing.T, c client.Client, ns, name string, check func(*scv1beta1.ServiceBinding) error) *scv1beta1.ServiceBinding {
	t.Helper()
	b := &scv1beta1.ServiceBinding{}
	eventually(t, 30*time.Second, "binding "+name, func() error {
		if err := c.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, b); err != nil {
			return err
		}
		if err := check(b); err != nil {
			return fmt.Errorf("%v; conditions %+v", err, b.Status.Conditions)
		}
		return nil
	})
	return b
}

func instanceReason(reason string) func(*scv1beta1.ServiceInstance) error {
	return func(i *scv1beta1.ServiceInstance) error {
		if c := i.Status.GetCondition(scv1beta1.ServiceInstanceConditionReady); c == nil || c.Reason != reason {
			return fmt.Errorf("want Ready reason %s", reason)
		}
		return nil
	}
}

func bindingReason(reason string) func(*scv1beta1.ServiceBinding) error {
	return func(b *scv1beta1.ServiceBinding) error {
		if c := b.Status.GetCondition(scv1beta1.ServiceBindingConditionReady); c == nil || c.Reason != reason {
			return fmt.Errorf("want Ready reason %s", reason)
		}
		return nil
	}
}

func waitGone(t *testing.T, c client.Client, obj client.Object) {
	t.Helper()
	eventually(t, 30*time.Second, "deletion of "+obj.GetName(), func() error {
		err := c.Get(context.Background(), client.ObjectKeyFromObject(obj), obj)
		if apierrors.IsNotFound(err) {
			return nil
		}
		return fmt.Errorf("still there (err %v)", err)
	})
}

// seedBroker starts a test broker with the seed's catalog and registers it
// as the seed's ClusterServiceBroker "cloudkarafka".
func seedBroker(t *testing.T, env *localcluster.Env, opts testbroker.Options) *testbroker.Broker {
	t.Helper()
	broker := testbroker.Start(t, opts)
	authedClusterBroker(t, env, "cloudkarafka", scv1beta1.CommonServiceBrokerSpec{URL: broker.URL()})
	waitBrokerCondition(t, env.Client, "cloudkarafka", scv1beta1.ConditionTrue, scv1beta1.ReasonFetchedCatalog)
	return broker
}

// The seed's walkthrough: its instance and binding manifests, applied as
// printed, end with a Ready instance, a Ready binding and a Secret holding
// the seed's credential keys; deleting them unbinds and deprovisions.
func TestSeedInstanceAndBinding(t *testing.T) {
	env := controlPlane(t)
	ns := env.Namespace(t)
	ctx := context.Background()
	broker := seedBroker(t, env, testbroker.Options{})

	inst := &scv1beta1.ServiceInstance{}
	seedManifest(t, "service-instance.yml", ns, inst)
	if err := env.Client.Create(ctx, inst); err != nil {
		t.Fatal(err)
	}
	inst = waitInstance(t, env.Client, ns, "demo-kafka", instanceReason(scv1beta1.ReasonProvisionedSuccessfully))
	ready := inst.Status.GetCondition(scv1beta1.ServiceInstanceConditionReady)
	if ready.Status != "True" || ready.Message != "The instance was provisioned successfully" {
		t.Errorf("Ready condition %+v", ready)
	}
	st := inst.Status
	if st.ProvisionStatus != "Provisioned" || st.DeprovisionStatus != "Required" || st.LastConditionState != "Ready" ||
		st.UserSpecifiedClassName != "ClusterServiceClass/cloudkarafka" || st.UserSpecifiedPlanName != "duck" ||
		st.ObservedGeneration != inst.Generation || st.AsyncOpInProgress || st.CurrentOperation != "" ||
		st.ExternalProperties == nil || st.ExternalProperties.ClusterServicePlanExternalID != testbroker.SeedPlanID {
		t.Errorf("status not as v0.3 fills it: %+v", st)
	}
	if inst.Spec.ExternalID == "" || inst.Spec.ClusterServiceClassRef.Name != testbroker.SeedServiceID || inst.Spec.ClusterServicePlanRef.Name != testbroker.SeedPlanID {
		t.Errorf("spec: %+v", inst.Spec)
	}
	if inst.Finalizers[0] != scv1beta1.FinalizerServiceCatalog {
		t.Errorf("finalizers %v", inst.Finalizers)
	}
	if n := broker.ProvisionCount(inst.Spec.ExternalID); n != 1 {
		t.Errorf("provisioned %d times", n)
	}
	got := kubectl(t, env, "get", "serviceinstances", "-n", ns)
	if fields := strings.Fields(strings.Split(got, "\n")[1]); len(fields) < 4 || fields[0] != "demo-kafka" || fields[1] != "ClusterServiceClass/cloudkarafka" || fields[2] != "duck" || fields[3] != "Ready" {
		t.Errorf("kubectl get serviceinstances:\n%s", got)
	}
	req := broker.RequestsFor(osb.OpProvision)[0]
	if req.Query.Get("accepts_incomplete") != "true" || !strings.Contains(string(req.Body), `"organization_guid":"test-cluster"`) ||
		!strings.Contains(string(req.Body), `"platform":"kubernetes"`) || !strings.Contains(string(req.Body), `"instance_name":"demo-kafka"`) {
		t.Errorf("provision request: %s?%s %s", req.Path, req.Query, req.Body)
	}

	b := &scv1beta1.ServiceBinding{}
	seedManifest(t, "service-binding.yml", ns, b)
	if err := env.Client.Create(ctx, b); err != nil {
		t.Fatal(err)
	}
	b = waitBinding(t, env.Client, ns, "demo-kafka-binding", bindingReason(scv1beta1.ReasonInjectedBindResult))
	if b.Status.LastConditionState != "Ready" || b.Status.UnbindStatus != "Required" || b.Status.Binding == nil || b.Status.Binding.Name != "demo-kafka-secret" {
		t.Errorf("binding status %+v", b.Status)
	}
	got = kubectl(t, env, "get", "servicebindings", "-n", ns)
	if fields := strings.Fields(strings.Split(got, "\n")[1]); len(fields) < 4 || fields[0] != "demo-kafka-binding" || fields[1] != "demo-kafka" || fields[2] != "demo-kafka-secret" || fields[3] != "Ready" {
		t.Errorf("kubectl get servicebindings:\n%s", got)
	}
	sec := &corev1.Secret{}
	if err := env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: "demo-kafka-secret"}, sec); err != nil {
		t.Fatal(err)
	}
	var keys []string
	for k := range sec.Data {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range []string{"brokers", "username", "password", "topicPrefix", "ca", "name", "type", "provider"} {
		if _, ok := sec.Data[k]; !ok {
			t.Errorf("Secret lacks key %q (has %v)", k, keys)
		}
	}
	want := broker.Credentials(b.Spec.ExternalID)
	if string(sec.Data["password"]) != want["password"] || !metav1.IsControlledBy(sec, b) {
		t.Errorf("Secret does not hold the issued credentials or is not owned by the binding")
	}

	// Deleting the instance is blocked while the binding exists.
	if err := env.Client.Delete(ctx, inst); err != nil {
		t.Fatal(err)
	}
	waitInstance(t, env.Client, ns, "demo-kafka", instanceReason(scv1beta1.ReasonDeprovisionBlockedByExistingCredentials))
	if len(broker.RequestsFor(osb.OpDeprovision)) != 0 {
		t.Error("deprovisioned while a binding existed")
	}
	if err := env.Client.Delete(ctx, b); err != nil {
		t.Fatal(err)
	}
	waitGone(t, env.Client, b)
	waitGone(t, env.Client, inst)
	if err := env.Client.Get(ctx, client.ObjectKeyFromObject(sec), sec); !apierrors.IsNotFound(err) {
		t.Errorf("binding Secret not deleted: %v", err)
	}
	if len(broker.Instances()) != 0 || len(broker.Bindings()) != 0 {
		t.Errorf("left at the broker: %d instances, %d bindings", len(broker.Instances()), len(broker.Bindings()))
	}
}
