package conntrack

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/eventbridge-dev/eventbridge/internal/component"
	"github.com/eventbridge-dev/eventbridge/internal/telemetry"
	"github.com/eventbridge-dev/eventbridge/internal/testkit"
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

// TestProbe: the probe records a failing check as Down with its error,
// retries with backoff (not at the healthy interval), and records the
// recovery as Up.
func TestProbe(t *testing.T) {
	var tr component.Tracker
	m := telemetry.NewMetrics()
	c := New(&tr, m, "p", "redis")
	c.Starting()
	var calls atomic.Int32
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		// The healthy interval is an hour: reaching Up needs the retries
		// after failures to wait the backoff.
		c.Probe(ctx, time.Hour, Backoff{Min: time.Millisecond, Max: 5 * time.Millisecond}, func(context.Context) error {
			if calls.Add(1) <= 3 {
				return errors.New("refused")
			}
			return nil
		})
	}()
	deadline := time.Now().Add(30 * time.Second)
	for !c.IsUp() {
		if time.Now().After(deadline) {
			t.Fatalf("not up after %d checks: %+v", calls.Load(), tr.Health())
		}
		time.Sleep(time.Millisecond)
	}
	if h := tr.Health(); h.State != component.Running || h.LastError != "refused" {
		t.Fatalf("%+v", h)
	}
	if n := calls.Load(); n != 4 {
		t.Fatalf("%d checks, want 4", n)
	}
	cancel()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("Probe did not return when ctx was done")
	}
}

// TestLoops: Stop cancels the loops' context and waits for them; when ctx
// runs out first, release unblocks a loop that ignores the context.
func TestLoops(t *testing.T) {
	var l Loops
	l.Stop(context.Background(), nil) // without Start
	ctx := l.Start()
	var ended atomic.Int32
	l.Go(func() { <-ctx.Done(); ended.Add(1) })
	stuck := make(chan struct{})
	l.Go(func() { <-stuck; ended.Add(1) }) // ignores ctx
	sctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	released := false
	l.Stop(sctx, func() { released = true; close(stuck) })
	if !released || ended.Load() != 2 || l.Started() {
		t.Fatalf("released %v, ended %d, started %v", released, ended.Load(), l.Started())
	}
}

// A connector's lost and regained connection is told to the ConnWatch once
// per change, not once per retry: disconnected only when the loss outlasts
// the grace period, reconnected after every loss; stopping is neither.
func TestConnWatch(t *testing.T) {
	var tr component.Tracker
	m := telemetry.NewMetrics()
	w := testkit.WatchConns(m, 50*time.Millisecond)
	c := New(&tr, m, "x", "amqp")
	c.Starting()
	c.Down(errors.New("refused")) // never connected: no change
	c.Up()                        // the first connection: no change
	next := func() telemetry.ConnChange { t.Helper(); return w.Next(t) }
	none := func() { t.Helper(); w.None(t, 200*time.Millisecond) }
	none()

	// A long outage, with retries: disconnected once, then reconnected.
	c.Down(errors.New("connection reset"))
	for i := 0; i < 5; i++ {
		c.Down(errors.New("refused"))
	}
	if ch := next(); ch.Up || ch.Connector != "x" || ch.Type != "amqp" || ch.Err == nil || ch.Err.Error() != "connection reset" || ch.Down < 50*time.Millisecond {
		t.Fatalf("disconnected: %+v", ch)
	}
	none()
	c.Up()
	c.Up()
	if ch := next(); !ch.Up || ch.Err.Error() != "connection reset" {
		t.Fatalf("reconnected: %+v", ch)
	}
	none()

	// A blip shorter than the grace: reconnected only.
	m.ConnWatch.Grace = time.Hour // read when the loss happens
	c.Down(errors.New("blip"))
	c.Up()
	if ch := next(); !ch.Up || ch.Err.Error() != "blip" {
		t.Fatalf("blip: %+v", ch)
	}
	none()
	if n := testutil.ToFloat64(m.ConnReconnects.WithLabelValues("x", "amqp")); n != 2 {
		t.Fatalf("reconnects %v", n)
	}

	// Stopping while down reports nothing, even after the grace.
	m.ConnWatch.Grace = 10 * time.Millisecond
	c.Down(errors.New("gone"))
	c.Stopping()
	none()
}

// TestClient: Get gives the client only while the probe says the
// connection works; Stop takes it back, stops the probe and releases the
// client once, and the sender link is counted while it is held.
func TestClient(t *testing.T) {
	var tr component.Tracker
	m := telemetry.NewMetrics()
	c := New(&tr, m, "t", "redis")
	c.Starting()
	links := func() float64 { return testutil.ToFloat64(m.ConnLinks.WithLabelValues("t", "redis", "sender")) }
	var h Client[string]
	if _, ok := h.Get(); ok {
		t.Fatal("a client before Start")
	}
	var up atomic.Bool
	probeDone := make(chan struct{})
	h.Start(context.Background(), c, "cl", func(ctx context.Context, cl string) {
		defer close(probeDone)
		c.Probe(ctx, time.Millisecond, Backoff{Min: time.Millisecond, Max: time.Millisecond}, func(context.Context) error {
			if up.Load() {
				return nil
			}
			return errors.New("refused")
		})
	})
	if _, ok := h.Get(); ok || links() != 1 {
		t.Fatalf("Get while down, or links %v", links())
	}
	up.Store(true)
	deadline := time.Now().Add(30 * time.Second)
	for {
		if cl, ok := h.Get(); ok {
			if cl != "cl" {
				t.Fatalf("Get = %q", cl)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("Get never gave the client")
		}
		time.Sleep(time.Millisecond)
	}
	var released []string
	h.Stop(context.Background(), func(cl string) { released = append(released, cl) })
	h.Stop(context.Background(), func(cl string) { released = append(released, cl) }) // twice is fine
	select {
	case <-probeDone:
	default:
		t.Fatal("the probe still runs after Stop")
	}
	if _, ok := h.Get(); ok || len(released) != 1 || released[0] != "cl" || links() != 0 {
		t.Fatalf("after Stop: released %v, links %v", released, links())
	}
}
