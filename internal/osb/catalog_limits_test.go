package osb_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/svcat-io/svcat/internal/osb"
	"github.com/svcat-io/svcat/internal/testbroker"
)

// tight are small limits, so each test body stays small.
var tight = osb.CatalogLimits{
	MaxBytes: 4096, MaxDepth: 10, MaxServices: 2, MaxPlansPerService: 2, MaxPlans: 3,
	MaxObjectBytes: 64, MaxValues: 200,
}

func svc(id string, extra string, plans ...string) string {
	return fmt.Sprintf(`{"id":%q,"name":%q,"description":"d"%s,"plans":[%s]}`, id, id, extra, strings.Join(plans, ","))
}

func plan(id string, extra string) string {
	return fmt.Sprintf(`{"id":%q,"name":%q,"description":"d"%s}`, id, id, extra)
}

func catalogOf(services ...string) string {
	return `{"services":[` + strings.Join(services, ",") + `]}`
}

// Each limit refuses the catalog that passes it, naming the limit and where
// it was passed; a catalog just within every limit is accepted.
func TestCatalogLimits(t *testing.T) {
	p := plan("p", "")
	deep := strings.Repeat(`{"a":`, 8) + "1" + strings.Repeat("}", 8)
	big := `,"metadata":{"k":"` + strings.Repeat("x", 60) + `"}`
	schema := func(where string) string {
		return `,"schemas":` + strings.Replace(where, "X", `{"parameters":{"k":"`+strings.Repeat("x", 60)+`"}}`, 1)
	}
	tests := []struct {
		name  string
		body  string
		limit osb.CatalogLimit // "" means accepted
		want  string           // substring of the message
	}{
		{"within every limit", catalogOf(svc("s1", `,"metadata":{"a":{"b":1}}`, plan("p1", ""), plan("p2", "")), svc("s2", "", plan("p3", ""))), "", ""},
		{"bytes", catalogOf(svc("s", `,"x":"`+strings.Repeat("y", 5000)+`"`, p)), osb.LimitBytes, "larger than 4096 bytes"},
		{"depth in metadata", catalogOf(svc("s", `,"metadata":`+deep, p)), osb.LimitDepth,
			"nests more than 10 levels deep at services[0].metadata.a.a.a.a.a.a.a"},
		{"depth in an ignored field", `{"x":` + strings.Repeat("[", 10) + strings.Repeat("]", 10) + `,"services":[]}`, osb.LimitDepth, "at x[0][0][0][0][0][0][0][0][0]"},
		{"services", catalogOf(svc("s1", "", p), svc("s2", "", p), svc("s3", "", p)), osb.LimitServices, "more than 2 services"},
		{"plans per service", catalogOf(svc("s1", "", p), svc("s2", "", plan("a", ""), plan("b", ""), plan("c", ""))), osb.LimitPlansPerService,
			"services[1] has more than 2 plans"},
		{"plans in all", catalogOf(svc("s1", "", plan("a", ""), plan("b", "")), svc("s2", "", plan("c", ""), plan("d", ""))), osb.LimitPlans,
			"more than 3 plans in all (at services[1].plans[1])"},
		{"service metadata", catalogOf(svc("s", big, p)), osb.LimitObjectBytes, "services[0].metadata is larger than 64 bytes"},
		{"plan metadata", catalogOf(svc("s", "", plan("p", big))), osb.LimitObjectBytes, "services[0].plans[0].metadata is larger than 64 bytes"},
		{"metadata a long string", catalogOf(svc("s", `,"metadata":"`+strings.Repeat("x", 100)+`"`, p)), osb.LimitObjectBytes, "services[0].metadata is larger"},
		{"create schema", catalogOf(svc("s", "", plan("p", schema(`{"service_instance":{"create":X}}`)))), osb.LimitObjectBytes,
			"services[0].plans[0].schemas.service_instance.create.parameters is larger than 64 bytes"},
		{"update schema", catalogOf(svc("s", "", plan("p", schema(`{"service_instance":{"update":X}}`)))), osb.LimitObjectBytes,
			"schemas.service_instance.update.parameters is larger"},
		{"binding schema", catalogOf(svc("s", "", plan("p", schema(`{"service_binding":{"create":X}}`)))), osb.LimitObjectBytes,
			"schemas.service_binding.create.parameters is larger"},
		{"values", catalogOf(svc("s", `,"tags":[`+strings.Repeat(`"t",`, 200)+`"t"]`, p)), osb.LimitValues, "more than 200 JSON values (at services[0].tags["},
		// Field names match as encoding/json matches them: case-insensitive,
		// escapes decoded, Unicode folding (U+017F folds to s).
		{"SERVICES", strings.Replace(catalogOf(svc("a", "", p), svc("b", "", p), svc("c", "", p)), "services", "SERVICES", 1), osb.LimitServices, ""},
		{"escaped key", strings.Replace(catalogOf(svc("a", "", p), svc("b", "", p), svc("c", "", p)), "services", `servi\u0063es`, 1), osb.LimitServices, ""},
		{"folded key", strings.Replace(catalogOf(svc("a", "", p), svc("b", "", p), svc("c", "", p)), "services", "ſervices", 1), osb.LimitServices, ""},
		{"Metadata", catalogOf(svc("s", strings.Replace(big, "metadata", "MetaData", 1), p)), osb.LimitObjectBytes, "services[0].MetaData is larger"},
		// Brackets and quotes inside strings are not structure.
		{"brackets in strings", catalogOf(svc("s", `,"description":"{{{{{{{{{{[[[[[[[[\"\\\"[[[[","metadata":{"k":"]]]]}}}}"}`, p)), "", ""},
		// A key too long to be a field name counts as no field.
		{"long key", `{"` + strings.Repeat("s", 300) + `":[` + strings.Repeat(`{},`, 3) + `{}],"services":[]}`, "", ""},
		{"path with odd keys", `{"x":{"a b":{"` + strings.Repeat("k", 50) + `":` + deep + `}},"services":[]}`, osb.LimitDepth,
			`at x["a b"].kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk….a.a`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Fed as one chunk and byte by byte: a limit must not depend
			// on where the network cut the body.
			for name, r := range map[string]io.Reader{"whole": strings.NewReader(tt.body), "bytewise": iotest.OneByteReader(strings.NewReader(tt.body))} {
				_, err := osb.ReadCatalogBody(r, tight)
				if tt.limit == "" {
					if err != nil {
						t.Fatalf("%s: %v", name, err)
					}
					continue
				}
				var le *osb.CatalogLimitError
				if !errors.As(err, &le) || le.Limit != tt.limit {
					t.Fatalf("%s: err = %v, want the %s limit", name, err, tt.limit)
				}
				if !strings.Contains(err.Error(), tt.want) {
					t.Errorf("%s: %q does not say %q", name, err, tt.want)
				}
			}
			if tt.limit == osb.LimitServices {
				// What was counted is what encoding/json decodes.
				var cat osb.CatalogResponse
				if err := json.Unmarshal([]byte(tt.body), &cat); err != nil || len(cat.Services) != 3 {
					t.Errorf("encoding/json decodes %d services (%v), the scanner counted 3", len(cat.Services), err)
				}
			}
		})
	}
}

