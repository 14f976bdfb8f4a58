package osbcheck

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/svcat-io/svcat/internal/brokertext"
	"github.com/svcat-io/svcat/internal/osb"
)

// Config says which broker to check and how.
type Config struct {
	URL string
	// Username/Password (basic auth) or Token (bearer); all empty sends no
	// credentials, and the auth checks are skipped.
	Username, Password, Token string
	// APIVersion is sent as X-Broker-API-Version; default 2.17.
	APIVersion string
	Insecure   bool
	CABundle   []byte
	// Services and Plans select offerings and plans by ID or name; empty
	// selects every bindable plan.
	Services, Plans []string
	// MaxPlans, if positive, checks only the first MaxPlans selected plans.
	MaxPlans int
	// Parameters are sent on provision and update, by plan ID or name; the
	// key "" applies to every plan without its own entry.
	Parameters map[string]map[string]any
	// Context replaces the context object the checker sends.
	Context map[string]any
	// Timeout bounds each request (default 30s); PollTimeout each
	// asynchronous operation (default 5m, or the plan's
	// maximum_polling_duration).
	Timeout, PollTimeout time.Duration
}

type runner struct {
	cfg  Config
	http *http.Client
	// client is our OSB client, a well-behaved platform's: cleanup uses it
	// because removing what the check made is not itself a check.
	client *osb.Client
	report *Report

	mu sync.Mutex
	// globals hold the first failure of the checks every answer is subject
	// to; they are reported once at the end.
	globals map[string]string
	// created is what the checker must remove, by instance ID.
	created map[string]*created
	// expiries collect the expiry metadata of bind answers, by plan.
	expiries map[string]*expiry
}

type created struct {
	serviceID, planID string
	bindings          map[string]bool
}

// Run checks the broker and removes what it created, also when ctx ends:
// cleanup runs on a context of its own, bounded in time. The error is
// non-nil only when the configuration is unusable.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	if cfg.URL == "" {
		return nil, errors.New("the broker URL is required")
	}
	if cfg.APIVersion == "" {
		cfg.APIVersion = osb.APIVersion
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 30 * time.Second
	}
	if cfg.PollTimeout == 0 {
		cfg.PollTimeout = 5 * time.Minute
	}
	hc, err := newHTTPClient(&cfg)
	if err != nil {
		return nil, err
	}
	client, err := osb.New(osb.Config{URL: cfg.URL, Username: cfg.Username, Password: cfg.Password, BearerToken: cfg.Token,
		CABundle: cfg.CABundle, InsecureSkipTLSVerify: cfg.Insecure, Timeout: cfg.Timeout})
	if err != nil {
		return nil, err
	}
	defer client.Close()
	r := &runner{cfg: cfg, http: hc, client: client, globals: map[string]string{}, created: map[string]*created{},
		report: &Report{URL: cfg.URL, APIVersion: cfg.APIVersion}}
	defer r.cleanup(ctx)
	r.run(ctx)
	if err := ctx.Err(); err != nil {
		r.report.Aborted = "interrupted: " + context.Cause(ctx).Error()
	}
	for _, id := range []string{"identity.request-echo", "errors.body", "last-operation.retry-after"} {
		r.verdict(id, "", nonEmpty(r.globals[id]))
	}
	r.skipUnexercised()
	return r.report, nil
}

// maxDetail bounds the broker text one result quotes.
const maxDetail = 1000

// safe makes text that may quote a broker's answer fit for a terminal and
// a CI log: bounded, one line, no control sequences, and credentials
// (a bind's password, say) redacted.
func safe(s string) string { return brokertext.Clean(s, maxDetail) }

func nonEmpty(s string) []string {
	if s == "" {
		return nil
	}
	return []string{s}
}

func (r *runner) run(ctx context.Context) {
	services := r.fetchCatalog(ctx)
	r.checkHeaders(ctx)
	if services == nil {
		return
	}
	plans, err := r.selectPlans(services)
	if err != nil {
		r.report.Aborted = err.Error()
		return
	}
	for _, p := range plans {
		r.report.Plans = append(r.report.Plans, p.svc.Name+"/"+p.plan.Name)
	}
	if len(plans) == 0 {
		r.report.Aborted = "no plan to check: select one with --service/--plan"
		return
	}
	r.checkRejections(ctx, plans[0])
	for _, p := range plans {
		if ctx.Err() != nil {
			return
		}
		r.lifecycle(ctx, p)
	}
}

// target is a plan chosen for the lifecycle.
type target struct {
	svc  *osb.Service
	plan *osb.Plan
}

func (t target) name() string { return t.svc.Name + "/" + t.plan.Name }

