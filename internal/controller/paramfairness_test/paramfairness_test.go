// Package paramfairness_test checks that no namespace can take the watches
// of the others' parametersFrom Secrets. It is a package of its own so that
// its controller, with limits small enough to reach, is the only one of its
// API server.
package paramfairness_test

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"

	scv1beta1 "github.com/svcat-io/svcat/api/v1beta1"
	"github.com/svcat-io/svcat/internal/controller/metrics"
	"github.com/svcat-io/svcat/internal/controllermanager/testcontroller"
	"github.com/svcat-io/svcat/internal/localcluster"
	"github.com/svcat-io/svcat/internal/osb"
	"github.com/svcat-io/svcat/internal/testbroker"
)

func TestMain(m *testing.M) { localcluster.Main(m) }

const (
	perNamespace = 5
	total        = 20
	// The attackers alone fill the total: each holds its namespace's
	// share, and names more.
	attackers       = total / perNamespace
	attackerSecrets = perNamespace + 3
	// quiet is how long the test waits to see that nothing is sent:
	// several times what a watched Secret's change takes to reach the
	// broker.
	quiet = 4 * time.Second
	// wait bounds every wait for something the controller does at once.
	wait = 30 * time.Second
	// secretWord is in every Secret value, so that the test can tell that
	// none reaches a condition or an Event.
	secretWord = "hunter2"
)

