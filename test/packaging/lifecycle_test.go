package packaging

import (
	"testing"

	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chart/loader"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"sigs.k8s.io/controller-runtime/pkg/client"

	scv1beta1 "github.com/svcat-io/svcat/api/v1beta1"
	"github.com/svcat-io/svcat/internal/localcluster"
)

// helmConfig is what `helm --kubeconfig K --namespace NS` sets up: a real
// Helm client against the test API server, keeping releases in Secrets.
func helmConfig(t *testing.T, env *localcluster.Env, ns string) *action.Configuration {
	t.Helper()
	flags := genericclioptions.NewConfigFlags(false)
	flags.KubeConfig = &env.Kubeconfig
	flags.Namespace = &ns
	cfg := &action.Configuration{}
	if err := cfg.Init(flags, ns, "secret", t.Logf); err != nil {
		t.Fatal(err)
	}
	return cfg
}

// TestHelmLifecycle installs, upgrades and uninstalls a release the way the
// helm CLI does, and checks what docs/install.md promises: a generated
// broker password survives upgrades, and uninstalling leaves the CRDs (so
// every instance and binding), the broker registration and its
// credentials, and the embedded Kafka's volume in place.
func TestHelmLifecycle(t *testing.T) {
	env := localcluster.Get(t)
	ns := env.Namespace(t)
	cfg := helmConfig(t, env, ns)
	chrt, err := loader.Load(chartDir(t))
	if err != nil {
		t.Fatal(err)
	}
	const release = "svcat-lifecycle"
	broker := &scv1beta1.ClusterServiceBroker{}
	broker.Name = release + "-kafka"
	t.Cleanup(func() {
		_ = env.Client.Delete(ctx, broker)
		// Cluster-scoped objects outlive the test namespace.
		for _, o := range []client.Object{&rbacv1.ClusterRole{}, &rbacv1.ClusterRoleBinding{}} {
			o.SetName(release + "-catalog-controller")
			_ = env.Client.Delete(ctx, o)
		}
	})

	install := action.NewInstall(cfg)
	install.ReleaseName = release
	install.Namespace = ns
	if _, err := install.Run(chrt, embeddedValues(t)); err != nil {
		t.Fatalf("helm install: %v", err)
	}
	auth := &corev1.Secret{}
	authKey := client.ObjectKey{Namespace: ns, Name: release + "-kafka-broker-auth"}
	if err := env.Client.Get(ctx, authKey, auth); err != nil {
		t.Fatalf("broker credentials after install: %v", err)
	}
	password := string(auth.Data["password"])
	if err := env.Client.Get(ctx, client.ObjectKeyFromObject(broker), broker); err != nil {
		t.Fatalf("ClusterServiceBroker after install: %v", err)
	}

	upgrade := action.NewUpgrade(cfg)
	upgrade.Namespace = ns
	vals := embeddedValues(t)
	vals["controller"] = map[string]any{"concurrency": 9}
	if _, err := upgrade.Run(release, chrt, vals); err != nil {
		t.Fatalf("helm upgrade: %v", err)
	}
	if err := env.Client.Get(ctx, authKey, auth); err != nil {
		t.Fatal(err)
	}
	if got := string(auth.Data["password"]); got != password {
		t.Errorf("helm upgrade changed the generated broker password: the registered broker would be locked out")
	}
	objs := renderChart(t, release, ns, vals)
	live := &appsv1.Deployment{}
	if err := env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: release + "-catalog-controller"}, live); err != nil {
		t.Fatal(err)
	}
	if opts, _, _ := parseControllerArgs(t, live.Spec.Template.Spec.Containers[0].Args); opts.Controller.Concurrency != 9 {
		t.Errorf("after upgrade --concurrency=%d, want 9", opts.Controller.Concurrency)
	}

	uninstall := action.NewUninstall(cfg)
	if _, err := uninstall.Run(release); err != nil {
		t.Fatalf("helm uninstall: %v", err)
	}
	gone := func(o client.Object) bool {
		err := env.Client.Get(ctx, client.ObjectKeyFromObject(o), o)
		if err != nil && !apierrors.IsNotFound(err) {
			t.Fatal(err)
		}
		return apierrors.IsNotFound(err)
	}
	for _, name := range []string{release + "-catalog-controller", release + "-kafka-broker"} {
		d := &appsv1.Deployment{}
		d.Namespace, d.Name = ns, name
		if !gone(d) {
			t.Errorf("Deployment %s survived uninstall", name)
		}
	}
	kept := []client.Object{broker, auth, &corev1.PersistentVolumeClaim{}}
	kept[2].SetNamespace(ns)
	kept[2].SetName(release + "-kafka-broker-data")
	for _, o := range kept {
		if gone(o) {
			t.Errorf("%T %s was deleted by uninstall", o, o.GetName())
		}
	}
	for _, u := range ofKind(objs, "CustomResourceDefinition") {
		crd := &unstructured.Unstructured{}
		crd.SetGroupVersionKind(u.GroupVersionKind())
		crd.SetName(u.GetName())
		if gone(crd) {
			t.Errorf("CRD %s was deleted by uninstall", crd.GetName())
		}
	}
	// Reinstalling adopts what was kept instead of failing on it.
	install = action.NewInstall(cfg)
	install.ReleaseName = release
	install.Namespace = ns
	if _, err := install.Run(chrt, embeddedValues(t)); err != nil {
		t.Fatalf("helm install after uninstall: %v", err)
	}
	if err := env.Client.Get(ctx, authKey, auth); err != nil {
		t.Fatal(err)
	}
	if got := string(auth.Data["password"]); got != password {
		t.Errorf("reinstalling changed the kept broker password")
	}
	if _, err := action.NewUninstall(cfg).Run(release); err != nil {
		t.Fatalf("second helm uninstall: %v", err)
	}
}
