package paramwatch

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
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

// newWatcher is a watcher with limits and a queue, not started: no watch
// opens, so the tests see the bookkeeping alone.
func newWatcher(t *testing.T, l Limits) (*Watcher, workqueue.TypedRateLimitingInterface[reconcile.Request], *[]int) {
	t.Helper()
	var observed []int
	w := &Watcher{Limits: l, Observe: func(n, waiting int) { observed = append(observed, n, waiting) }}
	q := workqueue.NewTypedRateLimitingQueue(workqueue.DefaultTypedControllerRateLimiter[reconcile.Request]())
	t.Cleanup(q.ShutDown)
	if err := w.Source().Start(context.Background(), q); err != nil {
		t.Fatal(err)
	}
	return w, q, &observed
}

// held counts the watched Secrets per namespace, as "ns=n" sorted.
func held(w *Watcher) string {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []string
	for ns, sp := range w.spaces {
		out = append(out, fmt.Sprintf("%s=%d", ns, len(sp.watched)))
	}
	sort.Strings(out)
	return strings.Join(out, " ")
}

func (u Unwatched) String() string {
	if len(u.Names) == 0 {
		return "all watched"
	}
	return fmt.Sprintf("%v unwatched by %s limit %d, %d held", u.Names, map[Limit]string{PerNamespaceLimit: "namespace", TotalLimit: "total"}[u.Limit], u.Max, u.Held)
}

// Beyond the total a Secret is left unwatched, and it gets the watch of
// another Secret as soon as that one is no longer named; its instance is
// queued to learn it.
func TestTotalLimitFreedWatchGoesToWaiting(t *testing.T) {
	w, q, observed := newWatcher(t, Limits{Total: 1})
	w.Track(key("a", "i1"), []string{"s"})
	if u := w.Track(key("a", "i2"), []string{"t"}); u.String() != "[t] unwatched by total limit 1, 1 held" {
		t.Fatalf("a/i2: %s", u)
	}
	if n := w.Watched(); n != 1 {
		t.Fatalf("%d watched, want 1", n)
	}
	w.Forget(key("a", "i1"))
	if got := queued(q); fmt.Sprint(got) != "[a/i2]" {
		t.Errorf("queued %v after a/s was released; want a/i2, whose Secret is watched now", got)
	}
	if u := w.Track(key("a", "i2"), []string{"t"}); len(u.Names) != 0 {
		t.Errorf("a/i2: %s", u)
	}
	if w.spaces["a"].watched["t"] == nil {
		t.Errorf("a/t not watched after room was made")
	}
	// watched, unwatched: a/s; a/s and a/t waiting; a/t.
	if fmt.Sprint(*observed) != "[1 0 1 1 1 0]" {
		t.Errorf("observed %v, want [1 0 1 1 1 0]", *observed)
	}
}

// A namespace naming more Secrets than its share gets its share watched
// and the rest reported; other namespaces still get theirs.
func TestPerNamespaceLimit(t *testing.T) {
	w, _, _ := newWatcher(t, Limits{Total: 10, PerNamespace: 2})
	if u := w.Track(key("a", "greedy"), []string{"s1", "s2", "s3", "s4", "s5"}); u.String() != "[s3 s4 s5] unwatched by namespace limit 2, 2 held" {
		t.Errorf("a/greedy: %s", u)
	}
	if u := w.Track(key("a", "other"), []string{"s1", "x"}); u.String() != "[x] unwatched by namespace limit 2, 2 held" {
		t.Errorf("a/other: %s (a/s1 is watched for a/greedy already)", u)
	}
	if u := w.Track(key("b", "victim"), []string{"p"}); len(u.Names) != 0 {
		t.Errorf("b/victim: %s", u)
	}
	if got := held(w); got != "a=2 b=1" {
		t.Errorf("watched %s, want a=2 b=1", got)
	}
	// Reconciled again, nothing moves.
	for i := 0; i < 3; i++ {
		w.Track(key("a", "greedy"), []string{"s1", "s2", "s3", "s4", "s5"})
		w.Track(key("a", "other"), []string{"s1", "x"})
	}
	if got := held(w); got != "a=2 b=1" {
		t.Errorf("watched %s after more reconciles, want a=2 b=1", got)
	}
}

