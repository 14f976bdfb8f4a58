package faults

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"reflect"
	"sort"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	scv1beta1 "github.com/svcat-io/svcat/api/v1beta1"
	"github.com/svcat-io/svcat/internal/osb"
	"github.com/svcat-io/svcat/internal/testbroker"
)

// lifecycle is the part of the workload that keeps services healthy over
// time (issue 18): the broker ships new maintenance versions (a catalog
// change and a relist), instances ask for them or upgrade automatically,
// and the Secrets named in parametersFrom change. Plan changes and
// parameter changes are in the main workload.
type lifecycle struct {
	c      client.Client
	broker *testbroker.Broker
	ns     string

	mu sync.Mutex
	// versions is the maintenance version the broker's catalog has for
	// each plan ID.
	versions map[string]string
	// done counts the actions taken, by name, for the report.
	done map[string]int
}

// lifecycleAction is one kind of change the workload makes; weight is how
// often it is picked relative to the others.
type lifecycleAction struct {
	name   string
	weight int
	act    func(ctx context.Context, t *testing.T, rng *rand.Rand, instances []string) error
}

func newLifecycle(c client.Client, broker *testbroker.Broker, ns string) *lifecycle {
	return &lifecycle{c: c, broker: broker, ns: ns, done: map[string]int{},
		versions: map[string]string{planA: "1.0.0", planB: "1.0.0"}}
}

// actions are the lifecycle changes the workload picks from. Binding
// rotations (on demand and by policy) join here as one more action once
// the controller has them, with their check in check: every Ready
// binding's Secret already has to hold what the broker last issued, and
// no old binding may be left at the broker after its grace period.
func (l *lifecycle) actions() []lifecycleAction {
	return []lifecycleAction{
		{"parameter Secret changes", 45, l.changeSecret},
		{"maintenance upgrades asked for", 25, l.askUpgrade},
		{"catalog version bumps", 15, l.bumpCatalog},
	}
}

// act runs one action picked by weight.
func (l *lifecycle) act(ctx context.Context, t *testing.T, rng *rand.Rand, instances []string) {
	t.Helper()
	acts := l.actions()
	total := 0
	for _, a := range acts {
		total += a.weight
	}
	n := rng.IntN(total)
	for _, a := range acts {
		if n -= a.weight; n < 0 {
			must(t, a.act(ctx, t, rng, instances))
			l.mu.Lock()
			l.done[a.name]++
			l.mu.Unlock()
			return
		}
	}
}

// catalog is the broker's catalog with the current maintenance versions.
func (l *lifecycle) catalog() []osb.Service {
	l.mu.Lock()
	defer l.mu.Unlock()
	cat := catalog()
	for i := range cat[0].Plans {
		p := &cat[0].Plans[i]
		p.MaintenanceInfo = &osb.MaintenanceInfo{Version: l.versions[p.ID], Description: "injected maintenance " + l.versions[p.ID]}
	}
	return cat
}

// withParameterSecret makes about half of the new instances read part of
// their parameters from a Secret of their own, and a quarter upgrade
// automatically.
func (l *lifecycle) withParameterSecret(ctx context.Context, t *testing.T, rng *rand.Rand, inst *scv1beta1.ServiceInstance) {
	t.Helper()
	if rng.IntN(4) == 0 {
		inst.Spec.MaintenanceUpgradePolicy = scv1beta1.MaintenanceUpgradeAutomatic
	}
	if rng.IntN(2) == 0 {
		return
	}
	name := inst.Name + "-params"
	must(t, l.c.Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: l.ns, Name: name},
		StringData: map[string]string{"params": fmt.Sprintf(`{"tier":%d}`, rng.IntN(5))}}))
	inst.Spec.ParametersFrom = []scv1beta1.ParametersFromSource{{SecretKeyRef: &scv1beta1.SecretKeyReference{Name: name, Key: "params"}}}
}

// changeSecret writes a new value into a live instance's parameter Secret.
func (l *lifecycle) changeSecret(ctx context.Context, _ *testing.T, rng *rand.Rand, instances []string) error {
	name := instances[rng.IntN(len(instances))] + "-params"
	return retryOnConflict(func() error {
		s := &corev1.Secret{}
		if err := l.c.Get(ctx, client.ObjectKey{Namespace: l.ns, Name: name}, s); err != nil {
			return client.IgnoreNotFound(err)
		}
		s.Data = map[string][]byte{"params": fmt.Appendf(nil, `{"tier":%d}`, rng.IntN(5))}
		return l.c.Update(ctx, s)
	})
}

