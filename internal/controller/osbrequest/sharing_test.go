package osbrequest

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/svcat-io/svcat/api/v1beta1"
)

// A bind from a namespace the instance is shared with names the consuming
// namespace as context.namespace and the owner's as instance_namespace; a
// local bind is sent as before, without instance_namespace.
func TestSharedBindContext(t *testing.T) {
	b := &v1beta1.ServiceBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "reader", Namespace: "consumer"},
		Spec:       v1beta1.ServiceBindingSpec{ExternalID: "bind-id", InstanceRef: v1beta1.InstanceReference{Name: "demo-kafka", Namespace: "app"}},
	}
	r := Bind(b, instance(true), class, duck, build(t, ""), Env{ClusterID: "cluster-1", NamespaceUID: "consumer-uid"}, false)
	want := `{"service_id":"svc-id","plan_id":"duck-id","context":{"platform":"kubernetes","namespace":"consumer","clusterid":"cluster-1","instance_name":"demo-kafka","instance_namespace":"app"},"app_guid":"consumer-uid","bind_resource":{"app_guid":"consumer-uid"}}`
	if got := body(t, r); got != want {
		t.Errorf("body\n%s\nwant\n%s", got, want)
	}
}
