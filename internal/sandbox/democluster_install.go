package sandbox

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// ChartDir is the Helm chart a cluster run installs.
const ChartDir = "charts/svcat"

// splitImage splits an image reference into repository and tag (or
// digest), as the chart's and kustomize's image settings take them.
func splitImage(ref string) (repo, tag, digest string) {
	if r, d, ok := strings.Cut(ref, "@"); ok {
		return r, "", d
	}
	slash := strings.LastIndex(ref, "/")
	if colon := strings.LastIndex(ref, ":"); colon > slash {
		return ref[:colon], ref[colon+1:], ""
	}
	return ref, "", ""
}

// helmArgs are the arguments of `helm install` (or upgrade) for the
// chart with the locally built controller image. Everything else is the
// chart's default: 2 replicas with leader election, the chart's RBAC, the
// default broker URL policy.
func helmArgs(verb string, controllerImage string, set []string, timeout time.Duration) []string {
	repo, tag, digest := splitImage(controllerImage)
	args := []string{verb, CatalogRelease, ChartDir, "--namespace", CatalogNamespace}
	if verb == "install" {
		args = append(args, "--create-namespace")
	}
	args = append(args, "--set", "controller.image.repository="+repo)
	if tag != "" {
		args = append(args, "--set", "controller.image.tag="+tag)
	}
	if digest != "" {
		args = append(args, "--set", "controller.image.digest="+digest)
	}
	for _, s := range set {
		args = append(args, "--set", s)
	}
	return append(args, "--wait", "--timeout", timeout.String())
}

// kustomization is an overlay of config/default that only sets the
// controller's image, as a user pointing the tree at their registry would.
func kustomization(base, controllerImage string) string {
	repo, tag, digest := splitImage(controllerImage)
	var b strings.Builder
	fmt.Fprintf(&b, "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n- %s\nimages:\n- name: catalog-controller\n  newName: %s\n", base, repo)
	if tag != "" {
		fmt.Fprintf(&b, "  newTag: %q\n", tag)
	}
	if digest != "" {
		fmt.Fprintf(&b, "  digest: %s\n", digest)
	}
	return b.String()
}

func (c *Cluster) kustomizeDir() string { return filepath.Join(c.work, "kustomize") }

// Install installs the catalog the way a user would: helm install of the
// chart, or kubectl apply -k of the kustomize tree. It returns when the
// controller's Deployment is rolled out and one replica holds the lease.
func (c *Cluster) Install(ctx context.Context) error {
	c.section("Install svcat (" + c.copts.Install + ")")
	switch c.copts.Install {
	case "helm":
		args := helmArgs("install", c.copts.Images.Controller, c.copts.HelmSet, c.opts.StepTimeout)
		if _, err := c.run(ctx, "helm install", "helm "+strings.Join(args, " "), c.copts.Helm, args...); err != nil {
			return err
		}
	case "kustomize":
		dir := c.kustomizeDir()
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return err
		}
		base, err := filepath.Rel(dir, filepath.Join(c.root, "config", "default"))
		if err != nil {
			return err
		}
		k := kustomization(base, c.copts.Images.Controller)
		if err := os.WriteFile(filepath.Join(dir, "kustomization.yaml"), []byte(k), 0o600); err != nil {
			return err
		}
		c.printf("$ cat %s/kustomization.yaml\n%s", dir, k)
		// Server-side: the CRDs are too large for the annotation a
		// client-side apply keeps.
		if err := c.kubectlExpect(ctx, "kubectl apply -k", contains("deployment.apps/"+ControllerName+" serverside-applied"),
			"apply", "--server-side", "-k", dir); err != nil {
			return err
		}
	}
	if err := c.rollout(ctx, CatalogNamespace, ControllerName); err != nil {
		return err
	}
	if err := c.kubectlExpect(ctx, "2 replicas", row(ControllerName, "2/2"),
		"get", "deployment", "-n", CatalogNamespace, ControllerName); err != nil {
		return err
	}
	_, err := c.LeaseHolder(ctx, "")
	return err
}

