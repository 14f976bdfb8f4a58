package osb_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/svcat-io/svcat/internal/osb"
)

// budgetLimits keep the test's numbers small: a read within them can be
// charged at most 64 KiB of buffer plus 64 KiB + 100 values decoded.
var budgetLimits = osb.CatalogLimits{MaxBytes: 64 << 10, MaxValues: 100}

// paddedCatalog is a valid catalog of about n bytes and a dozen values.
func paddedCatalog(n int) string {
	const head = `{"services":[{"id":"s","name":"s","bindable":false,"plans":[{"id":"p","name":"p","description":"d"}],"description":"`
	return head + strings.Repeat("x", max(0, n-len(head)-4)) + `"}]}`
}

// hangingBroker sends the first sent bytes of body, then waits for release
// (or the client to hang up) before sending the rest. started is closed
// once those bytes are flushed.
type hangingBroker struct {
	body    string
	sent    int
	started chan struct{}
	release chan struct{}
}

func newHangingBroker(t *testing.T, body string, sent int) (*hangingBroker, string) {
	h := &hangingBroker{body: body, sent: sent, started: make(chan struct{}), release: make(chan struct{})}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return h, srv.URL
}

func (h *hangingBroker) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write([]byte(h.body[:h.sent]))
	w.(http.Flusher).Flush()
	close(h.started)
	select {
	case <-h.release:
	case <-r.Context().Done():
		return
	}
	_, _ = w.Write([]byte(h.body[h.sent:]))
}

func budgetClient(t *testing.T, url string, b *osb.CatalogBudget, timeout time.Duration) *osb.Client {
	t.Helper()
	c, err := osb.New(osb.Config{URL: url, CatalogBudget: b, Timeout: timeout})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

// waitInUse waits until the budget holds want bytes; reads finish in their
// own goroutines.
func waitInUse(t *testing.T, b *osb.CatalogBudget, ok func(int64) bool, what string) int64 {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		n := b.InUse()
		if ok(n) {
			return n
		}
		if time.Now().After(deadline) {
			t.Fatalf("budget in use = %d, want %s", n, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestCatalogBudgetHoldsOnlyWhatWasSentAndReleasesAll(t *testing.T) {
	b := osb.NewCatalogBudget(1 << 20)
	body := paddedCatalog(60 << 10)
	h, url := newHangingBroker(t, body, 40<<10)
	c := budgetClient(t, url, b, time.Minute)
	done := make(chan error, 1)
	var cat *osb.CatalogResponse
	go func() {
		var err error
		cat, err = c.GetCatalogWithin(context.Background(), budgetLimits)
		done <- err
	}()
	<-h.started
	// A broker that stopped after 40 KiB holds the buffer for what it
	// sent (doubled from 32 KiB to 64 KiB), not the 164 KiB bound of a
	// catalog within the limits.
	held := waitInUse(t, b, func(n int64) bool { return n >= 40<<10 }, "at least the 40 KiB sent")
	time.Sleep(50 * time.Millisecond)
	if held = b.InUse(); held > 64<<10 {
		t.Errorf("a read that received 40 KiB holds %d bytes of the budget, want at most 64 KiB", held)
	}
	close(h.release)
	if err := <-done; err != nil {
		t.Fatalf("GetCatalogWithin: %v", err)
	}
	// The decoded catalog stays charged while the caller has it: the
	// buffer (64 KiB) and the decoded form's bound (the body's bytes and
	// 330 per value).
	if n := b.InUse(); n < 64<<10+60<<10 {
		t.Errorf("while the caller holds the catalog the budget holds %d bytes, want the buffer and the decoded form", n)
	}
	cat.Release()
	cat.Release()
	if n := b.InUse(); n != 0 {
		t.Errorf("after the catalog was released the budget holds %d bytes, want 0", n)
	}
}

func TestCatalogBudgetReleasesACatalogTheCallerDropped(t *testing.T) {
	b := osb.NewCatalogBudget(1 << 20)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte(paddedCatalog(50 << 10)))
	}))
	t.Cleanup(srv.Close)
	if _, err := budgetClient(t, srv.URL, b, time.Minute).GetCatalogWithin(context.Background(), budgetLimits); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for b.InUse() != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("a dropped catalog still holds %d bytes of the budget", b.InUse())
		}
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
	}
}

