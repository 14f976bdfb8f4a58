package catalogspec

import (
	"crypto/md5"
	"fmt"
	"strings"
)

// maxNameLength is the longest DNS-1123 label, the limit v0.3 kept names to.
const maxNameLength = 63

// ObjectName is the Kubernetes name of the class or plan with the given OSB
// ID, computed exactly as v0.3 did so that objects it created keep their
// names: lower-case letters a-y, digits, and '.'/'-' where DNS rules allow
// them stay; any other rune r becomes "z<hex(r)>z" ('z' is the escape). A
// name longer than 63 characters becomes its first 30 characters (without a
// trailing '.') plus "-" and the MD5 of the ID.
func ObjectName(id string) string {
	var b strings.Builder
	prevDot, prevDash := false, false
	for i, r := range id {
		first, last := i == 0, i == len(id)-1
		switch {
		case (r >= 'a' && r <= 'y') || (r >= '0' && r <= '9'):
			b.WriteRune(r)
			prevDot, prevDash = false, false
		case r == '.' && !first && !last && !prevDot && !prevDash:
			b.WriteRune(r)
			prevDot, prevDash = true, false
		case r == '-' && !first && !last && !prevDot:
			b.WriteRune(r)
			prevDot, prevDash = false, true
		default:
			fmt.Fprintf(&b, "z%xz", r)
			prevDot, prevDash = false, false
		}
	}
	name := b.String()
	if len(name) > maxNameLength {
		name = strings.TrimSuffix(name[:30], ".") + "-" + fmt.Sprintf("%x", md5.Sum([]byte(id)))
	}
	return name
}