// Tenants that name more parametersFrom Secrets than their share, in
// enough namespaces to fill the controller's total, take no watch from
// another tenant: its Secret's change still reaches the broker as an
// update at once (no spec change, and the resync is hours away: only the
// watch can bring it). The attackers' instances say which Secrets are not
// watched and which limit keeps them so (a condition and an Event, no
// value); such a Secret's change goes out with the instance's next
// reconcile (here asked for as svcat touch does), and an instance that
// names fewer Secrets is watched again.
func TestParameterSecretWatchesAreShared(t *testing.T) {
	env := localcluster.Get(t)
	testcontroller.SetLogger()
	o := testcontroller.Options()
	o.Controller.ClusterID = "test-cluster"
	o.Controller.MaxParameterSecretWatches = total
	o.Controller.MaxParameterSecretWatchesPerNamespace = perNamespace
	testcontroller.StartForTest(t, env, o)
	c := env.Client
	ctx := context.Background()

	broker := testbroker.Start(t, testbroker.Options{Catalog: []osb.Service{{ID: "pw-svc-id", Name: "pw-svc", Description: "pw", Bindable: true,
		Plans: []osb.Plan{{ID: "pw-small-id", Name: "small", Description: "Small"}}}}})
	brokerNS := env.Namespace(t)
	create(t, c, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: brokerNS, Name: "creds"},
		Data: map[string][]byte{"username": []byte(testbroker.DefaultUsername), "password": []byte(testbroker.DefaultPassword)}})
	create(t, c, &scv1beta1.ClusterServiceBroker{ObjectMeta: metav1.ObjectMeta{Name: "pw"},
		Spec: scv1beta1.ClusterServiceBrokerSpec{CommonServiceBrokerSpec: scv1beta1.CommonServiceBrokerSpec{URL: broker.URL(), RelistBehavior: scv1beta1.ServiceBrokerRelistBehaviorManual},
			AuthInfo: &scv1beta1.ClusterServiceBrokerAuthInfo{Basic: &scv1beta1.ClusterBasicAuthConfig{SecretRef: &scv1beta1.ObjectReference{Namespace: brokerNS, Name: "creds"}}}}})
	// Everything goes again while the controller and the broker still run,
	// so that the test can run again against the same API server
	// (-count=2): envtest has no namespace controller to delete it.
	var namespaces []string
	t.Cleanup(func() { cleanUp(t, c, namespaces) })
	eventually(t, "the broker's catalog", func() error {
		_, err := get(c, &scv1beta1.ClusterServicePlan{}, "", "pw-small-id")
		return err
	})

	// The attackers: one instance per namespace naming more Secrets than
	// the namespace's share.
	attackerNS := make([]string, attackers)
	for i := range attackerNS {
		ns := env.Namespace(t)
		attackerNS[i] = ns
		namespaces = append(namespaces, ns)
		var from []scv1beta1.ParametersFromSource
		for j := 0; j < attackerSecrets; j++ {
			name := fmt.Sprint("p-", j)
			paramSecret(t, c, ns, name, fmt.Sprintf(`{"k%d":"%s-%d"}`, j, secretWord, j))
			from = append(from, scv1beta1.ParametersFromSource{SecretKeyRef: &scv1beta1.SecretKeyReference{Name: name, Key: "params"}})
		}
		instance(t, c, ns, "greedy", from)
	}
	for _, ns := range attackerNS {
		msg := waitUnwatched(t, c, ns, "greedy", fmt.Sprintf(`namespace %q already has %d parameter Secrets watched`, ns, perNamespace))
		for _, want := range []string{fmt.Sprintf("%d Secret(s) named in spec.parametersFrom are not watched", attackerSecrets-perNamespace),
			"--parameter-secret-watches-per-namespace", "svcat touch instance greedy"} {
			if !strings.Contains(msg, want) {
				t.Errorf("%s/greedy: message %q does not say %q", ns, msg, want)
			}
		}
		eventually(t, "the ParameterSecretsNotWatched event of "+ns+"/greedy", func() error {
			for _, note := range events(t, c, ns, "greedy", scv1beta1.ReasonParameterSecretsNotWatched) {
				if strings.Contains(note, "are not watched") {
					return nil
				}
			}
			return fmt.Errorf("no event")
		})
	}

	// The victim: one instance naming one Secret, while the attackers
	// hold every watch.
	victim := env.Namespace(t)
	namespaces = append(namespaces, victim)
	db := paramSecret(t, c, victim, "db-params", `{"password":"`+secretWord+`-one"}`)
	instance(t, c, victim, "db", []scv1beta1.ParametersFromSource{{SecretKeyRef: &scv1beta1.SecretKeyReference{Name: "db-params", Key: "params"}}})
	inst := waitInstance(t, c, victim, "db", func(i *scv1beta1.ServiceInstance) error { return ready(i) })
	if cond := inst.Status.GetCondition(scv1beta1.ServiceInstanceConditionParameterSecretsWatched); cond != nil {
		t.Errorf("the victim's instance says %s: %s", cond.Reason, cond.Message)
	}
	victimID := inst.Spec.ExternalID
	setParams(t, c, db, `{"password":"`+secretWord+`-two"}`)
	eventually(t, "the victim's update with the Secret's new value", func() error {
		for _, r := range broker.RequestsFor(osb.OpUpdate) {
			if r.InstanceID == victimID && fmt.Sprint(params(t, r)) == "map[password:"+secretWord+"-two]" {
				return nil
			}
		}
		return fmt.Errorf("%d update requests", len(broker.RequestsFor(osb.OpUpdate)))
	})
	waitInstance(t, c, victim, "db", ready)

	// What an operator sees: every watch in use, and how many Secrets the
	// limits leave unwatched.
	eventually(t, "the watch metrics", func() error {
		watched, unwatched := gauge(t, metrics.ParameterSecretsWatched), gauge(t, metrics.ParameterSecretsUnwatched)
		if watched != total || unwatched != attackers*attackerSecrets+1-total {
			return fmt.Errorf("svcat_parameter_secrets_watched %v, svcat_parameter_secrets_unwatched %v; want %d and %d",
				watched, unwatched, total, attackers*attackerSecrets+1-total)
		}
		return nil
	})

	// The victim's watch was taken from an attacker namespace, whose
	// instance now names the total as its limit.
	var robbed string
	eventually(t, "an attacker's instance naming the total limit", func() error {
		for _, ns := range attackerNS {
			if m := unwatchedMessage(t, c, ns, "greedy"); strings.Contains(m, fmt.Sprintf("the controller already watches %d parameter Secrets", total)) {
				robbed = ns
				return nil
			}
		}
		return fmt.Errorf("none")
	})
	if !strings.Contains(unwatchedMessage(t, c, robbed, "greedy"), fmt.Sprintf("%d Secret(s)", attackerSecrets-perNamespace+1)) {
		t.Errorf("%s/greedy: %q; want one more Secret unwatched", robbed, unwatchedMessage(t, c, robbed, "greedy"))
	}

	// An attacker's unwatched Secret: its change waits for the instance's
	// next reconcile, which a spec change brings.
	ns := attackerNS[0]
	if ns == robbed {
		ns = attackerNS[1]
	}
	names := regexp.MustCompile(`"(p-\d+)"`).FindAllStringSubmatch(unwatchedMessage(t, c, ns, "greedy"), -1)
	if len(names) == 0 {
		t.Fatalf("%s/greedy: no Secret named in %q", ns, unwatchedMessage(t, c, ns, "greedy"))
	}
	unwatched := names[0][1]
	greedy := waitInstance(t, c, ns, "greedy", ready)
	greedyID := greedy.Spec.ExternalID
	updates := func() int {
		n := 0
		for _, r := range broker.RequestsFor(osb.OpUpdate) {
			if r.InstanceID == greedyID {
				n++
			}
		}
		return n
	}
	before := updates()
	s := &corev1.Secret{}
	if _, err := get(c, s, ns, unwatched); err != nil {
		t.Fatal(err)
	}
	setParams(t, c, s, `{"changed":"`+secretWord+`-new"}`)
	time.Sleep(quiet)
	if n := updates(); n != before {
		t.Errorf("%d update requests for %s/greedy after its unwatched Secret %s changed; the limit should have kept it unwatched", n-before, ns, unwatched)
	}
	touch(t, c, ns, "greedy")
	eventually(t, "the attacker's update after svcat touch", func() error {
		for _, r := range broker.RequestsFor(osb.OpUpdate) {
			if r.InstanceID == greedyID && params(t, r)["changed"] == secretWord+"-new" {
				return nil
			}
		}
		return fmt.Errorf("%d update requests", updates()-before)
	})

	// An attacker that names no more than its share is watched again.
	modify(t, c, attackerNS[2], "greedy", func(i *scv1beta1.ServiceInstance) { i.Spec.ParametersFrom = i.Spec.ParametersFrom[:perNamespace-2] })
	waitInstance(t, c, attackerNS[2], "greedy", func(i *scv1beta1.ServiceInstance) error {
		if cond := i.Status.GetCondition(scv1beta1.ServiceInstanceConditionParameterSecretsWatched); cond != nil {
			return fmt.Errorf("%s: %s", cond.Reason, cond.Message)
		}
		return ready(i)
	})

	// No value of any Secret in a condition or an Event.
	for _, ns := range append(attackerNS, victim) {
		list := &scv1beta1.ServiceInstanceList{}
		if err := c.List(ctx, list, client.InNamespace(ns)); err != nil {
			t.Fatal(err)
		}
		for _, i := range list.Items {
			for _, cond := range i.Status.Conditions {
				if strings.Contains(cond.Message, secretWord) {
					t.Errorf("%s/%s: condition %s carries a Secret's value: %q", ns, i.Name, cond.Type, cond.Message)
				}
			}
		}
		for _, note := range events(t, c, ns, "", "") {
			if strings.Contains(note, secretWord) {
				t.Errorf("an event in %s carries a Secret's value: %q", ns, note)
			}
		}
	}
}

