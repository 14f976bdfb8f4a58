package server_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/svcat-io/svcat/internal/kafkabroker/catalog"
	"github.com/svcat-io/svcat/internal/kafkabroker/kafkatest"
)

func topicsParam(names ...string) map[string]any {
	var ts []any
	for _, n := range names {
		ts = append(ts, map[string]any{"name": n})
	}
	return map[string]any{"topics": ts}
}

// duck → bear raises the tenant's limits, in Kafka (retention.bytes goes,
// retention.ms follows the plan's default) and in what later requests may
// ask for; bear → duck is refused while the tenant is bigger than duck.
func TestPlanChange(t *testing.T) {
	c := kafkatest.Cluster(t, "")
	adm := adminClient(t, c)
	osb, _ := startBroker(t, c)
	const days28, days90 = "2419200000", "7776000000"

	expect(t, "provision duck", osb.Do(t, "PUT", instPath("p"), tenantBody(duck, "team-a", topicsParam("events"))), 201)
	if got := topicConfigs(t, adm, "svcat-p.events"); got["retention.bytes"] != "10485760" || got["retention.ms"] != days28 {
		t.Fatalf("duck topic: %v", got)
	}
	creds := osb.Do(t, "PUT", bindPath("p", "b"), tenantBody(duck, "team-a", nil)).Credentials()
	six := topicsParam("1", "2", "3", "4", "5")
	expect(t, "duck's topic limit", osb.Do(t, "PATCH", instPath("p"), map[string]any{"service_id": svc, "parameters": six}), 400, "plan duck allows 5")

	toBear := map[string]any{"service_id": svc, "plan_id": bear, "context": tenantBody(duck, "team-a", nil)["context"]}
	for i := range 2 { // the second is a retry
		expect(t, fmt.Sprintf("duck to bear %d", i), osb.Do(t, "PATCH", instPath("p"), toBear), 200)
	}
	expect(t, "get", osb.Do(t, "GET", instPath("p"), nil), 200, `"plan_id":"`+bear)
	got := topicConfigs(t, adm, "svcat-p.events")
	if _, capped := got["retention.bytes"]; capped || got["retention.ms"] != days90 {
		t.Fatalf("after moving to bear the topic has %v, want no retention.bytes and 90 days", got)
	}
	if err := produce(t, clientFor(t, creds), "svcat-p.events", "still works"); err != nil {
		t.Fatalf("the binding stopped working across the plan change: %v", err)
	}
	// Later requests use bear's limits.
	wide := map[string]any{"topics": []any{map[string]any{"name": "wide", "partitions": 12}}}
	expect(t, "more topics than duck allows", osb.Do(t, "PATCH", instPath("p"), map[string]any{"service_id": svc, "parameters": six}), 200)
	expect(t, "more partitions than duck allows", osb.Do(t, "PATCH", instPath("p"), map[string]any{"service_id": svc, "parameters": wide}), 200)
	expect(t, "bind under bear", osb.Do(t, "PUT", bindPath("p", "c"), tenantBody(bear, "team-a", nil)), 201)
	expect(t, "bind under the old plan", osb.Do(t, "PUT", bindPath("p", "d"), tenantBody(duck, "team-a", nil)), 400)

	toDuck := map[string]any{"service_id": svc, "plan_id": duck, "context": toBear["context"]}
	r := osb.Do(t, "PATCH", instPath("p"), toDuck)
	expect(t, "bear to duck with 7 topics", r, 422,
		"plan duck allows 5 topics and the instance would have 7",
		"plan duck allows 3 partitions per topic and 1 of the instance's topics have more",
		"keeps plan bear")
	for _, name := range []string{"events", "wide", "svcat-p."} {
		if strings.Contains(string(r.Raw), name) {
			t.Fatalf("the refusal names %q: %s", name, r.Raw)
		}
	}
	expect(t, "still bear", osb.Do(t, "GET", instPath("p"), nil), 200, `"plan_id":"`+bear)
	if got := topicConfigs(t, adm, "svcat-p.events"); got["retention.ms"] != days90 {
		t.Fatalf("a refused plan change altered the topic: %v", got)
	}

	// An instance that fits the smaller plan may move down, and its
	// topics get the smaller plan's caps.
	expect(t, "provision bear", osb.Do(t, "PUT", instPath("q"), tenantBody(bear, "team-a", topicsParam("events"))), 201)
	expect(t, "bear to duck", osb.Do(t, "PATCH", instPath("q"), toDuck), 200)
	if got := topicConfigs(t, adm, "svcat-q.events"); got["retention.bytes"] != "10485760" || got["retention.ms"] != days28 {
		t.Fatalf("after moving to duck the topic has %v", got)
	}
	long := map[string]any{"topics": []any{map[string]any{"name": "long", "retentionHours": 1000}}}
	expect(t, "provision bear with long retention", osb.Do(t, "PUT", instPath("l"), tenantBody(bear, "team-a", long)), 201)
	expect(t, "long retention to duck", osb.Do(t, "PATCH", instPath("l"), toDuck), 422, "plan duck allows 672 hours of retention and 1 of the instance's topics keep records longer")

	// A plan change rewrites the owner's topics, so it needs a context
	// (an update that only adds topics does not), and one from another
	// namespace is refused like every other request from there.
	expect(t, "plan change without a context", osb.Do(t, "PATCH", instPath("q"), map[string]any{"service_id": svc, "plan_id": bear}), 400, "needs the request's context")
	other := map[string]any{"service_id": svc, "plan_id": bear, "context": tenantBody(duck, "team-b", nil)["context"]}
	expect(t, "plan change from another namespace", osb.Do(t, "PATCH", instPath("q"), other), 409, "another platform context")
}

// An operator can turn both features off in the catalog file: plan
// changes get 422 PlanChangeNotSupported, rotations 400.
func TestLifecycleFeaturesOff(t *testing.T) {
	cat, err := catalog.Parse([]byte(`services:
- id: off-svc
  name: kafka
  description: d
  planUpdateable: false
  plans:
  - {id: off-a, name: a, description: d, bindingRotatable: false, limits: {maxTopics: 1, maxPartitions: 1, maxRetentionHours: 1}}
  - {id: off-b, name: b, description: d, limits: {maxTopics: 2, maxPartitions: 1, maxRetentionHours: 1}}
`))
	if err != nil {
		t.Fatal(err)
	}
	osb, _ := startBroker(t, kafkatest.Cluster(t, ""), withCatalog(cat))
	expect(t, "catalog", osb.Do(t, "GET", "/v2/catalog", nil), 200, `"plan_updateable":false`, `"binding_rotatable":false`, `"binding_rotatable":true`)
	expect(t, "provision", osb.Do(t, "PUT", instPath("o"), kafkatest.Details("off-svc", "off-a", nil)), 201)
	ctxOf := kafkatest.Details("off-svc", "off-a", nil)["context"]
	expect(t, "plan change", osb.Do(t, "PATCH", instPath("o"), map[string]any{"service_id": "off-svc", "plan_id": "off-b", "context": ctxOf}), 422, `"error":"PlanChangeNotSupported"`)
	expect(t, "bind", osb.Do(t, "PUT", bindPath("o", "b1"), kafkatest.Details("off-svc", "off-a", nil)), 201)
	rot := kafkatest.Details("off-svc", "off-a", nil)
	rot["predecessor_binding_id"] = "b1"
	expect(t, "rotation", osb.Do(t, "PUT", bindPath("o", "b2"), rot), 400, "binding_rotatable is false")
}
