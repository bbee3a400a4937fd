package config

import (
	"strings"
	"testing"
	"time"
)

// A rule's dedup, delay and max_delay are read from YAML, and their
// problems carry the line and the path.
func TestRuleTimingYAML(t *testing.T) {
	cfg, err := Parse([]byte(`
targets: {t: {type: log}}
rules:
  r:
    targets: [t]
    dedup: {key: .data.delivery, window: 10m}
    delay: 30s
    max_delay: 1h
`))
	if err != nil {
		t.Fatalf("%s", String(err))
	}
	r := cfg.Rules["r"]
	if r.Dedup == nil || r.Dedup.Key != ".data.delivery" || r.Dedup.Window.D() != 10*time.Minute || r.Delay.D() != 30*time.Second || r.MaxDelay.D() != time.Hour {
		t.Fatalf("rule: %+v", r.RuleTiming)
	}
	_, err = Parse([]byte("targets: {t: {type: log}}\nrules:\n  r:\n    targets: [t]\n    dedup: {key: '.data.[', window: 1m}\n    delay: 48h\n"))
	msg := String(err)
	for _, want := range []string{"line 5: rules.r.dedup.key: not an attribute name, and not jq", "line 6: rules.r.delay: must be at most max_delay (24h0m0s)"} {
		if !strings.Contains(msg, want) {
			t.Errorf("missing %q in:\n%s", want, msg)
		}
	}
}
