package osb

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strconv"
	"strings"
)

// catalogScanner checks a catalog body against CatalogLimits while it
// arrives, chunk by chunk, without building anything: it keeps a stack of
// at most MaxDepth small frames and a few counters.
//
// Why a pre-scan of the buffered body and then encoding/json, rather than
// decoding token by token into the types: the typed result stays exactly
// what encoding/json makes of the body (case-insensitive field names, type
// errors, the types' own UnmarshalJSON), and the scan is what bounds
// memory. The body is held once (at most MaxBytes), and it is decoded only
// after every limit held, when the decoded form is bounded by MaxValues.
// json.Decoder.Token would allocate every string and number it meets,
// which is the cost the limits exist to avoid.
//
// The scanner is lenient about JSON syntax: a body it cannot follow marks
// it invalid and it stops checking; such a body must then fail
// encoding/json's validation, which the reader confirms before anything
// decodes it (fail closed).
type catalogScanner struct {
	lim   CatalogLimits
	off   int64 // bytes fed so far
	state scanState
	stack []scanFrame
	// key holds the raw bytes of the key being read, up to maxKeyBytes.
	key     []byte
	keyLong bool

	values int64
	plans  int
	// measureStart is the offset where the metadata or schema value being
	// measured began; -1 when none is open. measureDepth is the stack
	// depth outside it.
	measureStart int64
	measureDepth int

	err error
}

type scanState uint8

const (
	stValue       scanState = iota // a value must start
	stArrayFirst                   // after '[': a value or ']'
	stObjectFirst                  // after '{': a key or '}'
	stKey                          // after ',' in an object: a key
	stInKey                        // inside a key
	stInKeyEsc                     // after a backslash in a key
	stColon                        // after a key: ':'
	stInString                     // inside a string value
	stInStringEsc                  // after a backslash in a string value
	stInLiteral                    // inside a number, true, false or null
	stAfter                        // after a value in a container: ',' or the closing bracket
	stEnd                          // after the top-level value
	stInvalid                      // not JSON the scanner can follow
)

// role is what a value is in the catalog's structure; it decides which
// limits count it.
type role uint8

const (
	roleOther role = iota
	roleRoot
	roleServices
	roleService
	rolePlans
	rolePlan
	roleSchemas
	roleSchemaInstance
	roleSchemaBinding
	roleSchemaOp
	roleMeasured // a metadata object or parameter schema
)

type scanFrame struct {
	array bool
	role  role
	// n counts the elements begun so far (arrays).
	n int
	// key is the current key (objects), as sent, cut at maxKeyShown bytes
	// for messages; keyCut tells it was cut.
	key    []byte
	keyCut bool
}

const (
	// maxKeyBytes is more than any field name of the catalog can take
	// when every character is written as a \u escape; a longer key
	// matches no field.
	maxKeyBytes = 256
	maxKeyShown = 40
	maxPathLen  = 160
)

// fields maps the keys that lead to counted or measured values, per role
// of the object holding them; keys match as encoding/json matches them,
// case-insensitively.
var fields = [...][]struct {
	name  string
	child role
}{
	roleRoot:           {{"services", roleServices}},
	roleService:        {{"plans", rolePlans}, {"metadata", roleMeasured}},
	rolePlan:           {{"metadata", roleMeasured}, {"schemas", roleSchemas}},
	roleSchemas:        {{"service_instance", roleSchemaInstance}, {"service_binding", roleSchemaBinding}},
	roleSchemaInstance: {{"create", roleSchemaOp}, {"update", roleSchemaOp}},
	roleSchemaBinding:  {{"create", roleSchemaOp}},
	roleSchemaOp:       {{"parameters", roleMeasured}},
	roleMeasured:       nil,
}

func newCatalogScanner(lim CatalogLimits) *catalogScanner {
	return &catalogScanner{lim: lim.withDefaults(), measureStart: -1}
}

