package bus

import "testing"

func TestEscapeToken(t *testing.T) {
	for _, s := range []string{"com.example.order.created", "a*b>c", "sp ace", "per%cent", "ünï", "", "plain-token_1"} {
		tok := EscapeToken(s)
		for i := 0; i < len(tok); i++ {
			if c := tok[i]; c == '.' || c == '*' || c == '>' || c <= ' ' || c >= 0x7f {
				t.Errorf("%q -> %q has %q", s, tok, c)
			}
		}
		if tok == "" {
			t.Errorf("%q -> empty token", s)
		}
		if back := UnescapeToken(tok); back != s {
			t.Errorf("%q -> %q -> %q", s, tok, back)
		}
	}
	if got := EventSubject("web", "com.example.x"); got != "events.web.com%2Eexample%2Ex" {
		t.Errorf("subject %q", got)
	}
}
