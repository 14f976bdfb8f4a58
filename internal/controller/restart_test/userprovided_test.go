package restart_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	scv1beta1 "github.com/svcat-io/svcat/api/v1beta1"
	"github.com/svcat-io/svcat/internal/localcluster"
)

// A user-provided instance's Secret changed while no controller runs
// reaches the binding's Secret once the next controller starts, and that
// controller watches the Secret again: a second change follows with
// nothing else touched.
func TestUserProvidedSecretChangedWhileDown(t *testing.T) {
	env := localcluster.Get(t)
	ctx := context.Background()
	c := env.Client
	ns := env.Namespace(t)
	bin := buildController(t)

	src := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "creds"}, Data: map[string][]byte{"token": []byte("one")}}
	if err := c.Create(ctx, src); err != nil {
		t.Fatal(err)
	}
	first := start(t, bin, env)
	if err := c.Create(ctx, &scv1beta1.ServiceInstance{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "up"},
		Spec: scv1beta1.ServiceInstanceSpec{UserProvided: &scv1beta1.UserProvidedCredentials{
			SecretRef: scv1beta1.UserProvidedSecretReference{Name: "creds"}}}}); err != nil {
		t.Fatal(err)
	}
	if err := c.Create(ctx, &scv1beta1.ServiceBinding{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "app"},
		Spec: scv1beta1.ServiceBindingSpec{InstanceRef: scv1beta1.InstanceReference{Name: "up"}}}); err != nil {
		t.Fatal(err)
	}
	token := func(want string) func() error {
		return func() error {
			s := &corev1.Secret{}
			if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: "app"}, s); err != nil {
				return err
			}
			if got := string(s.Data["token"]); got != want {
				return fmt.Errorf("token %q", got)
			}
			return nil
		}
	}
	setToken := func(v string) {
		t.Helper()
		if err := c.Get(ctx, client.ObjectKeyFromObject(src), src); err != nil {
			t.Fatal(err)
		}
		src.Data["token"] = []byte(v)
		if err := c.Update(ctx, src); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, 60*time.Second, "the first token bound", token("one"))
	first.kill()

	setToken("two")
	start(t, bin, env)
	eventually(t, 30*time.Second, "the token changed while down, after the restart", token("two"))
	setToken("three")
	eventually(t, 30*time.Second, "the next change, through the restarted controller's watch", token("three"))
}
