package broker

import (
	"github.com/svcat-io/svcat/internal/kafkabroker/kafkatest"
	"strings"
	"testing"
)

// With --dashboard-url, provision (new or identical again) and GET of an
// instance answer its dashboard: the template with the instance's topic
// prefix and ID; without it, none.
func TestDashboardURL(t *testing.T) {
	f := newFixture(t)
	r := f.do(t, "PUT", "/v2/service_instances/plain", kafkatest.Details(svc, duck, nil), 201)
	if got := r.Str("dashboard_url"); got != "" {
		t.Errorf("without --dashboard-url the broker answered dashboard_url %q", got)
	}

	f.broker.cfg.DashboardURL = "https://kafka-ui.example/ui/clusters/main/all-topics?q={topic_prefix}&instance={instance_id}"
	want := "https://kafka-ui.example/ui/clusters/main/all-topics?q=t-dash.&instance=dash"
	if got := f.do(t, "PUT", "/v2/service_instances/dash", kafkatest.Details(svc, duck, nil), 201).Str("dashboard_url"); got != want {
		t.Errorf("provision: dashboard_url %q, want %q", got, want)
	}
	if got := f.do(t, "PUT", "/v2/service_instances/dash", kafkatest.Details(svc, duck, nil), 200).Str("dashboard_url"); got != want {
		t.Errorf("identical provision again: dashboard_url %q, want %q", got, want)
	}
	if got := f.do(t, "GET", "/v2/service_instances/dash"+q, nil, 200).Str("dashboard_url"); got != want {
		t.Errorf("GET instance: dashboard_url %q, want %q", got, want)
	}
}

func TestCheckDashboardTemplate(t *testing.T) {
	for _, tmpl := range []string{"", "https://ui.example/{topic_prefix}", "http://akhq.kafka:8080/ui/main/topic?search={topic_prefix}"} {
		if err := CheckDashboardTemplate(tmpl); err != nil {
			t.Errorf("%q refused: %v", tmpl, err)
		}
	}
	for tmpl, want := range map[string]string{
		"ui.example/{topic_prefix}":                       "absolute http:// or https://",
		"javascript:alert(1)":                             "absolute http:// or https://",
		"https:///path":                                   "with a host",
		"https://ui.example/" + strings.Repeat("x", 1100): "at most 1024",
	} {
		if err := CheckDashboardTemplate(tmpl); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%.40q: %v, want an error saying %q", tmpl, err, want)
		}
	}
}