// LeaseHolder waits until the controller's lease is held by someone other
// than notBy, and returns the holder: a pod name followed by a suffix.
func (c *Cluster) LeaseHolder(ctx context.Context, notBy string) (string, error) {
	c.printf("# waiting for a replica to hold the lease %s/%s...\n", CatalogNamespace, ControllerName)
	ctx, cancel := context.WithTimeout(ctx, c.opts.StepTimeout)
	defer cancel()
	t0 := time.Now()
	for {
		var l coordinationv1.Lease
		err := c.client.Get(ctx, client.ObjectKey{Namespace: CatalogNamespace, Name: ControllerName}, &l)
		if err == nil && l.Spec.HolderIdentity != nil && *l.Spec.HolderIdentity != "" && *l.Spec.HolderIdentity != notBy {
			c.printf("#   held by %s after %s\n", *l.Spec.HolderIdentity, time.Since(t0).Round(100*time.Millisecond))
			return *l.Spec.HolderIdentity, nil
		}
		select {
		case <-ctx.Done():
			return "", c.fail("the controller's lease", fmt.Errorf("no replica took it within %s", c.opts.StepTimeout))
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// Uninstall removes what Install installed, with the same tool.
func (c *Cluster) Uninstall(ctx context.Context) error {
	switch c.copts.Install {
	case "helm":
		args := []string{"uninstall", CatalogRelease, "--namespace", CatalogNamespace, "--wait", "--timeout", c.opts.StepTimeout.String()}
		if _, err := c.run(ctx, "helm uninstall", "helm "+strings.Join(args, " "), c.copts.Helm, args...); err != nil {
			return err
		}
		// helm install --create-namespace made it; helm leaves it, and
		// the CRDs (Helm never deletes a chart's crds/).
		return c.kubectlExpect(ctx, "delete the namespace", contains("deleted"), "delete", "namespace", CatalogNamespace)
	default:
		return c.kubectlExpect(ctx, "kubectl delete -k", contains("deleted"), "delete", "-k", c.kustomizeDir())
	}
}

// Helm runs helm with the cluster's kubeconfig, for tests (helm upgrade).
func (c *Cluster) Helm(ctx context.Context, args ...string) (string, error) {
	return c.run(ctx, "helm "+args[0], "helm "+strings.Join(args, " "), c.copts.Helm, args...)
}

// HelmUpgrade is helm upgrade of the release with the same image and more
// values.
func (c *Cluster) HelmUpgrade(ctx context.Context, set ...string) error {
	args := helmArgs("upgrade", c.copts.Images.Controller, append(append([]string{}, c.copts.HelmSet...), set...), c.opts.StepTimeout)
	_, err := c.Helm(ctx, args...)
	return err
}

// Kubectl runs kubectl against the cluster, printing the command and its
// output, for tests.
func (c *Cluster) Kubectl(ctx context.Context, args ...string) (string, error) {
	c.printf("$ kubectl %s\n", strings.Join(args, " "))
	ctx, cancel := context.WithTimeout(ctx, c.opts.StepTimeout)
	defer cancel()
	out, err := c.kubectl.run(ctx, args...)
	c.printf("%s", withNewline(out))
	return out, err
}

// Client is the cluster's admin client.
func (c *Cluster) Client() client.Client { return c.client }

// Reset removes whatever a run left behind, as far as it can, after a
// failure: a shared cluster must be usable by the next test. Errors are
// printed, not returned.
func (c *Cluster) Reset(ctx context.Context) {
	c.section("Reset after a failure")
	// Bindings and instances first, while the controller still runs to
	// take their finalizers off; a short wait each, then on.
	for _, args := range [][]string{
		{"delete", "-f", c.rendered[ConsumerFile], "--ignore-not-found", "--timeout=60s"},
		{"delete", "-f", c.rendered[ProducerFile], "--ignore-not-found", "--timeout=60s"},
		{"delete", "servicebindings", "--all", "-n", SeedNamespace, "--ignore-not-found", "--timeout=60s"},
		{"delete", "serviceinstances", "--all", "-n", SeedNamespace, "--ignore-not-found", "--timeout=60s"},
		{"delete", "clusterservicebrokers", "--all", "--ignore-not-found", "--timeout=60s"},
		{"delete", "namespace", BrokerNamespace, "--ignore-not-found", "--timeout=90s"},
	} {
		if _, err := c.Kubectl(ctx, args...); err != nil {
			c.printf("(%v)\n", err)
		}
	}
	switch c.copts.Install {
	case "helm":
		if _, err := c.Helm(ctx, "uninstall", CatalogRelease, "--namespace", CatalogNamespace, "--ignore-not-found", "--wait", "--timeout", "2m"); err != nil {
			c.printf("(%v)\n", err)
		}
		if _, err := c.Kubectl(ctx, "delete", "namespace", CatalogNamespace, "--ignore-not-found", "--timeout=90s"); err != nil {
			c.printf("(%v)\n", err)
		}
	default:
		if _, err := c.Kubectl(ctx, "delete", "-k", c.kustomizeDir(), "--ignore-not-found", "--timeout=120s"); err != nil {
			c.printf("(%v)\n", err)
		}
	}
}

// ControllerPods are the catalog-controller's pods, by name.
func (c *Cluster) ControllerPods(ctx context.Context) ([]corev1.Pod, error) {
	var pods corev1.PodList
	err := c.client.List(ctx, &pods, client.InNamespace(CatalogNamespace), client.MatchingLabels{"app.kubernetes.io/component": "catalog-controller"})
	return pods.Items, err
}

// Printf writes to the transcript.
func (c *Cluster) Printf(format string, args ...any) { c.printf(format, args...) }
