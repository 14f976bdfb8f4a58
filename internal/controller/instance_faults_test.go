package controller_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	scv1beta1 "github.com/svcat-io/svcat/api/v1beta1"
	"github.com/svcat-io/svcat/internal/osb"
	"github.com/svcat-io/svcat/internal/testbroker"
)

// Each row of the OSB orphan mitigation table that a provision request can
// hit, as a user sees it: the instance's conditions, and what the broker
// ends up holding.
func TestProvisionOrphanMitigation(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "om-inst")
	ctx := context.Background()

	// The broker may have created the instance: it is deleted there, then
	// provisioned again, and the broker ends with exactly one.
	mitigated := []struct {
		name string
		rule testbroker.Rule
	}{
		{"error-500-after-creating", testbroker.Rule{Status: 500, ApplyFirst: true, Description: "disk full"}},
		{"connection-dropped", testbroker.Rule{Drop: true}},
		// The harness's OSB timeout is 5s.
		{"timeout", testbroker.Rule{Hang: 6 * time.Second}},
		{"malformed-201", testbroker.Rule{Status: 201, Malformed: true}},
	}
	for _, m := range mitigated {
		r := m.rule
		r.Operation, r.InstanceID, r.Times = osb.OpProvision, f.id(m.name), 1
		f.broker.On(r)
		f.instance(m.name, "kafka", "small", nil)
	}
	// A failed asynchronous provision: mitigated, and Failed for good.
	f.broker.On(testbroker.Rule{Operation: osb.OpProvision, InstanceID: f.id("async-failed"), Async: true, AsyncPolls: 1, AsyncFail: true, Description: "no capacity left"})
	f.instance("async-failed", "kafka", "small", nil)
	// 400: the request is wrong; no mitigation, Failed.
	f.broker.On(testbroker.Rule{Operation: osb.OpProvision, InstanceID: f.id("bad-request"), Status: 400, ErrorCode: "", Description: "size must be positive"})
	f.instance("bad-request", "kafka", "small", nil)
	// 422 ConcurrencyError: retried, never mitigated.
	f.broker.On(testbroker.Rule{Operation: osb.OpProvision, InstanceID: f.id("concurrency"), Status: 422, ErrorCode: "ConcurrencyError", Times: 2})
	f.instance("concurrency", "kafka", "small", nil)

	for _, m := range mitigated {
		t.Run(m.name, func(t *testing.T) {
			id := f.id(m.name)
			inst := f.ready(m.name)
			if got := f.opsFor(id); got != "provision,deprovision,provision" {
				t.Errorf("broker saw %s, want provision, orphan-mitigating deprovision, provision", got)
			}
			if n := f.brokerInstances(id); n != 1 {
				t.Errorf("broker holds %d instances %s", n, id)
			}
			om := inst.Status.GetCondition(scv1beta1.ServiceInstanceConditionOrphanMitigation)
			if om == nil || om.Status != "False" || om.Reason != scv1beta1.ReasonOrphanMitigationSuccessful {
				t.Errorf("OrphanMitigation condition %+v", om)
			}
			if inst.Status.GetCondition(scv1beta1.ServiceInstanceConditionFailed) != nil || inst.Status.OrphanMitigationInProgress ||
				inst.Status.ProvisionStatus != "Provisioned" || inst.Status.DeprovisionStatus != "Required" {
				t.Errorf("status %+v", inst.Status)
			}
			// The mitigating DELETE names the plan the PUT named.
			for _, r := range f.requestsFor(osb.OpDeprovision, id) {
				if r.Query.Get("plan_id") != f.prefix+"-small" || r.Query.Get("service_id") != f.prefix+"-svc" {
					t.Errorf("mitigating DELETE %s?%s", r.Path, r.RawQuery)
				}
			}
		})
	}

	t.Run("async-failed", func(t *testing.T) {
		id := f.id("async-failed")
		inst := waitInstance(t, f.c, f.ns, "async-failed", func(i *scv1beta1.ServiceInstance) error {
			if err := instanceCondition(scv1beta1.ServiceInstanceConditionFailed, "True", scv1beta1.ReasonProvisionCallFailed)(i); err != nil {
				return err
			}
			return instanceCondition(scv1beta1.ServiceInstanceConditionOrphanMitigation, "False", scv1beta1.ReasonOrphanMitigationSuccessful)(i)
		})
		if got := f.opsFor(id); got != "provision,deprovision" {
			t.Errorf("broker saw %s", got)
		}
		if n := f.brokerInstances(id); n != 0 {
			t.Errorf("broker still holds the failed instance")
		}
		if c := inst.Status.GetCondition(scv1beta1.ServiceInstanceConditionFailed); !strings.Contains(c.Message, "no capacity left") {
			t.Errorf("Failed does not give the broker's description: %q", c.Message)
		}
		if c := inst.Status.GetCondition(scv1beta1.ServiceInstanceConditionReady); c.Status != "False" {
			t.Errorf("Ready %+v", c)
		}
		st := inst.Status
		if st.ProvisionStatus == "Provisioned" || st.AsyncOpInProgress || st.OrphanMitigationInProgress || st.ObservedGeneration != inst.Generation {
			t.Errorf("status %+v", st)
		}
	})

	t.Run("bad-request", func(t *testing.T) {
		id := f.id("bad-request")
		inst := waitInstance(t, f.c, f.ns, "bad-request", instanceCondition(scv1beta1.ServiceInstanceConditionFailed, "True", scv1beta1.ReasonProvisionCallFailed))
		if c := inst.Status.GetCondition(scv1beta1.ServiceInstanceConditionFailed); !strings.Contains(c.Message, "size must be positive") {
			t.Errorf("Failed message %q", c.Message)
		}
		if inst.Status.GetCondition(scv1beta1.ServiceInstanceConditionOrphanMitigation) != nil || inst.Status.DeprovisionStatus != "NotRequired" {
			t.Errorf("orphan mitigation after a 400: %+v", inst.Status)
		}
		if got := f.opsFor(id); got != "provision" {
			t.Errorf("broker saw %s, want one provision", got)
		}
		// Deleting it asks nothing of the broker.
		if err := f.c.Delete(ctx, inst); err != nil {
			t.Fatal(err)
		}
		waitGone(t, f.c, inst)
		if got := f.opsFor(id); got != "provision" {
			t.Errorf("after delete, broker saw %s", got)
		}
	})

	t.Run("concurrency-error", func(t *testing.T) {
		id := f.id("concurrency")
		f.ready("concurrency")
		if got := f.opsFor(id); got != "provision,provision,provision" {
			t.Errorf("broker saw %s, want three provisions and no deprovision", got)
		}
		if n := f.broker.ProvisionCount(id); n != 1 {
			t.Errorf("provisioned %d times", n)
		}
	})
}

