// Package paramwatch tells the instance reconciler when a Secret named in
// an instance's spec.parametersFrom changes, without caching the cluster's
// Secrets.
//
// The manager's cache holds only the Secrets the controller writes (see
// controllermanager): a watch on every Secret, even of metadata only, would
// grow the controller with every Secret of the cluster. Instead each
// referenced Secret gets a watch of its own, narrowed by a field selector to
// its namespace and name and carrying metadata only (PartialObjectMetadata):
// the controller holds one small object per referenced Secret and nothing of
// the others. A watch starts when the first instance names the Secret and
// stops when the last one no longer does.
//
// An event only puts the referring instances on the queue. Whether the
// broker hears of it is the reconciler's decision: it reads the Secret
// uncached and sends an update only when the checksum of the merged
// parameters differs from the one recorded in the status, so a change of a
// key no parameter comes from, or a write that changes nothing, sends
// nothing.
//
// Watches are bounded in total and per namespace (Limits), and tenants
// choose how many Secrets they name, so how the watches are shared out is
// a matter of fairness between namespaces: the pure functions of share.go
// decide it. A Secret beyond the limits waits for a watch: Track reports
// it, so that the instance can say its changes are not watched, and it
// gets one as soon as one is freed for it.
package paramwatch

import (
	"context"
	"sort"
	"sync"
	"sync/atomic"

	"github.com/go-logr/logr"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/metadata/metadatainformer"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"
)

// DefaultMaxWatches bounds the watches open at once. Each costs the
// controller a few goroutines and the API server a watcher; a tenant could
// otherwise open any number by naming Secrets. Beyond it, or beyond its
// namespace's share (DefaultMaxWatchesPerNamespace), a Secret's change
// reaches the broker at the instance's next reconcile (the resync period,
// or any spec change), and the instance says so (Track's Unwatched).
const DefaultMaxWatches = 5000

var secrets = schema.GroupVersionResource{Version: "v1", Resource: "secrets"}

// Watcher keeps one metadata watch per referenced Secret and queues the
// instances that name a Secret when it changes.
type Watcher struct {
	Client metadata.Interface
	Log    logr.Logger
	// Limits bound the watches open at once, in total and per namespace,
	// so that one namespace naming many Secrets cannot take the watches of
	// the others' Secrets.
	Limits Limits
	// Observe, when set, is told the numbers of watched Secrets and of
	// referenced ones a limit leaves unwatched after each change (for
	// metrics).
	Observe func(watched, unwatched int)

	mu sync.Mutex
	// ctx is the manager's, once started; watches wait for it.
	ctx context.Context
	// refs: instance → the Secret names (in its namespace) it references.
	refs map[types.NamespacedName][]string
	// spaces: namespace → its referenced Secrets, watched or waiting.
	spaces map[string]*space
	// total is the number of watched Secrets, all namespaces together.
	total int
	// refused counts Secrets left unwatched by a limit, for the log.
	refused int

	queue atomic.Pointer[workqueue.TypedRateLimitingInterface[reconcile.Request]]
}

// space holds the referenced Secrets of one namespace, by name: those with
// a watch, and those a limit left waiting for one.
type space struct {
	watched map[string]*secretWatch
	waiting map[string]*secretWatch
}

type secretWatch struct {
	stop      context.CancelFunc // nil until started, and while waiting
	referrers map[types.NamespacedName]struct{}
}

// Unwatched says which of the Secrets an instance names have no watch,
// and the limit that keeps them waiting. Their changes reach the broker at
// the instance's next reconcile only.
type Unwatched struct {
	// Names are the unwatched Secrets, sorted; none when all are watched.
	Names []string
	// Limit is the limit reached: PerNamespaceLimit or TotalLimit.
	Limit Limit
	// Max is that limit's value.
	Max int
	// Held is the number of watches the namespace holds.
	Held int
}

// Source hands the instance controller's queue to the watcher.
func (w *Watcher) Source() source.Source {
	return source.Func(func(_ context.Context, q workqueue.TypedRateLimitingInterface[reconcile.Request]) error {
		w.queue.Store(&q)
		return nil
	})
}

