package brokercalls

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/types"
)

// gate is a broker call that answers when released.
type gate struct {
	release chan struct{}
	started chan string
}

func newGate() *gate { return &gate{release: make(chan struct{}), started: make(chan string, 100)} }

func (g *gate) fn(name string) func(context.Context) (string, error) {
	return func(ctx context.Context) (string, error) {
		g.started <- name
		select {
		case <-g.release:
			return name, nil
		case <-ctx.Done():
			return "", ctx.Err()
		}
	}
}

func newCall(uid, op, broker, ns string, notify func()) Call {
	return Call{Key: Key{UID: types.UID(uid), Op: op}, Broker: broker, Namespace: ns, Notify: notify, Sent: uid + "/" + op}
}

func quickLimits() Limits {
	l := DefaultLimits()
	l.Wait = 20 * time.Millisecond
	return l
}

// A broker that answers within the wait is handled in the same reconcile:
// the result comes back from Do and nobody is notified (no extra
// reconcile).
func TestFastCallInline(t *testing.T) {
	r := New(quickLimits())
	defer r.Stop()
	var notified atomic.Int32
	res, ok := Do(r, newCall("a", "provision", "b", "ns", func() { notified.Add(1) }), func(context.Context) (int, error) { return 7, nil })
	if !ok || res.Value != 7 || res.Err != nil || res.Sent != "a/provision" {
		t.Fatalf("Do = %+v, %v; want 7 inline with what was sent", res, ok)
	}
	if _, st := Take[int](r, Key{"a", "provision"}); st != None {
		t.Errorf("Take after an inline result = %v, want None", st)
	}
	if n := notified.Load(); n != 0 {
		t.Errorf("notified %d times for an inline result", n)
	}
}

// A slow call is pending; its end notifies once, and the next reconcile
// takes the result with what was sent.
func TestSlowCallDelivered(t *testing.T) {
	r := New(quickLimits())
	defer r.Stop()
	g := newGate()
	notified := make(chan struct{}, 10)
	c := newCall("a", "provision", "b", "ns", func() { notified <- struct{}{} })
	if _, ok := Do(r, c, g.fn("first")); ok {
		t.Fatal("Do returned a result for a call that has not answered")
	}
	if _, st := Take[string](r, c.Key); st != Pending {
		t.Fatalf("Take while running = %v, want Pending", st)
	}
	close(g.release)
	<-notified
	res, st := Take[string](r, c.Key)
	if st != Done || res.Value != "first" || res.Sent != "a/provision" {
		t.Fatalf("Take = %+v, %v", res, st)
	}
	if _, st := Take[string](r, c.Key); st != None {
		t.Errorf("a result is taken once; second Take = %v", st)
	}
	if len(notified) != 0 {
		t.Errorf("notified more than once")
	}
}

// A second Do for a running key does not send a second request.
func TestSameKeyDeduplicated(t *testing.T) {
	r := New(quickLimits())
	defer r.Stop()
	g := newGate()
	var runs atomic.Int32
	fn := func(ctx context.Context) (string, error) { runs.Add(1); return g.fn("x")(ctx) }
	c := newCall("a", "poll", "b", "ns", func() {})
	for i := 0; i < 3; i++ {
		if _, ok := Do(r, c, fn); ok {
			t.Fatal("result before the answer")
		}
	}
	close(g.release)
	waitFor(t, func() bool { _, st := Take[string](r, c.Key); return st == Done })
	if n := runs.Load(); n != 1 {
		t.Errorf("the call ran %d times, want 1", n)
	}
}

