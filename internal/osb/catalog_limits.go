package osb

import (
	"context"
	"fmt"
	"net/http"
	"runtime"
)

// CatalogLimit names one of the CatalogLimits. The names are also the keys
// of the catalog-controller's limit flags, so a message can say which key
// raises the limit.
type CatalogLimit string

const (
	LimitBytes           CatalogLimit = "bytes"
	LimitDepth           CatalogLimit = "depth"
	LimitServices        CatalogLimit = "services"
	LimitPlansPerService CatalogLimit = "plans-per-service"
	LimitPlans           CatalogLimit = "plans"
	LimitObjectBytes     CatalogLimit = "object-bytes"
	LimitValues          CatalogLimit = "values"
)

// CatalogLimits bound one catalog answer. They are checked while the body
// arrives, and the request is abandoned at the first one passed, so a
// broker cannot make the client hold more than about MaxBytes of body plus
// the decoded form of at most MaxValues JSON values (see DecodedCostBound).
// A zero field takes its value from DefaultCatalogLimits.
type CatalogLimits struct {
	// MaxBytes bounds the body as sent.
	MaxBytes int64
	// MaxDepth bounds nesting, counted from the document: the top-level
	// object is level 1, a service's metadata object level 4, a plan's
	// parameter schema level 9.
	MaxDepth int
	// MaxServices bounds the elements of "services".
	MaxServices int
	// MaxPlansPerService bounds the elements of one service's "plans".
	MaxPlansPerService int
	// MaxPlans bounds the plans of all services together.
	MaxPlans int
	// MaxObjectBytes bounds each metadata object (of a service or a plan)
	// and each parameter schema, as sent, whitespace included.
	MaxObjectBytes int64
	// MaxValues bounds the JSON values (objects, arrays, strings, numbers,
	// booleans, nulls) of the whole document. Bytes alone do not bound
	// memory: decoded into Go maps, three bytes of JSON ("{},") cost about
	// 70 bytes and a one-key object about 300, so the decoded form is
	// bounded by counting values.
	MaxValues int64
}

// DefaultCatalogLimits are generous enough for large real-world catalogs
// (a cloud provider's hundred services with their schemas is a few MiB and
// about 75,000 values), and are what GetCatalog applies.
func DefaultCatalogLimits() CatalogLimits {
	return CatalogLimits{
		MaxBytes:           DefaultMaxResponseBytes,
		MaxDepth:           64,
		MaxServices:        1000,
		MaxPlansPerService: 200,
		MaxPlans:           5000,
		MaxObjectBytes:     512 << 10,
		MaxValues:          250_000,
	}
}

// decodedBytesPerValue is the most one JSON value was measured to cost once
// decoded into the catalog's types: an object with one key, in a chain of
// them, is a Go map of about 330 bytes (go1.26, amd64).
const decodedBytesPerValue = 330

// DecodedCostBound is an upper bound of the memory one catalog within l can
// take while it is read and decoded: the body plus its decoded form.
func (l CatalogLimits) DecodedCostBound() int64 {
	l = l.withDefaults()
	return l.MaxBytes + decodedCost(l.MaxBytes, l.MaxValues)
}

// decodedCost bounds the decoded form of a body of the given bytes and
// JSON values: each value's structure costs at most decodedBytesPerValue,
// and its strings copy at most the body's bytes (escapes only shrink; an
// invalid UTF-8 byte, which becomes the 3-byte U+FFFD, is the exception
// this leaves out).
func decodedCost(bytes, values int64) int64 {
	return bytes + values*decodedBytesPerValue
}

func (l CatalogLimits) withDefaults() CatalogLimits {
	d := DefaultCatalogLimits()
	pick := func(v, def int64) int64 {
		if v > 0 {
			return v
		}
		return def
	}
	return CatalogLimits{
		MaxBytes:           pick(l.MaxBytes, d.MaxBytes),
		MaxDepth:           int(pick(int64(l.MaxDepth), int64(d.MaxDepth))),
		MaxServices:        int(pick(int64(l.MaxServices), int64(d.MaxServices))),
		MaxPlansPerService: int(pick(int64(l.MaxPlansPerService), int64(d.MaxPlansPerService))),
		MaxPlans:           int(pick(int64(l.MaxPlans), int64(d.MaxPlans))),
		MaxObjectBytes:     pick(l.MaxObjectBytes, d.MaxObjectBytes),
		MaxValues:          pick(l.MaxValues, d.MaxValues),
	}
}

// Get returns the value of the named limit, and false for an unknown name.
func (l CatalogLimits) Get(name CatalogLimit) (int64, bool) {
	switch name {
	case LimitBytes:
		return l.MaxBytes, true
	case LimitDepth:
		return int64(l.MaxDepth), true
	case LimitServices:
		return int64(l.MaxServices), true
	case LimitPlansPerService:
		return int64(l.MaxPlansPerService), true
	case LimitPlans:
		return int64(l.MaxPlans), true
	case LimitObjectBytes:
		return l.MaxObjectBytes, true
	case LimitValues:
		return l.MaxValues, true
	}
	return 0, false
}

