package brokercalls

import "container/list"

// fairQueue holds the calls waiting for the limits: first in, first out
// within a namespace, and across namespaces the one served least recently
// first, so a namespace that queued a thousand calls delays another
// namespace's call by at most one call of its own.
type fairQueue struct {
	byNS  map[string]*list.List
	where map[*call]*list.Element
	// ring is the namespaces with queued calls in arrival order, which
	// breaks ties.
	ring []string
	// served is when each namespace last had a call started (a counter,
	// not a clock); namespaces never served count as 0.
	served map[string]uint64
	seq    uint64
	n      int
}

func (q *fairQueue) push(c *call) {
	if q.byNS == nil {
		q.byNS, q.where, q.served = map[string]*list.List{}, map[*call]*list.Element{}, map[string]uint64{}
	}
	l := q.byNS[c.Namespace]
	if l == nil {
		l = list.New()
		q.byNS[c.Namespace] = l
		q.ring = append(q.ring, c.Namespace)
	}
	q.where[c] = l.PushBack(c)
	q.n++
}

func (q *fairQueue) remove(c *call) {
	e, ok := q.where[c]
	if !ok {
		return
	}
	delete(q.where, c)
	l := q.byNS[c.Namespace]
	l.Remove(e)
	q.n--
	if l.Len() == 0 {
		delete(q.byNS, c.Namespace)
		for i, n := range q.ring {
			if n == c.Namespace {
				q.ring = append(q.ring[:i], q.ring[i+1:]...)
				break
			}
		}
	}
}

// next removes and returns the call to start: from the namespace served
// least recently among those with a call that may start, its first such
// call in arrival order (a call whose broker is at its limit lets the
// namespace's next call for another broker go first).
func (q *fairQueue) next(may func(*call) bool) *call {
	var best *call
	var bestServed uint64
	for _, ns := range q.ring {
		s := q.served[ns]
		if best != nil && s >= bestServed {
			continue
		}
		for e := q.byNS[ns].Front(); e != nil; e = e.Next() {
			if c := e.Value.(*call); may(c) {
				best, bestServed = c, s
				break
			}
		}
	}
	if best == nil {
		return nil
	}
	q.seq++
	q.served[best.Namespace] = q.seq
	q.remove(best)
	q.forgetIdle()
	return best
}

// forgetIdle bounds served: the record of namespaces with nothing queued is
// dropped once it outgrows the queued ones by far. A dropped namespace only
// loses its place in the round.
func (q *fairQueue) forgetIdle() {
	if len(q.served) <= 2*len(q.byNS)+1024 {
		return
	}
	for ns := range q.served {
		if q.byNS[ns] == nil {
			delete(q.served, ns)
		}
	}
}

func (q *fairQueue) len() int { return q.n }