// endless serves prefix and then unit forever, counting what it served.
type endless struct {
	prefix, unit []byte
	served       int
}

func (e *endless) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		src := e.unit
		if e.served < len(e.prefix) {
			src = e.prefix[e.served:]
		} else {
			src = src[(e.served-len(e.prefix))%len(src):]
		}
		c := copy(p[n:], src)
		n += c
		e.served += c
	}
	return n, nil
}

// A catalog that passes a limit is abandoned right there: the reader is not
// asked for more than one chunk beyond the point where the limit was passed,
// whatever the body's length.
func TestCatalogReadStopsAtTheLimit(t *testing.T) {
	def := osb.DefaultCatalogLimits()
	tests := []struct {
		name   string
		prefix string
		unit   string
		// units is how many units in the limit is passed.
		units int
		limit osb.CatalogLimit
	}{
		{"nested objects", `{"services":[{"metadata":`, `{"a":`, 64, osb.LimitDepth},
		{"wide array of objects in metadata", `{"services":[{"metadata":{"a":[`, `{},`, (512 << 10) / 3, osb.LimitObjectBytes},
		{"wide array elsewhere", `{"x":[`, `{},`, 250_000, osb.LimitValues},
		{"endless string", `{"services":[],"x":"`, `xxxxxxxx`, (10 << 20) / 8, osb.LimitBytes},
		{"endless services", `{"services":[`, `{"id":"s","plans":[]},`, 1001, osb.LimitServices},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &endless{prefix: []byte(tt.prefix), unit: []byte(tt.unit)}
			_, err := osb.ReadCatalogBody(r, def)
			var le *osb.CatalogLimitError
			if !errors.As(err, &le) || le.Limit != tt.limit {
				t.Fatalf("err = %v, want the %s limit", err, tt.limit)
			}
			passedAt := len(tt.prefix) + tt.units*len(tt.unit)
			if r.served > passedAt+osb.ReadChunk {
				t.Errorf("read %d bytes; the limit was passed at about %d", r.served, passedAt)
			}
		})
	}
}

