// Command hostilecatalog measures what hostile broker catalogs cost the
// catalog-controller. It starts the real binary against a localcluster API
// server, registers one well-behaved namespaced broker (to see the
// controller running and take its baseline), then N namespaced
// ServiceBrokers, each in its own namespace as N tenants would, whose
// catalogs are a few MiB of hostile JSON:
//
//   - chains: metadata holding an array of chains of 50 nested one-key
//     objects ({"a":{"a":...{}}}), the costliest shape to decode into maps;
//   - wide: metadata holding an array of empty objects ({},{},...);
//   - fit: the costliest catalog within the default limits of namespaced
//     brokers, which the controller accepts and decodes: services whose
//     metadata are just under the object-bytes limit, of chains 25 deep, up
//     to the values limit (-size does not apply);
//   - fit1m: fit, with services whose metadata is one string just under the
//     object-bytes limit added, so that the answer is also close to the
//     bytes limit (1 MiB): the most one tenant's broker can make the
//     controller hold.
//
// With -together, every hostile broker waits until all of them were asked
// for their catalog before it answers, so that the reads run at once (as
// when many tenants' brokers relist at the same moment): e.g.
//
//	go run ./test/bench/hostilecatalog -brokers 40 -shapes fit1m -together
//
// Each broker's catalog is valid JSON, streamed as it is made. The program
// waits until every broker's catalog was fetched and judged (Ready set for
// its current generation: False when refused), holds a while so that
// retries overlap, and reports the controller's peak RSS (VmHWM).
//
//	go run ./test/bench/hostilecatalog -controller /tmp/catalog-controller
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	scv1beta1 "github.com/svcat-io/svcat/api/v1beta1"
	"github.com/svcat-io/svcat/internal/controller"
	"github.com/svcat-io/svcat/internal/localcluster"
	"github.com/svcat-io/svcat/internal/osb"
	"github.com/svcat-io/svcat/test/bench/benchproc"
)

func main() {
	bin := flag.String("controller", "bin/catalog-controller", "catalog-controller binary")
	brokers := flag.Int("brokers", 6, "hostile namespaced brokers")
	size := flag.Int("size", 4<<20, "bytes of each hostile catalog")
	shapes := flag.String("shapes", "chains,wide", "comma-separated shapes, used in turn by the brokers: chains, wide, fit, fit1m")
	together := flag.Bool("together", false, "hostile brokers answer only once all of them were asked, so that the reads overlap")
	hold := flag.Duration("hold", 20*time.Second, "how long to keep the controller running once every broker is refused (retries overlap)")
	timeout := flag.Duration("timeout", 5*time.Minute, "give up after this long")
	envs := flag.String("controller-env", "", "extra environment for the controller, space-separated NAME=VALUE (GOMEMLIMIT=230MiB, say)")
	args := flag.String("controller-args", "", "extra flags for the controller, space-separated")
	flag.Parse()
	ctrllog.SetLogger(logr.Discard())
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	r, err := run(ctx, *bin, *brokers, *size, strings.Split(*shapes, ","), *together, *hold, strings.Fields(*args), strings.Fields(*envs))
	if err != nil {
		fmt.Fprintln(os.Stderr, "hostilecatalog:", err)
		os.Exit(1)
	}
	fmt.Printf("| brokers | catalog | baseline peak RSS | peak RSS | judged after | requests | bytes sent per request | reasons |\n|---|---|---|---|---|---|---|---|\n")
	fmt.Printf("| %d | %s, %.1f MiB each | %.0f MiB | %.0f MiB | %s | %d | %s | %s |\n", *brokers, *shapes, float64(*size)/(1<<20),
		mib(r.baseline), mib(r.peak), r.refusedAfter.Round(100*time.Millisecond), r.requests, r.sent, strings.Join(r.reasons, ", "))
	for _, m := range r.messages {
		fmt.Println("   ", m)
	}
}

func mib(b int64) float64 { return float64(b) / (1 << 20) }

type result struct {
	baseline, peak int64
	refusedAfter   time.Duration
	requests       int
	sent           string
	reasons        []string
	messages       []string
}

