package event

import (
	"testing"
	"unicode/utf8"
)

// FuzzPercentDecode checks that header values survive the HTTP binding's
// percent-encoding (decode(encode(s)) == s for UTF-8 s), that encoded values
// are plain visible ASCII, and that decoding anything never panics and
// yields UTF-8 or an error.
func FuzzPercentDecode(f *testing.F) {
	for _, s := range []string{
		"", "plain", "Euro € 😀", "Euro%20%E2%82%AC%20%F0%9F%98%80", "%C0%A0", "%c3%a9",
		`"quoted \"value\""`, `"`, `""`, `"%41"`, "100%", "%", "%4", "%zz", "a b\tc\x00\x7f",
		"\xff\xfe", "{\"othervalue\": 5}", "\\", `"\`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if d, err := PercentDecode(s); err == nil && !utf8.ValidString(d) {
			t.Errorf("PercentDecode(%q) = %q, not UTF-8", s, d)
		}
		if !utf8.ValidString(s) {
			return
		}
		enc := PercentEncode(s)
		for i := 0; i < len(enc); i++ {
			if c := enc[i]; c <= 0x20 || c >= 0x7f || c == '"' {
				t.Fatalf("PercentEncode(%q) = %q: byte %#x must be encoded", s, enc, c)
			}
		}
		got, err := PercentDecode(enc)
		if err != nil {
			t.Fatalf("PercentDecode(PercentEncode(%q)) = error %v; encoded %q", s, err, enc)
		}
		if got != s {
			t.Fatalf("PercentDecode(PercentEncode(%q)) = %q; encoded %q", s, got, enc)
		}
	})
}
