package cluster

import (
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/svcat-io/svcat/internal/sandbox"
)

// The service account the chart gives the controller.
const controllerSA = "system:serviceaccount:" + sandbox.CatalogNamespace + ":" + sandbox.ControllerName

// The seed as `make demo-cluster` runs it: helm install, the broker in
// pods, the seed's manifests unchanged, the apps in pods reached on their
// NodePorts, svcat doctor, clean-up with kubectl delete and helm
// uninstall. Between the steps: the controller runs as the chart's service
// account with the chart's RBAC and nothing more (the flow succeeding is
// the proof that it is enough), the binding Secret mounted in the
// consumer is updated in place, and the apps carry on across a credential
// rotation.
func TestSeedInPods(t *testing.T) {
	c, out := newDemo(t, "helm")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	if err := c.Install(ctx); err != nil {
		t.Fatal(err)
	}
	t.Run("the controller runs as the chart's service account", func(t *testing.T) { runsAsChartSA(t, ctx, c) })
	t.Run("RBAC refuses what the controller does not need", func(t *testing.T) { rbacRefusals(t, ctx, c) })
	if t.Failed() {
		return
	}
	res, err := c.Walkthrough(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"$ helm install svcat charts/svcat --namespace svcat-system --create-namespace",
		"secret/cloudkarafka-service-broker-secret created",
		"deployment.apps/cloudkarafka-service-broker created",
		"$ kubectl apply -f config/samples/kafka/cluster-service-broker.yml\n",
		"$ kubectl apply -f config/samples/kafka/service-instance.yml\n",
		"$ kubectl apply -f config/samples/kafka/service-binding.yml\n",
		"$ kubectl get service,pod -n default\n",
		"data:Hello\n\ndata:Hello2\n",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("transcript lacks %q", want)
		}
	}
	// The binding's brokers are the embedded Kafka under the broker
	// Service's cluster DNS name, which the apps in pods just used.
	if b := string(res.Secret["brokers"]); !strings.Contains(b, sandbox.BrokerService+".osb.svc.cluster.local:9092") {
		t.Errorf("brokers %q", b)
	}
	t.Run("a binding Secret mounted in a running pod is updated in place", func(t *testing.T) { secretUpdatedInPlace(t, ctx, c) })
	t.Run("the apps keep working across a credential rotation, without a restart", func(t *testing.T) { appsFollowARotation(t, ctx, c, res) })
	if err := c.Doctor(ctx); err != nil {
		t.Fatal(err)
	}
	if err := c.CleanUp(ctx); err != nil {
		t.Fatal(err)
	}
	// Nothing of the release is left; the CRDs stay (Helm never deletes
	// a chart's crds/), and with them no objects.
	var cms corev1.ConfigMapList
	if err := c.Client().List(ctx, &cms, client.InNamespace(sandbox.CatalogNamespace)); err == nil && len(cms.Items) > 0 {
		// The namespace is being deleted; its objects may linger briefly.
		t.Logf("%d ConfigMaps still in %s while it is deleted", len(cms.Items), sandbox.CatalogNamespace)
	}
}

