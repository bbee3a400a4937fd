package resource

import (
	"strings"
	"testing"
	"time"
)

func TestRuleTimingDecode(t *testing.T) {
	r, err := DecodeRule([]byte(`{"targets": ["t"], "dedup": {"key": ".data.delivery", "window": "10m"}, "delay": "30s"}`), "rules.r")
	if err != nil {
		t.Fatal(err)
	}
	if r.Dedup == nil || r.Dedup.Key != ".data.delivery" || r.Dedup.Window.D() != 10*time.Minute {
		t.Fatalf("dedup: %+v", r.Dedup)
	}
	if r.Delay.D() != 30*time.Second || r.MaxDelay.D() != DefaultMaxDelay {
		t.Fatalf("delay %s, max_delay %s", r.Delay.D(), r.MaxDelay.D())
	}
}

func TestRuleTimingProblems(t *testing.T) {
	for spec, want := range map[string][]string{
		`{"dedup": {"window": "1m"}}`:                            {"rules.r.dedup.key: required"},
		`{"dedup": {"key": ".data.[", "window": "1m"}}`:          {"rules.r.dedup.key: not an attribute name, and not jq"},
		`{"dedup": {"key": "id"}}`:                               {"rules.r.dedup.window: required"},
		`{"dedup": {"key": "id", "window": "10ms"}}`:             {"rules.r.dedup.window: must be at least 1s"},
		`{"dedup": {"key": "id", "window": "1000h"}}`:            {"rules.r.dedup.window: must be at most"},
		`{"delay": "-1s"}`:                                       {"rules.r.delay: must not be negative"},
		`{"delay": "2h", "max_delay": "1h"}`:                     {"rules.r.delay: must be at most max_delay (1h0m0s)"},
		`{"max_delay": "10000h"}`:                                {"rules.r.max_delay: must be at most"},
		`{"max_delay": "10ms"}`:                                  {"rules.r.max_delay: must be at least 1s"},
		`{"dedup": {"key": "id", "window": "1m", "x": 1}}`:       {"unknown field"},
		`{"delay": "30s", "dedup": {"key": "", "window": "0s"}}`: {"rules.r.dedup.key", "rules.r.dedup.window"},
	} {
		raw := `{"targets": ["t"], ` + strings.TrimPrefix(spec, "{")
		_, err := DecodeRule([]byte(raw), "rules.r")
		if err == nil {
			t.Errorf("%s: no error", spec)
			continue
		}
		for _, w := range want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: %q does not mention %q", spec, err, w)
			}
		}
	}
}
