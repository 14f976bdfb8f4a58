package catalog

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestDefaultCatalog(t *testing.T) {
	c := Default()
	svcs := c.OSB()
	if len(svcs) != 1 || svcs[0].Name != "kafka" || !svcs[0].Bindable || svcs[0].Tags[0] != "kafka" {
		t.Fatalf("unexpected default service: %+v", svcs)
	}
	duck, ok := c.Plan(DefaultServiceID, DefaultDuckID)
	if !ok || duck.Name != "duck" || duck.Description != "Developer Duck" || !*duck.Free {
		t.Fatalf("duck plan: %+v %v", duck, ok)
	}
	if _, ok := c.Plan("other-service", DefaultDuckID); ok {
		t.Fatal("plan found under the wrong service")
	}
	// The rendered catalog must be what OSB expects on the wire.
	b, err := json.Marshal(svcs)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"plan_updateable":true`, `"maintenance_info":{"version":"1.1.0"`, `"Credentials expire after 30 days"`, `"bullets":["Shared cluster","Max 5 topics"`, `"$schema":"http://json-schema.org/draft-07/schema#"`, `"instances_retrievable":true`, `"bindings_retrievable":true`, `"maxItems":5`, `"limits":{"maxTopics":5,"maxPartitions":3`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("catalog JSON lacks %s:\n%s", want, b)
		}
	}
}

// binding_rotatable is OSB 2.17 and unknown to brokerapi, so the served
// catalog adds it.
func TestCatalogJSONHasBindingRotatable(t *testing.T) {
	var doc struct {
		Services []struct {
			PlanUpdateable bool `json:"plan_updateable"`
			Plans          []struct {
				Name             string `json:"name"`
				BindingRotatable *bool  `json:"binding_rotatable"`
				MaintenanceInfo  *struct {
					Version string `json:"version"`
				} `json:"maintenance_info"`
			} `json:"plans"`
		} `json:"services"`
	}
	if err := json.Unmarshal(Default().OSBJSON(), &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Services) != 1 || !doc.Services[0].PlanUpdateable || len(doc.Services[0].Plans) != 2 {
		t.Fatalf("catalog: %+v", doc)
	}
	for _, p := range doc.Services[0].Plans {
		if p.BindingRotatable == nil || !*p.BindingRotatable || p.MaintenanceInfo == nil || p.MaintenanceInfo.Version != DefaultMaintenanceVersion {
			t.Errorf("plan %s: binding_rotatable %v, maintenance_info %+v", p.Name, p.BindingRotatable, p.MaintenanceInfo)
		}
	}
	off, err := Parse([]byte("services:\n- {id: s, name: k, description: d, planUpdateable: false, plans: [{id: p, name: a, description: d, bindingRotatable: false, limits: {maxTopics: 1, maxPartitions: 1, maxRetentionHours: 1}}]}"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"binding_rotatable":false`, `"plan_updateable":false`} {
		if !strings.Contains(string(off.OSBJSON()), want) {
			t.Errorf("catalog with the features off lacks %s: %s", want, off.OSBJSON())
		}
	}
}

func TestLoadSeedCatalog(t *testing.T) {
	c, err := Load("testdata/cloudkarafka.yaml")
	if err != nil {
		t.Fatal(err)
	}
	p, ok := c.Plan("d21df959-6da8-495f-a8b6-ddc51d49eea2", "e64a8b50-be7f-48cf-9010-9ccb7fe075b5")
	if !ok || p.Name != "duck" || p.Limits.MaxBytesPerTopic != 10<<20 || len(p.DefaultTopics) != 1 {
		t.Fatalf("seed plan: %+v", p)
	}
	s := c.OSB()[0]
	if s.Name != "cloudkarafka" || s.Plans[0].Metadata.Bullets[3] != "Max 28 days retention" {
		t.Fatalf("seed service: %+v", s)
	}
}

func TestParseRejects(t *testing.T) {
	plan := func(id, name string, limits string, extra ...string) string {
		return "\n  - {id: " + id + ", name: " + name + ", description: d, limits: " + limits + strings.Join(extra, "") + "}"
	}
	ok := "{maxTopics: 1, maxPartitions: 1, maxRetentionHours: 1}"
	svc := "services:\n- id: s\n  name: kafka\n  description: d\n  plans:"
	tests := []struct {
		name, yaml, want string
	}{
		{"empty", "services: []", "no services"},
		{"unknown field", svc + plan("p", "a", ok) + "\n  bogus: 1", "unknown field"},
		{"duplicate id", svc + plan("p", "a", ok) + plan("p", "b", ok), "reuses id"},
		{"plan reuses service id", svc + plan("s", "a", ok), "reuses id"},
		{"duplicate plan name", svc + plan("p", "a", ok) + plan("q", "a", ok), "duplicate plan name"},
		{"bad limits", svc + plan("p", "a", "{maxTopics: 1, maxPartitions: 0, maxRetentionHours: 1}"), "limits need"},
		{"no plans", "services:\n- {id: s, name: kafka, description: d}", "no plans"},
		{"bad name", svc + plan("p", "a b", ok), "needs a name"},
		{"default topic over limits", svc + plan("p", "a", ok, ", defaultTopics: [{name: x, partitions: 2}]"), "defaultTopics: invalid parameters: parameters.topics[0].partitions"},
		{"maintenance version not semver", svc + plan("p", "a", ok, ", maintenanceInfo: {version: v1.0}"), "not a semantic version"},
		{"topicConfig without maintenance version", svc + plan("p", "a", ok, ", topicConfig: {max.message.bytes: '1024'}"), "needs a maintenanceInfo version"},
		{"topicConfig owned by the limits", svc + plan("p", "a", ok, ", maintenanceInfo: {version: 1.0.0}, topicConfig: {retention.ms: '1'}"), "topicConfig.retention.ms is not allowed"},
		{"negative credential lifetime", svc + plan("p", "a", ok, ", credentialLifetimeHours: -1"), "credentialLifetimeHours"},
		{"default topics clash", svc + plan("p", "a", "{maxTopics: 2, maxPartitions: 1, maxRetentionHours: 1}", ", defaultTopics: [{name: a.b}, {name: a_b}]"), "clashes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.yaml))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Parse error = %v, want it to mention %q", err, tt.want)
			}
		})
	}
	if _, err := Parse([]byte(svc + plan("p", "a", ok))); err != nil {
		t.Fatalf("valid catalog rejected: %v", err)
	}
}

