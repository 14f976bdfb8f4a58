package sandbox

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

// The seed's own output passes; what a broken cluster shows does not.
func TestSeedServicesAndPods(t *testing.T) {
	seed := "NAME                                  TYPE        CLUSTER-IP       EXTERNAL-IP   PORT(S)        AGE\n" +
		"service/demo-kafka-consumer-service   NodePort    10.100.200.113   <none>        80:31876/TCP   6m\n" +
		"service/demo-kafka-producer-service   NodePort    10.100.200.57    <none>        80:30776/TCP   19m\n" +
		"service/kubernetes                    ClusterIP   10.100.200.1     <none>        443/TCP        1d\n" +
		"\n" +
		"NAME                                       READY   STATUS    RESTARTS   AGE\n" +
		"pod/demo-kafka-consumer-dd94c966b-jsgv6    1/1     Running   0          6m\n" +
		"pod/demo-kafka-producer-7b44d795d4-drg89   1/1     Running   0          19m\n"
	c := seedServicesAndPods()
	if err := c.fn(seed); err != nil {
		t.Fatalf("the seed's output refused: %v", err)
	}
	for name, out := range map[string]string{
		"ClusterIP app":    strings.Replace(seed, "NodePort    10.100.200.113", "ClusterIP   10.100.200.113", 1),
		"pod not ready":    strings.Replace(seed, "1/1     Running   0          6m", "0/1     Running   0          6m", 1),
		"crash loop":       strings.Replace(seed, "1/1     Running   0          19m", "0/1     CrashLoopBackOff   3 (5s ago)   19m", 1),
		"restarted":        strings.Replace(seed, "Running   0          19m", "Running   1          19m", 1),
		"no consumer":      strings.Replace(seed, "pod/demo-kafka-consumer-dd94c966b-jsgv6    1/1     Running   0          6m\n", "", 1),
		"two producers":    seed + "pod/demo-kafka-producer-7b44d795d4-xxxxx    1/1     Running   0          19m\n",
		"no services":      strings.SplitN(seed, "\n\n", 2)[1],
		"extra service":    strings.Replace(seed, "service/kubernetes ", "service/kubernetez ", 1),
		"external IP":      strings.Replace(seed, "<none>        80:31876", "192.0.2.9     80:31876", 1),
		"another app port": strings.Replace(seed, "80:30776/TCP", "8080:30776/TCP", 1),
	} {
		if err := c.fn(out); err == nil {
			t.Errorf("%s: accepted\n%s", name, out)
		}
	}
}

func TestRenderImages(t *testing.T) {
	images := map[string]string{"ghcr.io/svcat-io/kafka-broker": "svcat.local/kafka-broker:abc", "demo-kafka-producer": "p:1"}
	in := "spec:\n  containers:\n  - name: x\n    image: ghcr.io/svcat-io/kafka-broker:0.1.0\n    imagePullPolicy: IfNotPresent\n  - image: demo-kafka-producer\n"
	out, err := renderImages([]byte(in), images)
	if err != nil {
		t.Fatal(err)
	}
	want := "spec:\n  containers:\n  - name: x\n    image: svcat.local/kafka-broker:abc\n    imagePullPolicy: IfNotPresent\n  - image: p:1\n"
	if string(out) != want {
		t.Errorf("got\n%s\nwant\n%s", out, want)
	}
	if _, err := renderImages([]byte("    image: nginx:latest\n"), images); err == nil || !strings.Contains(err.Error(), "nginx:latest") {
		t.Errorf("an image this build does not make: %v", err)
	}
	if _, err := renderImages([]byte("kind: Service\n"), images); err == nil {
		t.Error("a manifest without an image was accepted")
	}
	if _, err := renderImages([]byte("    image: kafka-broker:dev\n"), map[string]string{"kafka-broker": ""}); err == nil {
		t.Error("an empty image reference was accepted")
	}
}

// Every image name the cluster samples use is one make images builds.
func TestSamplesRenderWithBuiltImages(t *testing.T) {
	dir := t.TempDir()
	im := Images{Controller: "c:1", Broker: "b:1", Producer: "p:1", Consumer: "k:1"}
	files, err := renderSamples(filepath.Join("..", ".."), dir, im)
	if err != nil {
		t.Fatal(err)
	}
	for f, want := range map[string]string{BrokerDeploymentFile: "image: b:1", ProducerFile: "image: p:1", ConsumerFile: "image: k:1"} {
		b, err := os.ReadFile(files[f])
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(b), want) {
			t.Errorf("%s: no %q", f, want)
		}
	}
}

// The samples name the images make images writes for this checkout, so
// that a user can apply them as they are after loading the images.
func TestSamplesNameTheDefaultImages(t *testing.T) {
	im, err := DefaultImages(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	for f, want := range map[string]string{BrokerDeploymentFile: im.Broker, ProducerFile: im.Producer, ConsumerFile: im.Consumer} {
		b, err := os.ReadFile(filepath.Join("..", "..", f))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(b), "image: "+want+"\n") {
			t.Errorf("%s does not name %s", f, want)
		}
	}
	if !strings.HasPrefix(im.Controller, "ghcr.io/svcat-io/catalog-controller:") {
		t.Errorf("controller image %s", im.Controller)
	}
}

// The broker's ConfigMap serves the same catalog as make demo's broker.
func TestBrokerDeploymentServesTheSeedCatalog(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", BrokerDeploymentFile))
	if err != nil {
		t.Fatal(err)
	}
	var cm struct {
		Kind string
		Data map[string]string
	}
	if err := yaml.Unmarshal([]byte(strings.SplitN(string(b), "\n---\n", 2)[0]+"\n"), &cm); err != nil {
		t.Fatal(err)
	}
	if cm.Kind != "ConfigMap" || cm.Data["catalog.yaml"] != string(seedCatalog) {
		t.Errorf("the ConfigMap in %s differs from cloudkarafka-catalog.yaml:\n%s", BrokerDeploymentFile, cm.Data["catalog.yaml"])
	}
}

func TestSplitImageAndHelmArgs(t *testing.T) {
	for ref, want := range map[string][3]string{
		"svcat.local/catalog-controller:dev": {"svcat.local/catalog-controller", "dev", ""},
		"localhost:5000/c":                   {"localhost:5000/c", "", ""},
		"c@sha256:abc":                       {"c", "", "sha256:abc"},
	} {
		r, tag, d := splitImage(ref)
		if [3]string{r, tag, d} != want {
			t.Errorf("%s: %q %q %q", ref, r, tag, d)
		}
	}
	args := strings.Join(helmArgs("install", "svcat.local/catalog-controller:dev", []string{"a=b"}, 0), " ")
	for _, want := range []string{"install svcat charts/svcat --namespace svcat-system --create-namespace",
		"--set controller.image.repository=svcat.local/catalog-controller --set controller.image.tag=dev --set a=b --wait"} {
		if !strings.Contains(args, want) {
			t.Errorf("%s\nlacks %s", args, want)
		}
	}
	// The chart's defaults stand: no development flag, no URL allowance,
	// no replica or RBAC override.
	for _, no := range []string{"devResolve", "refuseLoopback", "allowBrokerURLHosts", "replicaCount", "serviceAccount"} {
		if strings.Contains(args, no) {
			t.Errorf("helm install sets %s: %s", no, args)
		}
	}
	k := kustomization("../../config/default", "svcat.local/catalog-controller:dev")
	if !strings.Contains(k, "- ../../config/default\n") || !strings.Contains(k, "newName: svcat.local/catalog-controller\n  newTag: \"dev\"") {
		t.Errorf("kustomization:\n%s", k)
	}
}
