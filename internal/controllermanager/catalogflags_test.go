package controllermanager

import (
	"flag"
	"io"
	"strings"
	"testing"

	"github.com/svcat-io/svcat/internal/controller"
	"github.com/svcat-io/svcat/internal/osb"
)

func parseFlags(t *testing.T, args ...string) (Options, error) {
	t.Helper()
	fs := flag.NewFlagSet("catalog-controller", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	o := DefaultOptions()
	o.BindFlags(fs)
	return o, fs.Parse(args)
}

func TestCatalogLimitFlags(t *testing.T) {
	o, err := parseFlags(t, "--namespaced-broker-catalog-limits=depth=40, bytes=2Mi", "--namespaced-broker-catalog-limits=object-bytes=100Ki",
		"--cluster-broker-catalog-limits=values=1M")
	if err != nil {
		t.Fatal(err)
	}
	want := controller.DefaultNamespacedCatalogLimits()
	want.MaxDepth, want.MaxBytes, want.MaxObjectBytes = 40, 2<<20, 100<<10
	if got := o.Controller.NamespacedCatalogLimits; got != want {
		t.Errorf("namespaced limits %+v, want %+v (keys not given keep their defaults)", got, want)
	}
	wantCluster := osb.DefaultCatalogLimits()
	wantCluster.MaxValues = 1_000_000
	if got := o.Controller.ClusterCatalogLimits; got != wantCluster {
		t.Errorf("cluster limits %+v, want %+v", got, wantCluster)
	}

	for arg, want := range map[string]string{
		"--cluster-broker-catalog-limits=depht=3":      `unknown catalog limit "depht"`,
		"--cluster-broker-catalog-limits=depth":        "want KEY=VALUE",
		"--cluster-broker-catalog-limits=bytes=1MB":    "not a whole number",
		"--cluster-broker-catalog-limits=services=0":   "at least 1",
		"--cluster-broker-catalog-limits=bytes=-1":     "not a whole number",
		"--cluster-broker-catalog-limits=bytes=99Gi0":  "not a whole number",
		"--cluster-broker-catalog-limits=values=9e9Gi": "not a whole number",
		"--cluster-broker-catalog-limits=depth=1.5":    "not a whole number",
		"--cluster-broker-catalog-limits=depth=500m":   "not a whole number",
		"--cluster-broker-catalog-limits=bytes=8Ei":    "not a whole number",
	} {
		if _, err := parseFlags(t, arg); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", arg, err, want)
		}
	}
}

// What the flag prints (the documented default) reads back as the same
// limits.
func TestCatalogLimitFlagRoundTrip(t *testing.T) {
	for _, l := range []osb.CatalogLimits{osb.DefaultCatalogLimits(), controller.DefaultNamespacedCatalogLimits()} {
		s := catalogLimitsFlag{&l}.String()
		var back osb.CatalogLimits
		if err := (catalogLimitsFlag{&back}).Set(s); err != nil {
			t.Fatal(err)
		}
		if back != l {
			t.Errorf("%s reads back as %+v, want %+v", s, back, l)
		}
	}
	if got := (catalogLimitsFlag{}).String(); got != "" {
		t.Errorf("zero flag prints %q", got)
	}
}

// What docs/controller.md says one catalog being read can cost: about
// 8.3 MiB for a namespaced broker, about 99 for a cluster broker, both
// within the default catalog memory budget.
func TestCatalogLimitDefaultsBoundMemory(t *testing.T) {
	if b := controller.DefaultNamespacedCatalogLimits().DecodedCostBound(); b > 8.5*(1<<20) {
		t.Errorf("a namespaced broker's catalog may cost %d bytes", b)
	}
	if b := osb.DefaultCatalogLimits().DecodedCostBound(); b > 99<<20 {
		t.Errorf("a cluster broker's catalog may cost %d bytes", b)
	}
	if err := controller.CheckCatalogMemoryBudget(DefaultOptions().Controller); err != nil {
		t.Errorf("the defaults: %v", err)
	}
}

func TestCatalogMemoryBudgetFlag(t *testing.T) {
	o := DefaultOptions()
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	o.BindFlags(fs)
	if got := fs.Lookup(controller.FlagCatalogMemoryBudget).DefValue; got != "128Mi" {
		t.Errorf("default --%s=%s, want 128Mi", controller.FlagCatalogMemoryBudget, got)
	}
	if err := fs.Parse([]string{"--catalog-memory-budget=64Mi"}); err != nil {
		t.Fatal(err)
	}
	if o.Controller.CatalogMemoryBudget != 64<<20 {
		t.Errorf("budget = %d, want 64Mi", o.Controller.CatalogMemoryBudget)
	}
	// 64Mi holds a namespaced catalog, not a cluster one at the defaults.
	err := controller.CheckCatalogMemoryBudget(o.Controller)
	want := "--catalog-memory-budget=67108864 is smaller than the 103471520 bytes one catalog within --cluster-broker-catalog-limits may need while it is read and decoded (2 × bytes + 330 × values): raise the budget, or lower bytes and values of the limits"
	if err == nil || err.Error() != want {
		t.Errorf("CheckCatalogMemoryBudget = %v, want %s", err, want)
	}
	if err := fs.Parse([]string{"--cluster-broker-catalog-limits=values=100000"}); err != nil {
		t.Fatal(err)
	}
	if err := controller.CheckCatalogMemoryBudget(o.Controller); err != nil {
		t.Errorf("with cluster catalogs of at most 100,000 values: %v", err)
	}
	for _, bad := range []string{"0", "-1", "1.5", "100m", "lots"} {
		if err := fs.Parse([]string{"--catalog-memory-budget=" + bad}); err == nil {
			t.Errorf("--catalog-memory-budget=%s accepted", bad)
		}
	}
}
