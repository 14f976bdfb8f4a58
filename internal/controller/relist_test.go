package controller

import (
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	scv1beta1 "github.com/svcat-io/svcat/api/v1beta1"
)

func TestRelistDue(t *testing.T) {
	now := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	fetched := func(ago time.Duration) *metav1.Time { m := metav1.NewTime(now.Add(-ago)); return &m }
	ready := func(s scv1beta1.ConditionStatus) []scv1beta1.ServiceBrokerCondition {
		return []scv1beta1.ServiceBrokerCondition{{Type: scv1beta1.ServiceBrokerConditionReady, Status: s}}
	}
	cases := []struct {
		name      string
		gen       int64
		spec      scv1beta1.CommonServiceBrokerSpec
		status    scv1beta1.CommonServiceBrokerStatus
		wantDue   bool
		wantAfter time.Duration
	}{
		{"never fetched", 1, scv1beta1.CommonServiceBrokerSpec{}, scv1beta1.CommonServiceBrokerStatus{}, true, 0},
		{"spec changed", 2, scv1beta1.CommonServiceBrokerSpec{},
			scv1beta1.CommonServiceBrokerStatus{ReconciledGeneration: 1, Conditions: ready("True"), LastCatalogRetrievalTime: fetched(time.Minute)}, true, 0},
		{"last fetch failed", 1, scv1beta1.CommonServiceBrokerSpec{},
			scv1beta1.CommonServiceBrokerStatus{ReconciledGeneration: 1, Conditions: ready("False"), LastCatalogRetrievalTime: fetched(time.Minute)}, true, 0},
		{"default interval not reached", 1, scv1beta1.CommonServiceBrokerSpec{RelistBehavior: "Duration"},
			scv1beta1.CommonServiceBrokerStatus{ReconciledGeneration: 1, Conditions: ready("True"), LastCatalogRetrievalTime: fetched(5 * time.Minute)}, false, 10 * time.Minute},
		{"default interval reached", 1, scv1beta1.CommonServiceBrokerSpec{RelistBehavior: "Duration"},
			scv1beta1.CommonServiceBrokerStatus{ReconciledGeneration: 1, Conditions: ready("True"), LastCatalogRetrievalTime: fetched(15 * time.Minute)}, true, 0},
		{"own relistDuration", 1, scv1beta1.CommonServiceBrokerSpec{RelistBehavior: "Duration", RelistDuration: &metav1.Duration{Duration: time.Hour}},
			scv1beta1.CommonServiceBrokerStatus{ReconciledGeneration: 1, Conditions: ready("True"), LastCatalogRetrievalTime: fetched(20 * time.Minute)}, false, 40 * time.Minute},
		{"manual never relists on its own", 1, scv1beta1.CommonServiceBrokerSpec{RelistBehavior: "Manual"},
			scv1beta1.CommonServiceBrokerStatus{ReconciledGeneration: 1, Conditions: ready("True"), LastCatalogRetrievalTime: fetched(1000 * time.Hour)}, false, 0},
		{"manual relists after a spec change", 2, scv1beta1.CommonServiceBrokerSpec{RelistBehavior: "Manual", RelistRequests: 1},
			scv1beta1.CommonServiceBrokerStatus{ReconciledGeneration: 1, Conditions: ready("True"), LastCatalogRetrievalTime: fetched(time.Minute)}, true, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			due, after := relistDue(tc.gen, &tc.spec, &tc.status, 15*time.Minute, now)
			if due != tc.wantDue || after != tc.wantAfter {
				t.Errorf("relistDue = %v, %v; want %v, %v", due, after, tc.wantDue, tc.wantAfter)
			}
		})
	}
}