// unchecked tells that the scanner could not follow the body, so the
// limits were not checked past the point where it stopped.
func (s *catalogScanner) unchecked() bool { return s.state == stInvalid }

// feed scans the next bytes of the body and returns the first limit passed.
func (s *catalogScanner) feed(p []byte) error {
	if s.err != nil || s.state == stInvalid {
		return s.err
	}
	base := s.off
	s.off += int64(len(p))
	for i := 0; i < len(p); {
		// The byte at this offset would make the measured value too
		// large; checking here, before the byte is read, reports the
		// limits in the order the body passes them, however it is cut.
		if s.measureStart >= 0 && base+int64(i)-s.measureStart >= s.lim.MaxObjectBytes {
			s.fail(LimitObjectBytes, s.lim.MaxObjectBytes, s.path(s.measureDepth))
			return s.err
		}
		switch s.state {
		case stInString, stInKey:
			j := bytes.IndexAny(p[i:], "\"\\")
			end := len(p)
			if j >= 0 {
				end = i + j
			}
			if s.state == stInKey {
				s.keyAppend(p[i:end])
			}
			if j < 0 {
				i = end
				continue
			}
			i = end + 1
			switch {
			case p[end] == '\\' && s.state == stInKey:
				s.keyAppend(p[end : end+1])
				s.state = stInKeyEsc
			case p[end] == '\\':
				s.state = stInStringEsc
			case s.state == stInKey:
				s.keyDone()
				s.state = stColon
			default:
				s.valueEnd(base + int64(i))
			}
		case stInKeyEsc:
			s.keyAppend(p[i : i+1])
			s.state = stInKey
			i++
		case stInStringEsc:
			s.state = stInString
			i++
		case stInLiteral:
			if isLiteralByte(p[i]) {
				i++
				continue
			}
			// The byte after a literal is read again in the new state.
			s.valueEnd(base + int64(i))
		default:
			c := p[i]
			if c == ' ' || c == '\t' || c == '\n' || c == '\r' {
				i++
				continue
			}
			s.structural(c, base+int64(i))
			i++
		}
		if s.err != nil {
			return s.err
		}
		if s.state == stInvalid {
			return nil
		}
	}
	if s.measureStart >= 0 && s.off-s.measureStart > s.lim.MaxObjectBytes {
		s.fail(LimitObjectBytes, s.lim.MaxObjectBytes, s.path(s.measureDepth))
	}
	return s.err
}

func isLiteralByte(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '-' || c == '+' || c == '.'
}

// structural handles a byte outside strings and literals at offset pos.
func (s *catalogScanner) structural(c byte, pos int64) {
	switch s.state {
	case stArrayFirst:
		if c == ']' {
			s.pop(pos)
			return
		}
		s.valueStart(c, pos)
	case stValue:
		s.valueStart(c, pos)
	case stObjectFirst, stKey:
		switch {
		case c == '}' && s.state == stObjectFirst:
			s.pop(pos)
		case c == '"':
			s.key, s.keyLong = s.key[:0], false
			s.state = stInKey
		default:
			s.state = stInvalid
		}
	case stColon:
		if c != ':' {
			s.state = stInvalid
			return
		}
		s.state = stValue
	case stAfter:
		top := &s.stack[len(s.stack)-1]
		switch {
		case c == ',' && top.array:
			s.state = stValue
		case c == ',':
			s.state = stKey
		case c == ']' && top.array, c == '}' && !top.array:
			s.pop(pos)
		default:
			s.state = stInvalid
		}
	default:
		s.state = stInvalid
	}
}

