package controller_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	scv1beta1 "github.com/svcat-io/svcat/api/v1beta1"
	"github.com/svcat-io/svcat/internal/localcluster"
	"github.com/svcat-io/svcat/internal/osb"
	"github.com/svcat-io/svcat/internal/testbroker"
)

// fixture is one test's broker, with a catalog whose IDs are the test's own,
// registered as a ClusterServiceBroker named after the prefix, and a
// namespace for the test's instances and bindings.
//
// The catalog has two classes:
//   - "<p>-kafka" (bindable, plans updatable, bindings retrievable) with
//     plans small, large, strict (a create schema: size an integer at most
//     10, password lowercase letters) and slow (maximum_polling_duration 2s);
//   - "<p>-fixed" (bindable, plans not updatable, bindings not retrievable)
//     with plans a and b.
type fixture struct {
	t      *testing.T
	env    *localcluster.Env
	c      client.Client
	ns     string
	prefix string
	broker *testbroker.Broker
	proxy  *httptest.Server

	mu    sync.Mutex
	times []timedRequest // when each request reached the broker
}

type timedRequest struct {
	at     time.Time
	method string
	path   string
}

func fixtureCatalog(p string) []osb.Service {
	strict := &osb.Schemas{ServiceInstance: &osb.ServiceInstanceSchema{Create: &osb.InputParametersSchema{Parameters: map[string]any{
		"$schema": "http://json-schema.org/draft-07/schema#",
		"type":    "object",
		"properties": map[string]any{
			"size":     map[string]any{"type": "integer", "maximum": 10},
			"password": map[string]any{"type": "string", "pattern": "^[a-z]+$"},
		},
	}}}}
	return []osb.Service{{
		ID: p + "-svc", Name: p + "-kafka", Description: "Kafka for " + p, Bindable: true, PlanUpdateable: true, BindingsRetrievable: true,
		Plans: []osb.Plan{
			{ID: p + "-small", Name: "small", Description: "Small"},
			{ID: p + "-large", Name: "large", Description: "Large"},
			{ID: p + "-strict", Name: "strict", Description: "With a schema", Schemas: strict},
			{ID: p + "-slow", Name: "slow", Description: "Gives up polling after 2s", MaximumPollingDuration: ptr(2)},
		},
	}, {
		ID: p + "-fixed-svc", Name: p + "-fixed", Description: "Plans fixed for " + p, Bindable: true,
		Plans: []osb.Plan{
			{ID: p + "-fixed-a", Name: "a", Description: "A"},
			{ID: p + "-fixed-b", Name: "b", Description: "B"},
		},
	}}
}

// newFixture starts the test's broker behind a recording proxy (which notes
// when each request arrived) and registers it.
func newFixture(t *testing.T, prefix string) *fixture {
	t.Helper()
	f := startFixture(t, prefix)
	f.register(f.proxy.URL)
	return f
}

// startFixture is newFixture without registering the broker.
func startFixture(t *testing.T, prefix string) *fixture {
	t.Helper()
	env := controlPlane(t)
	f := &fixture{t: t, env: env, c: env.Client, ns: env.Namespace(t), prefix: prefix}
	f.broker = testbroker.Start(t, testbroker.Options{Catalog: fixtureCatalog(prefix), DisableRecording: false})
	f.proxy = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.times = append(f.times, timedRequest{time.Now(), r.Method, r.URL.Path})
		f.mu.Unlock()
		f.broker.ServeHTTP(w, r)
	}))
	t.Cleanup(func() { f.proxy.Close() })
	return f
}

// stop makes the broker unreachable: nothing listens on its address.
func (f *fixture) stop() {
	f.proxy.Listener.Close()
	f.proxy.CloseClientConnections()
}

// start serves again on the same address.
func (f *fixture) start() {
	f.t.Helper()
	l, err := net.Listen("tcp", f.proxy.Listener.Addr().String())
	if err != nil {
		f.t.Fatal(err)
	}
	old := f.proxy
	f.proxy = &httptest.Server{Listener: l, Config: &http.Server{Handler: old.Config.Handler}}
	f.proxy.Start()
}

