package svcatcmd_test

import (
	"context"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/svcat-io/svcat/api/v1beta1"
	"github.com/svcat-io/svcat/internal/localcluster"
)

// The seed's catalog: the CloudKarafka broker's one class and plan, named by
// the broker's IDs as the controller names them.
const (
	brokerName   = "cloudkarafka"
	brokerURL    = "http://cloudkarafka-service-broker-service.osb.svc.cluster.local"
	classID      = "d21df959-6da8-495f-a8b6-ddc51d49eea2"
	planID       = "e64a8b50-be7f-48cf-9010-9ccb7fe075b5"
	dashboardURL = "https://customer.cloudkarafka.com/instance/6980/sso"
	// demoNS holds an instance with a binding; the seed's instance lives in
	// default and has none.
	demoNS = "demo"
)

// Fixed times keep the golden files stable.
var (
	catalogTime   = metav1.NewTime(time.Date(2019, 1, 6, 11, 50, 2, 0, time.UTC))
	provisionTime = metav1.NewTime(time.Date(2019, 1, 6, 11, 52, 19, 0, time.UTC))
	bindTime      = metav1.NewTime(time.Date(2019, 1, 6, 11, 58, 40, 0, time.UTC))
)

var fixturesOnce sync.Once

// seedCatalog creates, once per package, the objects the controller would
// have made from the seed's broker, instance and binding, with their status.
func seedCatalog(t *testing.T, env *localcluster.Env) {
	t.Helper()
	var err error
	fixturesOnce.Do(func() { err = createFixtures(context.Background(), env.Client) })
	if err != nil {
		t.Fatalf("creating fixtures: %v", err)
	}
}

func createFixtures(ctx context.Context, c client.Client) error {
	broker := &v1beta1.ClusterServiceBroker{ObjectMeta: metav1.ObjectMeta{Name: brokerName}}
	broker.Spec.URL = brokerURL
	broker.Spec.RelistBehavior = v1beta1.ServiceBrokerRelistBehaviorDuration
	broker.Spec.AuthInfo = &v1beta1.ClusterServiceBrokerAuthInfo{Basic: &v1beta1.ClusterBasicAuthConfig{
		SecretRef: &v1beta1.ObjectReference{Namespace: "osb", Name: "cloudkarafka-service-broker-secret"}}}
	class := &v1beta1.ClusterServiceClass{ObjectMeta: metav1.ObjectMeta{Name: classID}}
	class.Spec.ExternalName = "cloudkarafka"
	class.Spec.ExternalID = classID
	class.Spec.Description = "CloudKarafka"
	class.Spec.Bindable = true
	class.Spec.Tags = []string{"kafka", "messaging"}
	class.Spec.ClusterServiceBrokerName = brokerName
	plan := &v1beta1.ClusterServicePlan{ObjectMeta: metav1.ObjectMeta{Name: planID}}
	plan.Spec.ExternalName = "duck"
	plan.Spec.ExternalID = planID
	plan.Spec.Description = "Developer Duck"
	plan.Spec.Free = true
	plan.Spec.ClusterServiceBrokerName = brokerName
	plan.Spec.ClusterServiceClassRef.Name = classID
	plan.Spec.InstanceCreateParameterSchema = raw(`{"type":"object","properties":{"topicPrefix":{"type":"string","description":"Prefix of the topics the instance may use."}}}`)

	for _, o := range []client.Object{broker, class, plan, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: demoNS}}} {
		if err := c.Create(ctx, o); err != nil {
			return err
		}
	}
	broker.Status.Conditions = []v1beta1.ServiceBrokerCondition{{Type: v1beta1.ServiceBrokerConditionReady, Status: v1beta1.ConditionTrue,
		LastTransitionTime: catalogTime, Reason: "FetchedCatalog", Message: "Successfully fetched catalog entries from broker."}}
	broker.Status.LastConditionState = "Ready"
	broker.Status.ReconciledGeneration = 1
	broker.Status.LastCatalogRetrievalTime = &catalogTime
	if err := c.Status().Update(ctx, broker); err != nil {
		return err
	}

	// The seed's instance, created by manifest with external names.
	if _, err := createInstance(ctx, c, "default", "demo-kafka", "83b97931-11a9-11e9-9bad-8a484bfab1d8", nil); err != nil {
		return err
	}
	// The same in demo, created by svcat (Kubernetes names), with
	// parameters and a binding.
	in, err := createInstance(ctx, c, demoNS, "demo-kafka", "5f1c2e4a-8d0b-4c55-9f5e-3b0c9f6c2d11", raw(`{"topicPrefix":"orders","retention":{"hours":24}}`))
	if err != nil {
		return err
	}
	in.Spec.ParametersFrom = []v1beta1.ParametersFromSource{{SecretKeyRef: &v1beta1.SecretKeyReference{Name: "kafka-params", Key: "extra"}}}
	if err := c.Update(ctx, in); err != nil {
		return err
	}

	b := &v1beta1.ServiceBinding{ObjectMeta: metav1.ObjectMeta{Namespace: demoNS, Name: "demo-kafka-binding"}}
	b.Spec.InstanceRef.Name = "demo-kafka"
	b.Spec.SecretName = "demo-kafka-secret"
	b.Spec.ExternalID = "0b3c6a5e-6f4e-4d9a-9a51-bf3e5f0f4a77"
	b.Finalizers = []string{v1beta1.FinalizerServiceCatalog}
	if err := c.Create(ctx, b); err != nil {
		return err
	}
	b.Status.Conditions = []v1beta1.ServiceBindingCondition{{Type: v1beta1.ServiceBindingConditionReady, Status: v1beta1.ConditionTrue,
		LastTransitionTime: bindTime, Reason: "InjectedBindResult", Message: "Injected bind result"}}
	b.Status.LastConditionState = "Ready"
	b.Status.ReconciledGeneration = 1
	b.Status.UnbindStatus = v1beta1.ServiceBindingUnbindStatusRequired
	if err := c.Status().Update(ctx, b); err != nil {
		return err
	}
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: demoNS, Name: "demo-kafka-secret"}, Data: map[string][]byte{
		"username":    []byte("bk7lxzq9"),
		"password":    []byte("Jc1YzVb2r8oGv7Nq0PqS3lZ4bT9wXkEu"),
		"topicPrefix": []byte("bk7lxzq9-"),
		"brokers":     []byte("velomobile-01.srvs.cloudkafka.com:9094,velomobile-02.srvs.cloudkafka.com:9094"),
	}}
	return c.Create(ctx, secret)
}