// cleanUp deletes the test's instances, waits for them to go, then the
// broker and its catalog.
func cleanUp(t *testing.T, c client.Client, namespaces []string) {
	ctx := context.Background()
	for _, ns := range namespaces {
		if err := c.DeleteAllOf(ctx, &scv1beta1.ServiceInstance{}, client.InNamespace(ns)); err != nil {
			t.Errorf("deleting the instances of %s: %v", ns, err)
		}
	}
	eventually(t, "the instances gone", func() error {
		for _, ns := range namespaces {
			list := &scv1beta1.ServiceInstanceList{}
			if err := c.List(ctx, list, client.InNamespace(ns)); err != nil {
				return err
			}
			if len(list.Items) > 0 {
				return fmt.Errorf("%d instances left in %s", len(list.Items), ns)
			}
		}
		return nil
	})
	if err := c.Delete(ctx, &scv1beta1.ClusterServiceBroker{ObjectMeta: metav1.ObjectMeta{Name: "pw"}}); err != nil {
		t.Errorf("deleting the broker: %v", err)
	}
	eventually(t, "the broker's plan gone", func() error {
		if _, err := get(c, &scv1beta1.ClusterServicePlan{}, "", "pw-small-id"); err == nil {
			return fmt.Errorf("still there")
		}
		return nil
	})
}

func create(t *testing.T, c client.Client, obj client.Object) {
	t.Helper()
	if err := c.Create(context.Background(), obj); err != nil {
		t.Fatal(err)
	}
}

func get[T client.Object](c client.Client, obj T, ns, name string) (T, error) {
	return obj, c.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, obj)
}

func eventually(t *testing.T, what string, check func() error) {
	t.Helper()
	localcluster.Eventually(t, wait, what, check)
}

func paramSecret(t *testing.T, c client.Client, ns, name, params string) *corev1.Secret {
	t.Helper()
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Data: map[string][]byte{"params": []byte(params)}}
	create(t, c, s)
	return s
}

