package brokertext

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestClean(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"plain text is kept", "instance a exists with other parameters", "instance a exists with other parameters"},
		{"JSON member", `conflict: {"topics":["a"],"password":"hunter2"}`, `conflict: {"topics":["a"],"password":[redacted]}`},
		{"JSON member with spaces and other case", `{"DB_Password" : "hunter2", "size": 1}`, `{"DB_Password" : [redacted], "size": 1}`},
		{"escaped quote inside the value", `{"secret":"a\"b","n":1}`, `{"secret":[redacted],"n":1}`},
		{"JSON inside a JSON string", `parameters "{\"apiKey\":\"k-123\",\"n\":1}"`, `parameters "{\"apiKey\":[redacted],\"n\":1}"`},
		{"object value", `{"credentials":{"username":"u","password":"p"},"ok":true}`, `{"credentials":[redacted],"ok":true}`},
		{"number value", `{"token": 123456, "n": 2}`, `{"token": [redacted], "n": 2}`},
		{"unterminated value", `{"password":"hunter2 and the rest`, `{"password":[redacted]`},
		{"assignment", `dial failed: password=hunter2&user=x`, `dial failed: password=[redacted]&user=x`},
		{"query parameter", `GET /x?access_token=abc.def ok`, `GET /x?access_token=[redacted] ok`},
		{"URL user info", `cannot reach postgres://admin:s3cret@db:5432/x`, `cannot reach postgres://[redacted]@db:5432/x`},
		{"URL without user info", `see https://broker.example/docs`, `see https://broker.example/docs`},
		{"bearer", `sent Authorization: Bearer eyJhbGciOi.payload.sig`, `sent Authorization: Bearer [redacted]`},
		{"PEM block", "key -----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY----- end", "key [redacted] end"},
		{"cut PEM block", "key -----BEGIN RSA PRIVATE KEY-----\nMIIE", "key [redacted]"},
		{"newlines and tabs", "line one\nline two\r\n\tthree", "line one line two three"},
		{"forged log line", "ok\n2026-12-06T00:00:00Z INFO admin logged in", "ok 2026-12-06T00:00:00Z INFO admin logged in"},
		{"terminal escapes", "red \x1b[31mtext\x1b[0m\x07", "red [31mtext [0m"},
		{"bidirectional override", "abc\u202Edcba\u2066x", "abc dcba x"},
		{"invalid UTF-8", "a\xffb", "a\uFFFDb"},
		{"prose about credentials is kept", "check the username and password, or token, in the Secret", "check the username and password, or token, in the Secret"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Clean(tt.in, MaxBytes); got != tt.want {
				t.Fatalf("Clean(%q)\n got %q\nwant %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestCleanBounds(t *testing.T) {
	tests := []struct {
		name string
		in   string
		max  int
	}{
		{"long ASCII", strings.Repeat("a", 10000), 512},
		{"long multi-byte", strings.Repeat("é", 10000), 512},
		{"1 MiB of hostile JSON lines", strings.Repeat("{\"password\": \"hunter2\"}\n", 1<<20/24), MaxBytes},
		{"1 MiB without any break", strings.Repeat("x", 1<<20), MaxMessage},
		{"tiny limit", "abcdef", 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Clean(tt.in, tt.max)
			if len(got) > max(tt.max, len(Truncated)) || !strings.HasSuffix(got, Truncated) || !utf8.ValidString(got) {
				t.Fatalf("Clean gave %d bytes (limit %d): %q", len(got), tt.max, got)
			}
			if strings.Contains(got, "hunter2") || strings.ContainsAny(got, "\n\r") {
				t.Fatalf("Clean kept a secret or a newline: %q", got)
			}
		})
	}
	if got := Clean(strings.Repeat("a", MaxBytes), MaxBytes); len(got) != MaxBytes || strings.HasSuffix(got, Truncated) {
		t.Fatalf("a text of exactly the limit was cut: %q", got)
	}
}

// Cleaning twice changes nothing: the controller may clean a message built
// from text the OSB client already cleaned.
func TestCleanIsIdempotent(t *testing.T) {
	for _, in := range []string{
		`{"password":"x"} https://u:p@h/ Bearer abcdefghijk`,
		strings.Repeat("{\"token\": \"t\"}\n", 100),
	} {
		once := Clean(in, MaxBytes)
		if twice := Clean(once, MaxBytes); twice != once {
			t.Fatalf("second Clean changed\n%q\nto\n%q", once, twice)
		}
	}
}

func FuzzClean(f *testing.F) {
	f.Add(`{"password":"x","credentials":{"a":[1,{"b":"c"}]}}`, 64)
	f.Add("-----BEGIN X-----\n\\\"token\\\":\\\"", 512)
	f.Fuzz(func(t *testing.T, s string, max int) {
		if max < len(Truncated) || max > 4096 {
			return
		}
		got := Clean(s, max)
		if len(got) > max || !utf8.ValidString(got) || strings.ContainsAny(got, "\n\r\x1b") {
			t.Fatalf("Clean(%q, %d) = %q", s, max, got)
		}
	})
}

// BenchmarkCleanHostile1MiB is the cost of the worst answer a broker can
// send within the OSB client's error-body limit.
func BenchmarkCleanHostile1MiB(b *testing.B) {
	in := strings.Repeat("{\"password\": \"hunter2\"}\n", 1<<20/24)
	b.ReportAllocs()
	for b.Loop() {
		Clean(in, MaxBytes)
	}
}

// BenchmarkCleanTypical is the cost every condition and Event pays: a
// message the controller wrote, with nothing to redact.
func BenchmarkCleanTypical(b *testing.B) {
	in := "The instance was provisioned successfully"
	b.ReportAllocs()
	for b.Loop() {
		Clean(in, MaxMessage)
	}
}

// FuzzCleanRedacts puts a credential member amid arbitrary text: whatever
// surrounds it, the value never survives.
func FuzzCleanRedacts(f *testing.F) {
	f.Add("conflict: ", " and more")
	f.Add(`\"`, `\"`)
	f.Add("password=", "\n")
	f.Fuzz(func(t *testing.T, prefix, suffix string) {
		const value = "Zq8-fuzz-value"
		if strings.Contains(prefix+suffix, value[:4]) {
			return
		}
		for _, member := range []string{`{"password":"` + value + `"}`, `{\"token\": \"` + value + `\"}`, `https://u:` + value + `@h/`, `api_key=` + value} {
			if got := Clean(prefix+member+suffix, 4096); strings.Contains(got, value) {
				t.Fatalf("Clean(%q) = %q", prefix+member+suffix, got)
			}
		}
	})
}

// BenchmarkCleanKeyRun is a text made of one long key full of words that
// name credentials: each key is walked once, not once per word.
func BenchmarkCleanKeyRun(b *testing.B) {
	in := strings.Repeat("password", 2048)
	b.ReportAllocs()
	for b.Loop() {
		Clean(in, MaxMessage)
	}
}