// Start starts the watches recorded before the manager ran and stops all of
// them when ctx ends.
func (w *Watcher) Start(ctx context.Context) error {
	w.mu.Lock()
	w.ctx = ctx
	for ns, sp := range w.spaces {
		for name, sw := range sp.watched {
			w.startLocked(types.NamespacedName{Namespace: ns, Name: name}, sw)
		}
	}
	w.mu.Unlock()
	<-ctx.Done()
	return nil
}

// Track records that inst references the Secrets names (in inst's
// namespace), replacing what it referenced before; no names forgets inst.
// It is called by every reconcile, so a restarted controller rebuilds the
// set from the first reconcile of each instance, and a Secret left waiting
// by a limit is tried again at each reconcile of an instance naming it.
// It returns the named Secrets that have no watch.
//
// A watch that closes (its last instance no longer names it) goes to a
// waiting Secret of the namespace holding the fewest watches; one taken
// from a namespace (see admit) queues that namespace's instances which
// named it, so that their status tells they are no longer watched.
func (w *Watcher) Track(inst types.NamespacedName, names []string) Unwatched {
	names = distinct(names)
	var wake []types.NamespacedName
	defer func() { w.enqueue(wake) }()
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.refs == nil {
		w.refs = map[types.NamespacedName][]string{}
		w.spaces = map[string]*space{}
	}
	old := w.refs[inst]
	if sameNames(old, names) && w.allWatchedLocked(inst.Namespace, names) {
		return Unwatched{}
	}
	if w.Observe != nil {
		defer func() { w.Observe(w.total, w.waitingLocked()) }()
	}
	if !sameNames(old, names) {
		w.unreferLocked(inst, old, names)
		w.referLocked(inst, names)
	}
	// The Secrets named first are watched first. After one refusal the
	// counts are unchanged, so the rest would be refused too: stopping
	// there keeps a reconcile of an instance naming thousands of Secrets
	// from costing thousands of decisions.
	if sp := w.spaces[inst.Namespace]; sp != nil {
		for _, n := range names {
			if sw := sp.waiting[n]; sw != nil {
				var ok bool
				if wake, ok = w.admitLocked(types.NamespacedName{Namespace: inst.Namespace, Name: n}, sw, wake); !ok {
					break
				}
			}
		}
	}
	wake = w.balanceLocked(inst, wake)
	return w.unwatchedLocked(inst.Namespace, names)
}

// unreferLocked drops inst from the Secrets of old it no longer names; a
// Secret no instance names any more loses its watch.
func (w *Watcher) unreferLocked(inst types.NamespacedName, old, names []string) {
	sp := w.spaces[inst.Namespace]
	if sp == nil {
		return
	}
	keep := make(map[string]struct{}, len(names))
	for _, n := range names {
		keep[n] = struct{}{}
	}
	for _, n := range old {
		if _, ok := keep[n]; ok {
			continue
		}
		if sw := sp.watched[n]; sw != nil {
			delete(sw.referrers, inst)
			if len(sw.referrers) == 0 {
				if sw.stop != nil {
					sw.stop()
				}
				delete(sp.watched, n)
				w.total--
			}
		} else if sw := sp.waiting[n]; sw != nil {
			delete(sw.referrers, inst)
			if len(sw.referrers) == 0 {
				delete(sp.waiting, n)
			}
		}
	}
	if len(sp.watched) == 0 && len(sp.waiting) == 0 {
		delete(w.spaces, inst.Namespace)
	}
}

// referLocked records inst as a referrer of each of names; a Secret named
// for the first time waits until admitted.
func (w *Watcher) referLocked(inst types.NamespacedName, names []string) {
	if len(names) == 0 {
		delete(w.refs, inst)
		return
	}
	w.refs[inst] = names
	sp := w.spaces[inst.Namespace]
	if sp == nil {
		sp = &space{watched: map[string]*secretWatch{}, waiting: map[string]*secretWatch{}}
		w.spaces[inst.Namespace] = sp
	}
	for _, n := range names {
		sw := sp.watched[n]
		if sw == nil {
			sw = sp.waiting[n]
		}
		if sw == nil {
			sw = &secretWatch{referrers: map[types.NamespacedName]struct{}{}}
			sp.waiting[n] = sw
		}
		sw.referrers[inst] = struct{}{}
	}
}