func (f *fixture) register(url string) {
	f.t.Helper()
	authedClusterBroker(f.t, f.env, f.prefix, scv1beta1.CommonServiceBrokerSpec{URL: url, RelistBehavior: scv1beta1.ServiceBrokerRelistBehaviorManual})
	waitBrokerCondition(f.t, f.c, f.prefix, scv1beta1.ConditionTrue, scv1beta1.ReasonFetchedCatalog)
}

// requestTimes returns when requests whose path ends with suffix arrived.
func (f *fixture) requestTimes(method, suffix string) []time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []time.Time
	for _, r := range f.times {
		if r.method == method && strings.HasSuffix(r.path, suffix) {
			out = append(out, r.at)
		}
	}
	return out
}

// instance creates an instance of the fixture's class ("kafka" or "fixed")
// and plan, with an externalID of the test's choosing so rules can target
// it.
func (f *fixture) instance(name, class, plan string, mutate func(*scv1beta1.ServiceInstance)) *scv1beta1.ServiceInstance {
	f.t.Helper()
	inst := &scv1beta1.ServiceInstance{ObjectMeta: metav1.ObjectMeta{Namespace: f.ns, Name: name},
		Spec: scv1beta1.ServiceInstanceSpec{
			PlanReference: scv1beta1.PlanReference{ClusterServiceClassExternalName: f.prefix + "-" + class, ClusterServicePlanExternalName: plan},
			ExternalID:    f.id(name),
		}}
	if mutate != nil {
		mutate(inst)
	}
	if err := f.c.Create(context.Background(), inst); err != nil {
		f.t.Fatal(err)
	}
	return inst
}

// binding creates a binding to instance, with an externalID of the test's
// choosing.
func (f *fixture) binding(name, instance string, mutate func(*scv1beta1.ServiceBinding)) *scv1beta1.ServiceBinding {
	f.t.Helper()
	b := &scv1beta1.ServiceBinding{ObjectMeta: metav1.ObjectMeta{Namespace: f.ns, Name: name},
		Spec: scv1beta1.ServiceBindingSpec{InstanceRef: scv1beta1.InstanceReference{Name: instance}, ExternalID: f.id(name)}}
	if mutate != nil {
		mutate(b)
	}
	if err := f.c.Create(context.Background(), b); err != nil {
		f.t.Fatal(err)
	}
	return b
}

// id is the externalID the fixture gives an object: unique to the test.
func (f *fixture) id(name string) string { return f.prefix + "-" + name + "-id" }

func (f *fixture) ready(name string) *scv1beta1.ServiceInstance {
	f.t.Helper()
	return waitInstance(f.t, f.c, f.ns, name, instanceCondition(scv1beta1.ServiceInstanceConditionReady, "True", ""))
}

func (f *fixture) bindingReady(name string) *scv1beta1.ServiceBinding {
	f.t.Helper()
	return waitBinding(f.t, f.c, f.ns, name, bindingReason(scv1beta1.ReasonInjectedBindResult))
}

func (f *fixture) get(obj client.Object) {
	f.t.Helper()
	if err := f.c.Get(context.Background(), client.ObjectKeyFromObject(obj), obj); err != nil {
		f.t.Fatal(err)
	}
}

// update applies mutate to the current version of obj, retrying conflicts
// with the controller's own writes.
func update[T client.Object](t *testing.T, c client.Client, obj T, mutate func(T)) {
	t.Helper()
	retryWrite(t, c, obj, mutate, func(ctx context.Context, o client.Object) error { return c.Update(ctx, o) })
}

// setStatus is update for the status, e.g. to write one the way v0.3 left
// it.
func setStatus[T client.Object](t *testing.T, c client.Client, obj T, set func(T)) {
	t.Helper()
	retryWrite(t, c, obj, set, func(ctx context.Context, o client.Object) error { return c.Status().Update(ctx, o) })
}

func retryWrite[T client.Object](t *testing.T, c client.Client, obj T, mutate func(T), write func(context.Context, client.Object) error) {
	t.Helper()
	eventually(t, 10*time.Second, "write "+obj.GetName(), func() error {
		if err := c.Get(context.Background(), client.ObjectKeyFromObject(obj), obj); err != nil {
			return err
		}
		mutate(obj)
		return write(context.Background(), obj)
	})
}

