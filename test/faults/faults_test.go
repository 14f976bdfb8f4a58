package faults

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	scv1beta1 "github.com/svcat-io/svcat/api/v1beta1"
	"github.com/svcat-io/svcat/internal/localcluster"
	"github.com/svcat-io/svcat/internal/osb"
	"github.com/svcat-io/svcat/internal/testbroker"
)

type config struct {
	seed      uint64
	ops       int
	kills     int
	outages   int
	outage    time.Duration
	faultRate float64
}

func configFromEnv(t *testing.T) config {
	c := config{seed: uint64(time.Now().UnixNano()), ops: 80, kills: 2, outages: 1, outage: 2 * time.Second, faultRate: 0.2}
	num := func(name string, into *int) {
		if v := os.Getenv(name); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil {
				t.Fatalf("%s=%q: %v", name, v, err)
			}
			*into = n
		}
	}
	num("SVCAT_FAULT_OPS", &c.ops)
	num("SVCAT_FAULT_KILLS", &c.kills)
	num("SVCAT_FAULT_OUTAGES", &c.outages)
	if v := os.Getenv("SVCAT_FAULT_SEED"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			t.Fatalf("SVCAT_FAULT_SEED=%q: %v", v, err)
		}
		c.seed = n
	}
	if v := os.Getenv("SVCAT_FAULT_OUTAGE"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			t.Fatalf("SVCAT_FAULT_OUTAGE=%q: %v", v, err)
		}
		c.outage = d
	}
	return c
}

const (
	serviceID = "faulty-svc"
	planA     = "faulty-plan-a"
	planB     = "faulty-plan-b"
)

func catalog() []osb.Service {
	yes := true
	return []osb.Service{{ID: serviceID, Name: "faulty", Description: "A service whose broker fails on purpose", Bindable: true,
		PlanUpdateable: true, BindingsRetrievable: true,
		Plans: []osb.Plan{
			// Rotations on plan a name their predecessor; on b they are
			// fresh binds.
			{ID: planA, Name: "a", Description: "Plan A", PlanUpdateable: &yes, BindingRotatable: true},
			{ID: planB, Name: "b", Description: "Plan B", PlanUpdateable: &yes},
		}}}
}

// fault is one way the broker misbehaves on one request.
func fault(rng *rand.Rand) testbroker.Rule {
	ops := []osb.Operation{osb.OpProvision, osb.OpUpdate, osb.OpDeprovision, osb.OpBind, osb.OpUnbind, osb.OpPollLastOperation, osb.OpPollBindingLastOperation, osb.OpGetBinding}
	r := testbroker.Rule{Operation: ops[rng.IntN(len(ops))], Times: 1}
	switch rng.IntN(10) {
	case 0:
		r.Status = 500
	case 1:
		r.Status, r.ApplyFirst = 500, true // did the work, then failed: the orphan case
	case 2:
		r.Hang = 3 * time.Second // longer than --osb-timeout
	case 3:
		r.Drop = true
	case 4:
		r.Status, r.ErrorCode = 422, osb.ErrorCodeConcurrencyError
	case 5:
		r.Async, r.AsyncFail, r.Description = true, true, "injected async failure"
	case 6:
		r.Async, r.AsyncDelay, r.RetryAfter = true, 1500*time.Millisecond, "1"
	case 7:
		r.Status = 503
	case 8:
		r.Malformed = true
	case 9:
		// An update refused for good, as a plan downgrade the tenant does
		// not fit: Failed until the spec or a parameter Secret changes.
		r.Operation, r.Status, r.Description = osb.OpUpdate, 422, "injected refusal"
	}
	return r
}

