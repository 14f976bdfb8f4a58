package broker

import (
	"strings"
	"testing"

	"github.com/svcat-io/svcat/internal/kafkabroker/catalog"
)

// sharedFrom is a bind body from namespace consumer for an instance of
// owner: svcat's bind for an instance shared across namespaces.
func sharedFrom(cluster, consumer, consumerUID, owner string) map[string]any {
	d := from(cluster, consumer, consumerUID, nil)
	ctx := d["context"].(map[string]any)
	ctx["instance_namespace"] = owner
	return d
}

// A bind from a namespace the instance is shared with names the owner in
// context.instance_namespace: accepted for a shareable service, with
// credentials of its own; the instance stays the owner's (updates from
// the consumer are refused), and every other combination is refused as a
// bind from another context is, without a trace of the owner's data.
func TestSharedBind(t *testing.T) {
	f := newFixture(t)
	params := map[string]any{"topics": []any{map[string]any{"name": "payroll-events"}}}
	f.do(t, "PUT", "/v2/service_instances/v", from("c1", "team-a", "uid-a", params), 201)
	own := f.do(t, "PUT", "/v2/service_instances/v/service_bindings/own", from("c1", "team-a", "uid-a", nil), 201)
	secrets := []string{"payroll", own.Credentials()["password"], "uid-a"}

	shared := f.do(t, "PUT", "/v2/service_instances/v/service_bindings/shared", sharedFrom("c1", "team-b", "uid-b", "team-a"), 201)
	if shared.Credentials()["password"] == "" || shared.Credentials()["password"] == own.Credentials()["password"] {
		t.Fatalf("the shared bind's credentials: %s", shared.Raw)
	}
	// Repeated: the same credentials; from the owner's context without
	// the consumer's namespace: a conflict.
	if again := f.do(t, "PUT", "/v2/service_instances/v/service_bindings/shared", sharedFrom("c1", "team-b", "uid-b", "team-a"), 200); again.Credentials()["password"] != shared.Credentials()["password"] {
		t.Fatal("a repeated shared bind got other credentials")
	}
	f.do(t, "PUT", "/v2/service_instances/v/service_bindings/shared", from("c1", "team-a", "uid-a", nil), 409)

	for name, body := range map[string]map[string]any{
		"the consumer without instance_namespace": from("c1", "team-b", "uid-b", nil),
		"another owner named":                     sharedFrom("c1", "team-b", "uid-b", "team-c"),
		"another cluster":                         sharedFrom("c2", "team-b", "uid-b", "team-a"),
	} {
		t.Run(name, func(t *testing.T) {
			r := f.do(t, "PUT", "/v2/service_instances/v/service_bindings/x", body, 409)
			assertRevealsNothing(t, r, secrets...)
		})
	}
	f.assertNoUser(t, "t-v.x")
	// An update from the consumer is no update from the owner.
	patch := map[string]any{"service_id": svc, "context": sharedFrom("c1", "team-b", "uid-b", "team-a")["context"], "parameters": map[string]any{"topics": []any{}}}
	assertRevealsNothing(t, f.do(t, "PATCH", "/v2/service_instances/v", patch, 409), secrets...)

	bad := sharedFrom("c1", "team-b", "uid-b", "team-a")
	bad["context"].(map[string]any)["instance_namespace"] = ""
	if r := f.do(t, "PUT", "/v2/service_instances/v/service_bindings/y", bad, 400); !strings.Contains(r.Str("description"), "instance_namespace is empty") {
		t.Errorf("an empty instance_namespace: %s", r.Raw)
	}
	f.do(t, "DELETE", "/v2/service_instances/v/service_bindings/shared?service_id="+svc+"&plan_id="+duck, nil, 200)
	f.assertNoUser(t, "t-v.shared")
}

// A service whose catalog metadata does not say "shareable": true is
// bound only from the namespace that provisioned it.
func TestSharedBindOfUnshareableService(t *testing.T) {
	f := newFixture(t, func(c *Config) {
		cat := catalog.Default()
		cat.Services[0].Metadata.Shareable = nil
		c.Catalog = cat
	})
	f.do(t, "PUT", "/v2/service_instances/v", from("c1", "team-a", "uid-a", nil), 201)
	r := f.do(t, "PUT", "/v2/service_instances/v/service_bindings/shared", sharedFrom("c1", "team-b", "uid-b", "team-a"), 400)
	if !strings.Contains(r.Str("description"), "not shareable") {
		t.Errorf("description %q does not say the service is not shareable", r.Str("description"))
	}
	f.assertNoUser(t, "t-v.shared")
}
