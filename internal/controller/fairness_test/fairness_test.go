// Package fairness_test checks that brokers which never answer delay no
// other broker's work. It is a package of its own so that its controller,
// with an OSB timeout of minutes, is the only one of its API server: waiting
// for hanging requests to time out cannot make it pass.
package fairness_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	scv1beta1 "github.com/svcat-io/svcat/api/v1beta1"
	"github.com/svcat-io/svcat/internal/controllermanager/testcontroller"
	"github.com/svcat-io/svcat/internal/localcluster"
	"github.com/svcat-io/svcat/internal/osb"
	"github.com/svcat-io/svcat/internal/testbroker"
)

func TestMain(m *testing.M) { localcluster.Main(m) }

const (
	hangingInstances = 20
	hangingBrokers   = 10
)

// settings: the OSB timeout is far longer than the test waits, so no
// hanging request ends while it runs. SVCAT_FAIRNESS_OSB_TIMEOUT and
// SVCAT_FAIRNESS_WAIT change both, to measure how long the old controller
// took (docs/benchmarks.md).
func settings(t *testing.T) (osbTimeout, wait time.Duration) {
	osbTimeout, wait = 5*time.Minute, time.Minute
	for name, d := range map[string]*time.Duration{"SVCAT_FAIRNESS_OSB_TIMEOUT": &osbTimeout, "SVCAT_FAIRNESS_WAIT": &wait} {
		if v := os.Getenv(name); v != "" {
			var err error
			if *d, err = time.ParseDuration(v); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
		}
	}
	return osbTimeout, wait
}

