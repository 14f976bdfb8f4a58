// Package catalog holds the kafka-broker's service catalog: the YAML file
// format, the built-in default, the plan limits and the JSON schemas that
// are derived from them.
package catalog

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"regexp"
	"time"

	"code.cloudfoundry.org/brokerapi/v13/domain"
	"sigs.k8s.io/yaml"
)

// Limits are what a plan allows a tenant. They are enforced where the broker
// creates topics and are published in the catalog (bullets and schemas), so
// what a user reads is what the broker checks.
type Limits struct {
	// MaxTopics is the number of topics an instance may have.
	MaxTopics int `json:"maxTopics"`
	// MaxPartitions is the partition count a single topic may have.
	MaxPartitions int `json:"maxPartitions"`
	// MaxRetentionHours caps retention.ms of each topic.
	MaxRetentionHours int `json:"maxRetentionHours"`
	// MaxBytesPerTopic, when set, becomes each topic's retention.bytes; 0 means unlimited.
	MaxBytesPerTopic int64 `json:"maxBytesPerTopic,omitempty"`
}

// Plan is one plan of the catalog file.
type Plan struct {
	ID          string                      `json:"id"`
	Name        string                      `json:"name"`
	Description string                      `json:"description"`
	Free        *bool                       `json:"free,omitempty"`
	Metadata    *domain.ServicePlanMetadata `json:"metadata,omitempty"`
	Limits      Limits                      `json:"limits"`
	// DefaultTopics are created when a provision asks for no topics, so
	// that applications written for a ready-made topic (the demo apps use
	// <topicPrefix>default) work with the seed's parameterless
	// ServiceInstance.
	DefaultTopics []TopicSpec `json:"defaultTopics,omitempty"`
	// BindingRotatable says whether a bind may name a predecessor_binding_id
	// (OSB 2.17); nil means true, since every binding is a user of its own
	// and a second one with the same rights is all a rotation needs.
	BindingRotatable *bool `json:"bindingRotatable,omitempty"`
	// CredentialLifetimeHours, when set, is how long a binding's
	// credentials live: bind answers carry metadata.expires_at, and the
	// broker removes the user once it has passed. 0: no expiry.
	CredentialLifetimeHours int `json:"credentialLifetimeHours,omitempty"`
	// MaintenanceInfo is the plan's OSB maintenance_info. Instances record
	// the version they were provisioned or last upgraded with.
	MaintenanceInfo *MaintenanceInfo `json:"maintenanceInfo,omitempty"`
	// TopicConfig are Kafka topic configs the broker sets on every topic
	// of the plan's instances. They belong to the maintenance version: an
	// instance keeps the ones it was provisioned with until an update
	// that carries the plan's current maintenance_info applies these.
	TopicConfig map[string]string `json:"topicConfig,omitempty"`
}

// MaintenanceInfo is a plan's OSB maintenance_info.
type MaintenanceInfo struct {
	// Version is a semantic version (semver.org, without a leading v).
	Version string `json:"version"`
	// Description tells users what an upgrade to Version changes.
	Description string `json:"description,omitempty"`
}

// Rotatable reports whether the plan's bindings may be rotated.
func (p *Plan) Rotatable() bool { return p.BindingRotatable == nil || *p.BindingRotatable }

// CredentialLifetime is how long a binding's credentials live; 0: for ever.
func (p *Plan) CredentialLifetime() time.Duration {
	return time.Duration(p.CredentialLifetimeHours) * time.Hour
}

// Service is one service of the catalog file.
type Service struct {
	ID          string                  `json:"id"`
	Name        string                  `json:"name"`
	Description string                  `json:"description"`
	Tags        []string                `json:"tags,omitempty"`
	Metadata    *domain.ServiceMetadata `json:"metadata,omitempty"`
	// PlanUpdateable allows plan changes of the service's instances; nil
	// means true.
	PlanUpdateable *bool  `json:"planUpdateable,omitempty"`
	Plans          []Plan `json:"plans"`
}

