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
package paramwatch

import (
	"context"
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
// otherwise open any number by naming Secrets. Beyond it, a Secret's change
// reaches the broker at the instance's next reconcile (the resync period,
// or any spec change).
const DefaultMaxWatches = 5000

var secrets = schema.GroupVersionResource{Version: "v1", Resource: "secrets"}

// Watcher keeps one metadata watch per referenced Secret and queues the
// instances that name a Secret when it changes.
type Watcher struct {
	Client metadata.Interface
	Log    logr.Logger
	// Max bounds the watches open at once; 0 means DefaultMaxWatches.
	Max int
	// Observe, when set, is told the number of watched Secrets after each
	// change of it (for a metric).
	Observe func(watched int)

	mu sync.Mutex
	// ctx is the manager's, once started; watches wait for it.
	ctx context.Context
	// refs: instance → the Secret names (in its namespace) it references.
	refs map[types.NamespacedName][]string
	// watches: Secret → its watch and the instances that name it.
	watches map[types.NamespacedName]*secretWatch
	// refused counts Secrets left unwatched because of Max, for the log.
	refused int

	queue atomic.Pointer[workqueue.TypedRateLimitingInterface[reconcile.Request]]
}

type secretWatch struct {
	stop      context.CancelFunc // nil until started
	referrers map[types.NamespacedName]struct{}
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
	for key, sw := range w.watches {
		w.startLocked(key, sw)
	}
	w.mu.Unlock()
	<-ctx.Done()
	return nil
}

// Track records that inst references the Secrets names (in inst's
// namespace), replacing what it referenced before; no names forgets inst.
// It is called by every reconcile, so a restarted controller rebuilds the
// set from the first reconcile of each instance.
func (w *Watcher) Track(inst types.NamespacedName, names []string) {
	names = distinct(names)
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.refs == nil {
		w.refs = map[types.NamespacedName][]string{}
		w.watches = map[types.NamespacedName]*secretWatch{}
	}
	old := w.refs[inst]
	if sameNames(old, names) && w.allWatchedLocked(inst.Namespace, names) {
		return
	}
	if w.Observe != nil {
		defer func() { w.Observe(len(w.watches)) }()
	}
	for _, n := range old {
		key := types.NamespacedName{Namespace: inst.Namespace, Name: n}
		sw := w.watches[key]
		if sw == nil {
			continue
		}
		delete(sw.referrers, inst)
		if len(sw.referrers) == 0 {
			if sw.stop != nil {
				sw.stop()
			}
			delete(w.watches, key)
		}
	}
	if len(names) == 0 {
		delete(w.refs, inst)
		return
	}
	w.refs[inst] = names
	for _, n := range names {
		key := types.NamespacedName{Namespace: inst.Namespace, Name: n}
		sw := w.watches[key]
		if sw == nil {
			if len(w.watches) >= w.max() {
				w.refused++
				if w.refused == 1 || w.refused%1000 == 0 {
					w.Log.Info("not watching a parametersFrom Secret: too many watched already; its changes reach the broker at the instance's next reconcile",
						"secret", key.String(), "max", w.max(), "unwatched", w.refused)
				}
				continue
			}
			sw = &secretWatch{referrers: map[types.NamespacedName]struct{}{}}
			w.watches[key] = sw
			if w.ctx != nil {
				w.startLocked(key, sw)
			}
		}
		sw.referrers[inst] = struct{}{}
	}
}

// allWatchedLocked: a Secret refused for Max is tried again at the next
// reconcile of an instance naming it.
func (w *Watcher) allWatchedLocked(ns string, names []string) bool {
	for _, n := range names {
		if w.watches[types.NamespacedName{Namespace: ns, Name: n}] == nil {
			return false
		}
	}
	return true
}

// Forget drops inst: it is gone or being deleted.
func (w *Watcher) Forget(inst types.NamespacedName) { w.Track(inst, nil) }

// Watched is the number of Secrets watched now.
func (w *Watcher) Watched() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.watches)
}

func (w *Watcher) max() int {
	if w.Max > 0 {
		return w.Max
	}
	return DefaultMaxWatches
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
	if sw := w.watches[key]; sw != nil {
		for inst := range sw.referrers {
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
