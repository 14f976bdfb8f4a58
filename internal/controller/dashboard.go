package controller

import (
	"net/url"
	"strings"
	"unicode"
)

// maxDashboardURL bounds what a broker can make the controller store and
// svcat print for every instance.
const maxDashboardURL = 2048

// brokerDashboardURL is the broker's dashboard_url as status keeps it, or
// false when it is not a link a user should be shown: anything but an
// absolute http(s) URL with a host (javascript:, relative paths), control
// characters that would rewrite a terminal, format characters that reorder
// what is shown (bidirectional overrides), or more than 2 KiB.
func brokerDashboardURL(raw string) (string, bool) {
	if raw == "" || len(raw) > maxDashboardURL || strings.IndexFunc(raw, hidden) >= 0 {
		return "", false
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", false
	}
	return raw, true
}

func hidden(r rune) bool { return unicode.IsControl(r) || unicode.Is(unicode.Cf, r) }