// valueStart begins a value with its first byte c at offset pos, counting
// it against the limits.
func (s *catalogScanner) valueStart(c byte, pos int64) {
	r := roleRoot
	if n := len(s.stack); n > 0 {
		top := &s.stack[n-1]
		if top.array {
			top.n++
			r = elementRole(top.role)
			if !s.countElement(top) {
				return
			}
		} else {
			r = s.keyRole(top)
		}
	}
	if s.values++; s.values > s.lim.MaxValues {
		s.fail(LimitValues, s.lim.MaxValues, s.path(len(s.stack)))
		return
	}
	if r == roleMeasured {
		s.measureStart, s.measureDepth = pos, len(s.stack)
		r = roleOther
	}
	switch c {
	case '{', '[':
		if len(s.stack)+1 > s.lim.MaxDepth {
			s.fail(LimitDepth, int64(s.lim.MaxDepth), s.path(len(s.stack)))
			return
		}
		array := c == '['
		if array != (r == roleServices || r == rolePlans) {
			r = roleOther
		}
		s.push(array, r)
		if array {
			s.state = stArrayFirst
		} else {
			s.state = stObjectFirst
		}
	case '"':
		s.state = stInString
	default:
		if c == '-' || c >= '0' && c <= '9' || c == 't' || c == 'f' || c == 'n' {
			s.state = stInLiteral
			return
		}
		s.state = stInvalid
	}
}

// countElement applies the service and plan counts to a new element of
// top; false means a limit was passed.
func (s *catalogScanner) countElement(top *scanFrame) bool {
	switch top.role {
	case roleServices:
		if top.n > s.lim.MaxServices {
			s.fail(LimitServices, int64(s.lim.MaxServices), "")
			return false
		}
	case rolePlans:
		if top.n > s.lim.MaxPlansPerService {
			// The path names the service, not the plan.
			s.fail(LimitPlansPerService, int64(s.lim.MaxPlansPerService), s.path(len(s.stack)-2))
			return false
		}
		if s.plans++; s.plans > s.lim.MaxPlans {
			s.fail(LimitPlans, int64(s.lim.MaxPlans), s.path(len(s.stack)))
			return false
		}
	}
	return true
}

func elementRole(r role) role {
	switch r {
	case roleServices:
		return roleService
	case rolePlans:
		return rolePlan
	}
	return roleOther
}

// keyRole is the role of the value of top's current key.
func (s *catalogScanner) keyRole(top *scanFrame) role {
	if int(top.role) >= len(fields) || s.keyLong {
		return roleOther
	}
	want := fields[top.role]
	if len(want) == 0 {
		return roleOther
	}
	key := s.key
	if bytes.IndexByte(key, '\\') >= 0 {
		var k string
		if json.Unmarshal(append(append([]byte{'"'}, key...), '"'), &k) != nil {
			return roleOther
		}
		key = []byte(k)
	}
	for _, f := range want {
		if bytes.EqualFold(key, []byte(f.name)) {
			return f.child
		}
	}
	return roleOther
}

func (s *catalogScanner) push(array bool, r role) {
	if n := len(s.stack); n < cap(s.stack) {
		// Reuse the frame and its key buffer.
		s.stack = s.stack[:n+1]
		f := &s.stack[n]
		f.array, f.role, f.n, f.key, f.keyCut = array, r, 0, f.key[:0], false
		return
	}
	s.stack = append(s.stack, scanFrame{array: array, role: r})
}

// pop ends the container whose closing bracket is at pos.
func (s *catalogScanner) pop(pos int64) {
	s.stack = s.stack[:len(s.stack)-1]
	s.valueEnd(pos + 1)
}

// valueEnd is called where a value ended (end is the offset after it).
func (s *catalogScanner) valueEnd(end int64) {
	if s.measureStart >= 0 && len(s.stack) == s.measureDepth {
		if end-s.measureStart > s.lim.MaxObjectBytes {
			s.fail(LimitObjectBytes, s.lim.MaxObjectBytes, s.path(s.measureDepth))
		}
		s.measureStart = -1
	}
	if len(s.stack) == 0 {
		s.state = stEnd
	} else {
		s.state = stAfter
	}
}

func (s *catalogScanner) keyAppend(b []byte) {
	if room := maxKeyBytes - len(s.key); room < len(b) {
		b = b[:max(room, 0)]
		s.keyLong = true
	}
	s.key = append(s.key, b...)
}