// One object has one call at a time: a DELETE waits for the PUT still in
// flight (else it could reach the broker first and the PUT create an
// orphan); a queued call, never sent, is replaced by the newer request.
func TestOneCallPerObject(t *testing.T) {
	l := quickLimits()
	l.Total = 1
	r := New(l)
	defer r.Stop()
	g := newGate()
	notified := make(chan string, 10)
	if _, ok := Do(r, newCall("a", "provision", "b", "ns", func() { notified <- "a" }), g.fn("a-provision")); ok {
		t.Fatal("inline")
	}
	<-g.started
	var ranDelete atomic.Bool
	if _, ok := Do(r, newCall("a", "deprovision", "b", "ns", func() {}), func(context.Context) (string, error) { ranDelete.Store(true); return "", nil }); ok {
		t.Fatal("deprovision ran while the provision was in flight")
	}
	// b is queued behind the total limit; its newer request replaces it.
	if _, ok := Do(r, newCall("x", "provision", "b", "ns", func() {}), func(context.Context) (string, error) { return "old", nil }); ok {
		t.Fatal("x ran past the total limit")
	}
	if _, ok := Do(r, newCall("x", "deprovision", "b", "ns", func() { notified <- "x" }), func(context.Context) (string, error) { return "new", nil }); ok {
		t.Fatal("x ran past the total limit")
	}
	if q := r.Queued(); q != 1 {
		t.Errorf("queued %d, want 1 (x's newest request only)", q)
	}
	close(g.release)
	got := map[string]bool{<-notified: true, <-notified: true}
	if !got["a"] || !got["x"] {
		t.Fatalf("notified %v", got)
	}
	if ranDelete.Load() {
		t.Error("the deprovision ran although nobody asked again after the provision ended")
	}
	if res, st := Take[string](r, Key{"x", "deprovision"}); st != Done || res.Value != "new" {
		t.Errorf("x: %+v %v, want the newer request's answer", res, st)
	}
	if _, st := Take[string](r, Key{"x", "provision"}); st != None {
		t.Errorf("the replaced request has a result")
	}
	// The object moved on: the provision's unclaimed result is dropped
	// when the deprovision starts.
	res, ok := Do(r, newCall("a", "deprovision", "b", "ns", func() {}), func(context.Context) (string, error) { return "gone", nil })
	if !ok || res.Value != "gone" {
		t.Fatalf("deprovision after the provision: %+v %v", res, ok)
	}
	if _, st := Take[string](r, Key{"a", "provision"}); st != None {
		t.Errorf("a superseded result was kept")
	}
}

// The limits per broker, per namespace and in total hold, and every queued
// call runs once room is made.
func TestLimits(t *testing.T) {
	cases := []struct {
		name   string
		limits Limits
		calls  func(i int) (broker, ns string)
		want   int
	}{
		{"per broker", Limits{PerBroker: 3, PerNamespace: 100, Total: 100}, func(i int) (string, string) { return "b", fmt.Sprint("ns", i) }, 3},
		{"per namespace", Limits{PerBroker: 100, PerNamespace: 2, Total: 100}, func(i int) (string, string) { return fmt.Sprint("b", i), "ns" }, 2},
		{"total", Limits{PerBroker: 100, PerNamespace: 100, Total: 5}, func(i int) (string, string) { return fmt.Sprint("b", i), fmt.Sprint("ns", i) }, 5},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.limits.Wait = time.Millisecond
			r := New(tc.limits)
			defer r.Stop()
			var mu sync.Mutex
			running, peak := 0, 0
			release := make(chan struct{})
			var done sync.WaitGroup
			for i := 0; i < 20; i++ {
				b, ns := tc.calls(i)
				done.Add(1)
				Do(r, newCall(fmt.Sprint(i), "op", b, ns, done.Done), func(ctx context.Context) (int, error) {
					mu.Lock()
					running++
					peak = max(peak, running)
					mu.Unlock()
					<-release
					mu.Lock()
					running--
					mu.Unlock()
					return 0, nil
				})
			}
			waitFor(t, func() bool { mu.Lock(); defer mu.Unlock(); return running == tc.want && r.InFlight() == tc.want })
			if q := r.Queued(); q != 20-tc.want {
				t.Errorf("queued %d, want %d", q, 20-tc.want)
			}
			close(release)
			done.Wait()
			if peak != tc.want {
				t.Errorf("peak in flight %d, want %d", peak, tc.want)
			}
		})
	}
}

