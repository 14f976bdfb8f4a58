package broker

import (
	"context"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/svcat-io/svcat/internal/kafkabroker/catalog"
	"github.com/svcat-io/svcat/internal/kafkabroker/kafkatest"
)

func TestCheckContext(t *testing.T) {
	victim := platformContext{Platform: "kubernetes", ClusterID: "c1", Namespace: "team-a", NamespaceGUID: "uid-a"}
	with := func(f func(*platformContext)) platformContext { c := victim; f(&c); return c }
	tests := []struct {
		name     string
		stored   *platformContext
		req      platformContext
		repeated bool
		want     contextVerdict
	}{
		{"same context", &victim, victim, true, contextMatches},
		{"the request carries no namespace GUID (update, bind)", &victim, with(func(c *platformContext) { c.NamespaceGUID = "" }), false, contextMatches},
		{"another namespace", &victim, with(func(c *platformContext) { c.Namespace = "team-b" }), true, contextDiffers},
		{"another cluster", &victim, with(func(c *platformContext) { c.ClusterID = "c2" }), false, contextDiffers},
		{"another platform", &victim, with(func(c *platformContext) { c.Platform = "cloudfoundry" }), false, contextDiffers},
		{"a namespace of the same name made again", &victim, with(func(c *platformContext) { c.NamespaceGUID = "uid-new" }), true, contextDiffers},
		{"no context against a stored one", &victim, platformContext{}, true, contextDiffers},
		{"no context against a stored empty one", &platformContext{}, platformContext{}, true, contextMatches},
		{"legacy record, repeated provision with a context", nil, victim, true, contextUnknown},
		{"legacy record, bind or update with a context", nil, victim, false, contextClaims},
		{"legacy record, request without a context", nil, platformContext{}, true, contextMatches},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := checkContext(tt.stored, tt.req, tt.repeated); got != tt.want {
				t.Fatalf("checkContext = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestRequestContext(t *testing.T) {
	tests := []struct {
		raw, space string
		want       platformContext
		err        bool
	}{
		{``, "", platformContext{}, false},
		{`null`, "s", platformContext{NamespaceGUID: "s"}, false},
		{`{"platform":"kubernetes","clusterid":"c","namespace":"n","instance_name":"x"}`, "uid", platformContext{"kubernetes", "c", "n", "uid"}, false},
		{`{"platform":"cloudfoundry","organization_guid":"o","space_guid":"s"}`, "s", platformContext{"cloudfoundry", "o", "s", "s"}, false},
		{`"kubernetes"`, "", platformContext{}, true},
		{`{"namespace":7}`, "", platformContext{}, true},
	}
	for _, tt := range tests {
		got, err := requestContext([]byte(tt.raw), tt.space)
		if (err != nil) != tt.err || got != tt.want {
			t.Errorf("requestContext(%s) = %+v, %v; want %+v, error %v", tt.raw, got, err, tt.want, tt.err)
		}
	}
}

// from is a provision or bind body from a namespace of a cluster.
func from(cluster, namespace, namespaceUID string, params any) map[string]any {
	d := kafkatest.Details(svc, duck, params)
	d["organization_guid"], d["space_guid"] = cluster, namespaceUID
	d["context"] = map[string]any{"platform": "kubernetes", "clusterid": cluster, "namespace": namespace, "instance_name": "kafka"}
	d["app_guid"] = namespaceUID
	d["bind_resource"] = map[string]any{"app_guid": namespaceUID}
	return d
}

// assertReveals fails when an answer carries anything of the victim's
// beyond the IDs the requester sent.
func assertRevealsNothing(t *testing.T, r kafkatest.Response, secrets ...string) {
	t.Helper()
	if _, ok := r.Body["credentials"]; ok {
		t.Fatalf("answer carries credentials: %s", r.Raw)
	}
	for _, s := range secrets {
		if strings.Contains(string(r.Raw), s) {
			t.Fatalf("answer reveals %q: %s", s, r.Raw)
		}
	}
}

// The takeover of issue 14: a tenant who knows another namespace's
// instance ID makes the platform send the same provision from its own
// namespace, then binds. Every request from another context is refused
// without a trace of the victim's data; the victim keeps working.
func TestOtherContextIsRefused(t *testing.T) {
	f := newFixture(t)
	params := map[string]any{"topics": []any{map[string]any{"name": "payroll-events"}}}
	victim := from("c1", "team-a", "uid-a", params)
	f.do(t, "PUT", "/v2/service_instances/v", victim, 201)
	victimBind := from("c1", "team-a", "uid-a", nil)
	bound := f.do(t, "PUT", "/v2/service_instances/v/service_bindings/vb", victimBind, 201)
	password := bound.Credentials()["password"]
	secrets := []string{"payroll", "t-v.", password, "team-a", "uid-a"}

	other := map[string]map[string]any{
		"another namespace":            from("c1", "team-b", "uid-b", params),
		"another cluster":              from("c2", "team-a", "uid-a", params),
		"a namespace of the same name": from("c1", "team-a", "uid-new", params),
	}
	for name, body := range other {
		t.Run(name, func(t *testing.T) {
			r := f.do(t, "PUT", "/v2/service_instances/v", body, 409)
			assertRevealsNothing(t, r, secrets...)
			if !strings.Contains(r.Str("description"), "another platform context") {
				t.Fatalf("description %q does not say what conflicted", r.Str("description"))
			}
			// Other parameters get the same answer: it is no oracle for
			// the stored ones.
			r2 := f.do(t, "PUT", "/v2/service_instances/v", func() map[string]any { b := clone(body); b["parameters"] = map[string]any{"topics": []any{}}; return b }(), 409)
			if r2.Str("description") != r.Str("description") {
				t.Fatalf("other parameters answered %q, the victim's %q", r2.Str("description"), r.Str("description"))
			}
			bind := clone(body)
			delete(bind, "parameters")
			assertRevealsNothing(t, f.do(t, "PUT", "/v2/service_instances/v/service_bindings/vb", bind, 409), secrets...)
			if name == "a namespace of the same name" {
				return // binds and updates carry no namespace GUID (see checkContext)
			}
			assertRevealsNothing(t, f.do(t, "PUT", "/v2/service_instances/v/service_bindings/new", bind, 409), secrets...)
			patch := map[string]any{"service_id": svc, "context": body["context"], "parameters": map[string]any{"topics": []any{map[string]any{"name": "x"}}}}
			assertRevealsNothing(t, f.do(t, "PATCH", "/v2/service_instances/v", patch, 409), secrets...)
		})
	}
	f.assertNoUser(t, "t-v.new")

	// The victim's own requests still work.
	f.do(t, "PUT", "/v2/service_instances/v", victim, 200)
	again := f.do(t, "PUT", "/v2/service_instances/v/service_bindings/vb", victimBind, 200)
	if again.Credentials()["password"] != password {
		t.Fatal("the victim's repeated bind got other credentials")
	}
	f.do(t, "PUT", "/v2/service_instances/v/service_bindings/vb2", victimBind, 201)
	// The victim's own conflicting provision names no stored parameter.
	r := f.do(t, "PUT", "/v2/service_instances/v", from("c1", "team-a", "uid-a", map[string]any{"topics": []any{}}), 409)
	assertRevealsNothing(t, r, "payroll")
	otherApp := clone(victimBind)
	otherApp["bind_resource"] = map[string]any{"app_guid": "another-app"}
	assertRevealsNothing(t, f.do(t, "PUT", "/v2/service_instances/v/service_bindings/vb", otherApp, 409), "payroll", password, "uid-a")
}

func clone(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// Records written by a broker that did not store contexts: a repeated
// provision with a context is refused (it is what a takeover looks like),
// the first bind with one claims the record for its context unless the
// instance's bindings name another namespace, and updates neither claim nor
// are refused.
func TestLegacyRecordsWithoutContext(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	owner := from("c1", "team-a", "uid-a", nil)
	attacker := from("c1", "team-b", "uid-b", nil)
	f.do(t, "PUT", "/v2/service_instances/l", owner, 201)
	f.do(t, "PUT", "/v2/service_instances/l/service_bindings/old", owner, 201)
	f.do(t, "PUT", "/v2/service_instances/m", owner, 201)
	forget := func(key string, rec interface{ forget() }) {
		t.Helper()
		if ok, err := f.store.Get(ctx, key, rec); err != nil || !ok {
			t.Fatal(key, ok, err)
		}
		rec.forget()
		if err := f.store.Put(ctx, key, rec); err != nil {
			t.Fatal(err)
		}
	}
	forget(instanceKey("l"), &instanceRecord{})
	forget(instanceKey("m"), &instanceRecord{})
	forget(bindingKey("l", "old"), &bindingRecord{})
	legacy := func(id string) bool {
		t.Helper()
		rec, err := f.broker.getInstance(ctx, id)
		if err != nil || rec == nil {
			t.Fatal(rec, err)
		}
		return rec.Context == nil
	}

	r := f.do(t, "PUT", "/v2/service_instances/l", attacker, 409)
	if !strings.Contains(r.Str("description"), "older broker") {
		t.Fatalf("description %q", r.Str("description"))
	}
	f.do(t, "PUT", "/v2/service_instances/l", owner, 409) // even the owner's: the record cannot tell
	noContext := kafkatest.Details(svc, duck, nil)
	delete(noContext, "context")
	f.do(t, "PUT", "/v2/service_instances/l", noContext, 200) // a platform that sends none, as before

	// The instance's binding names the owner's namespace: a bind from
	// another one does not claim it.
	f.do(t, "PUT", "/v2/service_instances/l/service_bindings/b", attacker, 409)
	f.assertNoUser(t, "t-l.b")
	if !legacy("l") {
		t.Fatal("a refused bind claimed the instance")
	}
	// The owner's repeated bind of its legacy binding works, and claims.
	f.do(t, "PUT", "/v2/service_instances/l/service_bindings/old", owner, 200)
	if legacy("l") {
		t.Fatal("the owner's bind did not claim the instance")
	}
	r = f.do(t, "PUT", "/v2/service_instances/l/service_bindings/b", attacker, 409)
	if !strings.Contains(r.Str("description"), "another platform context") {
		t.Fatalf("description %q", r.Str("description"))
	}
	f.do(t, "PUT", "/v2/service_instances/l/service_bindings/b", owner, 201)
	f.do(t, "PUT", "/v2/service_instances/l", owner, 200)

	// Updates neither claim nor are refused; the first bind claims.
	f.do(t, "PATCH", "/v2/service_instances/m", map[string]any{"service_id": svc, "context": owner["context"]}, 200)
	if !legacy("m") {
		t.Fatal("an update claimed the instance")
	}
	f.do(t, "PUT", "/v2/service_instances/m/service_bindings/b", owner, 201)
	f.do(t, "PUT", "/v2/service_instances/m/service_bindings/c", attacker, 409)
	f.do(t, "PATCH", "/v2/service_instances/m", map[string]any{"service_id": svc, "context": attacker["context"]}, 409)
}

func (r *instanceRecord) forget() { r.Context = nil }
func (r *bindingRecord) forget()  { r.Context = nil }

func TestLegacyBindRefused(t *testing.T) {
	k8s := platformContext{Platform: "kubernetes", Namespace: "n"}
	tests := []struct {
		name     string
		req      platformContext
		app      string
		existing []string
		want     bool
	}{
		{"no bindings: no evidence", k8s, "uid-a", nil, false},
		{"bindings of the same namespace", k8s, "uid-a", []string{"uid-a", "uid-a"}, false},
		{"bindings without an app GUID", k8s, "uid-a", []string{""}, false},
		{"a binding of another namespace", k8s, "uid-b", []string{"uid-a"}, true},
		{"Cloud Foundry: app GUIDs are apps", platformContext{Platform: "cloudfoundry"}, "app-2", []string{"app-1"}, false},
	}
	for _, tt := range tests {
		if got := legacyBindRefused(tt.req, tt.app, tt.existing); got != tt.want {
			t.Errorf("%s: legacyBindRefused = %v, want %v", tt.name, got, tt.want)
		}
	}
}

// Errors from Kafka reach the platform as their kind only: the names in
// them (users, topics, prefixes) stay in the broker's log.
func TestInternalErrorsNameNothing(t *testing.T) {
	f := newFixture(t)
	f.do(t, "PUT", "/v2/service_instances/e", kafkatest.Details(svc, duck, nil), 201)
	failKey(f.cluster, kmsg.CreateACLs.Int16())
	r := f.do(t, "PUT", "/v2/service_instances/e/service_bindings/secretuser", kafkatest.Details(svc, duck, nil), 500)
	assertRevealsNothing(t, r, "t-e.", "secretuser")
	if !strings.Contains(r.Str("description"), "Kafka answered") {
		t.Fatalf("description %q does not say what kind of failure it was", r.Str("description"))
	}
}

// An instance that is busy (here: being deprovisioned) gives a bind from
// another context the same 409 as a ready one, not "in progress": the
// answer must not tell another tenant that the instance exists and what it
// is doing.
func TestOtherContextBindToBusyInstance(t *testing.T) {
	f := newFixture(t)
	f.do(t, "PUT", "/v2/service_instances/v", from("c1", "team-a", "uid-a", nil), 201)
	ctx := context.Background()
	rec, err := f.broker.getInstance(ctx, "v")
	if err != nil || rec == nil {
		t.Fatal(rec, err)
	}
	rec.State, rec.Operation = stateDeprovisioning, "deprovision-held"
	if err := f.store.Put(ctx, instanceKey("v"), rec); err != nil {
		t.Fatal(err)
	}
	r := f.do(t, "PUT", "/v2/service_instances/v/service_bindings/x", from("c1", "team-b", "uid-b", nil), 409)
	if !strings.Contains(r.Str("description"), "another platform context") {
		t.Fatalf("description %q", r.Str("description"))
	}
	// Its own context still learns that it has to wait.
	f.do(t, "PUT", "/v2/service_instances/v/service_bindings/x", from("c1", "team-a", "uid-a", nil), 422)
}

// An update may come without a context (OSB makes it optional), so its
// refusals must not read the instance's topics out to whoever sends one:
// a name that clashes with a stored one is refused without naming it.
func TestContextlessUpdateRevealsNoTopic(t *testing.T) {
	f := newFixture(t)
	f.do(t, "PUT", "/v2/service_instances/v", from("c1", "team-a", "uid-a", map[string]any{"topics": []any{map[string]any{"name": "pay.roll"}}}), 201)
	patch := map[string]any{"service_id": svc, "parameters": map[string]any{"topics": []any{map[string]any{"name": "pay_roll"}}}}
	r := f.do(t, "PATCH", "/v2/service_instances/v", patch, 400)
	assertRevealsNothing(t, r, "pay.roll")
	if !strings.Contains(r.Str("description"), `"pay_roll" clashes`) {
		t.Fatalf("description %q does not say which requested topic clashed", r.Str("description"))
	}
}

// A plan change or upgrade rewrites the settings of the owner's topics, so
// it is accepted only from the context the record names: not without a
// context, and not for a record that names none until a bind claims it.
func TestPlanChangeAndUpgradeOnlyFromTheOwner(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	owner := from("c1", "team-a", "uid-a", nil)
	f.do(t, "PUT", "/v2/service_instances/o", owner, 201)
	var rec instanceRecord
	if ok, err := f.store.Get(ctx, instanceKey("o"), &rec); err != nil || !ok {
		t.Fatal(ok, err)
	}
	rec.Context, rec.Maintenance, rec.TopicConfig = nil, nil, nil // as an older broker wrote it
	if err := f.store.Put(ctx, instanceKey("o"), rec); err != nil {
		t.Fatal(err)
	}
	if r := f.do(t, "GET", "/v2/service_instances/o", nil, 200); r.Body["maintenance_info"] != nil {
		t.Fatalf("a record without a maintenance version answers one: %s", r.Raw)
	}
	toBear := map[string]any{"service_id": svc, "plan_id": bear}
	upgrade := map[string]any{"service_id": svc, "maintenance_info": map[string]any{"version": catalog.DefaultMaintenanceVersion}}
	for name, body := range map[string]map[string]any{"plan change": toBear, "upgrade": upgrade} {
		f.do(t, "PATCH", "/v2/service_instances/o", body, 400) // no context
		withAttacker := clone(body)
		withAttacker["context"] = from("c1", "team-b", "uid-b", nil)["context"]
		r := f.do(t, "PATCH", "/v2/service_instances/o", withAttacker, 409)
		if !strings.Contains(r.Str("description"), "older broker") {
			t.Fatalf("%s of a legacy record: %s", name, r.Raw)
		}
	}
	if got, _ := f.broker.getInstance(ctx, "o"); got.PlanID != duck || got.Maintenance != nil {
		t.Fatalf("a refused request changed the record: %+v", got)
	}
	// The owner's bind claims the record; then the owner may upgrade.
	f.do(t, "PUT", "/v2/service_instances/o/service_bindings/b", owner, 201)
	withOwner := clone(upgrade)
	withOwner["context"] = owner["context"]
	f.do(t, "PATCH", "/v2/service_instances/o", withOwner, 200)
	r := f.do(t, "GET", "/v2/service_instances/o", nil, 200)
	if mi, _ := r.Body["maintenance_info"].(map[string]any); mi["version"] != catalog.DefaultMaintenanceVersion {
		t.Fatalf("after the owner's upgrade: %s", r.Raw)
	}
	cfgs, err := f.adm.DescribeTopicConfigs(ctx, "t-o.default")
	if err != nil {
		t.Fatal(err)
	}
	if c, err := cfgs.On("t-o.default", nil); err != nil || !hasConfig(c, "message.timestamp.type", "LogAppendTime") {
		t.Fatalf("the legacy instance's topic after the upgrade: %+v %v", c, err)
	}
	attacker := clone(toBear)
	attacker["context"] = from("c1", "team-b", "uid-b", nil)["context"]
	f.do(t, "PATCH", "/v2/service_instances/o", attacker, 409)
}

func hasConfig(rc kadm.ResourceConfig, key, value string) bool {
	for _, c := range rc.Configs {
		if c.Key == key && c.Value != nil && *c.Value == value {
			return true
		}
	}
	return false
}
