package tenancy

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	scv1beta1 "github.com/svcat-io/svcat/api/v1beta1"
)

// oddCodes are status codes no broker should answer, each a new label value
// if the controller labels by raw code.
var oddCodes = []int{287, 299, 418, 432, 444, 451, 460, 499, 521, 530, 598, 599, 420, 509, 561, 577}

// Issue 14, item 6 (unbounded metrics): a tenant's broker answers every
// catalog request with another odd status code, then the tenant deletes it.
// /metrics never shows a raw odd code as a label value, holds a bounded
// number of series for the broker while it lives, none once it is gone, and
// ends no more than a few KiB larger than before.
func TestBrokerCannotGrowMetrics(t *testing.T) {
	c := setup(t)
	ctx := context.Background()
	k := envInt(t, "SVCAT_TENANT_ODD_CODES", 12)
	if k > len(oddCodes) {
		k = len(oddCodes)
	}
	ctl := c.startController(t, 0)
	oscar := c.newTenant(t, "oscar")
	// A request's metrics are recorded when it ends; let the controller
	// settle, then take the baseline.
	time.Sleep(2 * time.Second)
	before := ctl.scrape(t)

	var next atomic.Int64
	h := startHostile(t, func(h *hostileBroker, w http.ResponseWriter, r *http.Request) {
		code := oddCodes[int(next.Add(1)-1)%k]
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		_, _ = fmt.Fprintf(w, `{"description":"status %d"}`, code)
	})
	oscar.createBroker(t, "odd", h.URL(), "", "")
	// Each relist request makes the controller ask again, without waiting
	// for its retry back-off.
	for i := 1; i <= k; i++ {
		waitFor(t, time.Minute, fmt.Sprintf("catalog request %d", i), func() error {
			if n := h.count("GET /v2/catalog"); n < i {
				return fmt.Errorf("%d requests", n)
			}
			return nil
		})
		b := &scv1beta1.ServiceBroker{}
		must(t, oscar.c.Get(ctx, client.ObjectKey{Namespace: oscar.ns, Name: "odd"}, b))
		p := client.MergeFrom(b.DeepCopy())
		b.Spec.RelistRequests++
		must(t, oscar.c.Patch(ctx, b, p))
	}
	// The last request's metrics are recorded once it has been answered.
	waitFor(t, time.Minute, "the broker's requests in /metrics", func() error {
		if !strings.Contains(ctl.scrape(t), oscar.ns) {
			return fmt.Errorf("no series names the broker's namespace %s", oscar.ns)
		}
		return nil
	})
	during := ctl.scrape(t)
	for _, code := range oddCodes[:k] {
		if v := fmt.Sprintf(`="%d"`, code); strings.Contains(during, v) {
			t.Errorf("/metrics has the raw status code %d as a label value: want status classes", code)
		}
	}
	for family, n := range seriesMentioning(during, oscar.ns) {
		t.Logf("%s: %d series for the broker after %d distinct status codes", family, n, k)
		if n > 6 {
			t.Errorf("%s has %d series for one broker after %d distinct status codes; want at most one per status class", family, n, k)
		}
	}

	must(t, client.IgnoreNotFound(oscar.c.Delete(ctx, brokerObj(oscar.ns, "odd"))))
	waitFor(t, time.Minute, "the broker deleted", func() error {
		err := oscar.c.Get(ctx, client.ObjectKey{Namespace: oscar.ns, Name: "odd"}, &scv1beta1.ServiceBroker{})
		if client.IgnoreNotFound(err) != nil {
			return err
		}
		if err == nil {
			return fmt.Errorf("still there")
		}
		return nil
	})
	var after string
	waitFor(t, 30*time.Second, "the deleted broker's series gone from /metrics", func() error {
		after = ctl.scrape(t)
		if s := seriesMentioning(after, oscar.ns); len(s) > 0 {
			return fmt.Errorf("series still name the deleted broker's namespace: %v", s)
		}
		return nil
	})
	growth := len(after) - len(before)
	t.Logf("/metrics: %d bytes before the broker, %d while it served %d codes, %d after its deletion", len(before), len(during), k, len(after))
	if growth > 16<<10 {
		t.Errorf("/metrics grew by %d bytes after a broker came and went; want at most 16 KiB", growth)
	}
}

func brokerObj(ns, name string) *scv1beta1.ServiceBroker {
	b := &scv1beta1.ServiceBroker{}
	b.Namespace, b.Name = ns, name
	return b
}

// seriesMentioning counts, per metric family, the distinct series (label
// sets without le) whose line contains s.
func seriesMentioning(metrics, s string) map[string]int {
	sets := map[string]map[string]bool{}
	for _, line := range strings.Split(metrics, "\n") {
		if strings.HasPrefix(line, "#") || !strings.Contains(line, s) {
			continue
		}
		name, labels, _ := strings.Cut(line, "{")
		labels, _, _ = strings.Cut(labels, "}")
		for _, suffix := range []string{"_bucket", "_sum", "_count"} {
			name = strings.TrimSuffix(name, suffix)
		}
		var kept []string
		for _, l := range strings.Split(labels, ",") {
			if !strings.HasPrefix(l, "le=") {
				kept = append(kept, l)
			}
		}
		sort.Strings(kept)
		if sets[name] == nil {
			sets[name] = map[string]bool{}
		}
		sets[name][strings.Join(kept, ",")] = true
	}
	out := map[string]int{}
	for name, set := range sets {
		out[name] = len(set)
	}
	return out
}