// requestsFor are the broker's recorded requests of op for one instance.
func (f *fixture) requestsFor(op osb.Operation, instanceID string) []testbroker.RecordedRequest {
	var out []testbroker.RecordedRequest
	for _, r := range f.broker.RequestsFor(op) {
		if r.InstanceID == instanceID {
			out = append(out, r)
		}
	}
	return out
}

// opsFor is the sequence of provision, update and deprovision requests the
// broker received for one instance, e.g. "provision,deprovision,provision".
func (f *fixture) opsFor(instanceID string) string {
	var ops []string
	for _, r := range f.broker.Requests() {
		if r.InstanceID == instanceID && r.BindingID == "" && (r.Operation == osb.OpProvision || r.Operation == osb.OpUpdate || r.Operation == osb.OpDeprovision) {
			ops = append(ops, string(r.Operation))
		}
	}
	return strings.Join(ops, ",")
}

func (f *fixture) brokerInstances(id string) int {
	n := 0
	for _, i := range f.broker.Instances() {
		if i.ID == id {
			n++
		}
	}
	return n
}

// instanceCondition checks a condition's status and, when reason is set,
// its reason.
func instanceCondition(typ scv1beta1.ServiceInstanceConditionType, status scv1beta1.ConditionStatus, reason string) func(*scv1beta1.ServiceInstance) error {
	return func(i *scv1beta1.ServiceInstance) error {
		c := i.Status.GetCondition(typ)
		if c == nil || c.Status != status || (reason != "" && c.Reason != reason) {
			return fmt.Errorf("want %s=%s %s", typ, status, reason)
		}
		return nil
	}
}

func bindingCondition(typ scv1beta1.ServiceBindingConditionType, status scv1beta1.ConditionStatus, reason string) func(*scv1beta1.ServiceBinding) error {
	return func(b *scv1beta1.ServiceBinding) error {
		c := b.Status.GetCondition(typ)
		if c == nil || c.Status != status || (reason != "" && c.Reason != reason) {
			return fmt.Errorf("want %s=%s %s", typ, status, reason)
		}
		return nil
	}
}

func readyMessage(i *scv1beta1.ServiceInstance) string {
	if c := i.Status.GetCondition(scv1beta1.ServiceInstanceConditionReady); c != nil {
		return c.Message
	}
	return ""
}

// events returns every event note and reason about objects in ns, from both
// event APIs.
func (f *fixture) events() []string {
	f.t.Helper()
	ctx := context.Background()
	var out []string
	ev := &eventsv1.EventList{}
	if err := f.c.List(ctx, ev, client.InNamespace(f.ns)); err != nil {
		f.t.Fatal(err)
	}
	for _, e := range ev.Items {
		out = append(out, e.Reason+": "+e.Note)
	}
	core := &corev1.EventList{}
	if err := f.c.List(ctx, core, client.InNamespace(f.ns)); err != nil {
		f.t.Fatal(err)
	}
	for _, e := range core.Items {
		out = append(out, e.Reason+": "+e.Message)
	}
	return out
}

// waitEvent waits for an event with the reason in the fixture's namespace
// and returns its note.
func (f *fixture) waitEvent(reason string) string {
	f.t.Helper()
	var note string
	eventually(f.t, 15*time.Second, "event "+reason, func() error {
		for _, e := range f.events() {
			if strings.HasPrefix(e, reason+": ") {
				note = strings.TrimPrefix(e, reason+": ")
				return nil
			}
		}
		return fmt.Errorf("no %s event", reason)
	})
	return note
}

// raw encodes v as a RawExtension for parameters.
func raw(t *testing.T, v any) *runtime.RawExtension {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return &runtime.RawExtension{Raw: b}
}

// body decodes a recorded request's JSON body.
func body(t *testing.T, r testbroker.RecordedRequest) map[string]any {
	t.Helper()
	m := map[string]any{}
	if err := json.Unmarshal(r.Body, &m); err != nil {
		t.Fatalf("request body %s: %v", r.Body, err)
	}
	return m
}

// noneContain fails when any of the texts holds secret.
func noneContain(t *testing.T, what string, secret string, texts ...string) {
	t.Helper()
	for _, s := range texts {
		if strings.Contains(s, secret) {
			t.Errorf("%s shows a secret value: %s", what, s)
		}
	}
}

// jsonOf is the JSON of v, to search it.
func jsonOf(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