// Updateable reports whether instances may change plans.
func (s *Service) Updateable() bool { return s.PlanUpdateable == nil || *s.PlanUpdateable }

// Catalog is the parsed catalog file. Build it with Parse, Load or Default so
// that it is validated and its schemas are compiled.
type Catalog struct {
	Services []Service `json:"services"`

	plans   map[string]*compiledPlan
	osb     []domain.Service
	osbJSON []byte
}

// compiledPlan keeps a plan together with its service and compiled schemas.
type compiledPlan struct {
	service *Service
	plan    *Plan
	schemas *planSchemas
}

// Default IDs of the built-in catalog. They are stable so that platforms that
// registered the broker once keep matching it after upgrades.
const (
	DefaultServiceID = "5c6e4bb8-2f0e-4c3a-9d59-3d8a4a0f4c11"
	DefaultDuckID    = "7f0b7d3e-0b6a-4d5e-8f55-0a3c1c0f7a21"
	DefaultBearID    = "9a8c1f2e-3b4d-4e6f-a7b8-c9d0e1f2a3b4"
	// DefaultMaintenanceVersion is the built-in plans' maintenance_info
	// version. Instances made before maintenance_info existed have none
	// and are offered the upgrade to it.
	DefaultMaintenanceVersion = "1.1.0"
)

// Default returns the built-in catalog: service "kafka" with a free shared
// "duck" plan and a larger "bear" plan.
func Default() *Catalog {
	free, paid, shareable := true, false, true
	c := &Catalog{Services: []Service{{
		ID:          DefaultServiceID,
		Name:        "kafka",
		Description: "Apache Kafka topics on a shared cluster, with per-binding SASL/SCRAM users",
		Tags:        []string{"kafka"},
		Metadata: &domain.ServiceMetadata{
			DisplayName:         "Kafka",
			LongDescription:     "A tenant on a Kafka cluster: a topic prefix of its own, topics created on request, and one SCRAM-SHA-512 user per binding that can reach only the tenant's topics, consumer groups and transactional IDs.",
			ProviderDisplayName: "svcat",
			// A tenant's topics may be used by other namespaces' apps when
			// the owner shares the instance.
			Shareable: &shareable,
		},
		Plans: []Plan{
			{
				ID:          DefaultDuckID,
				Name:        "duck",
				Description: "Developer Duck",
				Free:        &free,
				Metadata: &domain.ServicePlanMetadata{
					DisplayName: "Developer Duck",
					Costs:       []domain.ServicePlanCost{{Amount: map[string]float64{"usd": 0}, Unit: "MONTHLY"}},
				},
				Limits:        Limits{MaxTopics: 5, MaxPartitions: 3, MaxRetentionHours: 28 * 24, MaxBytesPerTopic: 10 << 20},
				DefaultTopics: []TopicSpec{{Name: "default"}},
				MaintenanceInfo: &MaintenanceInfo{
					Version:     DefaultMaintenanceVersion,
					Description: "Topics refuse records over 1 MiB (max.message.bytes) and stamp records with the time Kafka appended them (message.timestamp.type LogAppendTime), so retention runs from arrival, not from a producer's clock.",
				},
				TopicConfig: map[string]string{"max.message.bytes": "1048576", "message.timestamp.type": "LogAppendTime"},
			},
			{
				ID:          DefaultBearID,
				Name:        "bear",
				Description: "Business Bear",
				Free:        &paid,
				Metadata: &domain.ServicePlanMetadata{
					DisplayName: "Business Bear",
					Costs:       []domain.ServicePlanCost{{Amount: map[string]float64{"usd": 49}, Unit: "MONTHLY"}},
				},
				Limits: Limits{MaxTopics: 100, MaxPartitions: 24, MaxRetentionHours: 90 * 24},
				// A paid plan's credentials are worth more to a thief, so
				// they expire; the platform rotates them before that.
				CredentialLifetimeHours: 30 * 24,
				MaintenanceInfo: &MaintenanceInfo{
					Version:     DefaultMaintenanceVersion,
					Description: "Topics accept records up to 8 MiB (max.message.bytes) and stamp records with the time Kafka appended them (message.timestamp.type LogAppendTime), so retention runs from arrival, not from a producer's clock.",
				},
				TopicConfig: map[string]string{"max.message.bytes": "8388608", "message.timestamp.type": "LogAppendTime"},
			},
		},
	}}}
	if err := c.compile(); err != nil {
		panic(fmt.Sprintf("built-in catalog is invalid: %v", err)) // a programming error, caught by tests
	}
	return c
}