// TestFaultSuite is the reliability proof described in the package comment.
func TestFaultSuite(t *testing.T) {
	cfg := configFromEnv(t)
	fmt.Printf("fault suite: seed %d (replay with SVCAT_FAULT_SEED=%d), %d operations, %d controller kills, %d broker outages of %v\n",
		cfg.seed, cfg.seed, cfg.ops, cfg.kills, cfg.outages, cfg.outage)
	env := localcluster.Get(t)
	ctx := context.Background()
	c := env.Client
	rng := rand.New(rand.NewPCG(cfg.seed, cfg.seed^0x9e3779b97f4a7c15))

	broker := testbroker.Start(t, testbroker.Options{Catalog: catalog(), DisableRecording: false})
	ns := env.Namespace(t)
	lc := newLifecycle(c, broker, ns)
	must(t, broker.SetCatalog(lc.catalog()))
	brokerNS := env.Namespace(t)
	if err := c.Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: brokerNS, Name: "creds"},
		Data: map[string][]byte{"username": []byte(testbroker.DefaultUsername), "password": []byte(testbroker.DefaultPassword)}}); err != nil {
		t.Fatal(err)
	}
	ctl := &controllerProcess{bin: buildController(t), kubeconfig: env.Kubeconfig, args: []string{
		"--metrics-bind-address=0", "--health-probe-bind-address=0", "--refuse-loopback-broker-urls=false", "--cluster-id=faults",
		"--osb-timeout=2s", "--retry-base-delay=100ms", "--retry-max-delay=2s", "--zap-log-level=debug"}}
	if err := ctl.start(); err != nil {
		t.Fatal(err)
	}
	defer ctl.kill()
	if err := c.Create(ctx, &scv1beta1.ClusterServiceBroker{ObjectMeta: metav1.ObjectMeta{Name: "faulty"}, Spec: scv1beta1.ClusterServiceBrokerSpec{
		CommonServiceBrokerSpec: scv1beta1.CommonServiceBrokerSpec{URL: broker.URL(), RelistBehavior: scv1beta1.ServiceBrokerRelistBehaviorDuration},
		AuthInfo:                &scv1beta1.ClusterServiceBrokerAuthInfo{Basic: &scv1beta1.ClusterBasicAuthConfig{SecretRef: &scv1beta1.ObjectReference{Namespace: brokerNS, Name: "creds"}}}}}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, time.Minute, "the broker's plans", func() error {
		l := &scv1beta1.ClusterServicePlanList{}
		if err := c.List(ctx, l); err != nil {
			return err
		}
		if len(l.Items) != 2 {
			return fmt.Errorf("%d plans", len(l.Items))
		}
		return nil
	})

	// Faults: after every few requests, arm a one-shot rule, so that about
	// faultRate of requests misbehave.
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var injected atomic.Int64
	var frng sync.Mutex
	faultRNG := rand.New(rand.NewPCG(cfg.seed+1, cfg.seed+2))
	wg.Add(1)
	go func() {
		defer wg.Done()
		seen := 0
		for {
			select {
			case <-stop:
				return
			case <-time.After(50 * time.Millisecond):
			}
			n := len(broker.Requests())
			for ; seen < n; seen++ {
				frng.Lock()
				hit := faultRNG.Float64() < cfg.faultRate
				var r testbroker.Rule
				if hit {
					r = fault(faultRNG)
				}
				frng.Unlock()
				if hit {
					broker.On(r)
					injected.Add(1)
				}
			}
		}
	}()

	// The workload.
	type obj struct {
		name    string
		deleted bool
	}
	var instances, bindings []*obj
	rotations := 0
	deletedInstanceIDs, deletedBindingIDs := map[string]bool{}, map[string]bool{}
	start := time.Now()
	var outageActive atomic.Bool
	outages := 0
	killAt := spread(rng, cfg.kills, cfg.ops)
	outageAt := spread(rng, cfg.outages, cfg.ops)
	for i := 0; i < cfg.ops; i++ {
		for killAt[i] > 0 {
			killAt[i]--
			if err := ctl.restartAfter(time.Duration(100+rng.IntN(500)) * time.Millisecond); err != nil {
				t.Fatal(err)
			}
		}
		if outageAt[i] > 0 {
			// One outage at a time: a second one due during the first
			// moves to a later operation.
			if outageActive.CompareAndSwap(false, true) {
				outageAt[i]--
				outages++
				broker.Stop()
				wg.Add(1)
				go func() {
					defer wg.Done()
					time.Sleep(cfg.outage)
					if err := broker.Restart(); err != nil {
						t.Errorf("broker restart: %v", err)
					}
					outageActive.Store(false)
				}()
			}
			if outageAt[i] > 0 && i+1 < cfg.ops {
				outageAt[i+1] += outageAt[i]
				outageAt[i] = 0
			}
		}
		live := func(list []*obj) []*obj {
			var out []*obj
			for _, o := range list {
				if !o.deleted {
					out = append(out, o)
				}
			}
			return out
		}
		li, lb := live(instances), live(bindings)
		if len(li) > 0 && rng.IntN(100) < 20 {
			names := make([]string, len(li))
			for k, o := range li {
				names[k] = o.name
			}
			lc.act(ctx, t, rng, names)
			time.Sleep(time.Duration(rng.IntN(40)) * time.Millisecond)
			continue
		}
		switch p := rng.IntN(100); {
		case p < 30 || len(li) == 0:
			name := fmt.Sprintf("inst-%d", i)
			plan := []string{"a", "b"}[rng.IntN(2)]
			inst := &scv1beta1.ServiceInstance{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Spec: scv1beta1.ServiceInstanceSpec{
				PlanReference: scv1beta1.PlanReference{ClusterServiceClassExternalName: "faulty", ClusterServicePlanExternalName: plan},
				Parameters:    &runtime.RawExtension{Raw: []byte(fmt.Sprintf(`{"size":%d}`, rng.IntN(10)))}}}
			lc.withParameterSecret(ctx, t, rng, inst)
			must(t, c.Create(ctx, inst))
			instances = append(instances, &obj{name: name})
		case p < 45:
			o := li[rng.IntN(len(li))]
			must(t, retryOnConflict(func() error {
				inst := &scv1beta1.ServiceInstance{}
				if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: o.name}, inst); err != nil {
					return err
				}
				if rng.IntN(2) == 0 {
					inst.Spec.Parameters = &runtime.RawExtension{Raw: []byte(fmt.Sprintf(`{"size":%d}`, 10+rng.IntN(10)))}
				} else if inst.Spec.ClusterServicePlanExternalName == "a" {
					inst.Spec.ClusterServicePlanExternalName = "b"
				} else {
					inst.Spec.ClusterServicePlanExternalName = "a"
				}
				return c.Update(ctx, inst)
			}))
		case p < 68:
			o := li[rng.IntN(len(li))]
			name := fmt.Sprintf("bnd-%d", i)
			must(t, c.Create(ctx, &scv1beta1.ServiceBinding{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
				Spec: scv1beta1.ServiceBindingSpec{InstanceRef: scv1beta1.InstanceReference{Name: o.name}, RotationPolicy: gracePolicy(rng)}}))
			bindings = append(bindings, &obj{name: name})
		case p < 75 && len(lb) > 0:
			o := lb[rng.IntN(len(lb))]
			rotations++
			must(t, client.IgnoreNotFound(retryOnConflict(func() error {
				b := &scv1beta1.ServiceBinding{}
				if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: o.name}, b); err != nil {
					return err
				}
				if b.Annotations == nil {
					b.Annotations = map[string]string{}
				}
				b.Annotations[scv1beta1.AnnotationRotationRequest] = fmt.Sprintf("op-%d", i)
				return c.Update(ctx, b)
			})))
		case p < 90 && len(lb) > 0:
			o := lb[rng.IntN(len(lb))]
			b := &scv1beta1.ServiceBinding{}
			if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: o.name}, b); err == nil && b.Spec.ExternalID != "" {
				for _, id := range b.BrokerBindingIDs() {
					deletedBindingIDs[id] = true
				}
			}
			must(t, client.IgnoreNotFound(c.Delete(ctx, &scv1beta1.ServiceBinding{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: o.name}})))
			o.deleted = true
		default:
			o := li[rng.IntN(len(li))]
			// Its bindings go with it, as a user would delete them first.
			l := &scv1beta1.ServiceBindingList{}
			must(t, c.List(ctx, l, client.InNamespace(ns)))
			for _, b := range l.Items {
				if b.Spec.InstanceRef.Name == o.name {
					if b.Spec.ExternalID != "" {
						for _, id := range b.BrokerBindingIDs() {
							deletedBindingIDs[id] = true
						}
					}
					must(t, client.IgnoreNotFound(c.Delete(ctx, &b)))
					for _, x := range bindings {
						if x.name == b.Name {
							x.deleted = true
						}
					}
				}
			}
			inst := &scv1beta1.ServiceInstance{}
			if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: o.name}, inst); err == nil && inst.Spec.ExternalID != "" {
				deletedInstanceIDs[inst.Spec.ExternalID] = true
			}
			must(t, client.IgnoreNotFound(c.Delete(ctx, &scv1beta1.ServiceInstance{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: o.name}})))
			o.deleted = true
		}
		time.Sleep(time.Duration(rng.IntN(40)) * time.Millisecond)
	}
	workload := time.Since(start)

	// Calm: no new faults, the broker reachable, the controller running.
	close(stop)
	wg.Wait()
	broker.ClearRules()
	if err := ctl.restartAfter(0); err != nil {
		t.Fatal(err)
	}
	lc.settleCatalog(ctx, t)

	converge := time.Now()
	waitFor(t, 3*time.Minute, "convergence", func() error { return settled(ctx, c, ns) })
	converged := time.Since(converge)

	// Objects deleted in the workload that the controller deleted (their
	// external IDs may have been set by then) must be gone at the broker.
	report := map[string]int{}
	for _, k := range []string{"orphan instances at the broker", "orphan bindings at the broker", "instances provisioned twice",
		"deleted instances still at the broker", "deleted bindings still at the broker", "Ready bindings without a Secret",
		"Ready bindings with stale credentials", "credentials in controller logs", "credentials in events"} {
		report[k] = 0
	}
	clusterInstances := &scv1beta1.ServiceInstanceList{}
	must(t, c.List(ctx, clusterInstances, client.InNamespace(ns)))
	clusterBindings := &scv1beta1.ServiceBindingList{}
	must(t, c.List(ctx, clusterBindings, client.InNamespace(ns)))
	known := map[string]bool{}
	for _, i := range clusterInstances.Items {
		known[i.Spec.ExternalID] = true
	}
	knownB := map[string]bool{}
	rotated := 0
	for _, b := range clusterBindings.Items {
		// A rotated binding holds its Secret's broker binding and those
		// of rotations in flight or waiting for unbind.
		for _, id := range b.BrokerBindingIDs() {
			knownB[id] = true
		}
		if r := b.Status.Rotation; r != nil && r.LastRotationTime != nil {
			rotated++
		}
	}
	deletes := map[string]int{}
	for _, r := range broker.RequestsFor(osb.OpDeprovision) {
		deletes[r.InstanceID]++
	}
	for _, bi := range broker.Instances() {
		if !known[bi.ID] {
			report["orphan instances at the broker"]++
			t.Errorf("orphan: the broker holds instance %s that no ServiceInstance has; its requests:\n%s", bi.ID, history(broker, bi.ID, ""))
		}
		if deletedInstanceIDs[bi.ID] {
			report["deleted instances still at the broker"]++
		}
		if n := broker.ProvisionCount(bi.ID); n > deletes[bi.ID]+1 {
			report["instances provisioned twice"]++
			t.Errorf("instance %s was created %d times with only %d deletes in between", bi.ID, n, deletes[bi.ID])
		}
	}
	for _, bb := range broker.Bindings() {
		if !knownB[bb.ID] {
			report["orphan bindings at the broker"]++
			t.Errorf("orphan: the broker holds binding %s that no ServiceBinding has; its requests:\n%s", bb.ID, history(broker, bb.InstanceID, bb.ID))
		}
		if deletedBindingIDs[bb.ID] {
			report["deleted bindings still at the broker"]++
		}
	}
	for _, b := range clusterBindings.Items {
		if cond := b.Status.GetCondition(scv1beta1.ServiceBindingConditionReady); cond == nil || cond.Status != scv1beta1.ConditionTrue {
			continue
		}
		sec := &corev1.Secret{}
		if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: b.Spec.SecretName}, sec); err != nil {
			report["Ready bindings without a Secret"]++
			t.Errorf("binding %s is Ready but its Secret: %v", b.Name, err)
			continue
		}
		for k, v := range broker.Credentials(b.BrokerBindingID()) {
			if s, ok := v.(string); ok && string(sec.Data[k]) != s {
				report["Ready bindings with stale credentials"]++
				t.Errorf("binding %s: Secret key %q differs from what the broker last issued", b.Name, k)
			}
		}
	}
	lc.check(ctx, t, report)
	// Finally delete everything and check the broker is empty.
	must(t, c.DeleteAllOf(ctx, &scv1beta1.ServiceBinding{}, client.InNamespace(ns)))
	waitFor(t, 3*time.Minute, "bindings deleted", func() error { return countLeft(ctx, c, &scv1beta1.ServiceBindingList{}, ns) })
	must(t, c.DeleteAllOf(ctx, &scv1beta1.ServiceInstance{}, client.InNamespace(ns)))
	waitFor(t, 3*time.Minute, "instances deleted", func() error { return countLeft(ctx, c, &scv1beta1.ServiceInstanceList{}, ns) })
	report["instances left at the broker after deleting all"] = len(broker.Instances())
	report["bindings left at the broker after deleting all"] = len(broker.Bindings())

	// No credential in any log line or event.
	secrets := []string{testbroker.DefaultPassword}
	for id := range knownB {
		if p, ok := broker.Credentials(id)["password"].(string); ok && p != "" {
			secrets = append(secrets, p)
		}
	}
	logs := ctl.output()
	events := &eventsv1.EventList{}
	must(t, c.List(ctx, events))
	var texts []string
	for _, e := range events.Items {
		texts = append(texts, e.Note)
	}
	for _, s := range secrets {
		if strings.Contains(logs, s) {
			report["credentials in controller logs"]++
		}
		for _, text := range texts {
			if strings.Contains(text, s) {
				report["credentials in events"]++
			}
		}
	}

	var keys []string
	for k := range report {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	fmt.Printf("fault suite: seed %d, %d operations in %v, %d faults injected over %d broker requests, %d controller starts, %d broker outages, converged in %v\n",
		cfg.seed, cfg.ops, workload.Round(time.Millisecond), injected.Load(), len(broker.Requests()), ctl.runs, outages, converged.Round(time.Millisecond))
	fmt.Printf("fault suite: %d rotations requested; %d of the bindings left at the end were rotated\n", rotations, rotated)
	for _, k := range keys {
		fmt.Printf("  %-50s %d\n", k, report[k])
		if report[k] != 0 {
			t.Errorf("%s: %d (replay with SVCAT_FAULT_SEED=%d)", k, report[k], cfg.seed)
		}
	}
	if path := os.Getenv("SVCAT_FAULT_LOG"); path != "" {
		if err := os.WriteFile(path, []byte(logs), 0o644); err != nil {
			t.Error(err)
		}
	}
	if t.Failed() {
		t.Logf("controller log (last 8 KiB; SVCAT_FAULT_LOG=FILE keeps all of it):\n%s", tail(logs, 8<<10))
	}
}