// Twenty instances on a cluster broker that never answers a provision and
// ten namespaced brokers that never answer /v2/catalog hold no worker: in
// another namespace, an instance on a healthy broker becomes Ready as soon
// as its broker answers, and that broker's relist shows up at once, while
// every hanging request still hangs.
func TestHangingBrokersDoNotDelayOthers(t *testing.T) {
	osbTimeout, wait := settings(t)
	env := localcluster.Get(t)
	testcontroller.SetLogger()
	o := testcontroller.Options()
	o.Controller.ClusterID = "test-cluster"
	o.Controller.OSBTimeout = osbTimeout
	testcontroller.StartForTest(t, env, o)
	c := env.Client
	ctx := context.Background()

	// The hanging cluster broker: its catalog is served, its provisions
	// never answered.
	hanging := testbroker.Start(t, testbroker.Options{Catalog: catalog("hang")})
	hanging.On(testbroker.Rule{Operation: osb.OpProvision, Hang: time.Hour})
	attacker := env.Namespace(t)
	secret(t, c, attacker, "creds")
	clusterBroker(t, c, "hang", hanging.URL(), attacker)
	waitFor(t, c, wait, "the hanging broker's catalog", &scv1beta1.ClusterServiceBroker{ObjectMeta: metav1.ObjectMeta{Name: "hang"}}, brokerReady)

	// The healthy namespaced broker, listed before the hanging ones exist.
	healthy := testbroker.Start(t, testbroker.Options{Catalog: catalog("ok")})
	answers := newAnswerClock(healthy)
	t.Cleanup(answers.Close)
	victim := env.Namespace(t)
	secret(t, c, victim, "creds")
	okBroker := namespacedBroker(t, c, victim, "ok", answers.URL)
	waitFor(t, c, wait, "the healthy broker's catalog", okBroker, brokerReady)

	for i := 0; i < hangingInstances; i++ {
		create(t, c, &scv1beta1.ServiceInstance{ObjectMeta: metav1.ObjectMeta{Namespace: attacker, Name: fmt.Sprint("stuck-", i)},
			Spec: scv1beta1.ServiceInstanceSpec{PlanReference: scv1beta1.PlanReference{ClusterServiceClassExternalName: "hang-svc", ClusterServicePlanExternalName: "small"}}})
	}
	// Ten tenants' brokers that never answer /v2/catalog.
	silent := make([]*testbroker.Broker, hangingBrokers)
	silentNS := make([]string, hangingBrokers)
	for i := range silent {
		silent[i] = testbroker.Start(t, testbroker.Options{Catalog: catalog(fmt.Sprint("silent-", i))})
		silent[i].On(testbroker.Rule{Operation: osb.OpGetCatalog, Hang: time.Hour})
		silentNS[i] = env.Namespace(t)
		secret(t, c, silentNS[i], "creds")
		namespacedBroker(t, c, silentNS[i], "silent", silent[i].URL())
	}
	// The hanging requests reach their brokers (as many as the controller
	// sends at once) before the victim asks for anything.
	waitRequests(t, wait, "hanging catalog requests", func() int {
		n := 0
		for _, b := range silent {
			n += count(b, osb.OpGetCatalog)
		}
		return n
	}, 5)
	waitRequests(t, wait, "hanging provisions", func() int { return count(hanging, osb.OpProvision) }, 5)
	time.Sleep(time.Second)

	// The victim's instance on the healthy broker.
	create(t, c, &scv1beta1.ServiceInstance{ObjectMeta: metav1.ObjectMeta{Namespace: victim, Name: "mine"},
		Spec: scv1beta1.ServiceInstanceSpec{PlanReference: scv1beta1.PlanReference{ServiceClassExternalName: "ok-svc", ServicePlanExternalName: "small"}}})
	inst := &scv1beta1.ServiceInstance{ObjectMeta: metav1.ObjectMeta{Namespace: victim, Name: "mine"}}
	ready := waitFor(t, c, wait, "the victim's instance Ready", inst, instanceReady)
	answered := answers.last(http.MethodPut)
	t.Logf("the healthy broker answered the provision %v after the instance was created; Ready seen %v after the answer",
		answered.Sub(inst.CreationTimestamp.Time).Round(time.Millisecond), ready.Sub(answered).Round(time.Millisecond))

	// The victim's broker relists: a new class shows up.
	if err := healthy.SetCatalog(append(catalog("ok"), catalog("ok-new")...)); err != nil {
		t.Fatal(err)
	}
	asked := time.Now()
	if err := c.Get(ctx, client.ObjectKeyFromObject(okBroker), okBroker); err != nil {
		t.Fatal(err)
	}
	okBroker.Spec.RelistRequests++
	if err := c.Update(ctx, okBroker); err != nil {
		t.Fatal(err)
	}
	relisted := waitFor(t, c, wait, "the relisted class", &scv1beta1.ServiceClass{ObjectMeta: metav1.ObjectMeta{Namespace: victim, Name: "ok-new-svc-id"}},
		func(client.Object) error { return nil })
	t.Logf("relist requested; the new class appeared %v later", relisted.Sub(asked).Round(time.Millisecond))

	// All of it happened while the hanging requests still hung: none was
	// answered or timed out.
	for i := 0; i < hangingInstances; i++ {
		s := &scv1beta1.ServiceInstance{}
		if err := c.Get(ctx, client.ObjectKey{Namespace: attacker, Name: fmt.Sprint("stuck-", i)}, s); err != nil {
			t.Fatal(err)
		}
		if cond := s.Status.GetCondition(scv1beta1.ServiceInstanceConditionReady); cond != nil && cond.Reason != "Provisioning" {
			t.Errorf("stuck-%d has an outcome (%s: %s): the test waited past a hanging request", i, cond.Reason, cond.Message)
		}
	}
	for i, ns := range silentNS {
		b := &scv1beta1.ServiceBroker{}
		if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: "silent"}, b); err != nil {
			t.Fatal(err)
		}
		if len(b.Status.Conditions) != 0 {
			t.Errorf("silent broker %d has an outcome (%+v): the test waited past a hanging request", i, b.Status.Conditions)
		}
	}
}

func catalog(prefix string) []osb.Service {
	return []osb.Service{{ID: prefix + "-svc-id", Name: prefix + "-svc", Description: prefix, Bindable: true,
		Plans: []osb.Plan{{ID: prefix + "-small-id", Name: "small", Description: "Small"}}}}
}

func create(t *testing.T, c client.Client, obj client.Object) {
	t.Helper()
	if err := c.Create(context.Background(), obj); err != nil {
		t.Fatal(err)
	}
}

