package svcatcmd_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/svcat-io/svcat/api/v1beta1"
	"github.com/svcat-io/svcat/internal/cli/svcatcmd"
	"github.com/svcat-io/svcat/internal/localcluster"
)

// TestErrors checks that failures say what is wrong and what to do, on
// stderr, with the documented exit status.
func TestErrors(t *testing.T) {
	env := localcluster.Get(t)
	seedCatalog(t, env)
	tests := []struct {
		golden string
		args   []string
		stdin  string
		code   int
	}{
		{"error-unknown-class", []string{"-n", "default", "provision", "k", "--class", "cloudkarafak", "--plan", "duck"}, "", svcatcmd.ExitError},
		{"error-unknown-plan", []string{"-n", "default", "provision", "k", "--class", "cloudkarafka", "--plan", "duk"}, "", svcatcmd.ExitError},
		{"error-get-class-not-found", []string{"get", "class", "kafka"}, "", svcatcmd.ExitError},
		{"error-instance-not-found", []string{"-n", "default", "describe", "instance", "demo-kafak"}, "", svcatcmd.ExitError},
		{"error-broker-wrong-scope", []string{"-n", "default", "sync", "broker", "cloudkarafka"}, "", svcatcmd.ExitError},
		{"error-forbidden", []string{"--as", "jane", "-n", "default", "get", "instances"}, "", svcatcmd.ExitError},
		{"error-forbidden-create", []string{"--as", "jane", "-n", "default", "bind", "demo-kafka"}, "", svcatcmd.ExitError},
		{"error-unknown-flag", []string{"get", "instances", "--bogus"}, "", svcatcmd.ExitUsage},
		{"error-missing-name", []string{"provision", "--class", "cloudkarafka"}, "", svcatcmd.ExitUsage},
		{"error-params-both", []string{"provision", "x", "--class", "c", "-p", "a=b", "--params-json", "{}"}, "", svcatcmd.ExitUsage},
		{"error-bad-secret", []string{"bind", "x", "-s", "creds"}, "", svcatcmd.ExitUsage},
		{"error-bad-output", []string{"get", "plans", "-o", "wide"}, "", svcatcmd.ExitUsage},
		{"error-abandon-declined", []string{"-n", "default", "deprovision", "demo-kafka", "--abandon"}, "n\n", svcatcmd.ExitError},
	}
	for _, tt := range tests {
		t.Run(tt.golden, func(t *testing.T) {
			r := svcat(t, env, tt.stdin, tt.args...)
			if r.code != tt.code {
				t.Errorf("exit %d, want %d; stderr:\n%s", r.code, tt.code, r.stderr)
			}
			if r.stdout != "" {
				t.Errorf("stdout should be empty, got:\n%s", r.stdout)
			}
			golden(t, tt.golden, r.stderr)
		})
	}
	// The declined abandon changed nothing.
	var in v1beta1.ServiceInstance
	if err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: "default", Name: "demo-kafka"}, &in); err != nil {
		t.Fatal(err)
	}
	if in.DeletionTimestamp != nil || in.Annotations[v1beta1.AnnotationAbandon] != "" {
		t.Errorf("declined --abandon touched the instance: %+v", in.ObjectMeta)
	}
}

// TestWaitTimeout: with no controller running the instance never becomes
// ready; the wait ends with the last condition and exit status 3.
func TestWaitTimeout(t *testing.T) {
	env := localcluster.Get(t)
	seedCatalog(t, env)
	ns := fixedNamespace(t, env, "waiting")
	r := svcat(t, env, "", "-n", ns, "provision", "slow", "--class", "cloudkarafka", "--wait", "--timeout", "1s", "--interval", "200ms")
	if r.code != svcatcmd.ExitTimeout {
		t.Errorf("exit %d, want %d", r.code, svcatcmd.ExitTimeout)
	}
	golden(t, "error-wait-timeout", r.stderr)

	// Once a condition is reported, the timeout names it.
	in := &v1beta1.ServiceInstance{}
	if err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "slow"}, in); err != nil {
		t.Fatal(err)
	}
	in.Status.Conditions = []v1beta1.ServiceInstanceCondition{{Type: v1beta1.ServiceInstanceConditionReady, Status: v1beta1.ConditionFalse,
		LastTransitionTime: provisionTime, Reason: "ErrorFetchingCatalogClass", Message: "The broker is not responding"}}
	if err := env.Client.Status().Update(context.Background(), in); err != nil {
		t.Fatal(err)
	}
	r = svcat(t, env, "", "-n", ns, "touch", "instance", "slow", "--wait", "--timeout", "1s", "--interval", "200ms")
	if r.code != svcatcmd.ExitTimeout {
		t.Errorf("exit %d, want %d", r.code, svcatcmd.ExitTimeout)
	}
	golden(t, "error-wait-timeout-condition", r.stderr)
}

// TestNotInstalled runs against an API server that serves no
// servicecatalog.k8s.io group, as in a cluster without the CRDs.
func TestNotInstalled(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/api":
			fmt.Fprint(w, `{"kind":"APIVersions","versions":["v1"],"serverAddressByClientCIDRs":[{"clientCIDR":"0.0.0.0/0","serverAddress":"127.0.0.1"}]}`)
		case "/apis":
			fmt.Fprint(w, `{"kind":"APIGroupList","apiVersion":"v1","groups":[]}`)
		default:
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprint(w, `{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"NotFound","code":404,"message":"the server could not find the requested resource"}`)
		}
	}))
	defer srv.Close()
	kubeconfig := filepath.Join(t.TempDir(), "kubeconfig")
	kc := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters: [{name: bare, cluster: {server: %q}}]
contexts: [{name: bare, context: {cluster: bare, user: me, namespace: default}}]
users: [{name: me, user: {token: x}}]
current-context: bare
`, srv.URL)
	if err := os.WriteFile(kubeconfig, []byte(kc), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"marketplace"}, {"get", "instances"}, {"provision", "x", "--class", "c"}} {
		var out, errOut strings.Builder
		streams := genericiooptions.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut}
		code := svcatcmd.Run(context.Background(), streams, "svcat", append([]string{"--kubeconfig", kubeconfig}, args...))
		if code != svcatcmd.ExitError {
			t.Errorf("%v: exit %d, want %d", args, code, svcatcmd.ExitError)
		}
		golden(t, "error-not-installed", errOut.String())
	}
}

// fixedNamespace creates a namespace with a fixed name, so that golden files
// that show it stay the same across runs.
func fixedNamespace(t *testing.T, env *localcluster.Env, name string) string {
	t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
	if err := env.Client.Create(context.Background(), ns); err != nil {
		t.Fatalf("creating namespace %s: %v", name, err)
	}
	return name
}
