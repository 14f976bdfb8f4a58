package osb_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/svcat-io/svcat/internal/osb"
	"github.com/svcat-io/svcat/internal/testbroker"
)

// fullCatalog uses every catalog field of the spec plus fields it does not
// define, which must be ignored.
const fullCatalog = `{"services":[{
	"name":"svc","id":"s1","description":"a service","tags":["t"],"requires":["volume_mount"],
	"bindable":false,"instances_retrievable":true,"bindings_retrievable":true,"allow_context_updates":true,
	"metadata":{"displayName":"Svc"},"dashboard_client":{"id":"dc","secret":"x","redirect_uri":"https://r"},
	"plan_updateable":true,"vendor_extension":{"a":1},
	"plans":[{
		"id":"p1","name":"small","description":"small plan","metadata":{"bullets":["one"]},"free":false,
		"bindable":true,"binding_rotatable":true,"plan_updateable":false,"maximum_polling_duration":600,
		"maintenance_info":{"version":"1.2.3-rc.1+build.5","description":"patch"},
		"schemas":{"service_instance":{"create":{"parameters":{"$schema":"http://json-schema.org/draft-04/schema#","type":"object"}},
		                               "update":{"parameters":{"type":"object"}}},
		           "service_binding":{"create":{"parameters":{"type":"object"}}}},
		"extensions":[{"id":"urn:osbext:x"}]
	}]
}],"unknown_top_level":true}`

