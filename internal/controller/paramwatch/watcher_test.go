package paramwatch

import (
	"context"
	"fmt"
	"sort"
	"testing"

	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/workqueue"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
)

func key(ns, name string) types.NamespacedName {
	return types.NamespacedName{Namespace: ns, Name: name}
}

// queued drains q: the instances an event put on it.
func queued(q workqueue.TypedRateLimitingInterface[reconcile.Request]) []string {
	var out []string
	for q.Len() > 0 {
		r, _ := q.Get()
		out = append(out, r.String())
		q.Done(r)
	}
	sort.Strings(out)
	return out
}

// Watches follow the references: one per Secret however many instances
// name it, gone with the last of them; a Secret's event queues exactly the
// instances of its namespace that name it. The watcher is not started, so
// no watch opens: this is the bookkeeping alone.
func TestTrackQueuesReferrers(t *testing.T) {
	w := &Watcher{}
	q := workqueue.NewTypedRateLimitingQueue(workqueue.DefaultTypedControllerRateLimiter[reconcile.Request]())
	defer q.ShutDown()
	if err := w.Source().Start(context.Background(), q); err != nil {
		t.Fatal(err)
	}
	w.Track(key("a", "i1"), []string{"s", "t", "s"})
	w.Track(key("a", "i2"), []string{"s"})
	w.Track(key("b", "i3"), []string{"s"})
	if n := w.Watched(); n != 3 {
		t.Fatalf("%d Secrets watched, want a/s, a/t, b/s", n)
	}
	w.notify(key("a", "s"))
	if got := queued(q); len(got) != 2 || got[0] != "a/i1" || got[1] != "a/i2" {
		t.Errorf("a/s queued %v, want a/i1 and a/i2", got)
	}
	w.notify(key("a", "unrelated"))
	if got := queued(q); len(got) != 0 {
		t.Errorf("an unwatched Secret queued %v", got)
	}

	w.Track(key("a", "i1"), []string{"s"}) // no longer names t
	w.notify(key("a", "t"))
	if got := queued(q); len(got) != 0 {
		t.Errorf("a/t, no longer named, queued %v", got)
	}
	w.Forget(key("a", "i2"))
	w.notify(key("a", "s"))
	if got := queued(q); len(got) != 1 || got[0] != "a/i1" {
		t.Errorf("a/s queued %v, want a/i1 only", got)
	}
	w.Forget(key("a", "i1"))
	w.Forget(key("b", "i3"))
	if n := w.Watched(); n != 0 {
		t.Errorf("%d Secrets still watched with no instance naming them", n)
	}
}

// Beyond Max a Secret is left unwatched, and watched at a later reconcile
// of its instance once there is room.
func TestMaxWatches(t *testing.T) {
	var observed []int
	w := &Watcher{Max: 1, Observe: func(n int) { observed = append(observed, n) }}
	w.Track(key("a", "i1"), []string{"s"})
	w.Track(key("a", "i2"), []string{"t"})
	if n := w.Watched(); n != 1 {
		t.Fatalf("%d watched, want 1", n)
	}
	w.Forget(key("a", "i1"))
	w.Track(key("a", "i2"), []string{"t"})
	if n := w.Watched(); n != 1 {
		t.Fatalf("%d watched, want a/t", n)
	}
	if w.watches[key("a", "t")] == nil {
		t.Errorf("a/t not watched after room was made")
	}
	if fmt.Sprint(observed) != "[1 1 0 1]" {
		t.Errorf("observed %v, want [1 1 0 1]", observed)
	}
}