// admitLocked gives the waiting Secret key a watch if admit allows it,
// taking one from the namespace holding the most if it must. It returns
// wake with the instances that lost a watch added, and whether key got
// its watch.
func (w *Watcher) admitLocked(key types.NamespacedName, sw *secretWatch, wake []types.NamespacedName) ([]types.NamespacedName, bool) {
	sp := w.spaces[key.Namespace]
	richest, most := w.richestIfFullLocked(key.Namespace)
	a := admit(w.Limits, w.total, len(sp.watched), most)
	if !a.watch {
		w.refused++
		if w.refused == 1 || w.refused%1000 == 0 {
			l := w.Limits.withDefaults()
			w.Log.Info("not watching a parametersFrom Secret: its namespace or the controller holds the most watches allowed; its changes reach the broker at the instance's next reconcile",
				"secret", key.String(), "namespaceWatches", len(sp.watched), "maxPerNamespace", l.PerNamespace,
				"watches", w.total, "max", l.Total, "unwatched", w.refused)
		}
		return wake, false
	}
	if a.evict {
		wake = w.evictLocked(richest, wake)
	}
	w.watchLocked(key, sw)
	return wake, true
}

// richestIfFullLocked finds the namespace other than ns holding the most
// watches, the first by name among equals. admit needs it only at the
// total, so below it the namespaces are not looked through.
func (w *Watcher) richestIfFullLocked(ns string) (string, int) {
	richest, most := "", 0
	if w.total < w.Limits.withDefaults().Total {
		return richest, most
	}
	for name, sp := range w.spaces {
		if name == ns {
			continue
		}
		if n := len(sp.watched); n > most || (n == most && n > 0 && name < richest) {
			richest, most = name, n
		}
	}
	return richest, most
}

// evictLocked closes one watch of namespace ns; the Secret waits again, and
// the instances naming it are woken to say so.
func (w *Watcher) evictLocked(ns string, wake []types.NamespacedName) []types.NamespacedName {
	sp := w.spaces[ns]
	for name, sw := range sp.watched {
		if sw.stop != nil {
			sw.stop()
			sw.stop = nil
		}
		delete(sp.watched, name)
		sp.waiting[name] = sw
		w.total--
		for inst := range sw.referrers {
			wake = append(wake, inst)
		}
		return wake
	}
	return wake
}

// balanceLocked hands freed room to waiting Secrets, and at the total
// moves watches from the namespace holding the most to a waiting one
// holding at least two fewer, until neither is possible: the namespace
// holding the fewest watches first. It wakes the instances whose Secrets
// gained or lost a watch (other than the one being tracked, which learns
// it from Track's answer), so that their status says so.
//
// Each move lowers the sum of the squares of the namespaces' watch counts
// and each promotion raises the total, so the loop ends; in a steady state
// it looks once and stops.
func (w *Watcher) balanceLocked(tracked types.NamespacedName, wake []types.NamespacedName) []types.NamespacedName {
	for {
		var cands []candidate
		for ns, sp := range w.spaces {
			if len(sp.waiting) > 0 {
				cands = append(cands, candidate{ns: ns, held: len(sp.watched)})
			}
		}
		ns, ok := neediest(w.Limits, cands)
		if !ok {
			return wake
		}
		sp := w.spaces[ns]
		richest, most := w.richestIfFullLocked(ns)
		a := admit(w.Limits, w.total, len(sp.watched), most)
		if !a.watch {
			return wake
		}
		if a.evict {
			wake = w.evictLocked(richest, wake)
		}
		for name, sw := range sp.waiting {
			w.watchLocked(types.NamespacedName{Namespace: ns, Name: name}, sw)
			for inst := range sw.referrers {
				if inst != tracked {
					wake = append(wake, inst)
				}
			}
			break
		}
	}
}

// watchLocked moves a waiting Secret to the watched ones and starts its
// watch once the watcher runs.
func (w *Watcher) watchLocked(key types.NamespacedName, sw *secretWatch) {
	sp := w.spaces[key.Namespace]
	delete(sp.waiting, key.Name)
	sp.watched[key.Name] = sw
	w.total++
	if w.ctx != nil {
		w.startLocked(key, sw)
	}
}

