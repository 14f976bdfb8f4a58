package osb

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"sync"
)

// CatalogBudget bounds the memory of all catalog reads of a process
// together. CatalogLimits bound one read; a controller reading many
// brokers' catalogs at once (up to its broker call limit) would otherwise
// hold the sum of their bounds.
//
// A read is charged what it holds while it holds it: the body buffer as it
// grows with the bytes that arrived, then the bound of its decoded form
// before decoding, which stays charged until the caller releases the
// catalog (CatalogResponse.Release). A read that cannot be charged waits, without reading
// further, until other reads finish or its context ends. A broker that
// hangs or drips therefore holds only the buffer for what it sent, and
// never keeps another broker's read from starting: reserving a catalog's
// whole bound up front would let a few hanging brokers hold the budget for
// the length of their timeouts.
//
// Charging as bytes arrive could deadlock: reads that each hold part of the
// budget, all waiting for more. Each read therefore declares its claim (the
// most it can be charged, from its CatalogLimits), and a charge is granted
// only when every read could still finish in some order if each took its
// whole claim (the banker's algorithm). Some read can always make progress.
type CatalogBudget struct {
	size int64

	mu      sync.Mutex
	used    int64
	holds   map[*budgetHold]struct{}
	waiters []*budgetWaiter
}

// NewCatalogBudget returns a budget of size bytes (at least 1).
func NewCatalogBudget(size int64) *CatalogBudget {
	return &CatalogBudget{size: max(size, 1), holds: map[*budgetHold]struct{}{}}
}

// InUse is how much of the budget reads hold now.
func (b *CatalogBudget) InUse() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.used
}

// CatalogBudgetError refuses a catalog whose read needs more memory than
// the whole CatalogBudget: waiting could never help.
type CatalogBudgetError struct {
	// Budget is the budget's size.
	Budget          int64
	RequestIdentity string
}

func (e *CatalogBudgetError) Error() string {
	return fmt.Sprintf("osb %s: %s", OpGetCatalog, e.Problem())
}

// Problem is the error's message without the operation prefix.
func (e *CatalogBudgetError) Problem() string {
	return fmt.Sprintf("reading and decoding the catalog needs more than %d bytes, the whole memory budget for catalog reads", e.Budget)
}

// budgetHold is one read's share of the budget.
type budgetHold struct {
	b           *CatalogBudget
	claim, held int64
}

type budgetWaiter struct {
	h       *budgetHold
	n       int64
	granted chan struct{}
}

// open starts a read that will be charged at most claim; a claim larger
// than the budget is cut to it, and the read is refused when it passes it.
// A read's charges never pass its claim (GetCatalogWithin opens it with
// the bound of the limits its read is checked against; charge refuses
// past the budget's size), so the banker's check can take claims as fixed.
func (b *CatalogBudget) open(claim int64) *budgetHold {
	h := &budgetHold{b: b, claim: min(max(claim, 0), b.size)}
	b.mu.Lock()
	b.holds[h] = struct{}{}
	b.mu.Unlock()
	return h
}

// charge adds n bytes to the read's share, waiting until that is safe or
// ctx ends.
func (h *budgetHold) charge(ctx context.Context, n int64) error {
	if n <= 0 {
		return nil
	}
	b := h.b
	b.mu.Lock()
	if h.held+n > b.size {
		b.mu.Unlock()
		return &CatalogBudgetError{Budget: b.size}
	}
	if b.grantable(h, n) {
		b.grant(h, n)
		b.mu.Unlock()
		return nil
	}
	w := &budgetWaiter{h: h, n: n, granted: make(chan struct{})}
	b.waiters = append(b.waiters, w)
	b.mu.Unlock()
	select {
	case <-w.granted:
		return nil
	case <-ctx.Done():
		b.mu.Lock()
		defer b.mu.Unlock()
		select {
		case <-w.granted:
			// Granted while the context ended: the read stops anyway and
			// its release returns the charge.
		default:
			b.waiters = slices.DeleteFunc(b.waiters, func(x *budgetWaiter) bool { return x == w })
			// This waiter may have kept others waiting in line.
			b.wake()
		}
		return ctx.Err()
	}
}

// release returns everything the read holds; the hold is done. It may be
// called again, to no effect.
func (h *budgetHold) release() {
	b := h.b
	b.mu.Lock()
	defer b.mu.Unlock()
	b.used -= h.held
	h.held = 0
	delete(b.holds, h)
	b.wake()
}

func (b *CatalogBudget) grant(h *budgetHold, n int64) {
	h.held += n
	b.used += n
}

// wake grants the waiting charges that are safe now, in the order they
// came; a charge that is not safe yet does not keep a later, smaller one
// from going ahead, or one large read could stall all others.
func (b *CatalogBudget) wake() {
	kept := b.waiters[:0]
	for _, w := range b.waiters {
		if b.grantable(w.h, w.n) {
			b.grant(w.h, w.n)
			close(w.granted)
			continue
		}
		kept = append(kept, w)
	}
	clear(b.waiters[len(kept):])
	b.waiters = kept
}

// grantable tells whether charging n more to h leaves a safe state: one
// where the reads can finish one after the other, each taking its whole
// claim from what is free plus what the reads before it released.
func (b *CatalogBudget) grantable(h *budgetHold, n int64) bool {
	if b.used+n > b.size {
		return false
	}
	needs := make([]budgetNeed, 0, len(b.holds))
	for o := range b.holds {
		held := o.held
		if o == h {
			held += n
		}
		needs = append(needs, budgetNeed{o.claim - held, held})
	}
	return safe(b.size-b.used-n, needs)
}

// safe is the banker's check for one resource: with free bytes, finishing
// the reads with the smallest remaining need first succeeds whenever any
// order does, since each finished read only adds to what is free.
func safe(free int64, needs []budgetNeed) bool {
	slices.SortFunc(needs, func(a, b budgetNeed) int { return cmp.Compare(a.rest, b.rest) })
	for _, n := range needs {
		if n.rest > free {
			return false
		}
		free += n.held
	}
	return true
}

// budgetNeed is what one read may still be charged, and what it holds.
type budgetNeed struct{ rest, held int64 }
