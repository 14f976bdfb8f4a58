package cluster

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	scv1beta1 "github.com/svcat-io/svcat/api/v1beta1"
	"github.com/svcat-io/svcat/internal/osb"
	"github.com/svcat-io/svcat/internal/sandbox"
	"github.com/svcat-io/svcat/internal/testbroker"
)

// slowBrokerNS holds the test broker's Service and the instances of the
// handover tests.
const slowBrokerNS = "svcat-handover"

// slowBroker is the scripted test broker, counting every request, served
// to the cluster from this process on the node's address: a Service
// without a selector and an EndpointSlice naming that address make it
// http://slow-broker.svcat-handover.svc.cluster.local to the controller.
// Its provisions are asynchronous and slow, so that the controller can be
// disturbed while one is in flight.
func slowBroker(t *testing.T, ctx context.Context, c *sandbox.Cluster) *testbroker.Broker {
	b := testbroker.Start(t, testbroker.Options{})
	ln, err := net.Listen("tcp", net.JoinHostPort(c.NodeIP, "0"))
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: b, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	port := ln.Addr().(*net.TCPAddr).Port
	manifest := fmt.Sprintf(`apiVersion: v1
kind: Namespace
metadata:
  name: %[1]s
---
apiVersion: v1
kind: Service
metadata:
  name: slow-broker
  namespace: %[1]s
spec:
  ports:
  - port: 80
    targetPort: %[2]d
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: slow-broker-1
  namespace: %[1]s
  labels:
    kubernetes.io/service-name: slow-broker
    endpointslice.kubernetes.io/managed-by: svcat-test
addressType: IPv4
endpoints:
- addresses: [%[3]q]
ports:
- port: %[2]d
  protocol: TCP
---
apiVersion: v1
kind: Secret
metadata:
  name: slow-broker-auth
  namespace: %[1]s
stringData:
  username: %[4]s
  password: %[5]s
---
apiVersion: servicecatalog.k8s.io/v1beta1
kind: ServiceBroker
metadata:
  name: slow-broker
  namespace: %[1]s
spec:
  url: http://slow-broker.%[1]s.svc.cluster.local
  authInfo:
    basic:
      secretRef:
        name: slow-broker-auth
`, slowBrokerNS, port, c.NodeIP, testbroker.DefaultUsername, testbroker.DefaultPassword)
	f := filepath.Join(t.TempDir(), "slow-broker.yaml")
	if err := os.WriteFile(f, []byte(manifest), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := c.Kubectl(ctx, "apply", "-f", f); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		_, _ = c.Kubectl(ctx, "delete", "serviceinstances", "--all", "-n", slowBrokerNS, "--timeout=60s")
		_, _ = c.Kubectl(ctx, "delete", "namespace", slowBrokerNS, "--timeout=90s")
	})
	eventually(t, ctx, 2*time.Minute, "the slow broker to be Ready", func() error {
		var sb scv1beta1.ServiceBroker
		if err := c.Client().Get(ctx, client.ObjectKey{Namespace: slowBrokerNS, Name: "slow-broker"}, &sb); err != nil {
			return err
		}
		if cond := sb.Status.GetCondition(scv1beta1.ServiceBrokerConditionReady); cond == nil || cond.Status != scv1beta1.ConditionTrue {
			return fmt.Errorf("not Ready: %+v", cond)
		}
		return nil
	})
	return b
}

// provisionInFlight creates an instance at the slow broker and returns
// once the broker has accepted its provision (202) and the controller is
// polling it. The operation ends on the broker's side after delay.
func provisionInFlight(t *testing.T, ctx context.Context, c *sandbox.Cluster, b *testbroker.Broker, name string, delay time.Duration) *scv1beta1.ServiceInstance {
	b.On(testbroker.Rule{Operation: osb.OpProvision, Async: true, AsyncDelay: delay})
	si := &scv1beta1.ServiceInstance{}
	si.Namespace, si.Name = slowBrokerNS, name
	si.Spec.ServiceClassExternalName, si.Spec.ServicePlanExternalName = "cloudkarafka", "duck"
	if err := c.Client().Create(ctx, si); err != nil {
		t.Fatal(err)
	}
	eventually(t, ctx, time.Minute, "the provision of "+name+" to be in flight", func() error {
		if err := c.Client().Get(ctx, client.ObjectKeyFromObject(si), si); err != nil {
			return err
		}
		if n := provisions(b, si.Spec.ExternalID); n != 1 || !si.Status.AsyncOpInProgress {
			return fmt.Errorf("%d provision requests, async operation in progress: %v", n, si.Status.AsyncOpInProgress)
		}
		return nil
	})
	c.Printf("# the provision of %s is in flight (the broker answered 202; it finishes in %s)\n", name, delay)
	return si
}

