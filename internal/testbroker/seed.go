package testbroker

import (
	"crypto/rand"
	"encoding/hex"

	"github.com/svcat-io/svcat/internal/osb"
)

// IDs of the seed's CloudKarafka catalog.
const (
	SeedServiceID = "d21df959-6da8-495f-a8b6-ddc51d49eea2"
	SeedPlanID    = "e64a8b50-be7f-48cf-9010-9ccb7fe075b5"
)

// SeedCatalog is the catalog of the seed's CloudKarafka broker, with
// plan_updateable spelled correctly (the seed's camelCase key was ignored).
func SeedCatalog() []osb.Service {
	free := true
	return []osb.Service{{
		ID:          SeedServiceID,
		Name:        "cloudkarafka",
		Description: "CloudKarafka",
		Bindable:    true,
		Tags:        []string{"kafka", "cloudkarafka"},
		Requires:    []string{},
		Metadata: map[string]any{
			"displayName":         "CloudKarafka",
			"documentationUrl":    "https://twitter.com/making",
			"supportUrl":          "https://twitter.com/making",
			"longDescription":     "CloudKarafka",
			"providerDisplayName": "@making",
		},
		Plans: []osb.Plan{{
			ID:          SeedPlanID,
			Name:        "duck",
			Description: "Developer Duck",
			Free:        &free,
			Metadata: map[string]any{
				"displayName": "Developer Duck",
				"bullets": []any{
					"Shared cluster", "Max 5 topics", "Max 10MB data per topic", "Max 28 days retention",
				},
				"costs": []any{map[string]any{"amount": map[string]any{"usd": 0}, "unit": "MONTHLY"}},
			},
		}},
	}}
}

// SeedCredentials are credentials shaped like the seed broker's. The
// password is random, so every issue is distinguishable.
func SeedCredentials(instanceID, bindingID string) map[string]any {
	secret := make([]byte, 12)
	_, _ = rand.Read(secret) // crypto/rand.Read never fails
	user := "u" + short(instanceID)
	return map[string]any{
		"name":        "cf_" + instanceID,
		"brokers":     "kafka-1.testbroker.invalid:9094,kafka-2.testbroker.invalid:9094",
		"username":    user,
		"password":    hex.EncodeToString(secret),
		"topicPrefix": user + "-",
		"ca":          "",
	}
}

func short(id string) string {
	if len(id) > 8 {
		return id[:8]
	}
	return id
}

// MaintenanceCatalog is a one-service, one-plan catalog whose plan "duck"
// has maintenance version version: tests of maintenance upgrades serve it
// and then a later version. The service is named name and its IDs derive
// from it, apart from the seed catalog's.
func MaintenanceCatalog(name, version, description string) []osb.Service {
	return []osb.Service{{ID: name + "-svc", Name: name, Description: "Kafka with maintenance versions", Bindable: true, PlanUpdateable: true,
		Plans: []osb.Plan{{ID: name + "-duck", Name: "duck", Description: "Duck",
			MaintenanceInfo: &osb.MaintenanceInfo{Version: version, Description: description}}}}}
}