func TestCatalogDecoding(t *testing.T) {
	b := testbroker.Start(t, testbroker.Options{})
	b.On(testbroker.Rule{Operation: osb.OpGetCatalog, Body: []byte(fullCatalog)})
	cat, err := connect(t, b).GetCatalog(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	s := cat.Services[0]
	p := s.Plans[0]
	checks := map[string]bool{
		"service fields":  s.ID == "s1" && s.Name == "svc" && s.Description == "a service" && s.Tags[0] == "t" && s.Requires[0] == "volume_mount",
		"retrievable":     s.InstancesRetrievable && s.BindingsRetrievable && s.AllowContextUpdates,
		"plan_updateable": s.PlanUpdateable && p.PlanUpdateable != nil && !*p.PlanUpdateable && !p.IsUpdateable(&s),
		"dashboard":       s.DashboardClient != nil && s.DashboardClient.RedirectURI == "https://r",
		"free":            p.Free != nil && !p.IsFree(),
		"bindable":        !s.Bindable && p.IsBindable(&s) && p.BindingRotatable,
		"polling":         p.MaximumPollingDuration != nil && *p.MaximumPollingDuration == 600,
		"maintenance":     p.MaintenanceInfo.Version == "1.2.3-rc.1+build.5" && p.MaintenanceInfo.Description == "patch",
		"schemas": p.Schemas.ServiceInstance.Create.Parameters["$schema"] != nil &&
			p.Schemas.ServiceInstance.Update.Parameters["type"] == "object" &&
			p.Schemas.ServiceBinding.Create.Parameters["type"] == "object",
		"metadata": s.Metadata["displayName"] == "Svc" && p.Metadata["bullets"] != nil,
	}
	for name, ok := range checks {
		if !ok {
			t.Errorf("%s not decoded: %+v", name, s)
		}
	}
	if err := cat.Validate(); err != nil {
		t.Errorf("Validate: %v", err)
	}
}

func TestPlanDefaults(t *testing.T) {
	s := osb.Service{Bindable: true}
	p := osb.Plan{}
	if !p.IsFree() || !p.IsBindable(&s) || p.IsUpdateable(&s) {
		t.Errorf("defaults: free %v bindable %v updateable %v", p.IsFree(), p.IsBindable(&s), p.IsUpdateable(&s))
	}
}

func TestCatalogValidate(t *testing.T) {
	seed := func(edit func(*osb.Service)) *osb.CatalogResponse {
		cat := testbroker.SeedCatalog()
		edit(&cat[0])
		return &osb.CatalogResponse{Services: cat}
	}
	zero := 0
	tests := []struct {
		name string
		cat  *osb.CatalogResponse
		want []string // substrings of the problems; nil means valid
	}{
		{"seed", seed(func(*osb.Service) {}), nil},
		{"empty", &osb.CatalogResponse{}, nil},
		{"no service id", seed(func(s *osb.Service) { s.ID = "" }), []string{"services[0] (cloudkarafka): id is empty"}},
		{"no plans", seed(func(s *osb.Service) { s.Plans = nil }), []string{"has no plans"}},
		{"plan without name", seed(func(s *osb.Service) { s.Plans[0].Name = "" }), []string{"plans[0]: name is empty"}},
		{"duplicate plan", seed(func(s *osb.Service) { s.Plans = append(s.Plans, s.Plans[0]) }),
			[]string{`plans[1] (duck): duplicate id`, `plans[1] (duck): duplicate name "duck"`}},
		{"bad requires", seed(func(s *osb.Service) { s.Requires = []string{"coffee"} }), []string{`unknown requires value "coffee"`}},
		{"bad semver", seed(func(s *osb.Service) { s.Plans[0].MaintenanceInfo = &osb.MaintenanceInfo{Version: "1.2"} }), []string{`"1.2" is not semver`}},
		{"bad polling", seed(func(s *osb.Service) { s.Plans[0].MaximumPollingDuration = &zero }), []string{"maximum_polling_duration"}},
		{"duplicate service", &osb.CatalogResponse{Services: append(testbroker.SeedCatalog(), testbroker.SeedCatalog()...)},
			[]string{"services[1] (cloudkarafka): duplicate id", "duplicate name", "plans[0] (duck): duplicate id"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cat.Validate()
			if tt.want == nil {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			var inv *osb.InvalidCatalogError
			if !errors.As(err, &inv) {
				t.Fatalf("Validate = %v, want *InvalidCatalogError", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("%q lacks %q", err, w)
				}
			}
		})
	}
}

func TestInvalidCatalogErrorIsBounded(t *testing.T) {
	err := &osb.InvalidCatalogError{Problems: make([]string, 25)}
	if !strings.HasSuffix(err.Error(), "and 15 more") {
		t.Errorf("message = %q", err)
	}
}

func TestBindingDecoding(t *testing.T) {
	b := testbroker.Start(t, testbroker.Options{})
	c := connect(t, b)
	if _, err := c.ProvisionInstance(t.Context(), provisionReq("i1")); err != nil {
		t.Fatal(err)
	}
	b.On(testbroker.Rule{Operation: osb.OpBind, Body: []byte(`{
		"credentials":{"uri":"kafka://x","port":9092},
		"metadata":{"expires_at":"2030-01-01T00:00:00Z","renew_before":"2029-12-01T00:00:00Z"},
		"syslog_drain_url":"syslog://d","route_service_url":"https://r",
		"volume_mounts":[{"driver":"nfs","container_dir":"/data","mode":"rw","device_type":"shared",
		                  "device":{"volume_id":"v1","mount_config":{"k":"v"}}}],
		"endpoints":[{"host":"h","ports":["9092","9000-9010"],"protocol":"tcp"}],
		"future_field":1}`)})
	bd, err := c.Bind(t.Context(), bindReq("i1", "b1"))
	if err != nil {
		t.Fatal(err)
	}
	vm, ep := bd.VolumeMounts[0], bd.Endpoints[0]
	if bd.Credentials["port"] != 9092.0 || bd.Metadata.ExpiresAt != "2030-01-01T00:00:00Z" || bd.Metadata.RenewBefore == "" ||
		bd.SyslogDrainURL != "syslog://d" || bd.RouteServiceURL != "https://r" ||
		vm.ContainerDir != "/data" || vm.Device.VolumeID != "v1" || vm.Device.MountConfig["k"] != "v" ||
		ep.Ports[1] != "9000-9010" || ep.Protocol != "tcp" {
		t.Errorf("bind response decoded as %+v", bd.Binding)
	}
}
