package osbrequest

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/svcat-io/svcat/api/v1beta1"
	"github.com/svcat-io/svcat/internal/controller/osbparams"
	"github.com/svcat-io/svcat/internal/osb"
)

var (
	env   = Env{ClusterID: "cluster-1", NamespaceUID: "ns-uid"}
	class = &v1beta1.CommonServiceClassSpec{ExternalName: "cloudkarafka", ExternalID: "svc-id"}
	duck  = &v1beta1.CommonServicePlanSpec{ExternalName: "duck", ExternalID: "duck-id"}
	bunny = &v1beta1.CommonServicePlanSpec{ExternalName: "bunny", ExternalID: "bunny-id"}
	user  = &v1beta1.UserInfo{Username: "alice", UID: "u1", Groups: []string{"dev"}, Extra: map[string]v1beta1.ExtraValue{"scopes": {"a"}}}
)

func instance(cluster bool) *v1beta1.ServiceInstance {
	inst := &v1beta1.ServiceInstance{
		ObjectMeta: metav1.ObjectMeta{Name: "demo-kafka", Namespace: "app"},
		Spec:       v1beta1.ServiceInstanceSpec{ExternalID: "inst-id", UserInfo: user},
	}
	if cluster {
		inst.Spec.ClusterServiceClassExternalName, inst.Spec.ClusterServicePlanExternalName = "cloudkarafka", "duck"
	} else {
		inst.Spec.ServiceClassExternalName, inst.Spec.ServicePlanExternalName = "cloudkarafka", "duck"
	}
	return inst
}