func runsAsChartSA(t *testing.T, ctx context.Context, c *sandbox.Cluster) {
	pods, err := c.ControllerPods(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(pods) != 2 {
		t.Errorf("%d controller pods, the chart runs 2", len(pods))
	}
	for _, p := range pods {
		if p.Spec.ServiceAccountName != sandbox.ControllerName {
			t.Errorf("pod %s runs as %q", p.Name, p.Spec.ServiceAccountName)
		}
	}
	// The chart's two bindings, and no other, name the service account
	// (or a group it is in), apart from Kubernetes' own defaults that every
	// service account gets (discovery of the issuer and trust bundles).
	var got []string
	var crbs rbacv1.ClusterRoleBindingList
	if err := c.Client().List(ctx, &crbs); err != nil {
		t.Fatal(err)
	}
	for _, b := range crbs.Items {
		if namesSA(b.Subjects) && b.Labels["kubernetes.io/bootstrapping"] != "rbac-defaults" {
			got = append(got, "ClusterRoleBinding/"+b.Name+"->"+b.RoleRef.Name)
		}
	}
	var rbs rbacv1.RoleBindingList
	if err := c.Client().List(ctx, &rbs); err != nil {
		t.Fatal(err)
	}
	for _, b := range rbs.Items {
		if namesSA(b.Subjects) && b.Labels["kubernetes.io/bootstrapping"] != "rbac-defaults" {
			got = append(got, "RoleBinding/"+b.Namespace+"/"+b.Name+"->"+b.RoleRef.Name)
		}
	}
	slices.Sort(got)
	want := []string{
		"ClusterRoleBinding/svcat-catalog-controller->svcat-catalog-controller",
		"RoleBinding/svcat-system/svcat-catalog-controller-leader-election->svcat-catalog-controller-leader-election",
	}
	if !slices.Equal(got, want) {
		t.Errorf("bindings of the controller's service account:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func namesSA(subjects []rbacv1.Subject) bool {
	for _, s := range subjects {
		if s.Kind == rbacv1.ServiceAccountKind && s.Name == sandbox.ControllerName && s.Namespace == sandbox.CatalogNamespace {
			return true
		}
		if s.Kind == rbacv1.GroupKind && (s.Name == "system:serviceaccounts" || s.Name == "system:serviceaccounts:"+sandbox.CatalogNamespace || s.Name == "system:authenticated") {
			return true
		}
	}
	return false
}

// rbacRefusals asks the API server, as the controller's service account,
// for what the controller does and does not need. A yes where the answer
// must be no is a grant too many; a no where it must be yes would break
// the flow that follows.
func rbacRefusals(t *testing.T, ctx context.Context, c *sandbox.Cluster) {
	for _, q := range []struct {
		args []string
		want string
	}{
		// Needed: binding Secrets in any namespace, its lease, status.
		{[]string{"create", "secrets", "-n", "default"}, "yes"},
		{[]string{"update", "leases", "-n", sandbox.CatalogNamespace}, "yes"},
		{[]string{"update", "serviceinstances.servicecatalog.k8s.io", "--subresource=status", "-n", "default"}, "yes"},
		// Not needed: nodes, workloads, RBAC, tokens, leases elsewhere,
		// Services other than the API server's, every ConfigMap.
		{[]string{"delete", "nodes"}, "no"},
		{[]string{"create", "pods", "-n", "default"}, "no"},
		{[]string{"create", "pods", "--subresource=exec", "-n", sandbox.CatalogNamespace}, "no"},
		{[]string{"patch", "deployments.apps", "-n", sandbox.CatalogNamespace}, "no"},
		{[]string{"create", "clusterrolebindings.rbac.authorization.k8s.io"}, "no"},
		{[]string{"bind", "clusterroles.rbac.authorization.k8s.io"}, "no"},
		{[]string{"escalate", "clusterroles.rbac.authorization.k8s.io"}, "no"},
		{[]string{"create", "serviceaccounts", "--subresource=token", "-n", sandbox.CatalogNamespace}, "no"},
		{[]string{"update", "leases", "-n", "kube-system"}, "no"},
		{[]string{"get", "services/" + sandbox.BrokerService, "-n", sandbox.BrokerNamespace}, "no"},
		{[]string{"list", "configmaps", "--all-namespaces"}, "no"},
		{[]string{"delete", "serviceinstances.servicecatalog.k8s.io", "-n", "default"}, "no"},
		{[]string{"create", "clusterservicebrokers.servicecatalog.k8s.io"}, "no"},
	} {
		args := append(append([]string{"auth", "can-i"}, q.args...), "--as="+controllerSA)
		out, _ := c.Kubectl(ctx, args...) // can-i exits 1 for "no"
		if got := lastWord(out); got != q.want {
			t.Errorf("kubectl auth can-i %s as the controller: %q, want %s", strings.Join(q.args, " "), strings.TrimSpace(out), q.want)
		}
	}
}

func lastWord(s string) string {
	f := strings.Fields(s)
	if len(f) == 0 {
		return ""
	}
	return f[len(f)-1]
}

// secretUpdatedInPlace changes the binding Secret while the consumer runs
// and reads the files of its Secret volume where the kubelet keeps them
// (the images have no shell to read them from inside): a key added to the
// Secret appears as a file, a key removed goes, and the pod is the same
// one throughout. This is the servicebinding.io promise that credentials
// can change under a running workload.
func secretUpdatedInPlace(t *testing.T, ctx context.Context, c *sandbox.Cluster) {
	target := demoCluster(t)
	if target.Dir == "" {
		t.Skip("the cluster's folder is unknown: cannot read the kubelet's volumes")
	}
	var pods corev1.PodList
	if err := c.Client().List(ctx, &pods, client.InNamespace(sandbox.SeedNamespace), client.MatchingLabels{"app": "demo-kafka-consumer"}); err != nil || len(pods.Items) != 1 {
		t.Fatalf("consumer pods: %v %d", err, len(pods.Items))
	}
	pod := pods.Items[0]
	dir := filepath.Join(target.Dir, "kubelet", "pods", string(pod.UID), "volumes", "kubernetes.io~secret", "demo-kafka-binding")
	files := func() (map[string]string, error) {
		ents, err := os.ReadDir(dir)
		if err != nil {
			return nil, err
		}
		m := map[string]string{}
		for _, e := range ents {
			if strings.HasPrefix(e.Name(), "..") {
				continue // the kubelet's atomic-writer links
			}
			b, err := os.ReadFile(filepath.Join(dir, e.Name()))
			if err != nil {
				return nil, err
			}
			m[e.Name()] = string(b)
		}
		return m, nil
	}
	before, err := files()
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := before["brokers"]; !ok {
		t.Fatalf("the volume has no brokers file: %v", slices.Sorted(maps.Keys(before)))
	}
	const key, value = "rotated-at", "2026-12-06T00:00:00Z"
	patch := func(op string) {
		var p string
		if op == "add" {
			p = fmt.Sprintf(`{"stringData":{%q:%q}}`, key, value)
		} else {
			p = fmt.Sprintf(`{"data":{%q:null}}`, key)
		}
		if out, err := c.Kubectl(ctx, "patch", "secret", sandbox.SecretName, "-n", sandbox.SeedNamespace, "--type=merge", "-p", p); err != nil {
			t.Fatalf("%v: %s", err, out)
		}
	}
	waitFiles := func(what string, ok func(map[string]string) bool) {
		t0 := time.Now()
		// The kubelet refreshes Secret volumes on its sync period
		// (a minute, jittered) plus its cache's TTL: 40-90 s seen.
		deadline := t0.Add(4 * time.Minute)
		for {
			m, err := files()
			if err == nil && ok(m) {
				t.Logf("%s after %s", what, time.Since(t0).Round(time.Second))
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: not within %s (%v)", what, time.Since(t0).Round(time.Second), err)
			}
			time.Sleep(2 * time.Second)
		}
	}
	patch("add")
	waitFiles("the new key appeared in the running pod's volume", func(m map[string]string) bool { return m[key] == value })
	patch("remove")
	waitFiles("the removed key left the running pod's volume", func(m map[string]string) bool {
		_, has := m[key]
		return !has && m["brokers"] == before["brokers"]
	})
	var now corev1.Pod
	if err := c.Client().Get(ctx, client.ObjectKeyFromObject(&pod), &now); err != nil || now.UID != pod.UID {
		t.Errorf("the consumer pod was replaced: %v", err)
	}
	if len(now.Status.ContainerStatuses) == 1 && now.Status.ContainerStatuses[0].RestartCount != 0 {
		t.Errorf("the consumer restarted %d times", now.Status.ContainerStatuses[0].RestartCount)
	}
}

// The kustomize tree (config/default) installs the same catalog, and the
// seed's whole flow runs on it.
func TestSeedInPodsWithKustomize(t *testing.T) {
	c, _ := newDemo(t, "kustomize")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	if err := c.Run(ctx); err != nil {
		t.Fatal(err)
	}
}