func provisions(b *testbroker.Broker, instanceID string) int {
	n := 0
	for _, r := range b.RequestsFor(osb.OpProvision) {
		if r.InstanceID == instanceID {
			n++
		}
	}
	return n
}

func waitInstanceReady(t *testing.T, ctx context.Context, c *sandbox.Cluster, si *scv1beta1.ServiceInstance) {
	t0 := time.Now()
	eventually(t, ctx, 3*time.Minute, "instance "+si.Name+" to be Ready", func() error {
		if err := c.Client().Get(ctx, client.ObjectKeyFromObject(si), si); err != nil {
			return err
		}
		if cond := si.Status.GetCondition(scv1beta1.ServiceInstanceConditionReady); cond == nil || cond.Status != scv1beta1.ConditionTrue {
			return fmt.Errorf("not Ready: %+v", cond)
		}
		return nil
	})
	c.Printf("# instance %s Ready after %s\n", si.Name, time.Since(t0).Round(time.Second))
}

// The controller's two replicas hand over without losing or repeating an
// operation: when the leader's pod is deleted during a provision, the
// other replica takes the lease and finishes it; when helm upgrade rolls
// the Deployment to a changed flag, the new pods finish the operation the
// old ones started. The broker sees one provision request each time.
func TestControllerHandover(t *testing.T) {
	c, _ := newDemo(t, "helm")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	if err := c.Install(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		_ = c.Uninstall(ctx)
	})
	b := slowBroker(t, ctx, c)

	t.Run("failover: the leader's pod is deleted during a provision", func(t *testing.T) {
		si := provisionInFlight(t, ctx, c, b, "failover", 40*time.Second)
		holder, err := c.LeaseHolder(ctx, "")
		if err != nil {
			t.Fatal(err)
		}
		pod, _, _ := strings.Cut(holder, "_")
		standby := ""
		pods, err := c.ControllerPods(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range pods {
			if p.Name != pod {
				standby = p.Name
			}
		}
		if out, err := c.Kubectl(ctx, "delete", "pod", "-n", sandbox.CatalogNamespace, pod); err != nil {
			t.Fatalf("%v: %s", err, out)
		}
		newHolder, err := c.LeaseHolder(ctx, holder)
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasPrefix(newHolder, pod+"_") {
			t.Fatalf("the deleted pod %s holds the lease again", pod)
		}
		// The standby normally wins; the Deployment's replacement pod
		// taking the lease first would be a handover too.
		t.Logf("leader %s deleted; the lease went to %s (the standby was %s)", pod, newHolder, standby)
		waitInstanceReady(t, ctx, c, si)
		if n := provisions(b, si.Spec.ExternalID); n != 1 {
			t.Errorf("the broker saw %d provision requests for the instance, want 1", n)
		}
	})

	t.Run("helm upgrade to a changed flag during a provision", func(t *testing.T) {
		si := provisionInFlight(t, ctx, c, b, "upgrade", 60*time.Second)
		before, err := c.ControllerPods(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if err := c.HelmUpgrade(ctx, "controller.retryMaxDelay=30s"); err != nil {
			t.Fatal(err)
		}
		var dep appsv1.Deployment
		if err := c.Client().Get(ctx, client.ObjectKey{Namespace: sandbox.CatalogNamespace, Name: sandbox.ControllerName}, &dep); err != nil {
			t.Fatal(err)
		}
		if args := strings.Join(dep.Spec.Template.Spec.Containers[0].Args, " "); !strings.Contains(args, "--retry-max-delay=30s") {
			t.Errorf("the upgraded Deployment's arguments: %s", args)
		}
		eventually(t, ctx, 3*time.Minute, "every controller pod to be a new one", func() error {
			pods, err := c.ControllerPods(ctx)
			if err != nil {
				return err
			}
			for _, p := range pods {
				for _, old := range before {
					if p.UID == old.UID {
						return fmt.Errorf("pod %s is still there", p.Name)
					}
				}
			}
			return nil
		})
		waitInstanceReady(t, ctx, c, si)
		if n := provisions(b, si.Spec.ExternalID); n != 1 {
			t.Errorf("the broker saw %d provision requests for the instance, want 1", n)
		}
	})
}

func eventually(t *testing.T, ctx context.Context, timeout time.Duration, what string, f func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			t.Fatalf("waiting for %s: %v", what, err)
		}
		time.Sleep(500 * time.Millisecond)
	}
}