func (r *runner) selectPlans(services []osb.Service) ([]target, error) {
	match := func(sel []string, id, name string) bool {
		if len(sel) == 0 {
			return true
		}
		for _, s := range sel {
			if s == id || s == name {
				return true
			}
		}
		return false
	}
	var out []target
	for i := range services {
		s := &services[i]
		if !match(r.cfg.Services, s.ID, s.Name) {
			continue
		}
		for j := range s.Plans {
			p := &s.Plans[j]
			if !match(r.cfg.Plans, p.ID, p.Name) || (len(r.cfg.Plans) == 0 && !p.IsBindable(s)) {
				continue
			}
			out = append(out, target{s, p})
		}
	}
	if len(out) == 0 && (len(r.cfg.Services) > 0 || len(r.cfg.Plans) > 0) {
		return nil, fmt.Errorf("no plan of the catalog matches --service %s --plan %s", strings.Join(r.cfg.Services, ","), strings.Join(r.cfg.Plans, ","))
	}
	if r.cfg.MaxPlans > 0 && len(out) > r.cfg.MaxPlans {
		out = out[:r.cfg.MaxPlans]
	}
	return out, nil
}

func (r *runner) add(id, plan string, st Status, detail string) {
	c, ok := CheckByID(id)
	if !ok {
		panic("osbcheck: unknown check " + id)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.report.Results = append(r.report.Results, Result{Check: c, Plan: plan, Status: st, Detail: safe(detail)})
}

func (r *runner) pass(id, plan string)         { r.add(id, plan, Pass, "") }
func (r *runner) fail(id, plan, detail string) { r.add(id, plan, Fail, detail) }
func (r *runner) skip(id, plan, reason string) { r.add(id, plan, Skip, reason) }
func (r *runner) verdict(id, plan string, p []string) {
	if len(p) == 0 {
		r.pass(id, plan)
		return
	}
	r.fail(id, plan, strings.Join(p, "; "))
}

// expect passes id when resp has one of the statuses, and fails it otherwise.
func (r *runner) expect(id, plan string, resp *response, err error, statuses ...int) bool {
	if err != nil {
		r.fail(id, plan, err.Error())
		return false
	}
	for _, s := range statuses {
		if resp.status == s {
			r.pass(id, plan)
			return true
		}
	}
	r.fail(id, plan, resp.String())
	return false
}

func (r *runner) global(id, detail string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.globals[id] == "" {
		r.globals[id] = detail
	}
}

func (r *runner) track(instanceID, serviceID, planID string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.created[instanceID] == nil {
		r.created[instanceID] = &created{serviceID: serviceID, planID: planID, bindings: map[string]bool{}}
	}
}

func (r *runner) trackBinding(instanceID, bindingID string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if c := r.created[instanceID]; c != nil {
		c.bindings[bindingID] = true
	}
}

func (r *runner) forget(instanceID, bindingID string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if bindingID == "" {
		delete(r.created, instanceID)
	} else if c := r.created[instanceID]; c != nil {
		delete(c.bindings, bindingID)
	}
}

func (r *runner) setPlan(instanceID, planID string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if c := r.created[instanceID]; c != nil {
		c.planID = planID
	}
}

// cleanup removes every binding and instance still recorded, on a context
// that survives ctx (Ctrl-C must not leave the broker littered), and lists
// what it could not remove.
func (r *runner) cleanup(ctx context.Context) {
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), r.cfg.PollTimeout+r.cfg.Timeout)
	defer cancel()
	r.mu.Lock()
	todo := make(map[string]created, len(r.created))
	for id, c := range r.created {
		cp := *c
		cp.bindings = map[string]bool{}
		for b := range c.bindings {
			cp.bindings[b] = true
		}
		todo[id] = cp
	}
	r.mu.Unlock()
	for id, c := range todo {
		failed := false
		for bid := range c.bindings {
			if err := r.unbind(cctx, id, bid, c.serviceID, c.planID); err != nil {
				failed = true
				r.report.Leftovers = append(r.report.Leftovers, Leftover{Kind: "binding", InstanceID: id, BindingID: bid, ServiceID: c.serviceID, PlanID: c.planID, Error: safe(err.Error())})
			}
		}
		if failed {
			r.report.Leftovers = append(r.report.Leftovers, Leftover{Kind: "instance", InstanceID: id, ServiceID: c.serviceID, PlanID: c.planID, Error: "its bindings could not be removed"})
			continue
		}
		if err := r.deprovisionInstance(cctx, id, c.serviceID, c.planID); err != nil {
			r.report.Leftovers = append(r.report.Leftovers, Leftover{Kind: "instance", InstanceID: id, ServiceID: c.serviceID, PlanID: c.planID, Error: safe(err.Error())})
		}
	}
}

// skipUnexercised lists every check the run never reached, so a report
// always accounts for all of them.
func (r *runner) skipUnexercised() {
	seen := map[string]bool{}
	for _, res := range r.report.Results {
		seen[res.ID] = true
	}
	for _, c := range Checks {
		if !seen[c.ID] {
			r.skip(c.ID, "", "not exercised: no plan and no answer led to it")
		}
	}
}