// The client refuses an announced length over the limit without reading,
// and a refused answer's error carries the request identity.
func TestCatalogLimitsThroughHTTP(t *testing.T) {
	var served int
	c := rawBroker(t, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		// Flushing each write makes the answer chunked, of unknown length.
		r := &endless{prefix: []byte(`{"services":[{"metadata":`), unit: []byte(`{"a":`)}
		buf := make([]byte, 4096)
		for range 1024 {
			n, _ := r.Read(buf)
			if _, err := w.Write(buf[:n]); err != nil {
				break
			}
			served += n
			w.(http.Flusher).Flush()
		}
	})
	_, err := c.GetCatalogWithin(t.Context(), osb.CatalogLimits{MaxDepth: 16})
	if !osb.IsCatalogLimit(err) || osb.RequestIdentityOf(err) == "" {
		t.Fatalf("err = %v, want a CatalogLimitError with a request identity", err)
	}
	if !strings.Contains(err.Error(), "osb get_catalog: the catalog nests more than 16 levels deep at services[0].metadata.a.a") {
		t.Errorf("message %q", err)
	}

	announced := rawBroker(t, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Length", "5000")
		_, _ = w.Write(bytes.Repeat([]byte(" "), 5000))
	})
	_, err = announced.GetCatalogWithin(t.Context(), osb.CatalogLimits{MaxBytes: 1000})
	var le *osb.CatalogLimitError
	if !errors.As(err, &le) || le.Limit != osb.LimitBytes || le.Max != 1000 {
		t.Errorf("err = %v, want the bytes limit of 1000", err)
	}

	// An error answer is not a catalog: its own size limit applies, and it
	// is reported as the HTTP error it is.
	failing := rawBroker(t, answer(500, "application/json", `{"description":"down","x":`+strings.Repeat("[", 100)+strings.Repeat("]", 100)+`}`))
	_, err = failing.GetCatalogWithin(t.Context(), osb.CatalogLimits{MaxDepth: 4})
	if osb.StatusCodeOf(err) != 500 || !strings.Contains(err.Error(), "down") {
		t.Errorf("err = %v, want the broker's 500", err)
	}
}