// keyDone records the finished key in the object's frame for messages.
func (s *catalogScanner) keyDone() {
	top := &s.stack[len(s.stack)-1]
	shown := s.key
	top.keyCut = s.keyLong
	if len(shown) > maxKeyShown {
		shown, top.keyCut = shown[:maxKeyShown], true
	}
	top.key = append(top.key[:0], shown...)
}

func (s *catalogScanner) fail(l CatalogLimit, limit int64, path string) {
	s.err = &CatalogLimitError{Limit: l, Max: limit, Path: path}
}

// path renders the location of the value the first n frames lead to, like
// services[0].metadata.a, cut at maxPathLen. Keys are shown as sent when
// they are plain words and quoted otherwise.
func (s *catalogScanner) path(n int) string {
	var b strings.Builder
	for _, f := range s.stack[:n] {
		if b.Len() > maxPathLen {
			b.WriteString("…")
			break
		}
		if f.array {
			b.WriteString("[" + strconv.Itoa(f.n-1) + "]")
			continue
		}
		cut := ""
		if f.keyCut {
			cut = "…"
		}
		if plainKey(f.key) {
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(string(f.key) + cut)
			continue
		}
		b.WriteString("[" + strconv.Quote(string(f.key)+cut) + "]")
	}
	return b.String()
}

func plainKey(k []byte) bool {
	if len(k) == 0 {
		return false
	}
	for _, c := range k {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '$') {
			return false
		}
	}
	return true
}

// readChunk bounds each read, so a refused body is abandoned at most this
// many bytes after the point where it passed a limit.
const readChunk = 32 << 10

// errBodyTooLarge: the body passed the limit given to readBody.
var errBodyTooLarge = errors.New("body too large")

// readBody reads r up to limit bytes, handing each chunk to scan (when not
// nil) as it arrives and stopping at the first error scan returns. sizeHint
// is the announced length, -1 when unknown. grow, when not nil, is asked
// for the bytes of every allocation of the buffer before it is made, and
// its error ends the read.
func readBody(r io.Reader, limit, sizeHint int64, scan *catalogScanner, grow func(int64) error) ([]byte, error) {
	tooLarge := errBodyTooLarge
	if scan != nil {
		tooLarge = &CatalogLimitError{Limit: LimitBytes, Max: limit}
	}
	if sizeHint > limit {
		return nil, tooLarge
	}
	// The buffer grows with what arrives, never with what is announced: a
	// broker that promises megabytes and sends nothing gets 32 KiB.
	initial := int64(readChunk)
	if sizeHint >= 0 {
		// One more byte than announced, to see the end without growing.
		initial = min(initial, sizeHint+1)
	}
	var buf []byte
	alloc := func(length int, capacity int64) ([]byte, error) {
		// Only the growth is asked for: the old buffer is garbage once
		// copied, which the garbage collector's headroom covers.
		if grow != nil {
			if err := grow(capacity - int64(cap(buf))); err != nil {
				return nil, err
			}
		}
		return make([]byte, length, capacity), nil
	}
	buf, err := alloc(0, min(initial, limit+1))
	if err != nil {
		return nil, err
	}
	for {
		if len(buf) == cap(buf) {
			// Doubling, but never past limit+1: the buffer is the one
			// copy of the body this client holds. It grows only once
			// the bytes that filled it arrived.
			grown, err := alloc(len(buf), min(max(2*int64(cap(buf)), readChunk), limit+1))
			if err != nil {
				return nil, err
			}
			copy(grown, buf)
			buf = grown
		}
		end := min(cap(buf), len(buf)+readChunk)
		n, err := r.Read(buf[len(buf):end])
		if n > 0 {
			if int64(len(buf)+n) > limit {
				return nil, tooLarge
			}
			if scan != nil {
				if serr := scan.feed(buf[len(buf) : len(buf)+n]); serr != nil {
					return nil, serr
				}
			}
			buf = buf[:len(buf)+n]
		}
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return nil, err
		}
	}
}
