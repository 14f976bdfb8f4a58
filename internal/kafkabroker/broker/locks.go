package broker

import "sync"

// locks hands out non-blocking read/write locks by key. OSB wants a
// ConcurrencyError rather than a wait when an operation on the same
// resource is running, so nothing here blocks.
type locks struct {
	mu      sync.Mutex
	entries map[string]*lockEntry
}

type lockEntry struct {
	rw   sync.RWMutex
	refs int
}

// try takes the lock for key, exclusively or shared, and returns the
// function that releases it; ok is false when the lock is held in a
// conflicting way.
func (l *locks) try(key string, exclusive bool) (release func(), ok bool) {
	l.mu.Lock()
	if l.entries == nil {
		l.entries = map[string]*lockEntry{}
	}
	e := l.entries[key]
	if e == nil {
		e = &lockEntry{}
		l.entries[key] = e
	}
	if exclusive {
		ok = e.rw.TryLock()
	} else {
		ok = e.rw.TryRLock()
	}
	if !ok {
		l.dropIfUnused(key, e)
		l.mu.Unlock()
		return nil, false
	}
	e.refs++
	l.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			l.mu.Lock()
			defer l.mu.Unlock()
			if exclusive {
				e.rw.Unlock()
			} else {
				e.rw.RUnlock()
			}
			e.refs--
			l.dropIfUnused(key, e)
		})
	}, true
}

// dropIfUnused keeps the map as small as the set of running operations.
func (l *locks) dropIfUnused(key string, e *lockEntry) {
	if e.refs == 0 {
		delete(l.entries, key)
	}
}
