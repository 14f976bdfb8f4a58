// Package brokertext makes text a broker sent safe to copy into places
// other people read: conditions, Events and log lines.
//
// A broker's error descriptions and operation descriptions are written by
// whoever runs the broker, and may quote whatever the broker holds: a
// request's parameters, another tenant's stored ones, a connection string.
// They can also be of any length and hold newlines and terminal control
// sequences. Clean bounds the text, flattens it to one line and redacts
// what looks like a credential. It is the one place that does so; the OSB
// client applies it where broker text enters the controller.
package brokertext

import (
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxBytes bounds one piece of broker text (a description, say): enough
// for a sentence that tells the owner what to fix, too little to carry a
// record.
const MaxBytes = 512

// MaxMessage bounds a whole message the controller builds around broker
// text before it becomes a condition or an Event.
const MaxMessage = 1024

// scanLimit bounds the work on hostile input: only this much of a text is
// looked at. Redaction shortens a text, so it is more than the largest
// limit, but everything after it would be cut anyway.
const scanLimit = 16 * MaxMessage

// Truncated ends a text that was cut.
const Truncated = "…(truncated)"

// Redacted replaces what looked like a credential.
const Redacted = "[redacted]"

var (
	// pemBlock is a PEM block, to its END line or, when cut, to the end.
	pemBlock = regexp.MustCompile(`-----BEGIN [A-Z0-9 ]{1,64}-----(?s:.*?)(?:-----END [A-Z0-9 ]{1,64}-----|$)`)
	// userinfo is the user:password@ part of a URL.
	userinfo = regexp.MustCompile(`([A-Za-z][A-Za-z0-9+.-]*://)[^/?#\s@"'<>\\]+@`)
	// authScheme is an Authorization header's value.
	authScheme = regexp.MustCompile(`(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}`)
	// secretWord is the part of a key that names a credential; secretKey
	// checks the rest.
	// It is matched against the text in ASCII lower case: case folding
	// made the search ten times slower.
	secretWord = regexp.MustCompile(`password|passwd|passphrase|pwd|secret|token|credential|api[_-]?key|private[_-]?key|access[_-]?key|authorization|connection[_-]?string|sasl`)
)

// Clean returns s bounded to max bytes (cut at a character, ending in
// Truncated), on one line (control characters, newlines and bidirectional
// overrides become spaces, runs of spaces one), with credentials replaced by
// Redacted: the values of JSON members and key=value pairs named like
// password, secret, token, credentials or key; user:password@ in URLs;
// Bearer and Basic authorization values; PEM blocks.
func Clean(s string, max int) string {
	cut := len(s) > scanLimit
	if cut {
		s = s[:scanLimit]
	}
	if t, ok := strings.CutSuffix(s, Truncated); ok { // cleaned before
		s, cut = t, true
	}
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = redact(s)
	s = oneLine(s)
	if cut || len(s) > max {
		return truncate(s, max)
	}
	return s
}

// redact runs each pattern only where its marker occurs: most texts have
// none, and Go's regexp costs far more than a substring search.
func redact(s string) string {
	if strings.Contains(s, "-----BEGIN ") {
		s = pemBlock.ReplaceAllLiteralString(s, Redacted)
	}
	if strings.Contains(s, "://") {
		s = userinfo.ReplaceAllString(s, "${1}"+Redacted+"@")
	}
	lower := asciiLower(s)
	if strings.Contains(lower, "bearer") || strings.Contains(lower, "basic") {
		s = authScheme.ReplaceAllString(s, "${1} "+Redacted)
		lower = asciiLower(s)
	}
	if !hasSecretWord(lower) {
		return s
	}
	return redactValues(s, lower)
}

// secretStems are substrings of every word secretWord matches, for a
// quick test before the regular expression: most messages have none.
var secretStems = []string{"pass", "pwd", "secret", "token", "credential", "key", "authorization", "connection", "sasl"}

func hasSecretWord(lower string) bool {
	for _, stem := range secretStems {
		if strings.Contains(lower, stem) {
			return true
		}
	}
	return false
}

// redactValues replaces the value after each credential-named key: a JSON
// member (quoted key, possibly escaped inside another JSON string, then
// ':') or an assignment (key=). One pass over the words that name
// credentials keeps this linear in the text.
func redactValues(s, lower string) string {
	var b strings.Builder
	done := 0   // s[:done] is written
	keyEnd := 0 // end of the last key looked at
	for _, w := range secretWord.FindAllStringIndex(lower, -1) {
		if w[0] < done || w[0] < keyEnd {
			continue // inside a value already redacted, or a key already looked at
		}
		valueStart, quote, end, ok := secretKeyAt(s, max(done, keyEnd), w[0], w[1])
		keyEnd = end
		if !ok {
			continue
		}
		b.WriteString(s[done:valueStart])
		b.WriteString(Redacted)
		done = valueStart + valueEnd(s[valueStart:], quote)
	}
	b.WriteString(s[done:])
	return b.String()
}

// asciiLower lowers only ASCII letters, so byte offsets stay those of s.
func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

func keyChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == '-'
}

