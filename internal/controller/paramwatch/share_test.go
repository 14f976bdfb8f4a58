package paramwatch

import "testing"

func TestAdmit(t *testing.T) {
	l := Limits{Total: 10, PerNamespace: 4}
	for _, tt := range []struct {
		name              string
		total, have, most int
		want              admission
	}{
		{"room in both", 3, 1, 2, admission{watch: true}},
		{"namespace at its limit", 3, 4, 0, admission{refused: PerNamespaceLimit}},
		{"namespace at its limit, total reached too", 10, 4, 4, admission{refused: PerNamespaceLimit}},
		{"total reached, another holds two more", 10, 1, 3, admission{watch: true, evict: true}},
		{"total reached, another holds one more", 10, 2, 3, admission{refused: TotalLimit}},
		{"total reached, others hold as many", 10, 3, 3, admission{refused: TotalLimit}},
		{"total reached, no other namespace", 10, 3, 0, admission{refused: TotalLimit}},
		{"total exceeded (limit lowered), others hold more", 12, 0, 4, admission{watch: true, evict: true}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := admit(l, tt.total, tt.have, tt.most); got != tt.want {
				t.Errorf("admit(total %d, have %d, most %d) = %+v, want %+v", tt.total, tt.have, tt.most, got, tt.want)
			}
		})
	}
}

// Zero limits are the defaults.
func TestAdmitDefaults(t *testing.T) {
	if a := admit(Limits{}, 0, DefaultMaxWatchesPerNamespace-1, 0); !a.watch {
		t.Errorf("below the default per-namespace limit: %+v", a)
	}
	if a := admit(Limits{}, 0, DefaultMaxWatchesPerNamespace, 0); a.refused != PerNamespaceLimit {
		t.Errorf("at the default per-namespace limit: %+v", a)
	}
	if a := admit(Limits{}, DefaultMaxWatches, 0, 1); a.refused != TotalLimit {
		t.Errorf("at the default total: %+v", a)
	}
}

func TestNeediest(t *testing.T) {
	l := Limits{Total: 10, PerNamespace: 4}
	for _, tt := range []struct {
		name   string
		cands  []candidate
		want   string
		wantOK bool
	}{
		{"none waiting", nil, "", false},
		{"the fewest", []candidate{{"a", 3}, {"b", 1}, {"c", 2}}, "b", true},
		{"the first by name among equals", []candidate{{"c", 1}, {"b", 1}, {"d", 1}}, "b", true},
		{"not one at its own limit", []candidate{{"a", 4}, {"b", 3}}, "b", true},
		{"all at their limit", []candidate{{"a", 4}, {"b", 5}}, "", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := neediest(l, tt.cands)
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("neediest = %q, %v; want %q, %v", got, ok, tt.want, tt.wantOK)
			}
		})
	}
}
