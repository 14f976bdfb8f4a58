package testbroker

import (
	"sort"
	"strconv"
	"time"

	"github.com/svcat-io/svcat/internal/osb"
)

// Lifecycle states of instances and bindings as the broker sees them.
const (
	StateCreating = "creating"
	StateReady    = "ready"
	StateUpdating = "updating"
	StateDeleting = "deleting"
	// StateFailed: an async create ended failed; the resource still exists
	// on the broker until deleted, which is what orphan mitigation is for.
	StateFailed = "failed"
)

// Instance is the broker's record of a service instance.
type Instance struct {
	ID              string
	ServiceID       string
	PlanID          string
	Parameters      map[string]any
	Context         map[string]any
	MaintenanceInfo *osb.MaintenanceInfo
	DashboardURL    string
	State           string
}

// Binding is the broker's record of a binding.
type Binding struct {
	ID          string
	InstanceID  string
	ServiceID   string
	PlanID      string
	Parameters  map[string]any
	AppGUID     string
	Credentials map[string]any
	State       string
	// Predecessor is the predecessor_binding_id the bind named.
	Predecessor string
	// ExpiresAt is when its credentials expire (Options.BindingLifetime);
	// zero: never.
	ExpiresAt time.Time
}

// asyncOp is an operation the broker answered 202 for.
type asyncOp struct {
	key        string
	op         osb.Operation
	pollsLeft  int
	readyAt    time.Time
	fail       bool
	desc       string
	retryAfter string
	state      osb.LastOperationState
	// finish applies the outcome once the operation ends.
	finish func(succeeded bool)
}

type instanceRec struct {
	Instance
	op *asyncOp
}

type bindingRec struct {
	Binding
	op *asyncOp
}

type state struct {
	instances  map[string]*instanceRec
	bindings   map[string]*bindingRec
	provisions map[string]int
	// issued outlives the binding, so tests can check what was handed out.
	issued map[string]map[string]any
	// gone remembers deleted IDs so last_operation can answer 410.
	gone   map[string]bool
	nextOp int
}

func newState() state {
	return state{
		instances:  map[string]*instanceRec{},
		bindings:   map[string]*bindingRec{},
		provisions: map[string]int{},
		issued:     map[string]map[string]any{},
		gone:       map[string]bool{},
	}
}

func (s *state) newOp(op osb.Operation, r Rule, finish func(bool)) *asyncOp {
	s.nextOp++
	key := r.OperationKey
	if key == "" {
		key = "op-" + strconv.Itoa(s.nextOp)
	}
	return &asyncOp{
		key: key, op: op, pollsLeft: r.AsyncPolls, readyAt: time.Now().Add(r.AsyncDelay),
		fail: r.AsyncFail, desc: r.Description, retryAfter: r.RetryAfter,
		state: osb.StateInProgress, finish: finish,
	}
}

// advance moves o towards its end; each poll while AsyncPolls remain
// answers in progress.
func (o *asyncOp) advance(poll bool) {
	if o.state != osb.StateInProgress {
		return
	}
	if o.pollsLeft > 0 {
		if poll {
			o.pollsLeft--
		}
		return
	}
	if time.Now().Before(o.readyAt) {
		return
	}
	o.state = osb.StateSucceeded
	if o.fail {
		o.state = osb.StateFailed
	}
	o.finish(!o.fail)
}

// settle finishes operations whose delay has passed, so the accessors show
// what a poll would.
func (s *state) settle() {
	// Finishing a delete removes map entries; Go allows that while ranging.
	for _, i := range s.instances {
		if i.op != nil {
			i.op.advance(false)
		}
	}
	for _, bd := range s.bindings {
		if bd.op != nil {
			bd.op.advance(false)
		}
	}
}

// Instances lists the broker's instances, sorted by ID.
func (b *Broker) Instances() []Instance {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.settle()
	out := make([]Instance, 0, len(b.instances))
	for _, i := range b.instances {
		out = append(out, i.Instance)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// Instance returns one instance.
func (b *Broker) Instance(id string) (Instance, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.settle()
	i, ok := b.instances[id]
	if !ok {
		return Instance{}, false
	}
	return i.Instance, true
}

// Bindings lists the broker's bindings, sorted by ID.
func (b *Broker) Bindings() []Binding {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.settle()
	out := make([]Binding, 0, len(b.bindings))
	for _, bd := range b.bindings {
		out = append(out, bd.Binding)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// ProvisionCount is how many times the broker created instance id: repeated
// identical PUTs that it answered 200 do not count, re-creation after a
// delete or a failed provision does.
func (b *Broker) ProvisionCount(id string) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.provisions[id]
}

// Credentials returns the credentials last issued for binding id, even if
// the binding was deleted since; nil if none were.
func (b *Broker) Credentials(bindingID string) map[string]any {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.settle()
	return b.issued[bindingID]
}