func run(ctx context.Context, bin string, n, size int, shapes []string, together bool, hold time.Duration, args, envs []string) (*result, error) {
	for _, s := range shapes {
		if _, ok := shapeUnits[s]; !ok && s != "fit" && s != "fit1m" {
			return nil, fmt.Errorf("unknown shape %q", s)
		}
	}
	env, err := localcluster.Start()
	if err != nil {
		return nil, err
	}
	defer func() { _ = env.Stop() }()
	proc, err := benchproc.Start(bin, env.Kubeconfig, args, envs)
	if err != nil {
		return nil, err
	}
	defer proc.Stop()
	c := env.Client

	good := &catalogServer{good: true}
	goodSrv := httptest.NewServer(good)
	defer goodSrv.Close()
	if err := register(ctx, c, "tenant-good", goodSrv.URL); err != nil {
		return nil, err
	}
	if err := waitFor(ctx, proc, func() (bool, error) {
		ready, _, err := brokerState(ctx, c, "tenant-good")
		return ready == scv1beta1.ConditionTrue, err
	}); err != nil {
		return nil, fmt.Errorf("the well-behaved broker: %w", err)
	}
	r := &result{baseline: proc.PeakRSS()}

	servers := make([]*catalogServer, n)
	var gate *barrier
	if together {
		gate = newBarrier(n)
	}
	for i := range n {
		servers[i] = &catalogServer{shape: shapes[i%len(shapes)], size: size, gate: gate}
		srv := httptest.NewServer(servers[i])
		defer srv.Close()
		if err := register(ctx, c, fmt.Sprintf("tenant-%d", i), srv.URL); err != nil {
			return nil, err
		}
	}
	start := time.Now()
	if err := waitFor(ctx, proc, func() (bool, error) {
		for i := range n {
			ready, _, err := brokerState(ctx, c, fmt.Sprintf("tenant-%d", i))
			if err != nil || ready == "" {
				return false, err
			}
		}
		return true, nil
	}); err != nil {
		return nil, fmt.Errorf("waiting for every hostile broker's catalog to be judged: %w", err)
	}
	r.refusedAfter = time.Since(start)
	time.Sleep(hold)
	if exited, err := proc.Exited(); exited {
		return nil, fmt.Errorf("the controller exited: %v", err)
	}
	r.peak = proc.PeakRSS()

	reasons := map[string]bool{}
	sentMin, sentMax := int64(-1), int64(0)
	for i, s := range servers {
		_, cond, err := brokerState(ctx, c, fmt.Sprintf("tenant-%d", i))
		if err != nil {
			return nil, err
		}
		if !reasons[cond.Reason] {
			reasons[cond.Reason] = true
			r.reasons = append(r.reasons, cond.Reason)
		}
		r.messages = append(r.messages, fmt.Sprintf("tenant-%d (%s): %s", i, s.shape, truncate(cond.Message, 300)))
		requests, lo, hi := s.stats()
		r.requests += requests
		if sentMin < 0 || lo < sentMin {
			sentMin = lo
		}
		sentMax = max(sentMax, hi)
	}
	r.sent = fmt.Sprintf("%.2f–%.2f MiB", mib(sentMin), mib(sentMax))
	return r, nil
}

func register(ctx context.Context, c client.Client, ns, url string) error {
	if err := c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
		return err
	}
	return c.Create(ctx, &scv1beta1.ServiceBroker{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "broker"},
		Spec: scv1beta1.ServiceBrokerSpec{CommonServiceBrokerSpec: scv1beta1.CommonServiceBrokerSpec{URL: url}}})
}

// brokerState is the broker's Ready status once the controller has
// reconciled its current generation, "" before.
func brokerState(ctx context.Context, c client.Client, ns string) (scv1beta1.ConditionStatus, *scv1beta1.ServiceBrokerCondition, error) {
	b := &scv1beta1.ServiceBroker{}
	if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: "broker"}, b); err != nil {
		return "", nil, err
	}
	cond := b.Status.GetCondition(scv1beta1.ServiceBrokerConditionReady)
	if cond == nil || b.Status.ReconciledGeneration != b.Generation {
		return "", nil, nil
	}
	return cond.Status, cond, nil
}

