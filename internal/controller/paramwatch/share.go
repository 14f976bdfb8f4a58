package paramwatch

// DefaultMaxWatchesPerNamespace bounds the watches of one namespace. At a
// twentieth of DefaultMaxWatches, twenty namespaces must each name that
// many Secrets before the total is reached, and even then a namespace
// holding fewer watches still gets one, taken from the namespace holding
// the most (see admit). 250 distinct parameter Secrets is far more than a
// team names in one namespace; a platform that runs such namespaces
// raises the limit.
const DefaultMaxWatchesPerNamespace = 250

// Limits bound the watches: in total and per namespace.
type Limits struct {
	// Total bounds the watches of the process; 0 means DefaultMaxWatches.
	Total int
	// PerNamespace bounds the watches of the Secrets of one namespace; 0
	// means DefaultMaxWatchesPerNamespace.
	PerNamespace int
}

func (l Limits) withDefaults() Limits {
	if l.Total <= 0 {
		l.Total = DefaultMaxWatches
	}
	if l.PerNamespace <= 0 {
		l.PerNamespace = DefaultMaxWatchesPerNamespace
	}
	return l
}

// Limit names the limit that left a Secret unwatched.
type Limit int

const (
	// NoLimit: the Secret is watched.
	NoLimit Limit = iota
	// PerNamespaceLimit: its namespace holds Limits.PerNamespace watches.
	PerNamespaceLimit
	// TotalLimit: the process holds Limits.Total watches, and no
	// namespace holds enough more than this one to give one up.
	TotalLimit
)

// admission is admit's answer.
type admission struct {
	// watch: open a watch for the Secret.
	watch bool
	// evict: first close one watch of the namespace holding the most.
	evict bool
	// refused names the limit when watch is false.
	refused Limit
}

// admit decides whether a namespace that holds have watches may open one
// more, while total are open and the namespace holding the most of all
// others holds most.
//
// Within the total, a namespace gets watches up to its own limit. At the
// total, the watches are shared out as evenly as the demand allows: a
// namespace gets one only by taking it from a namespace holding at least
// two more, so the move never reverses (after it, the taker holds at most
// as many as the giver) and repeated reconciles converge instead of
// trading one watch back and forth.
func admit(l Limits, total, have, most int) admission {
	l = l.withDefaults()
	switch {
	case have >= l.PerNamespace:
		return admission{refused: PerNamespaceLimit}
	case total < l.Total:
		return admission{watch: true}
	case most > have+1:
		return admission{watch: true, evict: true}
	default:
		return admission{refused: TotalLimit}
	}
}

// candidate is a namespace with Secrets waiting for a watch.
type candidate struct {
	ns   string
	held int // watches the namespace holds
}

// neediest picks the namespace whose waiting Secret is considered first
// for a watch: among the candidates under their own limit, the one holding
// the fewest watches, the first by name among equals so that the choice is
// reproducible. ok is false when every candidate is at its limit.
func neediest(l Limits, cands []candidate) (ns string, ok bool) {
	l = l.withDefaults()
	best := -1
	for i, c := range cands {
		if c.held >= l.PerNamespace {
			continue
		}
		if best < 0 || c.held < cands[best].held || (c.held == cands[best].held && c.ns < cands[best].ns) {
			best = i
		}
	}
	if best < 0 {
		return "", false
	}
	return cands[best].ns, true
}
