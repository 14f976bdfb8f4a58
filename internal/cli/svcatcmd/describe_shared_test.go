package svcatcmd_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/svcat-io/svcat/api/v1beta1"
	"github.com/svcat-io/svcat/internal/cli/svcatcmd"
	"github.com/svcat-io/svcat/internal/localcluster"
)

// TestDescribeSharedInstance: a user with rights only in the consuming
// namespace describes an instance another namespace shares with it, by
// NAMESPACE/NAME and by its bare name, and sees what the marker says and
// their own bindings to it. An instance not shared with them, whether it
// exists or not, gets one and the same error.
func TestDescribeSharedInstance(t *testing.T) {
	env := localcluster.Get(t)
	seedCatalog(t, env)
	ctx := context.Background()
	const owner, consumer, other = "desc-owner", "desc-consumer", "desc-other"
	tenantIn(t, env, owner, "omar")
	tenantIn(t, env, consumer, "cara")
	tenantIn(t, env, other, "otto")
	for _, name := range []string{"kafka", "db"} {
		if _, err := createInstance(ctx, env.Client, owner, name, "", raw(`{"adminPassword":"hunter2"}`)); err != nil {
			t.Fatal(err)
		}
	}
	addMarker(t, env, consumer, owner, "kafka")
	ready := v1beta1.ServiceBindingCondition{Type: v1beta1.ServiceBindingConditionReady, Status: v1beta1.ConditionTrue,
		LastTransitionTime: metav1.NewTime(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)), Reason: "InjectedBindResult", Message: "Injected bind result"}
	sharedBinding(t, env, consumer, "orders", v1beta1.InstanceReference{Namespace: owner, Name: "kafka"}, &ready)
	sharedBinding(t, env, consumer, "orders-2", v1beta1.InstanceReference{Namespace: owner, Name: "kafka"}, nil)
	// Bindings of other instances called kafka are not this one's.
	sharedBinding(t, env, consumer, "elsewhere", v1beta1.InstanceReference{Namespace: other, Name: "kafka"}, &ready)
	sharedBinding(t, env, consumer, "local", v1beta1.InstanceReference{Name: "kafka"}, nil)

	r := svcat(t, env, "", "--as", "cara", "-n", consumer, "describe", "instance", owner+"/kafka")
	if r.code != 0 || r.stderr != "" {
		t.Fatalf("exit %d, stderr:\n%s", r.code, r.stderr)
	}
	golden(t, "describe-shared-instance", r.stdout)
	if strings.Contains(r.stdout, "hunter2") || strings.Contains(r.stdout, "adminPassword") {
		t.Errorf("describe shows more than the marker holds:\n%s", r.stdout)
	}
	bare := svcat(t, env, "", "--as", "cara", "-n", consumer, "describe", "instance", "kafka")
	if bare.code != 0 || bare.stdout != r.stdout {
		t.Errorf("describe instance kafka (exit %d, stderr %q) differs from %s/kafka:\n%s", bare.code, bare.stderr, owner, bare.stdout)
	}

	// Completion offers it as the argument describe and bind take.
	for _, cmd := range [][]string{{"describe", "instance"}, {"bind"}} {
		r := svcat(t, env, "", append(append([]string{"__complete", "--as", "cara", "-n", consumer}, cmd...), "")...)
		if got := strings.Fields(r.stdout); r.code != 0 || len(got) != 2 || got[0] != owner+"/kafka" {
			t.Errorf("completion of %v: %q (exit %d, %s), want %s/kafka", cmd, r.stdout, r.code, r.stderr, owner)
		}
	}

	// Not shared with the consumer: the same words whether the instance
	// exists in the owner's namespace or not.
	notShared := svcat(t, env, "", "--as", "cara", "-n", consumer, "describe", "instance", owner+"/db")
	missing := svcat(t, env, "", "--as", "cara", "-n", consumer, "describe", "instance", owner+"/nothing-here")
	if notShared.code != svcatcmd.ExitError || notShared.stdout != "" {
		t.Fatalf("describe of an instance not shared: exit %d, stdout %q", notShared.code, notShared.stdout)
	}
	golden(t, "error-describe-not-shared", notShared.stderr)
	if want := strings.ReplaceAll(notShared.stderr, "db", "nothing-here"); missing.code != notShared.code || missing.stderr != want {
		t.Errorf("an instance that does not exist reads differently from one not shared:\n%s\nvs\n%s", missing.stderr, notShared.stderr)
	}
	// A bare name that is neither the namespace's nor shared with it is
	// the ordinary not found.
	r = svcat(t, env, "", "--as", "cara", "-n", consumer, "describe", "instance", "db")
	if r.code != svcatcmd.ExitError || r.stderr != "Error: instance \"db\" not found in namespace \""+consumer+"\"\n" {
		t.Errorf("describe instance db: exit %d, stderr %q", r.code, r.stderr)
	}

	// The namespace's own name, given explicitly, is never another's.
	r = svcat(t, env, "", "--as", "cara", "-n", consumer, "describe", "instance", consumer+"/kafka")
	if r.code != svcatcmd.ExitError || r.stderr != "Error: instance \"kafka\" not found in namespace \""+consumer+"\"\n" {
		t.Errorf("describe instance %s/kafka: exit %d, stderr %q", consumer, r.code, r.stderr)
	}

	// The owner, who may read it, sees the instance itself.
	r = svcat(t, env, "", "--as", "omar", "-n", consumer, "describe", "instance", owner+"/kafka")
	mustSucceed(t, r)
	if !strings.Contains(r.stdout, "adminPassword") || strings.Contains(r.stdout, "orders") {
		t.Errorf("the owner's describe of %s/kafka:\n%s", owner, r.stdout)
	}

	// Two namespaces share a kafka: the bare name no longer says which.
	addMarker(t, env, consumer, other, "kafka")
	r = svcat(t, env, "", "--as", "cara", "-n", consumer, "describe", "instance", "kafka")
	if r.code != svcatcmd.ExitError || !strings.Contains(r.stderr, "by namespaces "+other+", "+owner+": give NAMESPACE/kafka") {
		t.Errorf("describe instance kafka with two shares: exit %d, stderr %q", r.code, r.stderr)
	}
	r = svcat(t, env, "", "--as", "cara", "-n", consumer, "describe", "instance", other+"/kafka")
	mustSucceed(t, r)
	if !strings.Contains(r.stdout, "elsewhere") || strings.Contains(r.stdout, "orders") {
		t.Errorf("describe instance %s/kafka lists other bindings:\n%s", other, r.stdout)
	}

	// Once the namespace has its own kafka, the bare name is that one, and
	// its bindings are only those of it: describe lists and unbind deletes
	// none of the shared instances' bindings.
	if _, err := createInstance(ctx, env.Client, consumer, "kafka", "", nil); err != nil {
		t.Fatal(err)
	}
	r = svcat(t, env, "", "--as", "cara", "-n", consumer, "describe", "instance", "kafka")
	mustSucceed(t, r)
	if strings.Contains(r.stdout, "Shared with this namespace") || !strings.Contains(r.stdout, "local") ||
		strings.Contains(r.stdout, "orders") || strings.Contains(r.stdout, "elsewhere") {
		t.Errorf("describe instance kafka with a local kafka:\n%s", r.stdout)
	}
	mustSucceed(t, svcat(t, env, "", "--as", "cara", "-n", consumer, "unbind", "kafka"))
	var left []string
	l := &v1beta1.ServiceBindingList{}
	if err := env.Client.List(ctx, l, client.InNamespace(consumer)); err != nil {
		t.Fatal(err)
	}
	for _, b := range l.Items {
		left = append(left, b.Name)
	}
	if !slices.Equal(left, []string{"elsewhere", "orders", "orders-2"}) {
		t.Errorf("bindings after unbind kafka: %v, want the shared instances' three", left)
	}
}

