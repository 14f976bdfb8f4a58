// Package brokercalls runs requests to brokers off the reconcilers' workers,
// so that a broker that hangs holds none of the few workers every tenant
// shares, and starts them within limits per broker, per namespace and in
// total, in an order fair across namespaces.
//
// A reconcile that needs a broker call asks Do. Do starts the call (or queues
// it while the limits are reached) and waits a short budget for its answer:
// a broker that answers within it is handled in the same reconcile, exactly
// as a synchronous call would be. Otherwise Do reports the call pending and
// the reconcile ends without writing what it cannot know yet; when the call
// finishes, its result is kept and the object is enqueued, and the next
// reconcile takes the result (Take) and applies it.
//
// A Site is one reconciler's end of the runner: it keys calls by object and
// operation and puts an object whose call ended on that reconciler's queue.
// brokerop decides what the answers mean.
//
// Results are kept in memory only. After a restart or a change of leader the
// request is sent again, which OSB's idempotency makes safe.
package brokercalls

import (
	"context"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/types"
)

// Key names one call: the object it is for and the operation, e.g.
// "provision", "poll", "catalog".
type Key struct {
	UID types.UID
	Op  string
}

// Call describes a call to start.
type Call struct {
	Key
	// Broker and Namespace are the buckets the limits count in; Namespace
	// is "" for cluster-scoped objects.
	Broker, Namespace string
	// Sent is what the request carried (the properties, generation, start
	// time the reconcile would have written with the answer). It comes back
	// with the result, which answers this request and not whatever the
	// object's spec says by the time the result is applied.
	Sent any
	// Notify is called when a result is kept for a later reconcile: it
	// enqueues the object. It must not block.
	Notify func()
}

// Result is a finished call's answer and what was sent.
type Result[T any] struct {
	Value T
	Err   error
	Sent  any
}

// Limits bound the calls in flight. A call that would exceed one waits in
// the queue.
type Limits struct {
	PerBroker, PerNamespace, Total int
	// Wait is how long Do waits for a call's answer before reporting it
	// pending.
	Wait time.Duration
	// Keep is how long an unclaimed result is kept: an object deleted or
	// moved on never takes it.
	Keep time.Duration
	// Observe, if set, is told the calls in flight and queued whenever
	// either changes (metrics). It is called with the runner's lock held and
	// must not call the runner.
	Observe func(inFlight, queued int)
}

// DefaultLimits: a call in flight costs a goroutine and a connection, so
// the total is generous; the namespace limit is what one tenant can take
// of it, and the broker limit what one broker can, however many tenants
// use it.
func DefaultLimits() Limits {
	return Limits{PerBroker: 8, PerNamespace: 8, Total: 128, Wait: 200 * time.Millisecond, Keep: 10 * time.Minute}
}

type state int

const (
	queued state = iota
	running
	finished
)

type call struct {
	Call
	fn    func(context.Context) (any, error)
	state state
	// waiting: a Do is waiting for the answer and takes it; nobody needs
	// to be notified.
	waiting bool
	done    chan struct{}
	value   any
	err     error
	started time.Time
	at      time.Time // when it finished
}

// Runner runs calls. Its zero value is not usable; see New.
type Runner struct {
	limits Limits
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu sync.Mutex
	// active is the queued or running call of each object: one at a time,
	// so a DELETE never overtakes the PUT it must follow at the broker.
	active   map[types.UID]*call
	finished map[Key]*call
	total    int
	broker   map[string]int
	ns       map[string]int
	queue    fairQueue
	// slow marks the brokers whose last call outlasted the wait; cleared by
	// a call that does not.
	slow    map[string]bool
	swept   time.Time
	stopped bool
}

// New returns a runner; Start (or Stop) ends its calls.
func New(l Limits) *Runner {
	d := DefaultLimits()
	if l.PerBroker <= 0 {
		l.PerBroker = d.PerBroker
	}
	if l.PerNamespace <= 0 {
		l.PerNamespace = d.PerNamespace
	}
	if l.Total <= 0 {
		l.Total = d.Total
	}
	if l.Keep <= 0 {
		l.Keep = d.Keep
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Runner{limits: l, ctx: ctx, cancel: cancel, active: map[types.UID]*call{}, finished: map[Key]*call{},
		broker: map[string]int{}, ns: map[string]int{}, slow: map[string]bool{}}
}

// Start blocks until ctx ends, then cancels the calls in flight and waits for
// them: it makes the runner a controller-runtime Runnable.
func (r *Runner) Start(ctx context.Context) error {
	<-ctx.Done()
	r.Stop()
	return nil
}

// NeedLeaderElection is false: the runner must run wherever reconcilers do.
func (r *Runner) NeedLeaderElection() bool { return false }

// Stop cancels the calls in flight, drops the queued ones and waits for the
// running ones to return.
func (r *Runner) Stop() {
	r.mu.Lock()
	r.stopped = true
	for uid, c := range r.active {
		if c.state == queued {
			r.queue.remove(c)
			delete(r.active, uid)
		}
	}
	r.observe()
	r.mu.Unlock()
	r.cancel()
	r.wg.Wait()
}

// Status of a key as Take sees it.
type Status int

const (
	// None: no call for this key; the reconcile goes on and may call Do.
	None Status = iota
	// Pending: the call is in flight; its end enqueues the object.
	Pending
	// Done: the result was taken.
	Done
)

// Take returns the result of the key's finished call, removing it, or says
// whether the call is still in flight. A queued call counts as None: nothing
// was sent yet, and the reconcile's Do replaces it with its current request.
func Take[T any](r *Runner, k Key) (Result[T], Status) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if c := r.finished[k]; c != nil {
		delete(r.finished, k)
		return result[T](c), Done
	}
	if c := r.active[k.UID]; c != nil && c.Key == k && c.state == running {
		return Result[T]{}, Pending
	}
	return Result[T]{}, None
}

