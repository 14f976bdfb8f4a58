// Package pollschedule decides when an asynchronous operation is polled
// next: the broker's Retry-After, else a delay that grows with the
// operation's age, remembered per object so that early reconciles wait.
package pollschedule

import (
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
)

// Schedule remembers when each object may next ask its broker for the
// state of an operation. The requeue alone does not ensure that: any other
// event for the object (the controller's own spec write, a resync, a
// binding's change) reconciles it early, and polling then would ignore the
// broker's Retry-After. It is kept in memory only: after a restart the first
// poll comes at once, which the broker has to accept anyway. The zero value
// is ready to use.
type Schedule struct {
	mu   sync.Mutex
	next map[types.UID]time.Time
}

// After records that uid polls again in d and returns the requeue for it.
func (p *Schedule) After(uid types.UID, now time.Time, d time.Duration) ctrl.Result {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.next == nil {
		p.next = map[types.UID]time.Time{}
	}
	p.next[uid] = now.Add(d)
	return ctrl.Result{RequeueAfter: d}
}

// Wait is how long uid must still wait before polling; 0 when it may poll.
func (p *Schedule) Wait(uid types.UID, now time.Time) time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	if d := p.next[uid].Sub(now); d > 0 {
		return d
	}
	return 0
}

// Done forgets uid once its operation has ended.
func (p *Schedule) Done(uid types.UID) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.next, uid)
}

// Delay is when to ask the broker again: when it said (Retry-After),
// else soon at first and less often as the operation drags on. v0.3 backed
// off exponentially to 20 minutes, so an instance the broker had finished
// could show Ready minutes late (v0.3 issue 1492).
func Delay(retryAfter time.Duration, started, now time.Time) time.Duration {
	if retryAfter > 0 {
		return retryAfter
	}
	elapsed := now.Sub(started)
	switch {
	case elapsed < 10*time.Second:
		return 250 * time.Millisecond
	case elapsed < time.Minute:
		return time.Second
	case elapsed < 10*time.Minute:
		return 5 * time.Second
	}
	return 30 * time.Second
}