// askUpgrade does what svcat upgrade instance does: the plan's current
// version, as the cluster knows it, into spec.maintenanceInfoVersion.
func (l *lifecycle) askUpgrade(ctx context.Context, _ *testing.T, rng *rand.Rand, instances []string) error {
	name := instances[rng.IntN(len(instances))]
	return retryOnConflict(func() error {
		inst := &scv1beta1.ServiceInstance{}
		if err := l.c.Get(ctx, client.ObjectKey{Namespace: l.ns, Name: name}, inst); err != nil {
			return client.IgnoreNotFound(err)
		}
		if inst.Spec.ClusterServicePlanRef == nil {
			return nil
		}
		plan := &scv1beta1.ClusterServicePlan{}
		if err := l.c.Get(ctx, client.ObjectKey{Name: inst.Spec.ClusterServicePlanRef.Name}, plan); err != nil || plan.Spec.MaintenanceInfo == nil {
			return client.IgnoreNotFound(err)
		}
		inst.Spec.MaintenanceInfoVersion = plan.Spec.MaintenanceInfo.Version
		return l.c.Update(ctx, inst)
	})
}

// bumpCatalog ships a new maintenance version of one plan: the broker
// serves it at once, the cluster learns of it at the relist it asks for.
// Updates in between carry the older version and are refused (422
// MaintenanceInfoConflict), as with a real broker's rollout.
func (l *lifecycle) bumpCatalog(ctx context.Context, _ *testing.T, rng *rand.Rand, _ []string) error {
	l.mu.Lock()
	id := []string{planA, planB}[rng.IntN(2)]
	var major, minor, patch int
	fmt.Sscanf(l.versions[id], "%d.%d.%d", &major, &minor, &patch)
	l.versions[id] = fmt.Sprintf("%d.%d.%d", major, minor, patch+1)
	l.mu.Unlock()
	if err := l.broker.SetCatalog(l.catalog()); err != nil {
		return err
	}
	return l.relist(ctx)
}

func (l *lifecycle) relist(ctx context.Context) error {
	return retryOnConflict(func() error {
		b := &scv1beta1.ClusterServiceBroker{}
		if err := l.c.Get(ctx, client.ObjectKey{Name: "faulty"}, b); err != nil {
			return err
		}
		b.Spec.RelistRequests++
		return l.c.Update(ctx, b)
	})
}

// settleCatalog relists once more in the calm phase and waits until the
// cluster's plans have the broker's versions, so that the checks compare
// with the catalog the controller acts on.
func (l *lifecycle) settleCatalog(ctx context.Context, t *testing.T) {
	t.Helper()
	must(t, l.relist(ctx))
	waitFor(t, time.Minute, "the plans' maintenance versions", func() error {
		plans := &scv1beta1.ClusterServicePlanList{}
		if err := l.c.List(ctx, plans); err != nil {
			return err
		}
		l.mu.Lock()
		defer l.mu.Unlock()
		for _, p := range plans.Items {
			if want := l.versions[p.Spec.ExternalID]; p.Spec.MaintenanceInfo == nil || p.Spec.MaintenanceInfo.Version != want {
				return fmt.Errorf("plan %s has %+v, the broker %s", p.Spec.ExternalID, p.Spec.MaintenanceInfo, want)
			}
		}
		return nil
	})
}

// Counters of check, all 0 in a good run.
const (
	readyPlanDiffers       = "Ready instances on another plan at the broker"
	readyParametersDiffer  = "Ready instances with stale parameters"
	automaticBehindCatalog = "Automatic instances behind the catalog"
)