func result[T any](c *call) Result[T] {
	v, _ := c.value.(T)
	return Result[T]{Value: v, Err: c.err, Sent: c.Sent}
}

// Do starts fn for c (or queues it while the limits are reached) and waits
// up to the runner's Wait for its result. ok is false when the call is
// still queued or in flight: the object is enqueued when it ends. A call
// already running for the object, of this operation or another, is left to
// end (its end enqueues the object; a DELETE must not overtake a PUT); a
// queued one is replaced, since nothing was sent.
func Do[T any](r *Runner, c Call, fn func(context.Context) (T, error)) (Result[T], bool) {
	r.mu.Lock()
	r.sweep()
	if f := r.finished[c.Key]; f != nil {
		delete(r.finished, c.Key)
		r.mu.Unlock()
		return result[T](f), true
	}
	cur := r.active[c.UID]
	switch {
	case r.stopped:
		r.mu.Unlock()
		return Result[T]{}, false
	case cur != nil && cur.state == running && cur.Key != c.Key:
		r.mu.Unlock()
		return Result[T]{}, false
	case cur != nil && cur.state == queued:
		r.queue.remove(cur)
		delete(r.active, c.UID)
		cur = nil
		r.observe()
	}
	// The object moved on to another operation: a result nobody took
	// belongs to a request the new one supersedes.
	r.forgetFinished(c.UID)
	if cur != nil {
		// Already running: its end enqueues the object.
		r.mu.Unlock()
		return Result[T]{}, false
	}
	cur = &call{Call: c, done: make(chan struct{}), fn: func(ctx context.Context) (any, error) { return fn(ctx) }}
	r.active[c.UID] = cur
	r.queue.push(cur)
	r.pump()
	// Only a call that starts now is waited for, and only when its broker
	// answered within the wait lately: a worker waits at most once per
	// call and never for a broker known to be slow, so a thousand objects
	// on a hanging broker cost the workers next to nothing.
	if cur.state != running || r.slow[c.Broker] {
		r.mu.Unlock()
		return Result[T]{}, false
	}
	cur.waiting = true
	r.mu.Unlock()
	return wait[T](r, cur)
}

func wait[T any](r *Runner, c *call) (Result[T], bool) {
	t := time.NewTimer(r.limits.Wait)
	defer t.Stop()
	select {
	case <-c.done:
	case <-t.C:
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if c.state != finished {
		c.waiting = false
		r.slow[c.Broker] = true
		return Result[T]{}, false
	}
	if r.finished[c.Key] != c {
		// Finished while nobody waited and already taken by another Do.
		if c.waiting {
			return result[T](c), true
		}
		return Result[T]{}, false
	}
	delete(r.finished, c.Key)
	return result[T](c), true
}

// Forget drops whatever the runner holds for an object that is gone: its
// queued call and unclaimed results. A running call is left to end; its
// result is dropped after Keep.
func (r *Runner) Forget(uid types.UID) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if c := r.active[uid]; c != nil && c.state == queued {
		r.queue.remove(c)
		delete(r.active, uid)
		r.observe()
	}
	r.forgetFinished(uid)
}

func (r *Runner) forgetFinished(uid types.UID) {
	for k := range r.finished {
		if k.UID == uid {
			delete(r.finished, k)
		}
	}
}

// sweep drops results unclaimed for longer than Keep, at most once per Keep.
func (r *Runner) sweep() {
	now := time.Now()
	if now.Sub(r.swept) < r.limits.Keep {
		return
	}
	r.swept = now
	for k, c := range r.finished {
		if now.Sub(c.at) > r.limits.Keep {
			delete(r.finished, k)
		}
	}
}

// pump starts queued calls while the limits allow, in the queue's fair
// order.
func (r *Runner) pump() {
	defer r.observe()
	for r.total < r.limits.Total {
		c := r.queue.next(func(c *call) bool {
			return r.broker[c.Broker] < r.limits.PerBroker && r.ns[c.Namespace] < r.limits.PerNamespace
		})
		if c == nil {
			return
		}
		r.start(c)
	}
}

func (r *Runner) start(c *call) {
	c.state, c.started = running, time.Now()
	r.total++
	r.broker[c.Broker]++
	r.ns[c.Namespace]++
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		v, err := c.fn(r.ctx)
		r.finish(c, v, err)
	}()
}

func (r *Runner) finish(c *call, v any, err error) {
	r.mu.Lock()
	c.state, c.value, c.err, c.at = finished, v, err, time.Now()
	if c.at.Sub(c.started) <= r.limits.Wait {
		delete(r.slow, c.Broker)
	}
	c.fn = nil
	r.total--
	decr(r.broker, c.Broker)
	decr(r.ns, c.Namespace)
	if r.active[c.UID] == c {
		delete(r.active, c.UID)
	}
	notify := !c.waiting && !r.stopped
	if notify {
		r.finished[c.Key] = c
	}
	r.pump()
	r.mu.Unlock()
	close(c.done)
	if notify && c.Notify != nil {
		c.Notify()
	}
}

func (r *Runner) observe() {
	if r.limits.Observe != nil {
		r.limits.Observe(r.total, r.queue.len())
	}
}

// ForgetBroker drops what the runner remembers of a deleted broker.
func (r *Runner) ForgetBroker(broker string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.slow, broker)
}

func decr(m map[string]int, k string) {
	if m[k]--; m[k] <= 0 {
		delete(m, k)
	}
}

// InFlight and Queued count the calls, for metrics and tests.
func (r *Runner) InFlight() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.total
}

// Queued counts the calls waiting for the limits.
func (r *Runner) Queued() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.queue.len()
}