// Polling honours Retry-After; without it, an operation the broker has
// finished shows promptly; past the plan's maximum_polling_duration the
// operation fails.
func TestAsyncPolling(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "poll")

	f.broker.On(testbroker.Rule{Operation: osb.OpProvision, InstanceID: f.id("retry-after"), Async: true, AsyncPolls: 2, RetryAfter: "2"})
	f.instance("retry-after", "kafka", "small", nil)
	const delay = 500 * time.Millisecond
	f.broker.On(testbroker.Rule{Operation: osb.OpProvision, InstanceID: f.id("prompt"), Async: true, AsyncDelay: delay})
	f.instance("prompt", "kafka", "small", nil)
	f.broker.On(testbroker.Rule{Operation: osb.OpProvision, InstanceID: f.id("too-slow"), Async: true, AsyncDelay: time.Hour})
	f.instance("too-slow", "kafka", "slow", nil)

	t.Run("retry-after", func(t *testing.T) {
		inst := f.ready("retry-after")
		if inst.Status.GetCondition(scv1beta1.ServiceInstanceConditionReady).Reason != scv1beta1.ReasonProvisionedSuccessfully {
			t.Errorf("Ready %+v", inst.Status.Conditions)
		}
		put := f.requestTimes("PUT", "/"+f.id("retry-after"))
		polls := f.requestTimes("GET", "/"+f.id("retry-after")+"/last_operation")
		if len(put) != 1 || len(polls) != 3 {
			t.Fatalf("%d PUTs, %d polls; want 1 and 3 (two in progress, one succeeded)", len(put), len(polls))
		}
		prev := put[0]
		for i, p := range polls {
			// Retry-After: 2 (seconds); allow for the clock's granularity.
			if gap := p.Sub(prev); gap < 1900*time.Millisecond {
				t.Errorf("poll %d came %v after the previous request; the broker asked for 2s", i+1, gap)
			}
			prev = p
		}
	})

	t.Run("prompt", func(t *testing.T) {
		id := f.id("prompt")
		f.ready("prompt")
		put := f.requestTimes("PUT", "/"+id)
		polls := f.requestTimes("GET", "/"+id+"/last_operation")
		if len(put) != 1 || len(polls) == 0 {
			t.Fatalf("%d PUTs, %d polls", len(put), len(polls))
		}
		done := put[0].Add(delay)
		t.Logf("the broker finished %v after the PUT; the last of %d polls came %v after that, and Ready was observed by then",
			delay, len(polls), polls[len(polls)-1].Sub(done).Round(time.Millisecond))
		if n := len(polls); n > 20 {
			t.Errorf("%d polls for a %v operation", n, delay)
		}
	})

	t.Run("maximum-polling-duration", func(t *testing.T) {
		id := f.id("too-slow")
		inst := waitInstance(t, f.c, f.ns, "too-slow", func(i *scv1beta1.ServiceInstance) error {
			if err := instanceCondition(scv1beta1.ServiceInstanceConditionFailed, "True", "")(i); err != nil {
				return err
			}
			return instanceCondition(scv1beta1.ServiceInstanceConditionOrphanMitigation, "False", scv1beta1.ReasonOrphanMitigationSuccessful)(i)
		})
		if c := inst.Status.GetCondition(scv1beta1.ServiceInstanceConditionFailed); !strings.Contains(c.Message, "maximum_polling_duration") {
			t.Errorf("Failed message %q", c.Message)
		}
		if got := f.opsFor(id); got != "provision,deprovision" {
			t.Errorf("broker saw %s", got)
		}
		if f.brokerInstances(id) != 0 {
			t.Error("the abandoned instance is left at the broker")
		}
	})
}