func build(t *testing.T, parameters string) osbparams.Result {
	t.Helper()
	var ext *runtime.RawExtension
	if parameters != "" {
		ext = &runtime.RawExtension{Raw: []byte(parameters)}
	}
	r, err := osbparams.Build(ext, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func body(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

const wantContext = `"context":{"platform":"kubernetes","namespace":"app","clusterid":"cluster-1","instance_name":"demo-kafka"}`

func TestProvision(t *testing.T) {
	r := Provision(instance(true), class, duck, build(t, `{"topicPrefix":"x"}`), env)
	want := `{"service_id":"svc-id","plan_id":"duck-id","organization_guid":"cluster-1","space_guid":"ns-uid",` + wantContext + `,"parameters":{"topicPrefix":"x"}}`
	if got := body(t, r); got != want {
		t.Errorf("body\n%s\nwant\n%s", got, want)
	}
	if r.InstanceID != "inst-id" || !r.AcceptsIncomplete {
		t.Errorf("InstanceID %q AcceptsIncomplete %v", r.InstanceID, r.AcceptsIncomplete)
	}
	wantUser := &osb.UserInfo{Username: "alice", UID: "u1", Groups: []string{"dev"}, Extra: map[string][]string{"scopes": {"a"}}}
	if !reflect.DeepEqual(r.User, wantUser) {
		t.Errorf("User = %+v, want %+v", r.User, wantUser)
	}
	if got := body(t, Provision(instance(true), class, duck, build(t, ""), env)); got != `{"service_id":"svc-id","plan_id":"duck-id","organization_guid":"cluster-1","space_guid":"ns-uid",`+wantContext+`}` {
		t.Errorf("no parameters: %s", got)
	}
}

func TestUpdate(t *testing.T) {
	x := build(t, `{"a":1}`)
	const head = `{"service_id":"svc-id",`
	tests := []struct {
		name    string
		cluster bool
		ext     *v1beta1.ServiceInstancePropertiesState
		plan    *v1beta1.CommonServicePlanSpec
		want    string
	}{
		{
			name: "nothing changed (updateRequests bump)", cluster: true,
			ext:  &v1beta1.ServiceInstancePropertiesState{ClusterServicePlanExternalID: "duck-id", ParameterChecksum: x.Checksum},
			plan: duck,
			want: head + wantContext + `,"previous_values":{"service_id":"svc-id","plan_id":"duck-id"}}`,
		},
		{
			name: "plan changed", cluster: true,
			ext:  &v1beta1.ServiceInstancePropertiesState{ClusterServicePlanExternalID: "duck-id", ParameterChecksum: x.Checksum},
			plan: bunny,
			want: head + `"plan_id":"bunny-id",` + wantContext + `,"previous_values":{"service_id":"svc-id","plan_id":"duck-id"}}`,
		},
		{
			name: "parameters changed, namespaced plan", cluster: false,
			ext:  &v1beta1.ServiceInstancePropertiesState{ServicePlanExternalID: "duck-id", ParameterChecksum: osbparams.EmptyChecksum},
			plan: duck,
			want: head + wantContext + `,"parameters":{"a":1},"previous_values":{"service_id":"svc-id","plan_id":"duck-id"}}`,
		},
		{
			name: "no external properties: send everything", cluster: true,
			plan: duck,
			want: head + `"plan_id":"duck-id",` + wantContext + `,"parameters":{"a":1},"previous_values":{"service_id":"svc-id"}}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inst := instance(tt.cluster)
			inst.Status.ExternalProperties = tt.ext
			if got := body(t, Update(inst, class, tt.plan, x, env)); got != tt.want {
				t.Errorf("body\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}

func TestUpdateClearedParameters(t *testing.T) {
	inst := instance(true)
	inst.Status.ExternalProperties = &v1beta1.ServiceInstancePropertiesState{ClusterServicePlanExternalID: "duck-id", ParameterChecksum: build(t, `{"a":1}`).Checksum}
	r := Update(inst, class, duck, build(t, ""), env)
	// Non-nil and empty: the broker must be told to drop the parameters.
	if r.Parameters == nil || len(r.Parameters) != 0 {
		t.Errorf("Parameters = %#v, want an empty, non-nil map", r.Parameters)
	}
}

func TestInstanceProperties(t *testing.T) {
	p, err := osbparams.Build(&runtime.RawExtension{Raw: []byte(`{"a":1}`)},
		[]v1beta1.ParametersFromSource{{SecretKeyRef: &v1beta1.SecretKeyReference{Name: "s", Key: "k"}}},
		func(string, string) ([]byte, error) { return []byte(`{"pw":"x"}`), nil })
	if err != nil {
		t.Fatal(err)
	}
	for _, cluster := range []bool{true, false} {
		s, err := InstanceProperties(instance(cluster), duck, p)
		if err != nil {
			t.Fatal(err)
		}
		want := &v1beta1.ServiceInstancePropertiesState{
			Parameters:        &runtime.RawExtension{Raw: []byte(`{"a":1,"pw":"<redacted>"}`)},
			ParameterChecksum: p.Checksum,
			UserInfo:          user,
		}
		if cluster {
			want.ClusterServicePlanExternalName, want.ClusterServicePlanExternalID = "duck", "duck-id"
		} else {
			want.ServicePlanExternalName, want.ServicePlanExternalID = "duck", "duck-id"
		}
		if !reflect.DeepEqual(s, want) {
			t.Errorf("cluster=%v: got %+v, want %+v", cluster, s, want)
		}
		if PlanExternalID(s) != "duck-id" {
			t.Errorf("PlanExternalID = %q", PlanExternalID(s))
		}
	}
}

func TestDeprovision(t *testing.T) {
	inProgress := &v1beta1.ServiceInstancePropertiesState{ClusterServicePlanExternalID: "bunny-id"}
	external := &v1beta1.ServiceInstancePropertiesState{ServicePlanExternalID: "duck-id"}
	tests := []struct {
		name   string
		status v1beta1.ServiceInstanceStatus
		want   string
		err    error
	}{
		{"operation in progress", v1beta1.ServiceInstanceStatus{CurrentOperation: v1beta1.ServiceInstanceOperationUpdate, InProgressProperties: inProgress, ExternalProperties: external, ProvisionStatus: v1beta1.ServiceInstanceProvisionStatusProvisioned}, "bunny-id", nil},
		{"orphan mitigation", v1beta1.ServiceInstanceStatus{OrphanMitigationInProgress: true, InProgressProperties: inProgress}, "bunny-id", nil},
		{"provisioned", v1beta1.ServiceInstanceStatus{ExternalProperties: external, ProvisionStatus: v1beta1.ServiceInstanceProvisionStatusProvisioned}, "duck-id", nil},
		{"never provisioned", v1beta1.ServiceInstanceStatus{}, "current-id", nil},
		{"deprovision retried", v1beta1.ServiceInstanceStatus{CurrentOperation: v1beta1.ServiceInstanceOperationDeprovision, ExternalProperties: external, ProvisionStatus: v1beta1.ServiceInstanceProvisionStatusProvisioned}, "duck-id", nil},
		{"operation without properties", v1beta1.ServiceInstanceStatus{CurrentOperation: v1beta1.ServiceInstanceOperationProvision}, "", ErrNoProperties},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inst := instance(true)
			inst.Status = tt.status
			r, err := Deprovision(inst, class, "current-id")
			if !errors.Is(err, tt.err) {
				t.Fatalf("err = %v, want %v", err, tt.err)
			}
			if err != nil {
				return
			}
			want := &osb.DeprovisionRequest{InstanceID: "inst-id", ServiceID: "svc-id", PlanID: tt.want, AcceptsIncomplete: true, User: User(user)}
			if !reflect.DeepEqual(r, want) {
				t.Errorf("got %+v, want %+v", r, want)
			}
		})
	}
}

func TestBindAndUnbind(t *testing.T) {
	b := &v1beta1.ServiceBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "demo-kafka-binding", Namespace: "app"},
		Spec:       v1beta1.ServiceBindingSpec{ExternalID: "bind-id", InstanceRef: v1beta1.InstanceReference{Name: "demo-kafka"}},
	}
	r := Bind(b, instance(true), class, duck, build(t, `{"role":"producer"}`), env, false)
	want := `{"service_id":"svc-id","plan_id":"duck-id",` + wantContext + `,"app_guid":"ns-uid","bind_resource":{"app_guid":"ns-uid"},"parameters":{"role":"producer"}}`
	if got := body(t, r); got != want {
		t.Errorf("body\n%s\nwant\n%s", got, want)
	}
	if r.InstanceID != "inst-id" || r.BindingID != "bind-id" || r.AcceptsIncomplete || r.User != nil {
		t.Errorf("got %+v", r)
	}
	u := Unbind(b, instance(true), class, duck, true)
	wantU := &osb.UnbindRequest{InstanceID: "inst-id", BindingID: "bind-id", ServiceID: "svc-id", PlanID: "duck-id", AcceptsIncomplete: true}
	if !reflect.DeepEqual(u, wantU) {
		t.Errorf("Unbind = %+v, want %+v", u, wantU)
	}
}
