package apiview

import (
	"errors"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/svcat-io/svcat/api/v1beta1"
)

func TestInstanceClassPlan(t *testing.T) {
	off := &Offerings{
		Classes: []Class{
			{Name: "c-id", Spec: &v1beta1.CommonServiceClassSpec{ExternalName: "cloudkarafka"}},
			{Name: "c-id", Namespace: "dev", Spec: &v1beta1.CommonServiceClassSpec{ExternalName: "local-kafka"}},
		},
		Plans: []Plan{
			{Name: "p-id", ClassName: "c-id", Spec: &v1beta1.CommonServicePlanSpec{ExternalName: "duck"}},
			{Name: "p-id", Namespace: "dev", ClassName: "c-id", Spec: &v1beta1.CommonServicePlanSpec{ExternalName: "bunny"}},
		},
	}
	tests := []struct {
		name      string
		ns        string
		spec      v1beta1.ServiceInstanceSpec
		status    v1beta1.ServiceInstanceStatus
		off       *Offerings
		wantClass string
		wantPlan  string
	}{
		{name: "external names as written", spec: v1beta1.ServiceInstanceSpec{PlanReference: v1beta1.PlanReference{
			ClusterServiceClassExternalName: "cloudkarafka", ClusterServicePlanExternalName: "duck"}},
			wantClass: "cloudkarafka", wantPlan: "duck"},
		{name: "kubernetes names resolved", spec: v1beta1.ServiceInstanceSpec{PlanReference: v1beta1.PlanReference{
			ClusterServiceClassName: "c-id", ClusterServicePlanName: "p-id"}}, off: off,
			wantClass: "cloudkarafka", wantPlan: "duck"},
		{name: "refs set by the controller", spec: v1beta1.ServiceInstanceSpec{
			PlanReference:          v1beta1.PlanReference{ClusterServiceClassExternalID: "x", ClusterServicePlanExternalID: "y"},
			ClusterServiceClassRef: &v1beta1.ClusterObjectReference{Name: "c-id"},
			ClusterServicePlanRef:  &v1beta1.ClusterObjectReference{Name: "p-id"}}, off: off,
			wantClass: "cloudkarafka", wantPlan: "duck"},
		{name: "namespaced class in the instance's namespace", ns: "dev", spec: v1beta1.ServiceInstanceSpec{PlanReference: v1beta1.PlanReference{
			ServiceClassName: "c-id", ServicePlanName: "p-id"}}, off: off,
			wantClass: "local-kafka", wantPlan: "bunny"},
		{name: "classes unreadable: the status names", spec: v1beta1.ServiceInstanceSpec{PlanReference: v1beta1.PlanReference{
			ClusterServiceClassName: "c-id", ClusterServicePlanName: "p-id"}},
			status:    v1beta1.ServiceInstanceStatus{UserSpecifiedClassName: "ClusterServiceClass/cloudkarafka", UserSpecifiedPlanName: "duck"},
			wantClass: "cloudkarafka", wantPlan: "duck"},
		{name: "nothing known: the kubernetes names", spec: v1beta1.ServiceInstanceSpec{PlanReference: v1beta1.PlanReference{
			ClusterServiceClassName: "gone", ClusterServicePlanName: "gone-plan"}}, off: off,
			wantClass: "gone", wantPlan: "gone-plan"},
		{name: "external IDs unresolved", spec: v1beta1.ServiceInstanceSpec{PlanReference: v1beta1.PlanReference{
			ClusterServiceClassExternalID: "svc-1", ClusterServicePlanExternalID: "plan-1"}},
			wantClass: "svc-1", wantPlan: "plan-1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := &v1beta1.ServiceInstance{ObjectMeta: metav1.ObjectMeta{Namespace: tt.ns, Name: "i"}, Spec: tt.spec, Status: tt.status}
			class, plan := tt.off.InstanceClassPlan(in)
			if class != tt.wantClass || plan != tt.wantPlan {
				t.Errorf("got %q/%q, want %q/%q", class, plan, tt.wantClass, tt.wantPlan)
			}
		})
	}
}

func TestAPIError(t *testing.T) {
	gr := schema.GroupResource{Group: "servicecatalog.k8s.io", Resource: "serviceinstances"}
	tests := []struct {
		name string
		err  error
		want string
		is   any
	}{
		{name: "no CRDs", err: &meta.NoKindMatchError{GroupKind: schema.GroupKind{Group: "servicecatalog.k8s.io", Kind: "ServiceInstance"}},
			want: "the service catalog is not installed", is: new(*NotInstalledError)},
		{name: "resource path not served", err: apierrors.NewNotFound(schema.GroupResource{}, ""),
			want: "kubectl apply -f config/crd/bases", is: new(*NotInstalledError)},
		{name: "RBAC", err: apierrors.NewForbidden(gr, "", errors.New("no")),
			want: "permission denied: you may not list serviceinstances.servicecatalog.k8s.io in namespace \"dev\".\n" +
				"Ask a cluster administrator for a Role granting it; check with: kubectl auth can-i list serviceinstances.servicecatalog.k8s.io -n dev",
			is: new(*ForbiddenError)},
		{name: "other", err: apierrors.NewInternalError(errors.New("etcd down")), want: "list serviceinstances.servicecatalog.k8s.io: Internal error occurred: etcd down"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := apiError(tt.err, "list", ResServiceInstances, "dev")
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error = %v, want it to contain %q", err, tt.want)
			}
			if tt.is != nil && !errors.As(err, tt.is) {
				t.Errorf("error %T is not %T", err, tt.is)
			}
			if !errors.Is(err, tt.err) {
				t.Errorf("the API error is not wrapped")
			}
		})
	}
	if apiError(nil, "list", ResServiceInstances, "dev") != nil {
		t.Error("nil must stay nil")
	}
}

func TestParseScope(t *testing.T) {
	if s, err := ParseScope("cluster", AllScope, ClusterScope, NamespaceScope); err != nil || s != ClusterScope {
		t.Errorf("ParseScope(cluster) = %q, %v", s, err)
	}
	if _, err := ParseScope("all", ClusterScope, NamespaceScope); err == nil || !strings.Contains(err.Error(), "use cluster, namespace") {
		t.Errorf("ParseScope(all) on a write command: %v", err)
	}
}
