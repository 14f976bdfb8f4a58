package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/svcat-io/svcat/internal/controller"
	"github.com/svcat-io/svcat/internal/osb"
)

// The hostile catalogs are valid JSON of about the size asked for: an old
// controller must decode them, not fail on syntax.
func TestHostileCatalogsAreValidJSON(t *testing.T) {
	for shape := range shapeUnits {
		for _, size := range []int{10, 4 << 10, 100 << 10} {
			w := httptest.NewRecorder()
			sent := writeHostile(w, shape, size)
			body := w.Body.Bytes()
			if !json.Valid(body) || int64(len(body)) != sent {
				t.Fatalf("%s, %d bytes: invalid JSON (%d bytes, %d counted)", shape, size, len(body), sent)
			}
			if size > 1000 && (len(body) < size*9/10 || len(body) > size+len(shapeUnits[shape])+8) {
				t.Errorf("%s: %d bytes for %d asked", shape, len(body), size)
			}
		}
	}
}

// The fit catalog is within the namespaced defaults and close to the
// values limit: the most the controller decodes for one tenant.
func TestFitCatalogIsWithinTheLimits(t *testing.T) {
	for _, pad := range []bool{false, true} {
		t.Run(map[bool]string{false: "fit", true: "fit1m"}[pad], func(t *testing.T) { testFit(t, pad) })
	}
}

func testFit(t *testing.T, pad bool) {
	lim := controller.DefaultNamespacedCatalogLimits()
	served := lim
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { writeFit(w, served, pad) }))
	t.Cleanup(srv.Close)
	c, err := osb.New(osb.Config{URL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	cat, err := c.GetCatalogWithin(t.Context(), lim)
	if err != nil {
		t.Fatal(err)
	}
	if err := cat.Validate(); err != nil {
		t.Fatal(err)
	}
	lim.MaxValues = lim.MaxValues * 9 / 10
	if _, err := c.GetCatalogWithin(t.Context(), lim); !osb.IsCatalogLimit(err) {
		t.Errorf("the catalog is not within 10%% of the values limit: %v", err)
	}
	if pad {
		lim = controller.DefaultNamespacedCatalogLimits()
		lim.MaxBytes = lim.MaxBytes * 9 / 10
		if _, err := c.GetCatalogWithin(t.Context(), lim); !osb.IsCatalogLimit(err) {
			t.Errorf("the catalog is not within 10%% of the bytes limit: %v", err)
		}
	}
}
