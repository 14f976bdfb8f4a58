package broker

import (
	"fmt"
	"net/url"
	"strings"
)

// Dashboard placeholders: a Kafka UI (kafka-ui, AKHQ, Redpanda Console...)
// shows an instance's topics when filtered by its topic prefix.
const (
	DashboardInstanceID  = "{instance_id}"
	DashboardTopicPrefix = "{topic_prefix}"
)

// maxDashboardURL keeps the URL well inside what a platform stores and
// shows (svcat's status field is bounded at 2048).
const maxDashboardURL = 2048

// CheckDashboardTemplate refuses a template that cannot give a usable
// link: not an absolute http(s) URL with a host once filled in, or too long.
func CheckDashboardTemplate(tmpl string) error {
	if tmpl == "" {
		return nil
	}
	u, err := url.Parse(fillDashboard(tmpl, "instance", "svcat-instance."))
	if err != nil {
		return fmt.Errorf("--dashboard-url %q: %v", tmpl, err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("--dashboard-url %q: want an absolute http:// or https:// URL with a host", tmpl)
	}
	if len(tmpl) > maxDashboardURL/2 {
		return fmt.Errorf("--dashboard-url is %d bytes; at most %d are allowed", len(tmpl), maxDashboardURL/2)
	}
	return nil
}

// fillDashboard substitutes the placeholders, query-escaped so that the
// values stay one path segment or query value.
func fillDashboard(tmpl, id, prefix string) string {
	return strings.NewReplacer(DashboardInstanceID, url.QueryEscape(id), DashboardTopicPrefix, url.QueryEscape(prefix)).Replace(tmpl)
}

// dashboard is the instance's dashboard URL, or "" when none is configured:
// the broker has no UI of its own.
func (b *Broker) dashboard(id, prefix string) string {
	if b.cfg.DashboardURL == "" {
		return ""
	}
	return fillDashboard(b.cfg.DashboardURL, id, prefix)
}
