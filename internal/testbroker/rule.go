package testbroker

import (
	"time"

	"github.com/svcat-io/svcat/internal/osb"
)

// Rule scripts how the broker answers matching requests. Selector fields
// left empty match anything; the newest matching rule wins.
type Rule struct {
	Operation  osb.Operation
	ServiceID  string
	PlanID     string
	InstanceID string
	BindingID  string
	// Times limits how many requests the rule answers before it retires,
	// so "fail twice, then succeed" is Status: 500, Times: 2. 0 is no limit.
	Times int

	// Status >= 400 fails the request with that status and the error body
	// {error: ErrorCode, description: Description}, leaving state unchanged
	// unless ApplyFirst. A 2xx Status does the work and answers with it.
	Status      int
	ErrorCode   string
	Description string
	// ApplyFirst does the work before failing, like a broker that creates
	// the instance and then answers 500: the orphan case.
	ApplyFirst bool

	// Async answers 202 and completes later: the first AsyncPolls polls of
	// last_operation answer "in progress", as do polls before AsyncDelay has
	// passed. AsyncFail makes the operation end "failed" with Description.
	Async        bool
	AsyncPolls   int
	AsyncDelay   time.Duration
	AsyncFail    bool
	OperationKey string // default "op-<n>"

	// RetryAfter is sent as the Retry-After header, verbatim, on this answer
	// and on every poll of an operation the rule started.
	RetryAfter string
	// Hang delays the answer; the work is done first, as a slow but
	// spec-abiding broker records a request on receipt.
	Hang time.Duration
	// Drop closes the connection without an answer after doing the work,
	// like a broker that crashes mid-request.
	Drop bool
	// Malformed replaces the body with truncated JSON; Body replaces it
	// with anything. Neither stops the work.
	Malformed bool
	Body      []byte
	// PadBytes adds an ignored field of that many bytes to a JSON body.
	PadBytes int
}

func (r *Rule) async() bool { return r.Async || r.AsyncPolls > 0 || r.AsyncDelay > 0 }

// selector is what a request offers for rule matching.
type selector struct {
	op                                       osb.Operation
	serviceID, planID, instanceID, bindingID string
}

type activeRule struct {
	Rule
	used int
}

func (r *activeRule) matches(s selector) bool {
	return (r.Operation == "" || r.Operation == s.op) &&
		(r.ServiceID == "" || r.ServiceID == s.serviceID) &&
		(r.PlanID == "" || r.PlanID == s.planID) &&
		(r.InstanceID == "" || r.InstanceID == s.instanceID) &&
		(r.BindingID == "" || r.BindingID == s.bindingID)
}

// On adds a rule. Rules added later take precedence.
func (b *Broker) On(r Rule) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.rules = append(b.rules, &activeRule{Rule: r})
}

// ClearRules removes every rule, so the broker behaves correctly again.
func (b *Broker) ClearRules() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.rules = nil
}

// match returns the rule that answers s, counting the use; the zero Rule
// means "behave correctly". Called with b.mu held.
func (b *Broker) match(s selector) Rule {
	for i := len(b.rules) - 1; i >= 0; i-- {
		r := b.rules[i]
		if !r.matches(s) {
			continue
		}
		r.used++
		if r.Times > 0 && r.used >= r.Times {
			b.rules = append(b.rules[:i], b.rules[i+1:]...)
		}
		return r.Rule
	}
	return Rule{}
}
