package catalog

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"code.cloudfoundry.org/brokerapi/v13/domain/apiresponses"
)

// semverPattern is semver.org's own pattern for a version (no leading v).
var semverPattern = regexp.MustCompile(`^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$`)

// topicConfigs are the topic configs a plan may set. retention.ms and
// retention.bytes are left out because the limits own them; anything that
// would change who may do what is not a topic config.
var topicConfigs = []string{
	"cleanup.policy", "compression.type", "delete.retention.ms", "max.message.bytes",
	"message.timestamp.type", "min.insync.replicas", "segment.bytes", "segment.ms",
}

// maxLifetimeHours keeps expires_at within what RFC 3339 and time.Time
// print sensibly (ten years).
const maxLifetimeHours = 10 * 366 * 24

func (p *Plan) checkLifecycle() error {
	if h := p.CredentialLifetimeHours; h < 0 || h > maxLifetimeHours {
		return fmt.Errorf("credentialLifetimeHours must be 0 (no expiry) to %d, got %d", maxLifetimeHours, h)
	}
	if mi := p.MaintenanceInfo; mi != nil {
		if !semverPattern.MatchString(mi.Version) {
			return fmt.Errorf("maintenanceInfo.version %q is not a semantic version such as 1.2.0", mi.Version)
		}
		if len(mi.Description) > 1000 {
			return fmt.Errorf("maintenanceInfo.description is longer than 1000 characters")
		}
	}
	if len(p.TopicConfig) > 0 && p.MaintenanceInfo == nil {
		// Without a version, instances could not tell which topic
		// configs they have, and could never be upgraded to new ones.
		return fmt.Errorf("topicConfig needs a maintenanceInfo version: instances move to new topic configs through maintenance_info upgrades")
	}
	for k, v := range p.TopicConfig {
		if !slices.Contains(topicConfigs, k) {
			return fmt.Errorf("topicConfig.%s is not allowed; allowed: %s (retention comes from the limits)", k, strings.Join(topicConfigs, ", "))
		}
		if v == "" || len(v) > 200 {
			return fmt.Errorf("topicConfig.%s needs a value of 1 to 200 characters", k)
		}
	}
	return nil
}

func hoursInWords(h int) string {
	if h%24 == 0 {
		return fmt.Sprintf("%d days", h/24)
	}
	return fmt.Sprintf("%d hours", h)
}

// renderJSON is the body of GET /v2/catalog: brokerapi's rendering plus
// the OSB 2.17 plan field brokerapi v13 lacks, binding_rotatable.
func (c *Catalog) renderJSON() ([]byte, error) {
	raw, err := json.Marshal(apiresponses.CatalogResponse{Services: c.osb})
	if err != nil {
		return nil, err
	}
	var doc struct {
		Services []map[string]json.RawMessage `json:"services"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		return nil, err
	}
	for i, s := range doc.Services {
		var plans []map[string]json.RawMessage
		if err := json.Unmarshal(s["plans"], &plans); err != nil {
			return nil, err
		}
		for j, p := range plans {
			var id string
			if err := json.Unmarshal(p["id"], &id); err != nil {
				return nil, err
			}
			p["binding_rotatable"] = json.RawMessage(fmt.Sprint(c.plans[id].plan.Rotatable()))
			plans[j] = p
		}
		if doc.Services[i]["plans"], err = json.Marshal(plans); err != nil {
			return nil, err
		}
	}
	return json.Marshal(doc)
}

// OSBJSON is the body of GET /v2/catalog, rendered once; callers must not
// modify it.
func (c *Catalog) OSBJSON() []byte { return c.osbJSON }

// PlanService is the service a plan of the catalog belongs to.
func (c *Catalog) PlanService(planID string) (*Service, bool) {
	cp, ok := c.plans[planID]
	if !ok {
		return nil, false
	}
	return cp.service, true
}