// A namespace that queued many calls delays another namespace's call by at
// most one of its own: queued calls start round robin across namespaces.
func TestFairOrder(t *testing.T) {
	r := New(Limits{PerBroker: 100, PerNamespace: 100, Total: 1, Wait: time.Millisecond})
	defer r.Stop()
	var mu sync.Mutex
	var order []string
	release := make(chan struct{}, 100)
	var done sync.WaitGroup
	add := func(uid, ns string) {
		done.Add(1)
		Do(r, newCall(uid, "op", "b", ns, done.Done), func(context.Context) (int, error) {
			mu.Lock()
			order = append(order, uid)
			mu.Unlock()
			<-release
			return 0, nil
		})
	}
	add("hog-0", "hog") // takes the only slot
	for i := 1; i < 5; i++ {
		add(fmt.Sprint("hog-", i), "hog")
	}
	add("other-0", "other")
	add("third-0", "third")
	for i := 0; i < 7; i++ {
		release <- struct{}{}
	}
	done.Wait()
	want := "[hog-0 other-0 third-0 hog-1 hog-2 hog-3 hog-4]"
	if got := fmt.Sprint(order); got != want {
		t.Errorf("start order %s, want %s", got, want)
	}
}

// Stop cancels the calls in flight, drops the queued ones, leaves no
// goroutine behind, and answers later Dos with "pending".
func TestStopCancels(t *testing.T) {
	base := runtime.NumGoroutine()
	r := New(Limits{PerBroker: 2, PerNamespace: 100, Total: 100, Wait: time.Millisecond})
	var cancelled atomic.Int32
	var started atomic.Int32
	for i := 0; i < 5; i++ {
		Do(r, newCall(fmt.Sprint(i), "op", "b", "ns", func() {}), func(ctx context.Context) (int, error) {
			started.Add(1)
			<-ctx.Done()
			cancelled.Add(1)
			return 0, ctx.Err()
		})
	}
	waitFor(t, func() bool { return started.Load() == 2 })
	ctx, stop := context.WithCancel(context.Background())
	ended := make(chan error)
	go func() { ended <- r.Start(ctx) }()
	stop()
	if err := <-ended; err != nil {
		t.Fatal(err)
	}
	if c, s := cancelled.Load(), started.Load(); c != 2 || s != 2 {
		t.Errorf("started %d, cancelled %d; want the 2 in flight cancelled and the queued never started", s, c)
	}
	if _, ok := Do(r, newCall("late", "op", "b", "ns", func() {}), func(context.Context) (int, error) { return 1, nil }); ok {
		t.Error("a call ran after Stop")
	}
	waitFor(t, func() bool { return runtime.NumGoroutine() <= base })
}

// Results nobody takes do not pile up: Forget drops an object's, and the
// sweep drops any older than Keep.
func TestForgetAndExpiry(t *testing.T) {
	r := New(Limits{Wait: time.Millisecond, Keep: 50 * time.Millisecond})
	defer r.Stop()
	slow := func(v int) func(context.Context) (int, error) {
		return func(context.Context) (int, error) { time.Sleep(10 * time.Millisecond); return v, errors.New("x") }
	}
	var done sync.WaitGroup
	done.Add(2)
	Do(r, newCall("gone", "op", "b", "ns", done.Done), slow(1))
	Do(r, newCall("old", "op", "b", "ns", done.Done), slow(2))
	done.Wait()
	r.Forget("gone")
	if _, st := Take[int](r, Key{"gone", "op"}); st != None {
		t.Error("Forget kept the result")
	}
	time.Sleep(60 * time.Millisecond)
	Do(r, newCall("trigger", "op", "b", "ns", func() {}), func(context.Context) (int, error) { return 0, nil })
	if _, st := Take[int](r, Key{"old", "op"}); st != None {
		t.Error("a result older than Keep was kept")
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached in 5s")
		}
		time.Sleep(time.Millisecond)
	}
}

