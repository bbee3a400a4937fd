package config

import (
	"strings"
	"testing"
	"time"

	"github.com/eventbridge-dev/eventbridge/internal/state"
)

func TestStateSection(t *testing.T) {
	c, err := Parse([]byte("bus: {ack_wait: 5s}\nstate: {max_age: 1h, max_bytes: 64MiB, max_event_size: 64KiB}\n"))
	if err != nil {
		t.Fatal(String(err))
	}
	if !c.State.On() || c.State.MaxAge.D() != time.Hour || c.State.MaxBytes != 64<<20 || c.State.MaxEventSize != 64<<10 || c.State.AckWait != 5*time.Second {
		t.Fatalf("state: %+v", c.State)
	}
	c, err = Parse([]byte("{}"))
	if err != nil {
		t.Fatal(String(err))
	}
	if !c.State.On() || c.State.MaxAge.D() != state.DefaultMaxAge || c.State.MaxBytes != state.DefaultMaxBytes {
		t.Fatalf("defaults: %+v", c.State)
	}
	if c, err = Parse([]byte("state: {enabled: false}\n")); err != nil || c.State.On() {
		t.Fatalf("enabled false: %+v %v", c, err)
	}
	for text, field := range map[string]string{
		"state: {max_bytes: 1KiB}\n":                               "state.max_bytes",
		"state: {max_age: 1ms}\n":                                  "state.max_age",
		"state: {max_bytes: 4MiB, max_event_size: 2MiB}\n":         "state.max_event_size",
		"state: {max_size: 1MiB}\n":                                "max_size",
		"sources: {s: {type: http, path: /s, state_key: \"{\"}}\n": "sources.s.state_key",
	} {
		_, err := Parse([]byte(text))
		if err == nil || !strings.Contains(String(err), field) {
			t.Errorf("%s: %v, want a problem naming %s", text, err, field)
		}
	}
}