// cloudCatalog is shaped like a large cloud provider's catalog: n services
// of four plans, each plan with instance create and update schemas (15 and
// 5 settings) and a binding schema, and the display metadata such catalogs
// carry, pretty-printed.
func cloudCatalog(n int) []byte {
	prop := func(i int) map[string]any {
		p := map[string]any{
			"type":        "string",
			"title":       fmt.Sprintf("Setting %d", i),
			"description": "Controls one aspect of the provisioned resource; see the provider's documentation.",
		}
		if i%3 == 0 {
			p["enum"], p["default"] = []any{"small", "medium", "large", "xlarge"}, "small"
		}
		return p
	}
	schema := func(props int) map[string]any {
		p := map[string]any{}
		for i := range props {
			p[fmt.Sprintf("setting_%d", i)] = prop(i)
		}
		return map[string]any{"$schema": "http://json-schema.org/draft-06/schema#", "type": "object", "properties": p, "required": []any{"setting_0"}}
	}
	var services []osb.Service
	for s := range n {
		svc := osb.Service{
			ID: fmt.Sprintf("9f1c7e2a-%04d-4c7b-9a51-0c2b8e3f6d11", s), Name: fmt.Sprintf("cloud-service-%d", s),
			Description: "A managed service of the cloud provider, provisioned in the platform's region.",
			Bindable:    true, Tags: []string{"cloud", "managed", "database", "preview"},
			Metadata: map[string]any{
				"displayName": fmt.Sprintf("Cloud Service %d", s), "imageUrl": "https://cloud.example.com/images/service.svg",
				"longDescription":  strings.Repeat("A longer description of the service for catalogs and consoles. ", 4),
				"documentationUrl": "https://cloud.example.com/docs/service", "supportUrl": "https://cloud.example.com/support",
				"providerDisplayName": "Example Cloud",
			},
		}
		for p := range 4 {
			svc.Plans = append(svc.Plans, osb.Plan{
				ID: fmt.Sprintf("0b6a2d4e-%04d-%04d-8e7f-5d3c1b2a9f80", s, p), Name: fmt.Sprintf("tier-%d", p),
				Description: "A plan of the service with its own capacity and price.",
				Metadata: map[string]any{
					"displayName": fmt.Sprintf("Tier %d", p),
					"bullets":     []any{"Dedicated capacity", "Daily backups", "99.95% availability", "Encryption at rest"},
					"costs":       []any{map[string]any{"amount": map[string]any{"usd": 12.5 * float64(p+1)}, "unit": "MONTHLY"}},
				},
				Schemas: &osb.Schemas{
					ServiceInstance: &osb.ServiceInstanceSchema{
						Create: &osb.InputParametersSchema{Parameters: schema(15)},
						Update: &osb.InputParametersSchema{Parameters: schema(5)},
					},
					ServiceBinding: &osb.ServiceBindingSchema{Create: &osb.InputParametersSchema{Parameters: schema(2)}},
				},
			})
		}
		services = append(services, svc)
	}
	b, err := json.MarshalIndent(map[string]any{"services": services}, "", "  ")
	if err != nil {
		panic(err)
	}
	return b
}

// The defaults fit real catalogs: the seed's, and a cloud provider's of a
// hundred services with full schemas, pretty-printed.
func TestDefaultCatalogLimitsFitRealCatalogs(t *testing.T) {
	seed, err := json.Marshal(map[string]any{"services": testbroker.SeedCatalog()})
	if err != nil {
		t.Fatal(err)
	}
	cloud := cloudCatalog(100)
	t.Logf("cloud provider catalog: %d bytes, %d values", len(cloud), values(t, cloud))
	for name, body := range map[string][]byte{"seed": seed, "cloud provider": cloud} {
		if _, err := osb.ReadCatalogBody(bytes.NewReader(body), osb.DefaultCatalogLimits()); err != nil {
			t.Errorf("%s catalog (%d bytes): %v", name, len(body), err)
		}
	}
	// Half the defaults still take it: the defaults leave room.
	d := osb.DefaultCatalogLimits()
	half := osb.CatalogLimits{MaxBytes: d.MaxBytes / 2, MaxDepth: 16, MaxServices: 200, MaxPlansPerService: 8, MaxPlans: 800,
		MaxObjectBytes: d.MaxObjectBytes / 2, MaxValues: d.MaxValues / 2}
	if _, err := osb.ReadCatalogBody(bytes.NewReader(cloud), half); err != nil {
		t.Errorf("cloud provider catalog (%d bytes) at half the defaults: %v", len(cloud), err)
	}
}

func TestCatalogLimitsSetAndGet(t *testing.T) {
	var l osb.CatalogLimits
	for i, name := range osb.CatalogLimitNames() {
		if err := l.Set(name, int64(i+1)); err != nil {
			t.Fatal(err)
		}
		if v, ok := l.Get(name); !ok || v != int64(i+1) {
			t.Errorf("%s = %d, %v", name, v, ok)
		}
	}
	if err := l.Set("depht", 3); err == nil || !strings.Contains(err.Error(), `unknown catalog limit "depht"`) {
		t.Errorf("unknown name: %v", err)
	}
	if err := l.Set(osb.LimitDepth, 0); err == nil {
		t.Error("a limit of 0 was accepted")
	}
}

func values(t *testing.T, body []byte) int64 {
	t.Helper()
	_, n, err := osb.RefStats(body)
	if err != nil {
		t.Fatal(err)
	}
	return n
}