// addMarker writes the ConfigMap the controller writes in ns for an
// instance owner shares with it.
func addMarker(t *testing.T, env *localcluster.Env, ns, owner, name string) {
	t.Helper()
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: v1beta1.SharedMarkerObjectName(owner, name),
		Labels: map[string]string{v1beta1.LabelSharedInstance: "true"}},
		Data: map[string]string{v1beta1.SharedMarkerNamespace: owner, v1beta1.SharedMarkerName: name,
			v1beta1.SharedMarkerClass: "ClusterServiceClass/cloudkarafka", v1beta1.SharedMarkerPlan: "duck"}}
	if err := env.Client.Create(context.Background(), cm); err != nil {
		t.Fatal(err)
	}
}

// sharedBinding makes a binding in ns of ref, with the Ready condition when
// one is given.
func sharedBinding(t *testing.T, env *localcluster.Env, ns, name string, ref v1beta1.InstanceReference, ready *v1beta1.ServiceBindingCondition) {
	t.Helper()
	ctx := context.Background()
	b := &v1beta1.ServiceBinding{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: v1beta1.ServiceBindingSpec{InstanceRef: ref}}
	if err := env.Client.Create(ctx, b); err != nil {
		t.Fatal(err)
	}
	if ready == nil {
		return
	}
	b.Status.Conditions = []v1beta1.ServiceBindingCondition{*ready}
	b.Status.LastConditionState = "Ready"
	if err := env.Client.Status().Update(ctx, b); err != nil {
		t.Fatal(err)
	}
}
