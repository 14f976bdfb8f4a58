package controllermanager

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/svcat-io/svcat/internal/osb"
)

// catalogLimitsFlag reads catalog limits as KEY=VALUE pairs, comma-separated
// and repeatable, like --feature-gates: only the keys given change, so
// raising one limit keeps the others' defaults. Sizes take Ki, Mi and Gi.
type catalogLimitsFlag struct{ l *osb.CatalogLimits }

func (f catalogLimitsFlag) String() string {
	if f.l == nil {
		return ""
	}
	var parts []string
	for _, name := range osb.CatalogLimitNames() {
		v, _ := f.l.Get(name)
		s := strconv.FormatInt(v, 10)
		if name == osb.LimitBytes || name == osb.LimitObjectBytes {
			s = formatSize(v)
		}
		parts = append(parts, string(name)+"="+s)
	}
	return strings.Join(parts, ",")
}

func (f catalogLimitsFlag) Set(v string) error {
	for _, kv := range strings.Split(v, ",") {
		if kv = strings.TrimSpace(kv); kv == "" {
			continue
		}
		name, value, ok := strings.Cut(kv, "=")
		if !ok {
			return fmt.Errorf("%q: want KEY=VALUE, keys %v", kv, osb.CatalogLimitNames())
		}
		n, err := parseQuantity(strings.TrimSpace(value))
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		if err := f.l.Set(osb.CatalogLimit(strings.TrimSpace(name)), n); err != nil {
			return err
		}
	}
	return nil
}

var quantitySuffixes = []struct {
	suffix string
	factor int64
}{{"Gi", 1 << 30}, {"Mi", 1 << 20}, {"Ki", 1 << 10}}

// parseQuantity reads a whole number with an optional binary suffix.
func parseQuantity(s string) (int64, error) {
	factor := int64(1)
	for _, q := range quantitySuffixes {
		if rest, ok := strings.CutSuffix(s, q.suffix); ok {
			s, factor = rest, q.factor
			break
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 || n > (1<<62)/factor {
		return 0, fmt.Errorf("%q is not a whole number, optionally with Ki, Mi or Gi", s)
	}
	return n * factor, nil
}

// formatSize writes n with the largest binary suffix that divides it.
func formatSize(n int64) string {
	for _, q := range quantitySuffixes {
		if n >= q.factor && n%q.factor == 0 {
			return strconv.FormatInt(n/q.factor, 10) + q.suffix
		}
	}
	return strconv.FormatInt(n, 10)
}

// sizeFlag reads a byte count, with Ki, Mi and Gi.
type sizeFlag struct{ n *int64 }

func (f sizeFlag) String() string {
	if f.n == nil {
		return ""
	}
	return formatSize(*f.n)
}

func (f sizeFlag) Set(v string) error {
	n, err := parseQuantity(strings.TrimSpace(v))
	if err != nil {
		return err
	}
	if n < 1 {
		return fmt.Errorf("%q: want at least 1 byte", v)
	}
	*f.n = n
	return nil
}