// createInstance makes a provisioned instance as the controller leaves it.
// Without params it uses external names, as the seed's manifest did;
// otherwise Kubernetes names, as svcat provision does.
func createInstance(ctx context.Context, c client.Client, ns, name, externalID string, params *runtime.RawExtension) (*v1beta1.ServiceInstance, error) {
	in := &v1beta1.ServiceInstance{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Finalizers: []string{v1beta1.FinalizerServiceCatalog}}}
	if params == nil {
		in.Spec.ClusterServiceClassExternalName = "cloudkarafka"
		in.Spec.ClusterServicePlanExternalName = "duck"
	} else {
		in.Spec.ClusterServiceClassName = classID
		in.Spec.ClusterServicePlanName = planID
		in.Spec.Parameters = params
	}
	in.Spec.ExternalID = externalID
	if err := c.Create(ctx, in); err != nil {
		return nil, err
	}
	in.Spec.ClusterServiceClassRef = &v1beta1.ClusterObjectReference{Name: classID}
	in.Spec.ClusterServicePlanRef = &v1beta1.ClusterObjectReference{Name: planID}
	if err := c.Update(ctx, in); err != nil {
		return nil, err
	}
	markProvisioned(in)
	return in, c.Status().Update(ctx, in)
}

// markProvisioned sets the status the controller sets after a successful
// synchronous provision.
func markProvisioned(in *v1beta1.ServiceInstance) {
	url := dashboardURL
	in.Status.Conditions = []v1beta1.ServiceInstanceCondition{{Type: v1beta1.ServiceInstanceConditionReady, Status: v1beta1.ConditionTrue,
		LastTransitionTime: provisionTime, Reason: "ProvisionedSuccessfully", Message: "The instance was provisioned successfully"}}
	in.Status.DashboardURL = &url
	in.Status.LastConditionState = "Ready"
	in.Status.UserSpecifiedClassName = "ClusterServiceClass/cloudkarafka"
	in.Status.UserSpecifiedPlanName = "duck"
	in.Status.ProvisionStatus = v1beta1.ServiceInstanceProvisionStatusProvisioned
	in.Status.DeprovisionStatus = v1beta1.ServiceInstanceDeprovisionStatusRequired
	in.Status.ObservedGeneration = in.Generation
	in.Status.ReconciledGeneration = in.Generation
	in.Status.ExternalProperties = &v1beta1.ServiceInstancePropertiesState{
		ClusterServicePlanExternalName: "duck", ClusterServicePlanExternalID: planID}
}

func raw(s string) *runtime.RawExtension { return &runtime.RawExtension{Raw: []byte(s)} }