func setParams(t *testing.T, c client.Client, s *corev1.Secret, params string) {
	t.Helper()
	if err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		if err := c.Get(context.Background(), client.ObjectKeyFromObject(s), s); err != nil {
			return err
		}
		s.Data = map[string][]byte{"params": []byte(params)}
		return c.Update(context.Background(), s)
	}); err != nil {
		t.Fatal(err)
	}
}

func instance(t *testing.T, c client.Client, ns, name string, from []scv1beta1.ParametersFromSource) {
	t.Helper()
	create(t, c, &scv1beta1.ServiceInstance{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: scv1beta1.ServiceInstanceSpec{PlanReference: scv1beta1.PlanReference{ClusterServiceClassExternalName: "pw-svc", ClusterServicePlanExternalName: "small"},
			ParametersFrom: from}})
}

func modify(t *testing.T, c client.Client, ns, name string, mutate func(*scv1beta1.ServiceInstance)) {
	t.Helper()
	if err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		i, err := get(c, &scv1beta1.ServiceInstance{}, ns, name)
		if err != nil {
			return err
		}
		mutate(i)
		return c.Update(context.Background(), i)
	}); err != nil {
		t.Fatal(err)
	}
}

// touch is what svcat touch instance does: one more update request.
func touch(t *testing.T, c client.Client, ns, name string) {
	t.Helper()
	modify(t, c, ns, name, func(i *scv1beta1.ServiceInstance) { i.Spec.UpdateRequests++ })
}

func ready(i *scv1beta1.ServiceInstance) error {
	if cond := i.Status.GetCondition(scv1beta1.ServiceInstanceConditionReady); cond == nil || cond.Status != scv1beta1.ConditionTrue {
		return fmt.Errorf("not Ready: %+v", i.Status.Conditions)
	}
	return nil
}

func waitInstance(t *testing.T, c client.Client, ns, name string, check func(*scv1beta1.ServiceInstance) error) *scv1beta1.ServiceInstance {
	t.Helper()
	var inst *scv1beta1.ServiceInstance
	eventually(t, ns+"/"+name, func() error {
		i, err := get(c, &scv1beta1.ServiceInstance{}, ns, name)
		if err != nil {
			return err
		}
		inst = i
		return check(i)
	})
	return inst
}

// unwatchedMessage is the message of the instance's ParameterSecretsWatched
// condition, "" without one.
func unwatchedMessage(t *testing.T, c client.Client, ns, name string) string {
	t.Helper()
	i, err := get(c, &scv1beta1.ServiceInstance{}, ns, name)
	if err != nil {
		t.Fatal(err)
	}
	if cond := i.Status.GetCondition(scv1beta1.ServiceInstanceConditionParameterSecretsWatched); cond != nil {
		return cond.Message
	}
	return ""
}

// waitUnwatched waits for the instance's ParameterSecretsWatched condition
// to be False with the reason and a message saying want, and returns it.
func waitUnwatched(t *testing.T, c client.Client, ns, name, want string) string {
	t.Helper()
	var msg string
	waitInstance(t, c, ns, name, func(i *scv1beta1.ServiceInstance) error {
		cond := i.Status.GetCondition(scv1beta1.ServiceInstanceConditionParameterSecretsWatched)
		if cond == nil || cond.Status != scv1beta1.ConditionFalse || cond.Reason != scv1beta1.ReasonParameterSecretsNotWatched || !strings.Contains(cond.Message, want) {
			return fmt.Errorf("condition %+v; want one saying %q", cond, want)
		}
		msg = cond.Message
		return ready(i)
	})
	return msg
}

// events are the notes of the events in ns about the object name ("" any)
// with the reason ("" any).
func events(t *testing.T, c client.Client, ns, name, reason string) []string {
	t.Helper()
	list := &eventsv1.EventList{}
	if err := c.List(context.Background(), list, client.InNamespace(ns)); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range list.Items {
		if (name == "" || e.Regarding.Name == name) && (reason == "" || e.Reason == reason) {
			out = append(out, e.Note)
		}
	}
	return out
}

// gauge reads a gauge of the controller, which runs in this process.
func gauge(t *testing.T, g prometheus.Gauge) float64 {
	t.Helper()
	m := &dto.Metric{}
	if err := g.Write(m); err != nil {
		t.Fatal(err)
	}
	return m.GetGauge().GetValue()
}

// params decodes the parameters of a recorded request.
func params(t *testing.T, r testbroker.RecordedRequest) map[string]any {
	t.Helper()
	var b struct {
		Parameters map[string]any `json:"parameters"`
	}
	if err := json.Unmarshal(r.Body, &b); err != nil {
		t.Fatalf("request body: %v", err)
	}
	return b.Parameters
}