// secretKeyAt checks that the word at s[i:j] lies in a key followed by its
// value, and returns where the value starts, how the key was quoted and
// where the key ends (later words before it belong to the same key). The
// key reaches left only as far as the previous key looked at (from), so a
// long run of key characters is walked once.
func secretKeyAt(s string, from, i, j int) (valueStart int, quote string, keyEnd int, ok bool) {
	for i > from && keyChar(s[i-1]) {
		i--
	}
	for j < len(s) && keyChar(s[j]) {
		j++
	}
	keyEnd = j
	if j < len(s) && s[j] == '=' {
		return skipSpace(s, j+1), "", keyEnd, true
	}
	if i > 0 && s[i-1] == '"' {
		q := i - 1
		for q > 0 && s[q-1] == '\\' {
			q--
		}
		quote = s[q:i]
		for j < len(s) && s[j] == '\\' {
			j++
		}
		if j >= len(s) || s[j] != '"' {
			return 0, "", keyEnd, false
		}
		j = skipSpace(s, j+1)
		if j >= len(s) || s[j] != ':' {
			return 0, "", keyEnd, false
		}
		return skipSpace(s, j+1), quote, keyEnd, true
	}
	return 0, "", keyEnd, false
}

func skipSpace(s string, i int) int {
	for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r') {
		i++
	}
	return i
}

// valueEnd is the length of the value at the start of s. keyQuote is how
// the key was quoted, so that a value inside an escaped JSON string
// (\"password\":\"x\") ends at its own escaped quote.
func valueEnd(s, keyQuote string) int {
	switch {
	case s == "":
		return 0
	case strings.HasPrefix(s, Redacted): // cleaned before
		return len(Redacted)
	case s[0] == '{' || s[0] == '[':
		return bracketEnd(s)
	case keyQuote != "" && strings.HasPrefix(s, keyQuote):
		rest := s[len(keyQuote):]
		if len(keyQuote) == 1 {
			return len(keyQuote) + stringEnd(rest)
		}
		if i := strings.Index(rest, keyQuote); i >= 0 {
			return len(keyQuote) + i + len(keyQuote)
		}
		return len(s)
	case s[0] == '"' || s[0] == '\'':
		if i := strings.IndexByte(s[1:], s[0]); i >= 0 {
			return i + 2
		}
		return len(s)
	}
	if i := strings.IndexAny(s, " \t\r\n,;&}])\"'"); i >= 0 {
		return i
	}
	return len(s)
}

// stringEnd is the length of a JSON string's body and closing quote.
func stringEnd(s string) int {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return len(s)
}

// bracketEnd is the length of the object or array at the start of s,
// counting brackets outside strings; an unclosed one runs to the end.
func bracketEnd(s string) int {
	depth, inString := 0, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case inString && c == '\\':
			i++
		case c == '"':
			inString = !inString
		case inString:
		case c == '{' || c == '[':
			depth++
		case c == '}' || c == ']':
			depth--
			if depth == 0 {
				return i + 1
			}
		}
	}
	return len(s)
}

// oneLine turns every control character, newline and bidirectional
// formatting character into a space and collapses runs of spaces, so a
// message cannot forge extra lines in logs or reorder what a terminal
// shows.
func oneLine(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for _, r := range s {
		if unicode.IsControl(r) || unicode.IsSpace(r) || unicode.Is(unicode.Bidi_Control, r) ||
			r == '\u2028' || r == '\u2029' {
			space = true
			continue
		}
		if space && b.Len() > 0 {
			b.WriteByte(' ')
		}
		space = false
		b.WriteRune(r)
	}
	return b.String()
}

// truncate cuts s at a character boundary so that, with Truncated, it fits
// in max bytes.
func truncate(s string, max int) string {
	n := max - len(Truncated)
	if n < 0 {
		n = 0
	}
	if n >= len(s) {
		return s + Truncated
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return strings.TrimRight(s[:n], " ") + Truncated
}