// Load reads and validates a catalog file.
func Load(path string) (*Catalog, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading catalog: %w", err)
	}
	c, err := Parse(b)
	if err != nil {
		return nil, fmt.Errorf("catalog %s: %w", path, err)
	}
	return c, nil
}

// Parse validates a catalog given as YAML (or JSON).
func Parse(b []byte) (*Catalog, error) {
	var c Catalog
	if err := yaml.UnmarshalStrict(b, &c); err != nil {
		return nil, err
	}
	if err := c.compile(); err != nil {
		return nil, err
	}
	return &c, nil
}

var namePattern = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9._-]*$`)

func (c *Catalog) compile() error {
	if len(c.Services) == 0 {
		return errors.New("no services")
	}
	c.plans = map[string]*compiledPlan{}
	seen := map[string]string{}
	claim := func(id, what string) error {
		if id == "" {
			return fmt.Errorf("%s has no id", what)
		}
		if prev, ok := seen[id]; ok {
			return fmt.Errorf("%s reuses id %q of %s", what, id, prev)
		}
		seen[id] = what
		return nil
	}
	for i := range c.Services {
		s := &c.Services[i]
		what := fmt.Sprintf("service %q", s.Name)
		if err := claim(s.ID, what); err != nil {
			return err
		}
		if !namePattern.MatchString(s.Name) || s.Description == "" {
			return fmt.Errorf("%s needs a name of letters, digits, '.', '_' or '-' and a description", what)
		}
		if len(s.Plans) == 0 {
			return fmt.Errorf("%s has no plans", what)
		}
		names := map[string]bool{}
		for j := range s.Plans {
			p := &s.Plans[j]
			pwhat := fmt.Sprintf("plan %q of %s", p.Name, what)
			if err := claim(p.ID, pwhat); err != nil {
				return err
			}
			if !namePattern.MatchString(p.Name) || p.Description == "" {
				return fmt.Errorf("%s needs a name of letters, digits, '.', '_' or '-' and a description", pwhat)
			}
			if names[p.Name] {
				return fmt.Errorf("%s: duplicate plan name", pwhat)
			}
			names[p.Name] = true
			if err := p.Limits.validate(); err != nil {
				return fmt.Errorf("%s: %w", pwhat, err)
			}
			ps, err := compileSchemas(p.Limits)
			if err != nil {
				return fmt.Errorf("%s: %w", pwhat, err)
			}
			if err := checkDefaultTopics(ps, p.DefaultTopics); err != nil {
				return fmt.Errorf("%s: defaultTopics: %w", pwhat, err)
			}
			if err := p.checkLifecycle(); err != nil {
				return fmt.Errorf("%s: %w", pwhat, err)
			}
			c.plans[p.ID] = &compiledPlan{service: s, plan: p, schemas: ps}
		}
	}
	c.osb = c.render()
	raw, err := c.renderJSON()
	if err != nil {
		return err
	}
	c.osbJSON = raw
	return nil
}

// checkDefaultTopics holds default topics to the rules requested ones obey.
func checkDefaultTopics(ps *planSchemas, topics []TopicSpec) error {
	if len(topics) == 0 {
		return nil
	}
	raw, err := json.Marshal(InstanceParams{Topics: topics})
	if err != nil {
		return err
	}
	if err := validate(ps.instance, raw); err != nil {
		return err
	}
	return uniqueTopics(topics)
}

func (l Limits) validate() error {
	switch {
	case l.MaxTopics < 0, l.MaxPartitions < 1, l.MaxRetentionHours < 1, l.MaxBytesPerTopic < 0:
		return fmt.Errorf("limits need maxTopics >= 0, maxPartitions >= 1, maxRetentionHours >= 1 and maxBytesPerTopic >= 0 (got %+v)", l)
	}
	return nil
}

// Bullets describes the limits in words; plans without bullets of their own
// show these so the limits are always visible to users.
func (l Limits) Bullets() []string {
	b := []string{"Shared cluster", fmt.Sprintf("Max %d topics", l.MaxTopics), fmt.Sprintf("Max %d partitions per topic", l.MaxPartitions)}
	if l.MaxBytesPerTopic > 0 {
		b = append(b, fmt.Sprintf("Max %s data per topic", humanBytes(l.MaxBytesPerTopic)))
	}
	if l.MaxRetentionHours%24 == 0 {
		b = append(b, fmt.Sprintf("Max %d days retention", l.MaxRetentionHours/24))
	} else {
		b = append(b, fmt.Sprintf("Max %d hours retention", l.MaxRetentionHours))
	}
	return b
}

func humanBytes(n int64) string {
	switch {
	case n%(1<<30) == 0:
		return fmt.Sprintf("%dGB", n>>30)
	case n%(1<<20) == 0:
		return fmt.Sprintf("%dMB", n>>20)
	case n%(1<<10) == 0:
		return fmt.Sprintf("%dKB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

// Plan returns the plan with the given ID if it belongs to the given service.
func (c *Catalog) Plan(serviceID, planID string) (*Plan, bool) {
	cp, ok := c.plans[planID]
	if !ok || cp.service.ID != serviceID {
		return nil, false
	}
	return cp.plan, true
}

// OSB is the catalog for GET /v2/catalog. It is rendered once because
// brokerapi asks for it on every provision to check the IDs; callers must
// not modify it.
func (c *Catalog) OSB() []domain.Service { return c.osb }

func (c *Catalog) render() []domain.Service {
	out := make([]domain.Service, 0, len(c.Services))
	for _, s := range c.Services {
		ds := domain.Service{
			ID:                   s.ID,
			Name:                 s.Name,
			Description:          s.Description,
			Bindable:             true,
			InstancesRetrievable: true,
			BindingsRetrievable:  true,
			Tags:                 s.Tags,
			Metadata:             s.Metadata,
			PlanUpdatable:        s.Updateable(),
		}
		for _, p := range s.Plans {
			md := domain.ServicePlanMetadata{}
			if p.Metadata != nil {
				md = *p.Metadata
			}
			if len(md.Bullets) == 0 {
				md.Bullets = p.Limits.Bullets()
				if h := p.CredentialLifetimeHours; h > 0 {
					md.Bullets = append(md.Bullets, "Credentials expire after "+hoursInWords(h))
				}
			}
			if md.DisplayName == "" {
				md.DisplayName = p.Name
			}
			// Limits travel as extra metadata so tools can read them without
			// parsing bullets.
			if md.AdditionalMetadata == nil {
				md.AdditionalMetadata = map[string]any{}
			}
			md.AdditionalMetadata["limits"] = p.Limits
			sch := c.plans[p.ID].schemas
			ds.Plans = append(ds.Plans, domain.ServicePlan{
				ID:          p.ID,
				Name:        p.Name,
				Description: p.Description,
				Free:        p.Free,
				Bindable:    domain.BindableValue(true),
				Metadata:    &md,
				MaintenanceInfo: func() *domain.MaintenanceInfo {
					if p.MaintenanceInfo == nil {
						return nil
					}
					return &domain.MaintenanceInfo{Version: p.MaintenanceInfo.Version, Description: p.MaintenanceInfo.Description}
				}(),
				Schemas: &domain.ServiceSchemas{
					Instance: domain.ServiceInstanceSchema{
						Create: domain.Schema{Parameters: sch.instanceDoc},
						Update: domain.Schema{Parameters: sch.instanceDoc},
					},
					Binding: domain.ServiceBindingSchema{Create: domain.Schema{Parameters: sch.bindingDoc}},
				},
			})
		}
		out = append(out, ds)
	}
	return out
}
