package v1beta1_test

import (
	"context"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/svcat-io/svcat/internal/localcluster"
)

// Transition rules only run on updates, so each case creates an object,
// then updates one field and checks the API server's answer.
func TestTransitionRules(t *testing.T) {
	env := localcluster.Get(t)
	ns := env.Namespace(t)
	cases := []struct {
		name    string
		create  string
		path    []string
		value   any
		wantMsg string // empty: the update must be accepted
	}{
		{"instance externalID set once", instance + `  {clusterServiceClassExternalName: c}`,
			[]string{"spec", "externalID"}, "8c2f9a6e-instance", ""},
		{"instance externalID changed", instance + `  {clusterServiceClassExternalName: c, externalID: first}`,
			[]string{"spec", "externalID"}, "second", "externalID is immutable once set"},
		{"instance externalID cleared", instance + `  {clusterServiceClassExternalName: c, externalID: first}`,
			[]string{"spec", "externalID"}, "", "externalID is immutable once set"},
		{"instance updateRequests increased", instance + `  {clusterServiceClassExternalName: c, updateRequests: 2}`,
			[]string{"spec", "updateRequests"}, int64(3), ""},
		{"instance updateRequests decreased", instance + `  {clusterServiceClassExternalName: c, updateRequests: 2}`,
			[]string{"spec", "updateRequests"}, int64(1), "updateRequests must not decrease"},
		{"instance plan changed", instance + `  {clusterServiceClassExternalName: c, clusterServicePlanExternalName: small}`,
			[]string{"spec", "clusterServicePlanExternalName"}, "large", ""},
		{"broker relistRequests increased", broker + `  {url: "https://b.example", relistRequests: 5}`,
			[]string{"spec", "relistRequests"}, int64(6), ""},
		{"broker relistRequests decreased", broker + `  {url: "https://b.example", relistRequests: 5}`,
			[]string{"spec", "relistRequests"}, int64(4), "relistRequests must not decrease"},
		{"binding instanceRef changed", binding + `  {instanceRef: {name: a}}`,
			[]string{"spec", "instanceRef", "name"}, "b", "instanceRef is immutable"},
		{"binding secretName set once", binding + `  {instanceRef: {name: a}}`,
			[]string{"spec", "secretName"}, "creds", ""},
		{"binding secretName changed", binding + `  {instanceRef: {name: a}, secretName: creds}`,
			[]string{"spec", "secretName"}, "other", "secretName is immutable once set"},
		{"binding externalID changed", binding + `  {instanceRef: {name: a}, externalID: first}`,
			[]string{"spec", "externalID"}, "second", "externalID is immutable once set"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			u := object(t, tc.create, ns)
			if err := createAndClean(t, env.Client, u); err != nil {
				t.Fatalf("create: %v", err)
			}
			if err := unstructured.SetNestedField(u.Object, tc.value, tc.path...); err != nil {
				t.Fatal(err)
			}
			err := env.Client.Update(context.Background(), u)
			switch {
			case tc.wantMsg == "" && err != nil:
				t.Fatalf("update rejected: %v", err)
			case tc.wantMsg != "" && err == nil:
				t.Fatalf("update of %s to %v accepted, want %q", strings.Join(tc.path, "."), tc.value, tc.wantMsg)
			case tc.wantMsg != "" && !strings.Contains(err.Error(), tc.wantMsg):
				t.Fatalf("rejected with\n  %v\nwant a message containing %q", err, tc.wantMsg)
			}
		})
	}
}
