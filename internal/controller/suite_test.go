package controller_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	scv1beta1 "github.com/svcat-io/svcat/api/v1beta1"
	"github.com/svcat-io/svcat/internal/controllermanager/testcontroller"
	"github.com/svcat-io/svcat/internal/localcluster"
	"github.com/svcat-io/svcat/internal/osb"
	"github.com/svcat-io/svcat/internal/testbroker"
)

func TestMain(m *testing.M) { localcluster.Main(m) }

var startOnce sync.Once

// controlPlane returns the package's API server with one catalog-controller
// running against it, started on first use and shared by the tests.
func controlPlane(t *testing.T) *localcluster.Env {
	t.Helper()
	env := localcluster.Get(t)
	startOnce.Do(func() {
		o := testcontroller.Options()
		o.Controller.ClusterID = "test-cluster"
		testcontroller.StartShared(env, o)
	})
	return env
}

// eventually is localcluster.Eventually.
var eventually = localcluster.Eventually

// uniqueCatalog is a catalog whose IDs are unique to the test, so tests
// sharing the cluster do not collide on cluster-scoped class names.
func uniqueCatalog(prefix string) []osb.Service {
	return []osb.Service{{
		ID: prefix + "-svc", Name: prefix + "-kafka", Description: "Kafka for " + prefix, Bindable: true,
		Plans: []osb.Plan{
			{ID: prefix + "-plan-small", Name: "small", Description: "Small"},
			{ID: prefix + "-plan-large", Name: "large", Description: "Large", Free: ptr(false)},
		},
	}}
}

func ptr[T any](v T) *T { return &v }

// basicSecret creates a Secret with basic credentials in ns.
func basicSecret(t *testing.T, c client.Client, ns, name, user, pass string) {
	t.Helper()
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Data: map[string][]byte{"username": []byte(user), "password": []byte(pass)}}
	if err := c.Create(context.Background(), s); err != nil {
		t.Fatal(err)
	}
}

// clusterBroker creates a ClusterServiceBroker and deletes it (waiting for
// its classes and plans to go) when the test ends.
func clusterBroker(t *testing.T, c client.Client, name string, spec scv1beta1.ClusterServiceBrokerSpec) *scv1beta1.ClusterServiceBroker {
	t.Helper()
	if spec.RelistBehavior == "" {
		spec.RelistBehavior = scv1beta1.ServiceBrokerRelistBehaviorDuration
	}
	b := &scv1beta1.ClusterServiceBroker{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: spec}
	if err := c.Create(context.Background(), b); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { deleteClusterBroker(t, c, name) })
	return b
}

func deleteClusterBroker(t *testing.T, c client.Client, name string) {
	ctx := context.Background()
	b := &scv1beta1.ClusterServiceBroker{ObjectMeta: metav1.ObjectMeta{Name: name}}
	if err := c.Delete(ctx, b); client.IgnoreNotFound(err) != nil {
		t.Errorf("deleting broker %s: %v", name, err)
		return
	}
	eventually(t, 30*time.Second, "broker "+name+" and its catalog deleted", func() error {
		if err := c.Get(ctx, client.ObjectKeyFromObject(b), b); err == nil {
			return fmt.Errorf("broker still exists (finalizers %v)", b.Finalizers)
		}
		classes := &scv1beta1.ClusterServiceClassList{}
		if err := c.List(ctx, classes); err != nil {
			return err
		}
		for _, cl := range classes.Items {
			if cl.Spec.ClusterServiceBrokerName == name {
				return fmt.Errorf("class %s remains", cl.Name)
			}
		}
		return nil
	})
}

// brokerReady waits for the broker's Ready condition to have the status
// and reason, and returns the broker.
func waitBrokerCondition(t *testing.T, c client.Client, name string, status scv1beta1.ConditionStatus, reason string) *scv1beta1.ClusterServiceBroker {
	t.Helper()
	b := &scv1beta1.ClusterServiceBroker{}
	eventually(t, 30*time.Second, fmt.Sprintf("broker %s Ready=%s/%s", name, status, reason), func() error {
		if err := c.Get(context.Background(), client.ObjectKey{Name: name}, b); err != nil {
			return err
		}
		cond := b.Status.GetCondition(scv1beta1.ServiceBrokerConditionReady)
		if cond == nil || cond.Status != status || cond.Reason != reason {
			return fmt.Errorf("conditions: %+v", b.Status.Conditions)
		}
		return nil
	})
	return b
}

// classesOf lists the ClusterServiceClasses and ClusterServicePlans of a
// broker as "class:plan1,plan2" by external names.
func catalogOf(t *testing.T, c client.Client, broker string) map[string][]string {
	t.Helper()
	ctx := context.Background()
	classes, plans := &scv1beta1.ClusterServiceClassList{}, &scv1beta1.ClusterServicePlanList{}
	if err := c.List(ctx, classes); err != nil {
		t.Fatal(err)
	}
	if err := c.List(ctx, plans); err != nil {
		t.Fatal(err)
	}
	out := map[string][]string{}
	byName := map[string]string{}
	for _, cl := range classes.Items {
		if cl.Spec.ClusterServiceBrokerName == broker {
			byName[cl.Name] = cl.Spec.ExternalName
			out[cl.Spec.ExternalName] = nil
		}
	}
	for _, p := range plans.Items {
		if p.Spec.ClusterServiceBrokerName == broker {
			cls := byName[p.Spec.ClusterServiceClassRef.Name]
			out[cls] = append(out[cls], p.Spec.ExternalName)
		}
	}
	for _, plans := range out {
		sort.Strings(plans)
	}
	return out
}

// kubectl runs kubectl against the test API server.
func kubectl(t *testing.T, env *localcluster.Env, args ...string) string {
	t.Helper()
	path, err := exec.LookPath("kubectl")
	if err != nil {
		t.Skip("kubectl is not installed")
	}
	cmd := exec.Command(path, args...)
	cmd.Env = append(os.Environ(), "KUBECONFIG="+env.Kubeconfig)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("kubectl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

var _ = scv1beta1.ReasonFetchedCatalog
var _ = testbroker.SeedServiceID