// Deprovisioning: a 410 means the broker no longer has it, an asynchronous
// one is polled to the end, and a failing one is retried until it works.
func TestDeprovision(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "deprov")
	ctx := context.Background()
	names := []string{"gone", "async", "flaky"}
	for _, n := range names {
		f.instance(n, "kafka", "small", nil)
	}
	// Deleted while its asynchronous provision runs, and the first DELETE
	// fails: the provision's success must not pass for the deletion's.
	f.broker.On(testbroker.Rule{Operation: osb.OpProvision, InstanceID: f.id("mid-provision"), Async: true, AsyncDelay: 2 * time.Second})
	f.broker.On(testbroker.Rule{Operation: osb.OpDeprovision, InstanceID: f.id("mid-provision"), Status: 500, Times: 1})
	mid := f.instance("mid-provision", "kafka", "small", nil)
	waitInstance(t, f.c, f.ns, "mid-provision", func(i *scv1beta1.ServiceInstance) error {
		if !i.Status.AsyncOpInProgress {
			return fmt.Errorf("no operation in progress")
		}
		return nil
	})
	if err := f.c.Delete(ctx, mid); err != nil {
		t.Fatal(err)
	}
	f.broker.On(testbroker.Rule{Operation: osb.OpDeprovision, InstanceID: f.id("gone"), Status: 410})
	f.broker.On(testbroker.Rule{Operation: osb.OpDeprovision, InstanceID: f.id("async"), Async: true, AsyncPolls: 2})
	f.broker.On(testbroker.Rule{Operation: osb.OpDeprovision, InstanceID: f.id("flaky"), Status: 500, Times: 3})
	insts := map[string]*scv1beta1.ServiceInstance{}
	for _, n := range names {
		insts[n] = f.ready(n)
		if err := f.c.Delete(ctx, insts[n]); err != nil {
			t.Fatal(err)
		}
	}
	for _, n := range names {
		waitGone(t, f.c, insts[n])
	}
	waitGone(t, f.c, mid)
	// The failed DELETE is retried; a retry that comes while the broker
	// still provisions is answered 422 ConcurrencyError and retried again,
	// so how many follow depends on timing, not on the controller's logic.
	if got := f.opsFor(f.id("mid-provision")); !provisionThenDeprovisions(got, 2) {
		t.Errorf("deleted mid-provision: broker saw %s, want the provision and then at least two deprovisions", got)
	}
	if n := f.brokerInstances(f.id("mid-provision")); n != 0 {
		t.Errorf("deleted mid-provision: left at the broker")
	}
	if got := f.opsFor(f.id("gone")); got != "provision,deprovision" {
		t.Errorf("410: broker saw %s", got)
	}
	if got := f.opsFor(f.id("async")); got != "provision,deprovision" {
		t.Errorf("async: broker saw %s", got)
	}
	// Two answers "in progress", then "succeeded": three polls at least. A
	// poll whose answer meets a cache behind the controller's own last
	// write is dropped and asked again, which a loaded machine shows.
	if polls := f.requestTimes("GET", "/"+f.id("async")+"/last_operation"); len(polls) < 3 {
		t.Errorf("async deprovision polled %d times, want at least 3", len(polls))
	}
	if got := f.opsFor(f.id("flaky")); got != "provision,deprovision,deprovision,deprovision,deprovision" {
		t.Errorf("500 three times: broker saw %s", got)
	}
	for _, n := range []string{"async", "flaky"} {
		if f.brokerInstances(f.id(n)) != 0 {
			t.Errorf("%s left at the broker", n)
		}
	}
}

