package cluster

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/httpstream"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/tools/remotecommand"
	"k8s.io/utils/ptr"

	"github.com/svcat-io/svcat/internal/localcluster"
)

// web is the workload the tests share: one probe pod serving HTTP behind a
// NodePort Service, in its own namespace.
type web struct {
	ns, pod string
	svc     *corev1.Service
}

var (
	webOnce sync.Once
	theWeb  *web
	webErr  error
)

func getWeb(t *testing.T) (*localcluster.Cluster, *web) {
	t.Helper()
	c := Cluster(t)
	webOnce.Do(func() { theWeb, webErr = deployWeb(c) })
	if webErr != nil {
		t.Fatalf("deploying the probe web server: %v", webErr)
	}
	return c, theWeb
}

func deployWeb(c *localcluster.Cluster) (*web, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	ns, err := c.Client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "cluster-test-"}}, metav1.CreateOptions{})
	if err != nil {
		return nil, err
	}
	labels := map[string]string{"app": "web"}
	dep := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "web"},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To[int32](1),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{
					TerminationGracePeriodSeconds: ptr.To[int64](2),
					Containers: []corev1.Container{{
						Name: "web", Image: probeImage, ImagePullPolicy: corev1.PullNever,
						Args:           []string{"serve", ":8080"},
						Ports:          []corev1.ContainerPort{{ContainerPort: 8080}},
						ReadinessProbe: &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/", Port: intstr.FromInt32(8080)}}, PeriodSeconds: 1},
					}},
				},
			},
		},
	}
	if _, err := c.Client.AppsV1().Deployments(ns.Name).Create(ctx, dep, metav1.CreateOptions{}); err != nil {
		return nil, err
	}
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "web"},
		Spec: corev1.ServiceSpec{
			Type:     corev1.ServiceTypeNodePort,
			Selector: labels,
			Ports:    []corev1.ServicePort{{Port: 80, TargetPort: intstr.FromInt32(8080)}},
		},
	}
	if svc, err = c.Client.CoreV1().Services(ns.Name).Create(ctx, svc, metav1.CreateOptions{}); err != nil {
		return nil, err
	}
	w := &web{ns: ns.Name, svc: svc}
	var last string
	for ctx.Err() == nil {
		pods, err := c.Client.CoreV1().Pods(ns.Name).List(ctx, metav1.ListOptions{LabelSelector: "app=web"})
		if err == nil && len(pods.Items) == 1 && podReady(&pods.Items[0]) {
			w.pod = pods.Items[0].Name
			return w, nil
		}
		if err == nil && len(pods.Items) > 0 {
			last = fmt.Sprintf("pod %s: phase %s, %+v", pods.Items[0].Name, pods.Items[0].Status.Phase, pods.Items[0].Status.ContainerStatuses)
		}
		time.Sleep(250 * time.Millisecond)
	}
	return nil, fmt.Errorf("the web pod is not Ready after 2 minutes: %s", last)
}

func podReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// exec runs a command in the web pod, as kubectl exec does (API server to
// kubelet to containerd), and returns its output.
func execIn(t *testing.T, c *localcluster.Cluster, ns, pod string, cmd ...string) (string, error) {
	t.Helper()
	req := c.Client.CoreV1().RESTClient().Post().Resource("pods").Namespace(ns).Name(pod).SubResource("exec").
		VersionedParams(&corev1.PodExecOptions{Command: cmd, Stdout: true, Stderr: true}, scheme.ParameterCodec)
	ws, err := remotecommand.NewWebSocketExecutor(c.Config, "GET", req.URL().String())
	if err != nil {
		return "", err
	}
	spdy, err := remotecommand.NewSPDYExecutor(c.Config, "POST", req.URL())
	if err != nil {
		return "", err
	}
	ex, err := remotecommand.NewFallbackExecutor(ws, spdy, func(err error) bool {
		return httpstream.IsUpgradeFailure(err) || httpstream.IsHTTPSProxyError(err)
	})
	if err != nil {
		return "", err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var stdout, stderr bytes.Buffer
	err = ex.StreamWithContext(ctx, remotecommand.StreamOptions{Stdout: &stdout, Stderr: &stderr})
	if err != nil {
		return stdout.String(), fmt.Errorf("exec %v: %w (stderr: %s)", cmd, err, stderr.String())
	}
	return stdout.String(), nil
}

func TestNodeIsReady(t *testing.T) {
	c := Cluster(t)
	n, err := c.Client.CoreV1().Nodes().Get(context.Background(), localcluster.NodeName, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ready := false
	for _, cond := range n.Status.Conditions {
		if cond.Type == corev1.NodeReady && cond.Status == corev1.ConditionTrue {
			ready = true
		}
	}
	if !ready {
		t.Errorf("node %s is not Ready: %+v", n.Name, n.Status.Conditions)
	}
	var internal string
	for _, a := range n.Status.Addresses {
		if a.Type == corev1.NodeInternalIP {
			internal = a.Address
		}
	}
	if internal != c.NodeIP.String() {
		t.Errorf("node InternalIP = %q, want the node's own address %s", internal, c.NodeIP)
	}
	if n.Status.NodeInfo.KubeletVersion != "v1.37.0" {
		t.Errorf("kubelet version = %q, want v1.37.0", n.Status.NodeInfo.KubeletVersion)
	}
}

func TestPodRunsOnThePodNetwork(t *testing.T) {
	c, w := getWeb(t)
	p, err := c.Client.CoreV1().Pods(w.ns).Get(context.Background(), w.pod, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if p.Status.Phase != corev1.PodRunning {
		t.Errorf("pod phase = %s, want Running", p.Status.Phase)
	}
	ip, err := netip.ParseAddr(p.Status.PodIP)
	if err != nil || !c.PodCIDR.Contains(ip) {
		t.Errorf("pod IP = %q, want an address of the pod range %s (not host networking)", p.Status.PodIP, c.PodCIDR)
	}
}

func TestLogsAndExec(t *testing.T) {
	c, w := getWeb(t)
	logs, err := c.Client.CoreV1().Pods(w.ns).GetLogs(w.pod, &corev1.PodLogOptions{}).DoRaw(context.Background())
	if err != nil {
		t.Fatalf("logs: %v", err)
	}
	if !strings.Contains(string(logs), "probe: serving on [::]:8080") {
		t.Errorf("logs = %q, want the server's start line", logs)
	}
	out, err := execIn(t, c, w.ns, w.pod, "/probe", "get", "http://127.0.0.1:8080/")
	if err != nil {
		t.Fatal(err)
	}
	if want := "hello from " + w.pod; !strings.Contains(out, want) {
		t.Errorf("exec output = %q, want %q", out, want)
	}
	if _, err := execIn(t, c, w.ns, w.pod, "/probe", "no-such-subcommand"); err == nil {
		t.Error("exec of a failing command reported success")
	}
}

func TestPodDNS(t *testing.T) {
	c, w := getWeb(t)
	for name, want := range map[string]string{
		"kubernetes.default.svc.cluster.local":           c.APIServiceIP().String(),
		"web." + w.ns + ".svc.cluster.local":             w.svc.Spec.ClusterIP,
		"web":                                            w.svc.Spec.ClusterIP, // the pod's search path
		"kube-dns.kube-system.svc.cluster.local":         c.DNSServiceIP().String(),
		"no-such-service." + w.ns + ".svc.cluster.local": "",
	} {
		out, err := execIn(t, c, w.ns, w.pod, "/probe", "resolve", name)
		switch {
		case want == "" && err == nil:
			t.Errorf("resolving %s: got %q, want no answer", name, out)
		case want != "" && err != nil:
			t.Errorf("resolving %s: %v", name, err)
		case want != "" && strings.TrimSpace(out) != want:
			t.Errorf("resolving %s = %q, want %s", name, strings.TrimSpace(out), want)
		}
	}
}

func TestPodReachesTheAPIServerThroughTheKubernetesService(t *testing.T) {
	c, w := getWeb(t)
	out, err := execIn(t, c, w.ns, w.pod, "/probe", "whoami")
	if err != nil {
		t.Fatal(err)
	}
	if want := `"username":"system:serviceaccount:` + w.ns + `:default"`; !strings.Contains(out, want) {
		t.Errorf("SelfSubjectReview from the pod = %s, want %s", out, want)
	}
}

func TestServiceClusterIPAndNodePort(t *testing.T) {
	c, w := getWeb(t)
	want := "hello from " + w.pod
	// From a pod through the ClusterIP (kube-proxy's rules; the pod
	// reaching itself needs the bridge's hairpin mode). Until kube-proxy
	// has synced the new endpoints the Service rejects connections.
	var out string
	var err error
	deadline := time.Now().Add(30 * time.Second)
	for {
		out, err = execIn(t, c, w.ns, w.pod, "/probe", "get", "http://web/")
		if err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(250 * time.Millisecond)
	}
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, want) {
		t.Errorf("through the ClusterIP: %q, want %q", out, want)
	}
	// From the machine through the NodePort on the node's own address.
	url := fmt.Sprintf("http://%s:%d/", c.NodeIP, w.svc.Spec.Ports[0].NodePort)
	var body string
	deadline = time.Now().Add(30 * time.Second)
	for {
		body, err = httpGet(url)
		if err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(250 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	if !strings.Contains(body, want) {
		t.Errorf("GET %s = %q, want %q", url, body, want)
	}
}

func httpGet(url string) (string, error) {
	client := &http.Client{Timeout: 5 * time.Second}
	resp, err := client.Get(url)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode != http.StatusOK {
		return string(b), fmt.Errorf("%s", resp.Status)
	}
	return string(b), err
}

func TestSecondUpIsRefused(t *testing.T) {
	c := Cluster(t)
	var out bytes.Buffer
	second, err := localcluster.StartNode(context.Background(), localcluster.NodeOptions{Dir: c.Dir, Out: &out})
	if err == nil {
		_ = second.Stop()
		t.Fatal("a second StartNode on a running cluster succeeded")
	}
	if !strings.Contains(err.Error(), "already running") || !strings.Contains(err.Error(), "cluster-down") {
		t.Errorf("refusal = %q, want it to say a cluster is already running and how to remove it", err)
	}
	// The refusal must not have touched the running cluster.
	if _, err := c.Client.CoreV1().Nodes().Get(context.Background(), localcluster.NodeName, metav1.GetOptions{}); err != nil {
		t.Errorf("the running cluster after the refused up: %v", err)
	}
}