// A changed parametersFrom releases the watches of the Secrets no longer
// named, and the namespace's waiting Secrets get them.
func TestChangedReferencesRelease(t *testing.T) {
	w, _, _ := newWatcher(t, Limits{Total: 10, PerNamespace: 2})
	w.Track(key("a", "i1"), []string{"s1", "s2", "s3"})
	if u := w.Track(key("a", "i1"), []string{"s3"}); len(u.Names) != 0 {
		t.Errorf("a/i1 names a/s3 alone: %s", u)
	}
	if got := held(w); got != "a=1" {
		t.Errorf("watched %s, want a=1", got)
	}
	if w.spaces["a"].watched["s3"] == nil {
		t.Errorf("a/s3 not watched")
	}
	w.Forget(key("a", "i1"))
	if got, n := held(w), w.Watched(); got != "" || n != 0 {
		t.Errorf("watched %q (%d) with nothing named", got, n)
	}
}

// At the total, a namespace holding fewer watches takes one from the
// namespace holding the most, until they are as even as the demand
// allows; then repeated reconciles move nothing. The namespace that gave
// one up has its instance queued, and its reconcile reports the Secret.
func TestTotalLimitIsShared(t *testing.T) {
	w, q, _ := newWatcher(t, Limits{Total: 4, PerNamespace: 4})
	w.Track(key("a", "greedy"), []string{"s1", "s2", "s3", "s4"})
	if got := held(w); got != "a=4" {
		t.Fatalf("watched %s, want a=4", got)
	}
	if u := w.Track(key("b", "victim"), []string{"p"}); len(u.Names) != 0 {
		t.Errorf("b/victim: %s", u)
	}
	if got := queued(q); fmt.Sprint(got) != "[a/greedy]" {
		t.Errorf("queued %v; want a/greedy, which lost a watch", got)
	}
	if u := w.Track(key("a", "greedy"), []string{"s1", "s2", "s3", "s4"}); len(u.Names) != 1 || u.Limit != TotalLimit || u.Max != 4 {
		t.Errorf("a/greedy: %s; want one Secret unwatched by the total limit 4", u)
	}
	if u := w.Track(key("b", "victim"), []string{"p", "q", "r"}); u.String() != "[r] unwatched by total limit 4, 2 held" {
		t.Errorf("b/victim: %s", u)
	}
	if got := held(w); got != "a=2 b=2" {
		t.Errorf("watched %s, want a=2 b=2", got)
	}
	for i := 0; i < 5; i++ {
		w.Track(key("a", "greedy"), []string{"s1", "s2", "s3", "s4"})
		w.Track(key("b", "victim"), []string{"p", "q", "r"})
	}
	if got := held(w); got != "a=2 b=2" {
		t.Errorf("watched %s after more reconciles, want still a=2 b=2", got)
	}
	queued(q)
	// b's deletion frees two watches: a's waiting Secrets get them.
	w.Forget(key("b", "victim"))
	if got := held(w); got != "a=4" {
		t.Errorf("watched %s after b's instance went, want a=4", got)
	}
	if got := queued(q); fmt.Sprint(got) != "[a/greedy]" {
		t.Errorf("queued %v; want a/greedy", got)
	}
}

// Freed room goes to the waiting namespace holding the fewest watches.
func TestFreedWatchGoesToTheFewest(t *testing.T) {
	w, q, _ := newWatcher(t, Limits{Total: 2, PerNamespace: 2})
	w.Track(key("a", "i1"), []string{"x", "y"})
	w.Track(key("b", "i2"), []string{"p", "q"}) // p takes y's watch; q waits
	w.Track(key("a", "i3"), []string{"z"})      // a=1, b=1: z waits
	if got := held(w); got != "a=1 b=1" {
		t.Fatalf("watched %s, want a=1 b=1", got)
	}
	queued(q)
	w.Forget(key("a", "i1")) // a=0: a/z, not b/q, gets the freed watch
	if got := held(w); got != "a=1 b=1" {
		t.Errorf("watched %s, want a=1 b=1", got)
	}
	if w.spaces["a"].watched["z"] == nil || w.spaces["b"].waiting["q"] == nil {
		t.Errorf("a/z should be watched and b/q wait")
	}
	if got := queued(q); fmt.Sprint(got) != "[a/i3]" {
		t.Errorf("queued %v, want a/i3", got)
	}
}

