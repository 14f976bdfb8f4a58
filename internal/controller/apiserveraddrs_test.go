package controller_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/svcat-io/svcat/internal/controller/brokerurl"
)

// The controller reads the API server's addresses with exactly the RBAC it
// ships (config/rbac/role.yaml, generated from its markers): a user bound to
// that ClusterRole and nothing else can, and finds the API server's own
// EndpointSlice.
func TestAPIServerAddressesWithTheShippedRBAC(t *testing.T) {
	env := controlPlane(t)
	ctx := context.Background()
	raw, err := os.ReadFile(filepath.Join("..", "..", "config", "rbac", "role.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	role := &rbacv1.ClusterRole{}
	if err := yaml.Unmarshal(raw, role); err != nil {
		t.Fatal(err)
	}
	role.ObjectMeta = metav1.ObjectMeta{Name: "test-apiserver-addresses"}
	binding := &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "test-apiserver-addresses"},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role.Name},
		Subjects: []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: "apiserver-addresses-reader"}}}
	for _, o := range []client.Object{role, binding} {
		if err := env.Client.Create(ctx, o); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = env.Client.Delete(context.Background(), o) })
	}
	cfg, err := env.User("apiserver-addresses-reader")
	if err != nil {
		t.Fatal(err)
	}
	c, err := client.New(cfg, client.Options{Scheme: env.Scheme})
	if err != nil {
		t.Fatal(err)
	}
	a := &brokerurl.APIServerAddresses{Reader: c}
	eventually(t, 10*time.Second, "the addresses read with the shipped RBAC", func() error { return a.Refresh(ctx) })
	got := a.Get()
	if len(got.AddrPorts) == 0 || len(got.Addrs) == 0 {
		t.Errorf("read %+v, want the API server's endpoint and ClusterIP", got)
	}
}
