package controllermanager

import (
	"fmt"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/svcat-io/svcat/internal/osb"
)

// catalogLimitsFlag reads catalog limits as KEY=VALUE pairs, comma-separated
// and repeatable, like --feature-gates: only the keys given change, so
// raising one limit keeps the others' defaults. Values are Kubernetes
// quantities (10Mi).
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

// maxQuantity keeps a limit far enough from int64's end that the sums and
// products of the memory bound (bytes + 330 × values) stay meaningful.
const maxQuantity = 1 << 62

// parseQuantity reads a whole, non-negative Kubernetes quantity: a plain
// count, or a size such as 512Ki, 10Mi or 1Gi (decimal suffixes, 10M, work
// too, as in a Pod's resources).
func parseQuantity(s string) (int64, error) {
	q, err := resource.ParseQuantity(s)
	if err == nil {
		if n, whole := q.AsInt64(); whole && n >= 0 && n <= maxQuantity {
			return n, nil
		}
	}
	return 0, fmt.Errorf("%q is not a whole number: want a count, or a size such as 512Ki, 10Mi or 1Gi", s)
}

// formatSize writes n with the largest binary suffix that divides it, as
// the documented defaults read (10Mi, 512Ki).
func formatSize(n int64) string { return resource.NewQuantity(n, resource.BinarySI).String() }

// sizeFlag reads a byte count, a Kubernetes quantity such as 128Mi.
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