// The broker is unreachable, or rejects the credentials, then is fixed:
// the instance says why it waits, and is provisioned once fixed.
func TestBrokerTrouble(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "trouble")
	ctx := context.Background()

	t.Run("down-then-up", func(t *testing.T) {
		f.stop()
		f.instance("down", "kafka", "small", nil)
		inst := waitInstance(t, f.c, f.ns, "down", func(i *scv1beta1.ServiceInstance) error {
			if !strings.Contains(readyMessage(i), "cannot reach the broker") {
				return fmt.Errorf("message %q", readyMessage(i))
			}
			return nil
		})
		if c := inst.Status.GetCondition(scv1beta1.ServiceInstanceConditionReady); c.Status != "False" || c.Reason != scv1beta1.ReasonProvisionCallFailed {
			t.Errorf("Ready %+v", c)
		}
		f.start()
		f.ready("down")
		if n := f.broker.ProvisionCount(f.id("down")); n != 1 {
			t.Errorf("provisioned %d times", n)
		}
	})

	t.Run("wrong-credentials-then-fixed", func(t *testing.T) {
		// The broker's password is rotated; the cluster still has the old
		// one until its Secret is updated.
		f.broker.SetAuth(testbroker.Auth{Username: testbroker.DefaultUsername, Password: "rotated-pw-0451"})
		f.instance("creds", "kafka", "small", nil)
		waitInstance(t, f.c, f.ns, "creds", func(i *scv1beta1.ServiceInstance) error {
			if !strings.Contains(readyMessage(i), "rejected our credentials") {
				return fmt.Errorf("message %q", readyMessage(i))
			}
			return nil
		})
		if n := len(f.requestsFor(osb.OpProvision, f.id("creds"))); n == 0 {
			t.Fatal("no provision request reached the broker")
		}
		b := &scv1beta1.ClusterServiceBroker{}
		if err := f.c.Get(ctx, client.ObjectKey{Name: f.prefix}, b); err != nil {
			t.Fatal(err)
		}
		ref := b.Spec.AuthInfo.Basic.SecretRef
		sec := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ref.Namespace, Name: ref.Name}}
		update(t, f.c, sec, func(s *corev1.Secret) { s.Data["password"] = []byte("rotated-pw-0451") })
		inst := f.ready("creds")
		if n := f.broker.ProvisionCount(f.id("creds")); n != 1 {
			t.Errorf("provisioned %d times", n)
		}
		noneContain(t, "status", "rotated-pw-0451", jsonOf(inst.Status))
	})
}

// provisionThenDeprovisions: ops (as opsFor lists them) is one provision
// followed by at least n deprovisions and nothing else.
func provisionThenDeprovisions(ops string, n int) bool {
	parts := strings.Split(ops, ",")
	if len(parts) < n+1 || parts[0] != "provision" {
		return false
	}
	for _, p := range parts[1:] {
		if p != "deprovision" {
			return false
		}
	}
	return true
}
