package controller_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	scv1beta1 "github.com/svcat-io/svcat/api/v1beta1"
	"github.com/svcat-io/svcat/internal/osb"
	"github.com/svcat-io/svcat/internal/testbroker"
)

// A plan change the broker refuses (422) is final: the instance keeps its
// old plan at the broker, the condition quotes the broker, and the refused
// request is not sent again by a resync or a Secret event that changes
// nothing. A change of a parametersFrom Secret's value is a different
// request and goes out; a spec change (updateRequests) sends it again.
func TestRefusedUpdateIsNotResent(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "refupd")
	ctx := context.Background()

	creds := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: f.ns, Name: "creds"}, StringData: map[string]string{"params": `{"password":"one"}`}}
	if err := f.c.Create(ctx, creds); err != nil {
		t.Fatal(err)
	}
	setSecret := func(v string) {
		t.Helper()
		update(t, f.c, creds, func(s *corev1.Secret) { s.Data = map[string][]byte{"params": []byte(v)} })
	}
	inst := f.instance("tenant", "kafka", "small", func(i *scv1beta1.ServiceInstance) {
		i.Spec.ParametersFrom = []scv1beta1.ParametersFromSource{{SecretKeyRef: &scv1beta1.SecretKeyReference{Name: "creds", Key: "params"}}}
	})
	f.ready("tenant")

	const why = "the tenant has 12 topics; plan small allows 5"
	f.broker.On(testbroker.Rule{Operation: osb.OpUpdate, InstanceID: f.id("tenant"), PlanID: f.prefix + "-large", Status: 422, Description: why})
	updates := func() int { return len(f.requestsFor(osb.OpUpdate, f.id("tenant"))) }
	waitUpdates := func(n int) {
		t.Helper()
		eventually(t, 30*time.Second, fmt.Sprintf("%d update requests", n), func() error {
			if got := updates(); got < n {
				return fmt.Errorf("%d update requests", got)
			}
			return nil
		})
	}
	stillUpdates := func(n int, after string) {
		t.Helper()
		time.Sleep(quiet)
		if got := updates(); got != n {
			t.Errorf("after %s: %d update requests, want %d", after, got, n)
		}
	}

	update(t, f.c, inst, func(i *scv1beta1.ServiceInstance) { i.Spec.ClusterServicePlanExternalName = "large" })
	waitUpdates(1)
	got := waitInstance(t, f.c, f.ns, "tenant", instanceCondition(scv1beta1.ServiceInstanceConditionFailed, "True", scv1beta1.ReasonUpdateInstanceCallFailed))
	if msg := readyMessage(got); !strings.Contains(msg, why) {
		t.Errorf("Ready says %q; want the broker's words %q", msg, why)
	}
	if p := got.Status.ExternalProperties.ClusterServicePlanExternalName; p != "small" {
		t.Errorf("externalProperties names plan %q; the broker kept small", p)
	}
	first := got.Status.LastFailedUpdate
	if first == nil || first.PlanExternalID != f.prefix+"-large" || first.ParameterChecksum == "" {
		t.Fatalf("status.lastFailedUpdate = %+v; want the refused plan and the parameters' checksum", first)
	}

	// The same value written again, formatted differently: the Secret's
	// event reconciles the instance, and the request would be the same.
	setSecret(`{ "password": "one" }`)
	stillUpdates(1, "rewriting the Secret with the same value")

	// A new value is a new request (refused again: the plan is the same).
	setSecret(`{"password":"two"}`)
	waitUpdates(2)
	stillUpdates(2, "one change of the Secret")
	got = waitInstance(t, f.c, f.ns, "tenant", func(i *scv1beta1.ServiceInstance) error {
		if l := i.Status.LastFailedUpdate; l == nil || l.ParameterChecksum == first.ParameterChecksum {
			return fmt.Errorf("lastFailedUpdate %+v", l)
		}
		return nil
	})
	if got.Status.GetCondition(scv1beta1.ServiceInstanceConditionFailed) == nil {
		t.Error("the second refusal left no Failed condition")
	}

	// The broker accepts once the tenant fits; a spec change sends it.
	f.broker.ClearRules()
	update(t, f.c, inst, func(i *scv1beta1.ServiceInstance) { i.Spec.UpdateRequests++ })
	waitUpdates(3)
	got = waitInstance(t, f.c, f.ns, "tenant", instanceCondition(scv1beta1.ServiceInstanceConditionReady, "True", scv1beta1.ReasonInstanceUpdatedSuccessfully))
	if got.Status.GetCondition(scv1beta1.ServiceInstanceConditionFailed) != nil || got.Status.LastFailedUpdate != nil {
		t.Errorf("after the accepted update: Failed %v, lastFailedUpdate %+v", got.Status.GetCondition(scv1beta1.ServiceInstanceConditionFailed), got.Status.LastFailedUpdate)
	}
	if p := got.Status.ExternalProperties.ClusterServicePlanExternalName; p != "large" {
		t.Errorf("externalProperties names plan %q after the accepted change", p)
	}
	stillUpdates(3, "the accepted update")
}
