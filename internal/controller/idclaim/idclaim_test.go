package idclaim

import (
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"
)

func TestOldestWins(t *testing.T) {
	t0 := metav1.NewTime(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	t1 := metav1.NewTime(t0.Add(time.Second))
	victim := Owner{UID: "b", Created: t0}
	copyLater := Owner{UID: "a", Created: t1}
	sameSecond := Owner{UID: "c", Created: t0}
	tests := []struct {
		name   string
		me     Owner
		rivals []Owner
		want   bool
	}{
		{"alone", copyLater, nil, true},
		{"only itself in the index", victim, []Owner{victim}, true},
		{"a later copy loses, whatever its UID", copyLater, []Owner{victim, copyLater}, false},
		{"the original wins against a later copy", victim, []Owner{copyLater}, true},
		{"same second: the lower UID wins", sameSecond, []Owner{victim}, false},
		{"same second: the lower UID", victim, []Owner{sameSecond}, true},
	}
	for _, tt := range tests {
		if got := Oldest(tt.me, tt.rivals); got != tt.want {
			t.Errorf("%s: Oldest = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestLeaseName(t *testing.T) {
	long := strings.Repeat("x/Y:", 200)
	for _, id := range []string{"8c3b2d9e-1f0a-4d6b-9c55-0e6f6a1d7c11", long, "Ümlaut id"} {
		n := LeaseName(Instance, id)
		if errs := validation.IsDNS1123Subdomain(n); len(errs) > 0 {
			t.Errorf("LeaseName(%q) = %q: %v", id, n, errs)
		}
	}
	if LeaseName(Instance, "x") == LeaseName(Binding, "x") {
		t.Error("an instance and a binding with one ID share a claim")
	}
}

func TestCutOwner(t *testing.T) {
	for in, want := range map[string]bool{"ns/name": true, "/name": false, "ns/": false, "": false, "nsname": false} {
		if _, _, ok := cutOwner(in); ok != want {
			t.Errorf("cutOwner(%q) ok = %v, want %v", in, ok, want)
		}
	}
}

func TestOwnIDWinsTheSameSecond(t *testing.T) {
	t0 := metav1.NewTime(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	const id = "f0000000-0000-4000-8000-000000000000"
	orig := Owner{UID: id, Created: t0}
	// A copy made in the same second with a lower UID would win by Oldest.
	cp := Owner{UID: "00000000-0000-4000-8000-000000000000", Created: t0}
	if !Oldest(cp, []Owner{orig, cp}) {
		t.Fatal("the test needs a copy that Oldest alone would let win")
	}
	if !ownedByRival(id, cp.UID, []Owner{orig, cp}) {
		t.Error("the copy is not refused: the ID is the original's own UID")
	}
	if ownedByRival(id, orig.UID, []Owner{orig, cp}) {
		t.Error("the original is refused its own UID")
	}
	if OwnID("", "") || !OwnID(id, orig.UID) || OwnID(id, cp.UID) {
		t.Error("OwnID")
	}
}