func TestInstanceParams(t *testing.T) {
	c := Default()
	tests := []struct {
		name, params string
		wantErr      string // empty: valid
		wantTopics   int
	}{
		{"none", ``, "", 0},
		{"empty object", `{}`, "", 0},
		{"topics", `{"topics":[{"name":"events","partitions":3,"retentionHours":24},{"name":"a.b_c-d"}]}`, "", 2},
		{"unknown parameter", `{"topic":[]}`, "parameters.topic: is not allowed", 0},
		{"too many partitions", `{"topics":[{"name":"x","partitions":4}]}`, "parameters.topics[0].partitions: must be <= 3", 0},
		{"retention too long", `{"topics":[{"name":"x","retentionHours":10000}]}`, "parameters.topics[0].retentionHours", 0},
		{"too many topics", `{"topics":[{"name":"a"},{"name":"b"},{"name":"c"},{"name":"d"},{"name":"e"},{"name":"f"}]}`, "parameters.topics: must have at most 5 items", 0},
		{"bad name", `{"topics":[{"name":"../x"}]}`, "parameters.topics[0].name", 0},
		{"missing name", `{"topics":[{"partitions":1}]}`, "parameters.topics[0].name: is required", 0},
		{"duplicate", `{"topics":[{"name":"a"},{"name":"a"}]}`, "listed twice", 0},
		{"clash", `{"topics":[{"name":"a.b"},{"name":"a_b"}]}`, `parameters.topics[1].name: topic "a_b" clashes with "a.b"`, 0},
		{"wrong type", `{"topics":"a"}`, "parameters.topics: must be array, not string", 0},
		{"not JSON", `{`, "not valid JSON", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := c.InstanceParams(DefaultDuckID, json.RawMessage(tt.params))
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				if len(p.Topics) != tt.wantTopics {
					t.Fatalf("topics = %v, want %d", p.Topics, tt.wantTopics)
				}
				return
			}
			var pe *ParamError
			if !errors.As(err, &pe) || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error = %v, want a ParamError containing %q", err, tt.wantErr)
			}
		})
	}
}

// Parameters may come from a tenant's Secret and answers end up in
// conditions: a refusal says what is wrong without quoting the value.
func TestParamErrorsQuoteNoValue(t *testing.T) {
	_, err := Default().InstanceParams(DefaultDuckID, json.RawMessage(`{"topics":[{"name":"hunter2-secret!","partitions":424242}]}`))
	if err == nil {
		t.Fatal("accepted")
	}
	for _, v := range []string{"hunter2", "424242"} {
		if strings.Contains(err.Error(), v) {
			t.Fatalf("error quotes %q: %v", v, err)
		}
	}
}

func TestBindingParams(t *testing.T) {
	c := Default()
	if err := c.BindingParams(DefaultDuckID, json.RawMessage(`{}`)); err != nil {
		t.Fatal(err)
	}
	if err := c.BindingParams(DefaultDuckID, json.RawMessage(`{"admin":true}`)); err == nil || !strings.Contains(err.Error(), "parameters.admin: is not allowed") {
		t.Fatalf("error = %v, want it to name parameters.admin", err)
	}
}