// A worker waits at most once per call, and not at all for a broker whose
// last call outlasted the wait, until one of its calls answers in time; a
// call that cannot start at once is not waited for either.
func TestWaitOnlyForBrokersThatAnswer(t *testing.T) {
	r := New(Limits{PerBroker: 1, Wait: 50 * time.Millisecond})
	defer r.Stop()
	g := newGate()
	if _, ok := Do(r, newCall("slow", "op", "b", "ns", func() {}), g.fn("slow")); ok {
		t.Fatal("inline result from a call that has not answered")
	}
	begin := time.Now()
	if _, ok := Do(r, newCall("queued", "op", "b", "ns", func() {}), func(context.Context) (int, error) { return 1, nil }); ok {
		t.Fatal("a call past the broker limit ran")
	}
	if d := time.Since(begin); d > 40*time.Millisecond {
		t.Errorf("Do waited %v for a queued call", d)
	}
	close(g.release)
	waitFor(t, func() bool { _, st := Take[int](r, Key{"queued", "op"}); return st == Done })
	// The broker answered "queued" at once, which clears the mark.
	res, ok := Do(r, newCall("next", "op", "b", "ns", func() {}), func(context.Context) (int, error) { return 2, nil })
	if !ok || res.Value != 2 {
		t.Errorf("after a quick answer the broker is waited for again: %+v %v", res, ok)
	}

	slowBroker := newGate()
	Do(r, newCall("s1", "op", "other", "ns", func() {}), slowBroker.fn("s1"))
	<-slowBroker.started
	notified := make(chan struct{}, 1)
	begin = time.Now()
	if _, ok := Do(r, newCall("s2", "op", "other", "ns2", func() { notified <- struct{}{} }), func(context.Context) (int, error) { return 3, nil }); ok {
		t.Error("a broker marked slow was waited for")
	}
	if d := time.Since(begin); d > 40*time.Millisecond {
		t.Errorf("Do waited %v for a broker marked slow", d)
	}
	close(slowBroker.release)
}

// The metrics hook sees the calls in flight and queued, and zero once all
// have ended.
func TestObserve(t *testing.T) {
	var mu sync.Mutex
	var inFlight, queued, peakQueued int
	r := New(Limits{PerBroker: 1, Wait: time.Millisecond, Observe: func(f, q int) {
		mu.Lock()
		defer mu.Unlock()
		inFlight, queued, peakQueued = f, q, max(peakQueued, q)
	}})
	defer r.Stop()
	g := newGate()
	var done sync.WaitGroup
	for i := 0; i < 3; i++ {
		done.Add(1)
		Do(r, newCall(fmt.Sprint(i), "op", "b", "ns", done.Done), g.fn(fmt.Sprint(i)))
	}
	mu.Lock()
	if inFlight != 1 || queued != 2 {
		t.Errorf("observed %d in flight, %d queued; want 1 and 2", inFlight, queued)
	}
	mu.Unlock()
	close(g.release)
	done.Wait()
	mu.Lock()
	defer mu.Unlock()
	if inFlight != 0 || queued != 0 || peakQueued != 2 {
		t.Errorf("after the end: %d in flight, %d queued (peak %d)", inFlight, queued, peakQueued)
	}
}

// A call whose broker is at its limit does not hold up its namespace's
// next call, for another broker.
func TestBusyBrokerDoesNotBlockItsNamespace(t *testing.T) {
	r := New(Limits{PerBroker: 1, Wait: time.Millisecond})
	defer r.Stop()
	g := newGate()
	Do(r, newCall("a1", "op", "hanging", "ns", func() {}), g.fn("a1"))
	Do(r, newCall("a2", "op", "hanging", "ns", func() {}), g.fn("a2"))
	ran := make(chan struct{})
	Do(r, newCall("b1", "op", "healthy", "ns", func() {}), func(context.Context) (int, error) { close(ran); return 1, nil })
	select {
	case <-ran:
	case <-time.After(5 * time.Second):
		t.Fatal("the healthy broker's call waited behind the hanging broker's queued one")
	}
	if q := r.Queued(); q != 1 {
		t.Errorf("queued %d, want a2 only", q)
	}
	close(g.release)
}
