package svcatcmd_test

import (
	"encoding/json"
	"slices"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/svcat-io/svcat/internal/localcluster"
)

// TestGolden runs the read commands against objects shaped as the
// controller makes them and compares their output with testdata/. The
// first four are the outputs the seed blog post shows.
func TestGolden(t *testing.T) {
	env := localcluster.Get(t)
	seedCatalog(t, env)
	checkGoldens(t, env, []goldenCase{
		{"get-classes", []string{"get", "classes"}},
		{"get-plans", []string{"get", "plans"}},
		{"marketplace", []string{"marketplace"}},
		{"describe-instance", []string{"-n", "default", "describe", "instance", "demo-kafka"}},

		{"get-brokers", []string{"-n", "default", "get", "brokers"}},
		{"get-broker-by-alias", []string{"get", "brk", "cloudkarafka", "--scope", "cluster"}},
		{"get-classes-by-broker", []string{"get", "cl", "--broker", "cloudkarafka"}},
		{"get-plans-by-class", []string{"get", "plans", "--class", "cloudkarafka"}},
		{"get-plan-class-slash-plan", []string{"get", "plan", "cloudkarafka/duck"}},
		{"get-instances", []string{"-n", "default", "get", "instances"}},
		{"get-instances-by-plan", []string{"-n", demoNS, "get", "inst", "--plan", "duck"}},
		{"get-instances-by-other-class", []string{"-n", demoNS, "get", "instances", "--class", "mysql"}},
		{"get-bindings", []string{"-n", demoNS, "get", "bindings"}},
		{"describe-broker", []string{"describe", "broker", "cloudkarafka"}},
		{"describe-class", []string{"describe", "class", "cloudkarafka"}},
		{"describe-class-kube-name", []string{"describe", "class", "-k", classID}},
		{"describe-plan-with-schemas", []string{"-n", "default", "describe", "plan", "cloudkarafka/duck", "--show-schemas"}},
		{"describe-instance-with-bindings", []string{"-n", demoNS, "describe", "instance", "demo-kafka"}},
		{"describe-binding", []string{"-n", demoNS, "describe", "binding", "demo-kafka-binding"}},
		{"describe-binding-show-secrets", []string{"-n", demoNS, "describe", "binding", "demo-kafka-binding", "--show-secrets"}},
	})
}

// TestStructuredOutput checks -o json and -o yaml by content: they carry
// uids and timestamps that differ on every run.
func TestStructuredOutput(t *testing.T) {
	env := localcluster.Get(t)
	seedCatalog(t, env)
	type object struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
		Metadata   struct {
			Name          string `json:"name"`
			ManagedFields []any  `json:"managedFields"`
		} `json:"metadata"`
	}
	type list struct {
		Kind  string   `json:"kind"`
		Items []object `json:"items"`
	}
	tests := []struct {
		args      []string
		wantKind  string
		wantItems []string
	}{
		{[]string{"get", "classes", "-o", "json"}, "List", []string{"ClusterServiceClass/" + classID}},
		{[]string{"get", "class", "cloudkarafka", "-o", "json"}, "ClusterServiceClass", nil},
		{[]string{"marketplace", "-o", "json"}, "List", []string{"ClusterServiceClass/" + classID, "ClusterServicePlan/" + planID}},
		{[]string{"-n", demoNS, "get", "bindings", "-o", "yaml"}, "List", []string{"ServiceBinding/demo-kafka-binding"}},
		{[]string{"-n", "default", "get", "instance", "demo-kafka", "-o", "yaml"}, "ServiceInstance", nil},
	}
	for _, tt := range tests {
		r := svcat(t, env, "", tt.args...)
		if r.code != 0 {
			t.Errorf("%v: exit %d: %s", tt.args, r.code, r.stderr)
			continue
		}
		data := []byte(r.stdout)
		if tt.args[len(tt.args)-1] == "yaml" {
			var err error
			if data, err = yaml.YAMLToJSON(data); err != nil {
				t.Errorf("%v: %v", tt.args, err)
				continue
			}
		}
		var l list
		var o object
		if err := json.Unmarshal(data, &l); err != nil {
			t.Errorf("%v: %v\n%s", tt.args, err, r.stdout)
			continue
		}
		_ = json.Unmarshal(data, &o)
		if l.Kind != tt.wantKind {
			t.Errorf("%v: kind %q, want %q", tt.args, l.Kind, tt.wantKind)
		}
		if o.Metadata.ManagedFields != nil {
			t.Errorf("%v: managedFields are printed", tt.args)
		}
		var got []string
		for _, it := range l.Items {
			if it.APIVersion != "servicecatalog.k8s.io/v1beta1" {
				t.Errorf("%v: item %s has apiVersion %q", tt.args, it.Metadata.Name, it.APIVersion)
			}
			got = append(got, it.Kind+"/"+it.Metadata.Name)
		}
		if tt.wantItems != nil && !slices.Equal(got, tt.wantItems) {
			t.Errorf("%v: items %v, want %v", tt.args, got, tt.wantItems)
		}
	}
}