func secret(t *testing.T, c client.Client, ns, name string) {
	t.Helper()
	create(t, c, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Data: map[string][]byte{"username": []byte(testbroker.DefaultUsername), "password": []byte(testbroker.DefaultPassword)}})
}

func clusterBroker(t *testing.T, c client.Client, name, url, secretNS string) {
	t.Helper()
	b := &scv1beta1.ClusterServiceBroker{ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: scv1beta1.ClusterServiceBrokerSpec{CommonServiceBrokerSpec: scv1beta1.CommonServiceBrokerSpec{URL: url, RelistBehavior: scv1beta1.ServiceBrokerRelistBehaviorManual},
			AuthInfo: &scv1beta1.ClusterServiceBrokerAuthInfo{Basic: &scv1beta1.ClusterBasicAuthConfig{SecretRef: &scv1beta1.ObjectReference{Namespace: secretNS, Name: "creds"}}}}}
	create(t, c, b)
}

func namespacedBroker(t *testing.T, c client.Client, ns, name, url string) *scv1beta1.ServiceBroker {
	t.Helper()
	b := &scv1beta1.ServiceBroker{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: scv1beta1.ServiceBrokerSpec{CommonServiceBrokerSpec: scv1beta1.CommonServiceBrokerSpec{URL: url, RelistBehavior: scv1beta1.ServiceBrokerRelistBehaviorManual},
			AuthInfo: &scv1beta1.ServiceBrokerAuthInfo{Basic: &scv1beta1.BasicAuthConfig{SecretRef: &scv1beta1.LocalObjectReference{Name: "creds"}}}}}
	create(t, c, b)
	return b
}

func brokerReady(o client.Object) error {
	var conds []scv1beta1.ServiceBrokerCondition
	switch b := o.(type) {
	case *scv1beta1.ClusterServiceBroker:
		conds = b.Status.Conditions
	case *scv1beta1.ServiceBroker:
		conds = b.Status.Conditions
	}
	for _, c := range conds {
		if c.Type == scv1beta1.ServiceBrokerConditionReady && c.Status == scv1beta1.ConditionTrue {
			return nil
		}
	}
	return fmt.Errorf("conditions %+v", conds)
}

func instanceReady(o client.Object) error {
	i := o.(*scv1beta1.ServiceInstance)
	if c := i.Status.GetCondition(scv1beta1.ServiceInstanceConditionReady); c == nil || c.Status != scv1beta1.ConditionTrue {
		return fmt.Errorf("conditions %+v", i.Status.Conditions)
	}
	return nil
}

// waitFor reads obj every 10ms until check passes and returns when it did.
func waitFor(t *testing.T, c client.Client, limit time.Duration, what string, obj client.Object, check func(client.Object) error) time.Time {
	t.Helper()
	deadline := time.Now().Add(limit)
	var last error
	for time.Now().Before(deadline) {
		err := c.Get(context.Background(), client.ObjectKeyFromObject(obj), obj)
		if err == nil {
			if err = check(obj); err == nil {
				return time.Now()
			}
		}
		last = err
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("%s: not within %v: %v", what, limit, last)
	return time.Time{}
}

func waitRequests(t *testing.T, limit time.Duration, what string, n func() int, want int) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for n() < want {
		if time.Now().After(deadline) {
			t.Fatalf("%s: %d, want at least %d", what, n(), want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func count(b *testbroker.Broker, op osb.Operation) int {
	n := 0
	for _, r := range b.Requests() {
		if r.Operation == op {
			n++
		}
	}
	return n
}

// answerClock serves a broker and notes when each answer was written.
type answerClock struct {
	*httptest.Server
	mu   sync.Mutex
	when map[string]time.Time
}

func newAnswerClock(b *testbroker.Broker) *answerClock {
	a := &answerClock{when: map[string]time.Time{}}
	a.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b.ServeHTTP(w, r)
		a.mu.Lock()
		a.when[r.Method] = time.Now()
		a.mu.Unlock()
	}))
	return a
}

func (a *answerClock) last(method string) time.Time {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.when[method]
}
