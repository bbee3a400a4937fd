package conntrack

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/eventbridge-dev/eventbridge/internal/component"
	"github.com/eventbridge-dev/eventbridge/internal/telemetry"
)

func TestStates(t *testing.T) {
	var tr component.Tracker
	m := telemetry.NewMetrics()
	c := New(&tr, m, "x", "kafka")
	c.Starting()
	if h := tr.Health(); h.State != component.Starting || h.Detail["connected"] != false {
		t.Fatalf("%+v", h)
	}
	c.Up()
	if h := tr.Health(); h.State != component.Running || h.Detail["connected"] != true || !c.IsUp() {
		t.Fatalf("%+v", h)
	}
	c.Down(errors.New("gone"))
	c.Down(errors.New("still gone")) // one reset, not two
	if h := tr.Health(); h.State != component.Starting || h.LastError != "still gone" {
		t.Fatalf("%+v", h)
	}
	if n := testutil.ToFloat64(m.ConnResets.WithLabelValues("x", "kafka")); n != 1 {
		t.Fatalf("resets %v", n)
	}
	c.Stopping()
	c.Up() // a goroutine winding down
	if h := tr.Health(); h.State != component.Stopping {
		t.Fatalf("%+v", h)
	}
	c.Stopped(nil)
	if tr.Health().State != component.Terminated {
		t.Fatal("not terminated")
	}
	if c.WaitUp(context.Background(), 20*time.Millisecond) {
		t.Fatal("WaitUp on a stopped connection")
	}
}

func TestBackoff(t *testing.T) {
	b := Backoff{Min: 10 * time.Millisecond, Max: 40 * time.Millisecond}
	var last time.Duration
	for i := 0; i < 6; i++ {
		last = b.Next()
		if last > 40*time.Millisecond || last < 8*time.Millisecond {
			t.Fatalf("wait %s", last)
		}
	}
	if last < 32*time.Millisecond {
		t.Fatalf("did not reach the maximum: %s", last)
	}
	b.Reset()
	if d := b.Next(); d > 10*time.Millisecond {
		t.Fatalf("after Reset %s", d)
	}
}
