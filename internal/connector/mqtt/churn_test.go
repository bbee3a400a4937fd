package mqtt

import (
	"context"
	"net"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/eventbridge-dev/eventbridge/internal/spec"
	"github.com/eventbridge-dev/eventbridge/internal/testkit"
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

// Three connections in a row that end soon count as a take-over, once; a
// failed connection attempt in between (a broker restarting refuses
// them) starts the count again.
func TestChurnTakeoverCount(t *testing.T) {
	var got []bool
	c := newChurn(&linkConfig{conn: &ConnConfig{ReconnectMax: spec.Duration(time.Second)}, clientID: "x",
		onTakeover: func(taken bool, _ error) { got = append(got, taken) }})
	defer c.close()
	drop := func() { c.up(); c.down() }
	drop()
	drop()
	c.failed()
	drop()
	drop()
	if len(got) != 0 {
		t.Fatalf("take-over reported across a failed attempt: %v", got)
	}
	drop()
	drop()
	if len(got) != 1 || !got[0] {
		t.Fatalf("reports %v, want one take-over", got)
	}
}

// Both links tell the churn of failed connection attempts.
func TestLinkReportsFailedAttempts(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	for _, v := range []Version{V5, V311} {
		t.Run("v"+string(v), func(t *testing.T) {
			before := goleak.IgnoreCurrent()
			cfg := &ConnConfig{URL: "mqtt://" + addr, Version: v, ReconnectMax: spec.Duration(200 * time.Millisecond)}
			cfg.defaults()
			cfg.ConnectTimeout = spec.Duration(time.Second)
			l, err := dial(linkConfig{conn: cfg, clientID: "failing", cleanStart: true, onState: func(bool, error) {}})
			if err != nil {
				t.Fatal(err)
			}
			defer func() {
				_ = l.close(context.Background())
				// paho.mqtt.golang ends its connect loop only after the
				// retry interval (1s) it was sleeping.
				testkit.Eventually(t, 10*time.Second, func() bool { return goleak.Find(before) == nil }, "the link left goroutines behind")
			}()
			var c *churn
			switch l := l.(type) {
			case *link5:
				c = l.churn
			case *link311:
				c = l.churn
			}
			c.mu.Lock()
			c.quick = 99
			c.mu.Unlock()
			testkit.Eventually(t, 20*time.Second, func() bool {
				c.mu.Lock()
				defer c.mu.Unlock()
				return c.quick == 0
			}, "failed attempts were not reported")
		})
	}
}