// Whatever instances name, in whatever order: the limits hold, no room is
// left while a Secret under its namespace's limit waits, and at the total
// no namespace with a waiting Secret holds two watches fewer than another.
func TestSharesHoldUnderRandomReferences(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	l := Limits{Total: 12, PerNamespace: 5}
	w, _, _ := newWatcher(t, l)
	namespaces := []string{"a", "b", "c", "d"}
	for step := 0; step < 3000; step++ {
		ns := namespaces[rng.IntN(len(namespaces))]
		inst := key(ns, fmt.Sprint("i", rng.IntN(6)))
		var names []string
		for n := rng.IntN(8); n > 0; n-- {
			names = append(names, fmt.Sprint("s", rng.IntN(10)))
		}
		u := w.Track(inst, names)
		if err := checkShares(w, l); err != nil {
			t.Fatalf("step %d, %s names %v: %v", step, inst, names, err)
		}
		for _, n := range u.Names {
			if w.spaces[ns].waiting[n] == nil {
				t.Fatalf("step %d: %s reported unwatched but not waiting", step, n)
			}
		}
	}
}

func checkShares(w *Watcher, l Limits) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	total, most, fewestWaiting := 0, 0, -1
	for ns, sp := range w.spaces {
		n := len(sp.watched)
		total += n
		if n > l.PerNamespace {
			return fmt.Errorf("%s holds %d watches", ns, n)
		}
		most = max(most, n)
		if len(sp.waiting) > 0 && n < l.PerNamespace && (fewestWaiting < 0 || n < fewestWaiting) {
			fewestWaiting = n
		}
		for name, sw := range sp.watched {
			if len(sw.referrers) == 0 || sp.waiting[name] != nil {
				return fmt.Errorf("%s/%s watched with %d referrers, or waiting too", ns, name, len(sw.referrers))
			}
		}
		for name, sw := range sp.waiting {
			if len(sw.referrers) == 0 {
				return fmt.Errorf("%s/%s waits with no referrer", ns, name)
			}
		}
	}
	switch {
	case total != w.total:
		return fmt.Errorf("total %d, counted %d", w.total, total)
	case total > l.Total:
		return fmt.Errorf("%d watches", total)
	case fewestWaiting >= 0 && total < l.Total:
		return fmt.Errorf("%d watches of %d while a namespace holding %d waits", total, l.Total, fewestWaiting)
	case fewestWaiting >= 0 && most > fewestWaiting+1:
		return fmt.Errorf("a namespace holding %d waits while another holds %d", fewestWaiting, most)
	}
	return nil
}

// What one reconcile of an instance naming 10,000 Secrets costs the
// watcher while 1,000 other namespaces fill the default total: the
// decision stops at the first refusal, so it is about distinct() over the
// names and one pass over the namespaces.
//
//	go test -run '^$' -bench TrackAtTheTotal -benchmem ./internal/controller/paramwatch/
func BenchmarkTrackAtTheTotal(b *testing.B) {
	w := &Watcher{}
	for i := 0; i < DefaultMaxWatches/5; i++ {
		ns := fmt.Sprint("ns-", i)
		w.Track(key(ns, "i"), []string{"a", "b", "c", "d", "e"})
	}
	names := make([]string, 10000)
	for i := range names {
		names[i] = fmt.Sprint("s-", i)
	}
	w.Track(key("attacker", "greedy"), names)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if u := w.Track(key("attacker", "greedy"), names); len(u.Names) < len(names)-5 {
			b.Fatalf("%d unwatched", len(u.Names))
		}
	}
}