// check compares every settled instance with the broker's record: a Ready
// instance (not failed for good) has, at the broker, the plan of its spec,
// the parameters of its spec merged with its Secret's current value, and
// with the Automatic policy the catalog's maintenance version. A Secret's
// last change may still be on its way when the instances settle, so the
// check waits for the counts to reach 0 before it reports them.
func (l *lifecycle) check(ctx context.Context, t *testing.T, report map[string]int) {
	t.Helper()
	// The controller was restarted after the workload, and a start
	// compares every instance's parameters anyway: only Secret changes
	// made after it prove that the watches deliver them.
	must(t, l.changeEverySecret(ctx))
	var last map[string]int
	var details []string
	deadline := time.Now().Add(time.Minute)
	for {
		last, details = l.compare(ctx, t)
		if sum(last) == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
	for k, v := range last {
		report[k] = v
	}
	for _, d := range details {
		t.Error(d)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	var names []string
	for k := range l.done {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		fmt.Printf("fault suite: %d %s\n", l.done[k], k)
	}
}

// changeEverySecret gives every instance's parameter Secret a value no
// action of the workload writes.
func (l *lifecycle) changeEverySecret(ctx context.Context) error {
	insts := &scv1beta1.ServiceInstanceList{}
	if err := l.c.List(ctx, insts, client.InNamespace(l.ns)); err != nil {
		return err
	}
	for i, in := range insts.Items {
		for _, f := range in.Spec.ParametersFrom {
			err := retryOnConflict(func() error {
				s := &corev1.Secret{}
				if err := l.c.Get(ctx, client.ObjectKey{Namespace: l.ns, Name: f.SecretKeyRef.Name}, s); err != nil {
					return err
				}
				s.Data = map[string][]byte{f.SecretKeyRef.Key: fmt.Appendf(nil, `{"tier":%d}`, 100+i)}
				return l.c.Update(ctx, s)
			})
			if err != nil {
				return err
			}
			l.mu.Lock()
			l.done["parameter Secret changes after the workload"]++
			l.mu.Unlock()
		}
	}
	return nil
}

func sum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

func (l *lifecycle) compare(ctx context.Context, t *testing.T) (map[string]int, []string) {
	t.Helper()
	out := map[string]int{readyPlanDiffers: 0, readyParametersDiffer: 0, automaticBehindCatalog: 0}
	var details []string
	atBroker := map[string]testbroker.Instance{}
	for _, bi := range l.broker.Instances() {
		atBroker[bi.ID] = bi
	}
	insts := &scv1beta1.ServiceInstanceList{}
	must(t, l.c.List(ctx, insts, client.InNamespace(l.ns)))
	for _, in := range insts.Items {
		ready := in.Status.GetCondition(scv1beta1.ServiceInstanceConditionReady)
		if ready == nil || ready.Status != scv1beta1.ConditionTrue || in.Status.GetCondition(scv1beta1.ServiceInstanceConditionFailed) != nil {
			continue
		}
		bi, ok := atBroker[in.Spec.ExternalID]
		if !ok {
			continue // counted as lost by the main checks
		}
		wantPlan := map[string]string{"a": planA, "b": planB}[in.Spec.ClusterServicePlanExternalName]
		if bi.PlanID != wantPlan {
			out[readyPlanDiffers]++
			details = append(details, fmt.Sprintf("instance %s is Ready on plan %s; the broker has %s", in.Name, wantPlan, bi.PlanID))
		}
		want, err := l.wantParameters(ctx, &in)
		if err != nil {
			details = append(details, fmt.Sprintf("instance %s: %v", in.Name, err))
			continue
		}
		if !reflect.DeepEqual(want, bi.Parameters) {
			out[readyParametersDiffer]++
			details = append(details, fmt.Sprintf("instance %s is Ready with parameters %v; the broker has %v", in.Name, want, bi.Parameters))
		}
		if in.Spec.MaintenanceUpgradePolicy == scv1beta1.MaintenanceUpgradeAutomatic {
			l.mu.Lock()
			v := l.versions[bi.PlanID]
			l.mu.Unlock()
			if bi.MaintenanceInfo == nil || bi.MaintenanceInfo.Version != v {
				out[automaticBehindCatalog]++
				details = append(details, fmt.Sprintf("instance %s upgrades automatically; the broker has %+v, the catalog %s", in.Name, bi.MaintenanceInfo, v))
			}
		}
	}
	if sum(out) == 0 {
		details = nil
	}
	return out, details
}

// wantParameters is spec.parameters merged with the instance's parameter
// Secret, as the controller sends them.
func (l *lifecycle) wantParameters(ctx context.Context, in *scv1beta1.ServiceInstance) (map[string]any, error) {
	want := map[string]any{}
	if in.Spec.Parameters != nil {
		if err := json.Unmarshal(in.Spec.Parameters.Raw, &want); err != nil {
			return nil, err
		}
	}
	for _, f := range in.Spec.ParametersFrom {
		s := &corev1.Secret{}
		if err := l.c.Get(ctx, client.ObjectKey{Namespace: l.ns, Name: f.SecretKeyRef.Name}, s); err != nil {
			return nil, err
		}
		var m map[string]any
		if err := json.Unmarshal(s.Data[f.SecretKeyRef.Key], &m); err != nil {
			return nil, err
		}
		for k, v := range m {
			want[k] = v
		}
	}
	return want, nil
}