// allWatchedLocked: a Secret refused by a limit is tried again at the next
// reconcile of an instance naming it.
func (w *Watcher) allWatchedLocked(ns string, names []string) bool {
	if len(names) == 0 {
		return true
	}
	sp := w.spaces[ns]
	if sp == nil {
		return false
	}
	for _, n := range names {
		if sp.watched[n] == nil {
			return false
		}
	}
	return true
}

func (w *Watcher) unwatchedLocked(ns string, names []string) Unwatched {
	sp := w.spaces[ns]
	if sp == nil {
		return Unwatched{}
	}
	var out Unwatched
	for _, n := range names {
		if sp.watched[n] == nil {
			out.Names = append(out.Names, n)
		}
	}
	if len(out.Names) == 0 {
		return Unwatched{}
	}
	sort.Strings(out.Names)
	out.Held = len(sp.watched)
	l := w.Limits.withDefaults()
	if len(sp.watched) >= l.PerNamespace {
		out.Limit, out.Max = PerNamespaceLimit, l.PerNamespace
	} else {
		out.Limit, out.Max = TotalLimit, l.Total
	}
	return out
}

// waitingLocked counts the referenced Secrets without a watch.
func (w *Watcher) waitingLocked() int {
	n := 0
	for _, sp := range w.spaces {
		n += len(sp.waiting)
	}
	return n
}

// Forget drops inst: it is gone or being deleted.
func (w *Watcher) Forget(inst types.NamespacedName) { w.Track(inst, nil) }

// Watched is the number of Secrets watched now.
func (w *Watcher) Watched() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.total
}

// enqueue puts instances on the controller's queue.
func (w *Watcher) enqueue(insts []types.NamespacedName) {
	q := w.queue.Load()
	if q == nil {
		return
	}
	for _, inst := range insts {
		(*q).Add(reconcile.Request{NamespacedName: inst})
	}
}

// startLocked opens the watch of one Secret: its namespace, its name,
// metadata only. The informer's store holds at most that one object.
func (w *Watcher) startLocked(key types.NamespacedName, sw *secretWatch) {
	if sw.stop != nil || w.ctx.Err() != nil {
		return
	}
	ctx, stop := context.WithCancel(w.ctx)
	sw.stop = stop
	byName := fields.OneTermEqualSelector("metadata.name", key.Name).String()
	inf := metadatainformer.NewFilteredMetadataInformer(w.Client, secrets, key.Namespace, 0, cache.Indexers{},
		func(o *metav1.ListOptions) { o.FieldSelector = byName }).Informer()
	// Only the resourceVersion is compared; the rest of the metadata
	// (managedFields above all) need not be held.
	_ = inf.SetTransform(func(o any) (any, error) {
		if m, ok := o.(*metav1.PartialObjectMetadata); ok {
			m.ManagedFields = nil
			m.Annotations = nil
		}
		return o, nil
	})
	changed := func() { w.notify(key) }
	// The first listing is reported too: the Secret may have changed
	// between the reconcile's read and the watch's start, and one more
	// reconcile that finds the checksum unchanged sends nothing.
	_, _ = inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc: func(any) { changed() },
		UpdateFunc: func(o, n any) {
			if resourceVersion(o) != resourceVersion(n) {
				changed()
			}
		},
		DeleteFunc: func(any) { changed() },
	})
	go inf.RunWithContext(ctx)
}

// notify queues the instances that name the Secret.
func (w *Watcher) notify(key types.NamespacedName) {
	q := w.queue.Load()
	if q == nil {
		return
	}
	w.mu.Lock()
	var reqs []reconcile.Request
	if sp := w.spaces[key.Namespace]; sp != nil && sp.watched[key.Name] != nil {
		for inst := range sp.watched[key.Name].referrers {
			reqs = append(reqs, reconcile.Request{NamespacedName: inst})
		}
	}
	w.mu.Unlock()
	for _, r := range reqs {
		(*q).Add(r)
	}
}

func resourceVersion(o any) string {
	if m, ok := o.(metav1.Object); ok {
		return m.GetResourceVersion()
	}
	return ""
}

func distinct(names []string) []string {
	seen := make(map[string]bool, len(names))
	out := names[:0:0]
	for _, n := range names {
		if n != "" && !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	return out
}

func sameNames(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
