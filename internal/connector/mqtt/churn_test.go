package mqtt

import (
	"testing"
	"time"

	"github.com/eventbridge-dev/eventbridge/internal/spec"
)

// The first attempt of all is at once; every later one waits, with
// jitter, the wait growing over connections that drop soon and over
// failed attempts, up to reconnect_max.
func TestChurnDelay(t *testing.T) {
	c := newChurn(&linkConfig{conn: &ConnConfig{ReconnectMax: spec.Duration(time.Second)}, clientID: "x"})
	defer c.close()
	if d := c.delay(0); d != 0 {
		t.Fatalf("first attempt waits %v", d)
	}
	within := func(d, lo, hi time.Duration) {
		t.Helper()
		if d < lo || d > hi {
			t.Errorf("wait %v, want %v to %v", d, lo, hi)
		}
	}
	within(c.delay(1), 50*time.Millisecond, 100*time.Millisecond) // the first attempt failed
	c.up()
	c.down()
	within(c.delay(0), 50*time.Millisecond, 100*time.Millisecond) // the first retry waits
	c.up()
	c.down()
	within(c.delay(0), 100*time.Millisecond, 200*time.Millisecond)
	within(c.delay(20), 500*time.Millisecond, time.Second)
	seen := map[time.Duration]bool{}
	for range 20 {
		seen[c.delay(0)] = true
	}
	if len(seen) < 2 {
		t.Error("no jitter")
	}
}
