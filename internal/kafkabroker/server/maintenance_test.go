package server_test

import (
	"crypto/rand"
	"fmt"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/svcat-io/svcat/internal/kafkabroker/catalog"
	"github.com/svcat-io/svcat/internal/kafkabroker/kafkatest"
	"github.com/svcat-io/svcat/internal/kafkabroker/server"
)

const (
	mSvc  = "8d1c6a0e-1111-4b8e-9d7e-0a0b0c0d0e01"
	mPlan = "8d1c6a0e-2222-4b8e-9d7e-0a0b0c0d0e02"
)

// maintenanceCatalog is one plan at a maintenance version with topic
// configs, as an operator's catalog file would have it.
func maintenanceCatalog(t *testing.T, version, topicConfig string) *catalog.Catalog {
	t.Helper()
	c, err := catalog.Parse(fmt.Appendf(nil, `services:
- id: %s
  name: kafka
  description: d
  plans:
  - id: %s
    name: small
    description: d
    limits: {maxTopics: 5, maxPartitions: 3, maxRetentionHours: 24}
    maintenanceInfo: {version: %s, description: "version %s"}
    topicConfig: %s
`, mSvc, mPlan, version, version, topicConfig))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func withCatalog(c *catalog.Catalog) func(*server.Config) {
	return func(cfg *server.Config) { cfg.Catalog = c }
}

// topicConfigs describes a topic's configs that were set on the topic
// itself (not defaults).
func topicConfigs(t *testing.T, adm *kadm.Client, topic string) map[string]string {
	t.Helper()
	rcs, err := adm.DescribeTopicConfigs(shortCtx(t), topic)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, rc := range rcs {
		if rc.Err != nil {
			t.Fatalf("describing %s: %v", topic, rc.Err)
		}
		for _, c := range rc.Configs {
			if c.Source == kmsg.ConfigSourceDynamicTopicConfig && c.Value != nil {
				out[c.Key] = *c.Value
			}
		}
	}
	return out
}

func maintenanceOf(t *testing.T, r kafkatest.Response) string {
	t.Helper()
	mi, ok := r.Body["maintenance_info"].(map[string]any)
	if !ok {
		return ""
	}
	v, _ := mi["version"].(string)
	return v
}

func mDetails(version string, params any) map[string]any {
	d := kafkatest.Details(mSvc, mPlan, params)
	if version != "" {
		d["maintenance_info"] = map[string]any{"version": version}
	}
	return d
}

// An operator ships a new maintenance version with new topic configs. An
// instance keeps its version, and the configs that came with it, until an
// update carries the plan's current maintenance_info; then its topics get
// the new configs, which the tenant sees in what Kafka accepts.
func TestMaintenanceUpgrade(t *testing.T) {
	c := kafkatest.Cluster(t, "")
	adm := adminClient(t, c)
	v1, _ := startBroker(t, c, withCatalog(maintenanceCatalog(t, "1.0.0", `{max.message.bytes: "1048576", segment.ms: "3600000"}`)))
	params := map[string]any{"topics": []any{map[string]any{"name": "events"}}}

	expect(t, "provision with an outdated version", v1.Do(t, "PUT", instPath("old"), mDetails("0.9.0", nil)), 422, `"error":"MaintenanceInfoConflict"`, "0.9.0", "1.0.0")
	expect(t, "provision", v1.Do(t, "PUT", instPath("m"), mDetails("1.0.0", params)), 201)
	expect(t, "provision again", v1.Do(t, "PUT", instPath("m"), mDetails("1.0.0", params)), 200)
	if v := maintenanceOf(t, v1.Do(t, "GET", instPath("m"), nil)); v != "1.0.0" {
		t.Fatalf("GET instance says maintenance_info.version %q, want 1.0.0", v)
	}
	topic := "svcat-m.events"
	if got := topicConfigs(t, adm, topic); got["max.message.bytes"] != "1048576" || got["segment.ms"] != "3600000" {
		t.Fatalf("topic configs after provision: %v", got)
	}
	creds := v1.Do(t, "PUT", bindPath("m", "b"), kafkatest.Details(mSvc, mPlan, nil)).Credentials()
	// Random bytes, because a producer compresses its batches.
	payload := make([]byte, 1536<<10)
	if _, err := rand.Read(payload); err != nil {
		t.Fatal(err)
	}
	big := func() error {
		cl := clientFor(t, creds, kgo.ProducerBatchMaxBytes(4<<20), kgo.RecordRetries(1))
		return produce(t, cl, topic, string(payload))
	}
	if err := big(); err == nil {
		t.Fatal("a 1.5 MiB record was accepted under version 1.0.0 (max.message.bytes 1 MiB)")
	}

	// The operator rolls out version 2.0.0 (here: a second broker with
	// the new catalog file on the same cluster).
	v2, _ := startBroker(t, c, withCatalog(maintenanceCatalog(t, "2.0.0", `{max.message.bytes: "2097152", message.timestamp.type: LogAppendTime}`)))
	got := v2.Do(t, "GET", instPath("m"), nil)
	expect(t, "get", got, 200)
	if v := maintenanceOf(t, got); v != "1.0.0" {
		t.Fatalf("before the upgrade GET instance says %q, want the instance's 1.0.0", v)
	}
	// Topics added before the upgrade keep the instance's version.
	more := map[string]any{"topics": []any{map[string]any{"name": "audit"}}}
	expect(t, "add a topic", v2.Do(t, "PATCH", instPath("m"), map[string]any{"service_id": mSvc, "parameters": more}), 200)
	if got := topicConfigs(t, adm, "svcat-m.audit"); got["max.message.bytes"] != "1048576" {
		t.Fatalf("a topic added before the upgrade got configs %v, want version 1.0.0's", got)
	}
	expect(t, "update with the instance's old version", v2.Do(t, "PATCH", instPath("m"), map[string]any{"service_id": mSvc, "maintenance_info": map[string]any{"version": "1.0.0"}}), 422, `"error":"MaintenanceInfoConflict"`, "2.0.0")
	expect(t, "provision with the old version", v2.Do(t, "PUT", instPath("n"), mDetails("1.0.0", nil)), 422, `"error":"MaintenanceInfoConflict"`)
	if got := topicConfigs(t, adm, topic); got["max.message.bytes"] != "1048576" {
		t.Fatalf("a refused upgrade changed the topic: %v", got)
	}

	upgrade := map[string]any{"service_id": mSvc, "plan_id": mPlan, "maintenance_info": map[string]any{"version": "2.0.0"}, "context": mDetails("", nil)["context"]}
	for i := range 2 { // the second is a platform's retry: same answer, same state
		expect(t, fmt.Sprintf("upgrade %d", i), v2.Do(t, "PATCH", instPath("m"), upgrade), 200)
		for _, tp := range []string{topic, "svcat-m.audit"} {
			got := topicConfigs(t, adm, tp)
			if got["max.message.bytes"] != "2097152" || got["message.timestamp.type"] != "LogAppendTime" {
				t.Fatalf("%s after the upgrade: %v", tp, got)
			}
			if _, kept := got["segment.ms"]; kept {
				t.Fatalf("%s kept version 1.0.0's segment.ms, which 2.0.0 dropped: %v", tp, got)
			}
			if got["retention.ms"] != "86400000" {
				t.Fatalf("%s lost its retention in the upgrade: %v", tp, got)
			}
		}
	}
	after := v1.Do(t, "GET", instPath("m"), nil) // any replica
	if v := maintenanceOf(t, after); v != "2.0.0" || !strings.Contains(string(after.Raw), `"description":"version 2.0.0"`) {
		t.Fatalf("after the upgrade GET instance says %s", after.Raw)
	}
	if err := big(); err != nil {
		t.Fatalf("a 1.5 MiB record is refused after the upgrade to max.message.bytes 2 MiB: %v", err)
	}
	expect(t, "provision at the new version", v2.Do(t, "PUT", instPath("n"), mDetails("2.0.0", params)), 201)
	if got := topicConfigs(t, adm, "svcat-n.events"); got["max.message.bytes"] != "2097152" {
		t.Fatalf("a new instance's topic got %v", got)
	}
}

// Kafka refuses the config change: the update fails, says only what kind
// of failure it was, and changes nothing; the platform may retry it.
func TestFailedUpgradeChangesNothing(t *testing.T) {
	c := kafkatest.Cluster(t, "")
	adm := adminClient(t, c)
	v1, _ := startBroker(t, c, withCatalog(maintenanceCatalog(t, "1.0.0", `{max.message.bytes: "1048576"}`)))
	expect(t, "provision", v1.Do(t, "PUT", instPath("f"), mDetails("", map[string]any{"topics": []any{map[string]any{"name": "a"}}})), 201)
	v2, _ := startBroker(t, c, withCatalog(maintenanceCatalog(t, "2.0.0", `{max.message.bytes: "2097152"}`)))
	// Once: the broker's rollback that follows goes through.
	c.Fake().ControlKey(kmsg.IncrementalAlterConfigs.Int16(), func(kreq kmsg.Request) (kmsg.Response, error, bool) {
		req := kreq.(*kmsg.IncrementalAlterConfigsRequest)
		resp := req.ResponseKind().(*kmsg.IncrementalAlterConfigsResponse)
		for _, r := range req.Resources {
			rr := kmsg.NewIncrementalAlterConfigsResponseResource()
			rr.ResourceType, rr.ResourceName, rr.ErrorCode = r.ResourceType, r.ResourceName, kerr.PolicyViolation.Code
			resp.Resources = append(resp.Resources, rr)
		}
		return resp, nil, true
	})
	upgrade := map[string]any{"service_id": mSvc, "maintenance_info": map[string]any{"version": "2.0.0"}, "context": mDetails("", nil)["context"]}
	r := v2.Do(t, "PATCH", instPath("f"), upgrade)
	expect(t, "upgrade refused by Kafka", r, 500, "POLICY_VIOLATION")
	if strings.Contains(string(r.Raw), "svcat-f.") {
		t.Fatalf("the failure names the tenant's topics: %s", r.Raw)
	}
	if v := maintenanceOf(t, v2.Do(t, "GET", instPath("f"), nil)); v != "1.0.0" {
		t.Fatalf("a failed upgrade recorded version %q", v)
	}
	if got := topicConfigs(t, adm, "svcat-f.a"); got["max.message.bytes"] != "1048576" {
		t.Fatalf("a failed upgrade changed the topic: %v", got)
	}
	expect(t, "retried upgrade", v2.Do(t, "PATCH", instPath("f"), upgrade), 200)
	if got := topicConfigs(t, adm, "svcat-f.a"); got["max.message.bytes"] != "2097152" {
		t.Fatalf("the retried upgrade left the topic at %v", got)
	}
}
