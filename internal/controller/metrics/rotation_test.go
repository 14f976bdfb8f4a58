package metrics

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

// The retiring gauge is the sum over bindings: a binding's new count
// replaces its old one, and 0 (also a deleted binding) takes its share
// away, so the gauge neither drifts nor keeps bindings that are gone.
func TestRetiringGaugeSumsBindings(t *testing.T) {
	steps := []struct {
		key  string
		n    int
		want float64
	}{
		{"ns-a/app", 1, 1},
		{"ns-b/app", 2, 3},
		{"ns-a/app", 2, 4},
		{"ns-b/app", 1, 3},
		{"ns-a/app", 0, 1},
		{"ns-a/app", 0, 1},
		{"ns-c/never", 0, 1},
		{"ns-b/app", 0, 0},
	}
	for i, s := range steps {
		SetRetiring(s.key, s.n)
		if got := testutil.ToFloat64(RetiringBindings); got != s.want {
			t.Fatalf("step %d (%s=%d): gauge %v, want %v", i, s.key, s.n, got, s.want)
		}
	}
	retiring.Lock()
	defer retiring.Unlock()
	if len(retiring.by) != 0 {
		t.Errorf("bindings kept with nothing retiring: %v", retiring.by)
	}
}

// The counter has its nine series from the start and no others: label
// values never come from objects.
func TestRotationCounterSeries(t *testing.T) {
	if n := testutil.CollectAndCount(BindingRotations); n != 9 {
		t.Errorf("%d series of svcat_binding_rotations_total, want 9", n)
	}
}