func TestCatalogBudgetReadWaitsAndItsTimeoutApplies(t *testing.T) {
	// A hanging read holds 64 KiB of buffer and may still need about
	// 100 KiB; a second read can get its first 32 KiB, but not 64 KiB:
	// then neither could be sure to finish.
	b := osb.NewCatalogBudget(200 << 10)
	hang, hangURL := newHangingBroker(t, paddedCatalog(60<<10), 40<<10)
	hangDone := make(chan error, 1)
	go func() {
		cat, err := budgetClient(t, hangURL, b, time.Minute).GetCatalogWithin(context.Background(), budgetLimits)
		cat.Release()
		hangDone <- err
	}()
	<-hang.started
	waitInUse(t, b, func(n int64) bool { return n == 64<<10 }, "64 KiB")

	full := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte(paddedCatalog(50 << 10)))
	}))
	t.Cleanup(full.Close)
	_, err := budgetClient(t, full.URL, b, 300*time.Millisecond).GetCatalogWithin(context.Background(), budgetLimits)
	if !osb.IsTimeout(err) {
		t.Fatalf("a read waiting for budget past its timeout: err = %v, want a timeout", err)
	}
	if n := b.InUse(); n != 64<<10 {
		t.Errorf("after the waiting read timed out the budget holds %d bytes, want the hanging read's 65536", n)
	}

	// Waiting, it proceeds once the hanging read finishes.
	waiting := make(chan error, 1)
	go func() {
		cat, err := budgetClient(t, full.URL, b, time.Minute).GetCatalogWithin(context.Background(), budgetLimits)
		cat.Release()
		waiting <- err
	}()
	waitInUse(t, b, func(n int64) bool { return n == 96<<10 }, "the hanging read's 64 KiB and the waiting read's first 32 KiB")
	select {
	case err := <-waiting:
		t.Fatalf("the second read finished (%v) while it could not be charged", err)
	case <-time.After(100 * time.Millisecond):
	}
	close(hang.release)
	if err := <-hangDone; err != nil {
		t.Fatalf("the hanging read: %v", err)
	}
	if err := <-waiting; err != nil {
		t.Fatalf("the waiting read: %v", err)
	}
	if n := b.InUse(); n != 0 {
		t.Errorf("after both reads the budget holds %d bytes, want 0", n)
	}
}

func TestCatalogBudgetContextCancelStopsTheWait(t *testing.T) {
	b := osb.NewCatalogBudget(200 << 10)
	hang, hangURL := newHangingBroker(t, paddedCatalog(60<<10), 40<<10)
	go func() {
		cat, _ := budgetClient(t, hangURL, b, time.Minute).GetCatalogWithin(context.Background(), budgetLimits)
		cat.Release()
	}()
	<-hang.started
	waitInUse(t, b, func(n int64) bool { return n == 64<<10 }, "64 KiB")
	full := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte(paddedCatalog(50 << 10)))
	}))
	t.Cleanup(full.Close)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := budgetClient(t, full.URL, b, time.Minute).GetCatalogWithin(ctx, budgetLimits)
		done <- err
	}()
	waitInUse(t, b, func(n int64) bool { return n == 96<<10 }, "both reads' buffers")
	cancel()
	if err := <-done; err == nil {
		t.Fatal("a read canceled while waiting for budget succeeded")
	}
	if n := b.InUse(); n != 64<<10 {
		t.Errorf("after the canceled read the budget holds %d bytes, want 65536", n)
	}
	close(hang.release)
	waitInUse(t, b, func(n int64) bool { return n == 0 }, "0 once the hanging read finished")
}

func TestCatalogBudgetRefusesACatalogLargerThanTheBudget(t *testing.T) {
	b := osb.NewCatalogBudget(48 << 10)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte(paddedCatalog(60 << 10)))
	}))
	t.Cleanup(srv.Close)
	_, err := budgetClient(t, srv.URL, b, time.Minute).GetCatalogWithin(context.Background(), budgetLimits)
	var be *osb.CatalogBudgetError
	if !errors.As(err, &be) {
		t.Fatalf("err = %v, want a *CatalogBudgetError", err)
	}
	want := "osb get_catalog: reading and decoding the catalog needs more than 49152 bytes, the whole memory budget for catalog reads"
	if err.Error() != want || be.RequestIdentity == "" {
		t.Errorf("err = %q (request identity %q), want %q with the request identity", err, be.RequestIdentity, want)
	}
	if n := b.InUse(); n != 0 {
		t.Errorf("after the refusal the budget holds %d bytes, want 0", n)
	}
}

func TestCatalogBudgetNothingLeaksAfterFailures(t *testing.T) {
	b := osb.NewCatalogBudget(1 << 20)
	answers := map[string]func(w http.ResponseWriter){
		"too deep": func(w http.ResponseWriter) {
			_, _ = w.Write([]byte(`{"services":[{"metadata":` + strings.Repeat(`{"a":`, 100)))
		},
		"too large": func(w http.ResponseWriter) { _, _ = w.Write([]byte(paddedCatalog(100 << 10))) },
		"cut off": func(w http.ResponseWriter) {
			w.Header().Set("Content-Length", "50000")
			_, _ = w.Write([]byte(paddedCatalog(60 << 10)[:40000]))
		},
		"invalid":      func(w http.ResponseWriter) { _, _ = w.Write([]byte(`{"services":[}`)) },
		"server error": func(w http.ResponseWriter) { w.WriteHeader(http.StatusInternalServerError) },
	}
	for name, answer := range answers {
		t.Run(name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { answer(w) }))
			t.Cleanup(srv.Close)
			_, err := budgetClient(t, srv.URL, b, time.Minute).GetCatalogWithin(context.Background(), budgetLimits)
			if err == nil {
				t.Fatal("the read succeeded")
			}
			if n := b.InUse(); n != 0 {
				t.Errorf("after %v the budget holds %d bytes, want 0", err, n)
			}
		})
	}
}