// Set changes the named limit; it refuses unknown names and values below 1.
func (l *CatalogLimits) Set(name CatalogLimit, v int64) error {
	if v < 1 {
		return fmt.Errorf("catalog limit %s must be at least 1, not %d", name, v)
	}
	const maxInt = int64(^uint(0) >> 1)
	small := func(p *int) error {
		if v > maxInt {
			return fmt.Errorf("catalog limit %s: %d is too large", name, v)
		}
		*p = int(v)
		return nil
	}
	switch name {
	case LimitBytes:
		l.MaxBytes = v
	case LimitDepth:
		return small(&l.MaxDepth)
	case LimitServices:
		return small(&l.MaxServices)
	case LimitPlansPerService:
		return small(&l.MaxPlansPerService)
	case LimitPlans:
		return small(&l.MaxPlans)
	case LimitObjectBytes:
		l.MaxObjectBytes = v
	case LimitValues:
		l.MaxValues = v
	default:
		return fmt.Errorf("unknown catalog limit %q; known: %v", truncate(string(name), 64), CatalogLimitNames())
	}
	return nil
}

// CatalogLimitNames lists the limits in a fixed order, for flags and docs.
func CatalogLimitNames() []CatalogLimit {
	return []CatalogLimit{LimitBytes, LimitDepth, LimitServices, LimitPlansPerService, LimitPlans, LimitObjectBytes, LimitValues}
}

// CatalogLimitError is a catalog answer refused because it passed one of
// the CatalogLimits; the rest of the body was not read. It names where in
// the document the limit was passed, never a value from it.
type CatalogLimitError struct {
	Limit CatalogLimit
	// Max is the limit's value.
	Max int64
	// Path locates the offending value, e.g. "services[0].metadata.a";
	// empty for limits on the whole document.
	Path            string
	RequestIdentity string
}

func (e *CatalogLimitError) Error() string {
	return fmt.Sprintf("osb %s: %s", OpGetCatalog, e.Problem())
}

// Problem is the error's message without the operation prefix.
func (e *CatalogLimitError) Problem() string {
	at := ""
	if e.Path != "" {
		at = " (at " + e.Path + ")"
	}
	switch e.Limit {
	case LimitBytes:
		return fmt.Sprintf("the catalog is larger than %d bytes", e.Max)
	case LimitDepth:
		return fmt.Sprintf("the catalog nests more than %d levels deep at %s", e.Max, orTop(e.Path))
	case LimitServices:
		return fmt.Sprintf("the catalog has more than %d services", e.Max)
	case LimitPlansPerService:
		return fmt.Sprintf("%s has more than %d plans", orTop(e.Path), e.Max)
	case LimitPlans:
		return fmt.Sprintf("the catalog has more than %d plans in all%s", e.Max, at)
	case LimitObjectBytes:
		return fmt.Sprintf("%s is larger than %d bytes", orTop(e.Path), e.Max)
	case LimitValues:
		return fmt.Sprintf("the catalog has more than %d JSON values%s", e.Max, at)
	}
	return fmt.Sprintf("the catalog passes the limit %s of %d%s", e.Limit, e.Max, at)
}

func orTop(path string) string {
	if path == "" {
		return "the top level"
	}
	return path
}

// GetCatalogWithin fetches the broker's catalog, refusing it with a
// *CatalogLimitError as soon as it passes one of lim.
//
// With a Config.CatalogBudget, the read is charged to it, and a catalog
// returned stays charged until its Release is called (or, failing that,
// until the garbage collector finds it unreachable): the decoded catalog
// is the memory the budget bounds, and it lives as long as the caller
// uses it. On an error nothing stays charged.
func (c *Client) GetCatalogWithin(ctx context.Context, lim CatalogLimits) (*CatalogResponse, error) {
	lim = lim.withDefaults()
	cl := call{
		op: OpGetCatalog, method: http.MethodGet, path: []string{"catalog"},
		ok: []int{http.StatusOK}, requireBody: true, limits: &lim,
	}
	if c.cfg.CatalogBudget != nil {
		cl.hold = c.cfg.CatalogBudget.open(lim.DecodedCostBound() + 1)
	}
	out, err := run[CatalogResponse](ctx, c, cl)
	if cl.hold == nil {
		return out, err
	}
	if err != nil {
		cl.hold.release()
		return nil, err
	}
	out.hold = cl.hold
	// A caller that drops the catalog without Release (a result nobody
	// consumed) must not keep the budget forever.
	runtime.AddCleanup(out, (*budgetHold).release, cl.hold)
	return out, nil
}

// Release returns the catalog's charge to the CatalogBudget it was read
// within; call it when done with the catalog. It is safe to call more than
// once, and on a catalog read without a budget.
func (r *CatalogResponse) Release() {
	if r != nil && r.hold != nil {
		r.hold.release()
	}
}

// GetCatalog fetches the broker's catalog within DefaultCatalogLimits.
func (c *Client) GetCatalog(ctx context.Context) (*CatalogResponse, error) {
	return c.GetCatalogWithin(ctx, DefaultCatalogLimits())
}