func waitFor(ctx context.Context, proc *benchproc.Controller, done func() (bool, error)) error {
	for {
		if exited, err := proc.Exited(); exited {
			return fmt.Errorf("the controller exited: %v", err)
		}
		ok, err := done()
		if err != nil {
			return err
		}
		if ok {
			return nil
		}
		select {
		case <-ctx.Done():
			return errors.New("timed out")
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

const hostileService = `{"services":[{"id":"hostile","name":"hostile","description":"d","plans":[{"id":"hostile-p","name":"p","description":"d"}],"metadata":{"a":[`

// shapeUnits are the repeated elements of each shape's metadata array.
var shapeUnits = map[string]string{
	"chains": strings.Repeat(`{"a":`, 50) + "{}" + strings.Repeat("}", 50),
	"wide":   "{}",
}

// catalogServer answers /v2/catalog with a small valid catalog (good) or a
// hostile one of about size bytes, made while it is sent.
type catalogServer struct {
	good  bool
	shape string
	size  int
	// gate, if set, holds the answer until every hostile broker was asked.
	gate *barrier

	mu               sync.Mutex
	requests         int
	sentMin, sentMax int64
}

func (s *catalogServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/v2/catalog" {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	if s.good {
		_, _ = w.Write([]byte(`{"services":[{"id":"good","name":"good","description":"d","plans":[{"id":"good-p","name":"p","description":"d"}]}]}`))
		return
	}
	if s.gate != nil {
		s.gate.wait(r.Context())
	}
	var sent int64
	switch s.shape {
	case "fit":
		sent = writeFit(w, controller.DefaultNamespacedCatalogLimits(), false)
	case "fit1m":
		sent = writeFit(w, controller.DefaultNamespacedCatalogLimits(), true)
	default:
		sent = writeHostile(w, s.shape, s.size)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests++
	if s.requests == 1 || sent < s.sentMin {
		s.sentMin = sent
	}
	s.sentMax = max(s.sentMax, sent)
}

func (s *catalogServer) stats() (requests int, sentMin, sentMax int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests, s.sentMin, s.sentMax
}

// writeHostile streams a valid catalog of about size bytes, and returns
// how much of it the client took before it hung up.
func writeHostile(w http.ResponseWriter, shape string, size int) int64 {
	unit := shapeUnits[shape]
	const end = `]}}]}`
	k := max(1, (size-len(hostileService)-len(end))/(len(unit)+1))
	// Units are sent in batches of about 32 KiB.
	batch := max(1, (32<<10)/(len(unit)+1))
	chunk := []byte(strings.Repeat(unit+",", batch))
	var sent int64
	write := func(b []byte) bool {
		n, err := w.Write(b)
		sent += int64(n)
		return err == nil
	}
	if !write([]byte(hostileService)) {
		return sent
	}
	for k > 1 {
		m := min(batch, k-1)
		if !write(chunk[:m*(len(unit)+1)]) {
			return sent
		}
		k -= m
	}
	write([]byte(unit + end))
	return sent
}

// fitChain is 26 nested objects, one key each: its innermost object sits at
// level 31 of a service's metadata array, within a depth limit of 32.
var fitChain = strings.Repeat(`{"a":`, 25) + "{}" + strings.Repeat("}", 25)

// writeFit streams the costliest catalog within lim that the controller
// decodes: as many services as the values limit allows, each with
// metadata just under the object-bytes limit, made of fitChain. With pad,
// services whose metadata is one long string come first, filling the
// bytes limit but for 128 KiB, which the chains take.
func writeFit(w http.ResponseWriter, lim osb.CatalogLimits, pad bool) int64 {
	const chainValues = 26
	// A service is 11 values besides its metadata's contents: itself, id,
	// name, description, plans, the plan and its three strings, the
	// metadata object and its one value.
	const serviceValues = 11
	var padding []string
	if pad {
		s := strings.Repeat("p", int(lim.MaxObjectBytes)-1024)
		for range (lim.MaxBytes - 128<<10) / lim.MaxObjectBytes {
			padding = append(padding, `{"a":"`+s+`"}`)
		}
	}
	values := lim.MaxValues - 2 - int64(len(padding))*serviceValues
	// The metadata object is {"a":[chain,chain,...]}.
	chains := int((lim.MaxObjectBytes - int64(len(`{"a":[]}`))) / int64(len(fitChain)+1))
	perService := int64(serviceValues + chainValues*chains)
	full := int(values / perService)
	// A last, smaller service takes the values that are left.
	counts := make([]int, full, full+1)
	for i := range counts {
		counts[i] = chains
	}
	if left := (values - int64(full)*perService - serviceValues) / chainValues; left > 0 {
		counts = append(counts, int(left))
	}
	metadata := padding
	for _, n := range counts {
		metadata = append(metadata, `{"a":[`+strings.Repeat(fitChain+",", n-1)+fitChain+`]}`)
	}
	metadata = metadata[:min(len(metadata), lim.MaxServices)]
	var sent int64
	write := func(s string) bool {
		n, err := w.Write([]byte(s))
		sent += int64(n)
		return err == nil
	}
	if !write(`{"services":[`) {
		return sent
	}
	for i, m := range metadata {
		sep := ","
		if i == len(metadata)-1 {
			sep = ""
		}
		svc := fmt.Sprintf(`{"id":"fit-%d","name":"fit-%d","description":"d","plans":[{"id":"fit-%d-p","name":"p","description":"d"}],"metadata":%s}%s`,
			i, i, i, m, sep)
		if !write(svc) {
			return sent
		}
	}
	write(`]}`)
	return sent
}

// barrier opens once n callers are waiting, or after a minute: the
// controller may not ask every broker (one refused URL, say), and the
// benchmark must still end.
type barrier struct {
	mu   sync.Mutex
	left int
	open chan struct{}
}

func newBarrier(n int) *barrier { return &barrier{left: n, open: make(chan struct{})} }

func (b *barrier) wait(ctx context.Context) {
	b.mu.Lock()
	if b.left > 0 {
		if b.left--; b.left == 0 {
			close(b.open)
		}
	}
	b.mu.Unlock()
	select {
	case <-b.open:
	case <-ctx.Done():
	case <-time.After(time.Minute):
	}
}