// settled says whether every instance and binding has finished: Ready or
// failed for good, nothing in flight, nothing left deleting.
func settled(ctx context.Context, c client.Client, ns string) error {
	insts := &scv1beta1.ServiceInstanceList{}
	if err := c.List(ctx, insts, client.InNamespace(ns)); err != nil {
		return err
	}
	for _, i := range insts.Items {
		st := i.Status
		ready := st.GetCondition(scv1beta1.ServiceInstanceConditionReady)
		failed := st.GetCondition(scv1beta1.ServiceInstanceConditionFailed)
		switch {
		case !i.DeletionTimestamp.IsZero():
			return fmt.Errorf("instance %s still deleting (%+v)", i.Name, ready)
		case st.AsyncOpInProgress || st.OrphanMitigationInProgress:
			return fmt.Errorf("instance %s has an operation in flight", i.Name)
		case failed != nil && failed.Status == scv1beta1.ConditionTrue && st.ObservedGeneration == i.Generation:
		case ready != nil && ready.Status == scv1beta1.ConditionTrue && st.ObservedGeneration == i.Generation:
		default:
			return fmt.Errorf("instance %s not settled: %+v", i.Name, ready)
		}
	}
	instReady := map[string]bool{}
	for _, i := range insts.Items {
		if ready := i.Status.GetCondition(scv1beta1.ServiceInstanceConditionReady); ready != nil && ready.Status == scv1beta1.ConditionTrue {
			instReady[i.Name] = true
		}
	}
	binds := &scv1beta1.ServiceBindingList{}
	if err := c.List(ctx, binds, client.InNamespace(ns)); err != nil {
		return err
	}
	for _, b := range binds.Items {
		st := b.Status
		if err := rotationSettled(&b, instReady[b.Spec.InstanceRef.Name]); err != nil {
			return err
		}
		ready := st.GetCondition(scv1beta1.ServiceBindingConditionReady)
		failed := st.GetCondition(scv1beta1.ServiceBindingConditionFailed)
		switch {
		case !b.DeletionTimestamp.IsZero():
			return fmt.Errorf("binding %s still deleting", b.Name)
		case st.AsyncOpInProgress || st.OrphanMitigationInProgress:
			return fmt.Errorf("binding %s has an operation in flight", b.Name)
		case st.Rotation != nil && st.Rotation.Pending != nil:
			return fmt.Errorf("binding %s has a rotation in flight", b.Name)
		case failed != nil && failed.Status == scv1beta1.ConditionTrue:
		case ready != nil && ready.Status == scv1beta1.ConditionTrue:
		case ready != nil && ready.Reason == "ErrorInstanceNotReady":
			// Bound to an instance that failed for good: nothing to do.
		default:
			return fmt.Errorf("binding %s not settled: %+v", b.Name, ready)
		}
	}
	return nil
}

