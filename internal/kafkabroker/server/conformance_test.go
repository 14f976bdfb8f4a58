package server_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/svcat-io/svcat/internal/kafkabroker/catalog"
	"github.com/svcat-io/svcat/internal/kafkabroker/kafkatest"
	"github.com/svcat-io/svcat/internal/kafkabroker/server"
	"github.com/svcat-io/svcat/internal/osbcheck"
)

// TestOSBConformance runs `svcat broker check` against the kafka-broker on
// the embedded Kafka, for every plan of the built-in catalog and of the
// seed's: no MUST may fail and no SHOULD may warn.
func TestOSBConformance(t *testing.T) {
	seed, err := catalog.Load("../catalog/testdata/cloudkarafka.yaml")
	if err != nil {
		t.Fatal(err)
	}
	c := kafkatest.Cluster(t, "")
	for name, cat := range map[string]*catalog.Catalog{"built-in": catalog.Default(), "seed": seed} {
		t.Run(name, func(t *testing.T) {
			// Every deprovision of an instance with topics runs in the
			// background and lasts long enough to be seen in progress, so
			// the check polls last_operation and honours Retry-After.
			osb, _ := startBroker(t, c, func(cfg *server.Config) {
				cfg.Catalog, cfg.AsyncDeprovisionTopics, cfg.MinAsyncDuration = cat, 0, 1500*time.Millisecond
			})
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			defer cancel()
			var plans []string
			for _, s := range cat.OSB() {
				for _, p := range s.Plans {
					plans = append(plans, p.ID)
				}
			}
			rep, err := osbcheck.Run(ctx, osbcheck.Config{
				URL: osb.URL, Username: osb.User, Password: osb.Password, Plans: plans,
				Parameters: map[string]map[string]any{"": {"topics": []any{map[string]any{"name": "osb-check"}}}},
				Timeout:    30 * time.Second, PollTimeout: time.Minute,
			})
			if err != nil {
				t.Fatal(err)
			}
			var b strings.Builder
			_ = rep.WriteText(&b)
			if ids := rep.FailedIDs(); len(ids) > 0 || rep.Failed() {
				t.Fatalf("failed checks %v:\n%s", ids, b.String())
			}
			polled := 0
			for _, res := range rep.Results {
				if res.ID == "last-operation.poll" && res.Status == osbcheck.Pass {
					polled++
				}
			}
			if polled < len(plans) {
				t.Errorf("last_operation was polled to the end %d times for %d plans; the asynchronous path went unchecked:\n%s", polled, len(plans), b.String())
			}
			t.Log(b.String())
		})
	}
}
