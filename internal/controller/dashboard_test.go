package controller

import (
	"strings"
	"testing"
)

func TestBrokerDashboardURL(t *testing.T) {
	for raw, ok := range map[string]bool{
		"https://dashboard.example/instances/1?sso=1":   true,
		"http://kafka-ui.kafka:8080/ui/topics?q=svcat-": true,
		"":                                  false,
		"javascript:alert(document.cookie)": false,
		"/relative/path":                    false,
		"https:///no-host":                  false,
		"https://ok.example/\x1b[2J":        false,
		"https://ok.example/\u202etxt.exe":  false,
		"https://ok.example/" + strings.Repeat("a", maxDashboardURL): false,
	} {
		got, gotOK := brokerDashboardURL(raw)
		if gotOK != ok || (ok && got != raw) {
			t.Errorf("brokerDashboardURL(%.60q) = %q, %v; want ok=%v", raw, got, gotOK, ok)
		}
	}
}