func countLeft(ctx context.Context, c client.Client, l client.ObjectList, ns string) error {
	if err := c.List(ctx, l, client.InNamespace(ns)); err != nil {
		return err
	}
	if n := meta(l); n > 0 {
		return fmt.Errorf("%d left", n)
	}
	return nil
}

func meta(l client.ObjectList) int {
	switch l := l.(type) {
	case *scv1beta1.ServiceInstanceList:
		return len(l.Items)
	case *scv1beta1.ServiceBindingList:
		return len(l.Items)
	}
	return 0
}

// spread places n events at random operation indexes.
func spread(rng *rand.Rand, n, ops int) map[int]int {
	out := map[int]int{}
	for i := 0; i < n; i++ {
		out[rng.IntN(max(ops, 1))]++
	}
	return out
}

// waitFor polls less often than localcluster.Eventually: the fault suite's
// checks list many objects.
func waitFor(t *testing.T, timeout time.Duration, what string, check func() error) {
	t.Helper()
	localcluster.EventuallyEvery(t, timeout, 200*time.Millisecond, what, check)
}

func retryOnConflict(f func() error) error {
	for i := 0; ; i++ {
		err := f()
		if !apierrors.IsConflict(err) || i > 20 {
			return err
		}
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[len(s)-n:]
}

// rotationSettled: a bound binding of a Ready instance has honoured its
// rotation request (a rotation waits for the instance to be Ready).
func rotationSettled(b *scv1beta1.ServiceBinding, instanceReady bool) error {
	ready := b.Status.GetCondition(scv1beta1.ServiceBindingConditionReady)
	req := b.Annotations[scv1beta1.AnnotationRotationRequest]
	if req == "" || !instanceReady || ready == nil || ready.Status != scv1beta1.ConditionTrue {
		return nil
	}
	if r := b.Status.Rotation; r == nil || r.LastRequest != req {
		return fmt.Errorf("binding %s has not honoured rotation request %s yet", b.Name, req)
	}
	return nil
}

// gracePolicy gives some bindings a short grace period, so that old
// bindings are unbound during the workload, and leaves the others the
// controller's default (10m), so that a deletion unbinds them.
func gracePolicy(rng *rand.Rand) *scv1beta1.BindingRotationPolicy {
	if rng.IntN(2) == 0 {
		return nil
	}
	return &scv1beta1.BindingRotationPolicy{GracePeriod: &metav1.Duration{Duration: time.Duration(rng.IntN(2)) * time.Second}}
}

// history lists the requests the broker received for an instance (or one
// of its bindings), to explain a failure.
func history(b *testbroker.Broker, instanceID, bindingID string) string {
	var out strings.Builder
	for _, r := range b.Requests() {
		if r.InstanceID != instanceID || (bindingID != "" && r.BindingID != bindingID) {
			continue
		}
		fmt.Fprintf(&out, "  %s %s?%s %.200s\n", r.Method, r.Path, r.RawQuery, r.Body)
	}
	return out.String()
}
