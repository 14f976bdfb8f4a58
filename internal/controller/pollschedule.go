package controller

import (
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
)

// pollSchedule remembers when each object may next ask its broker for the
// state of an operation. The requeue alone does not ensure that: any other
// event for the object (the controller's own spec write, a resync, a
// binding's change) reconciles it early, and polling then would ignore the
// broker's Retry-After. It is kept in memory only: after a restart the first
// poll comes at once, which the broker has to accept anyway. The zero value
// is ready to use.
type pollSchedule struct {
	mu   sync.Mutex
	next map[types.UID]time.Time
}

// after records that uid polls again in d and returns the requeue for it.
func (p *pollSchedule) after(uid types.UID, now time.Time, d time.Duration) ctrl.Result {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.next == nil {
		p.next = map[types.UID]time.Time{}
	}
	p.next[uid] = now.Add(d)
	return ctrl.Result{RequeueAfter: d}
}

// wait is how long uid must still wait before polling; 0 when it may poll.
func (p *pollSchedule) wait(uid types.UID, now time.Time) time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	if d := p.next[uid].Sub(now); d > 0 {
		return d
	}
	return 0
}

// done forgets uid once its operation has ended.
func (p *pollSchedule) done(uid types.UID) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.next, uid)
}
