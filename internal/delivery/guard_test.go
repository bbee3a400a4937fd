package delivery

// Tests of a target's rate_limit and circuit_breaker as delivery enforces
// them (Guard), with a scripted target on an embedded bus: the rate is
// held; an open breaker defers deliveries to RETRY without counting an
// attempt or dead-lettering, and a good trial closes it.

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"testing"
	"time"

	ce "github.com/cloudevents/sdk-go/v2/event"

	"github.com/eventbridge-dev/eventbridge/internal/bus"
	"github.com/eventbridge-dev/eventbridge/internal/bus/bustest"
	"github.com/eventbridge-dev/eventbridge/internal/circuit"
	"github.com/eventbridge-dev/eventbridge/internal/component"
	"github.com/eventbridge-dev/eventbridge/internal/connector"
	"github.com/eventbridge-dev/eventbridge/internal/spec"
	"github.com/eventbridge-dev/eventbridge/internal/telemetry"
)

type guardClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *guardClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *guardClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

type guardRoute struct {
	bus    *bus.Bus
	target *bustest.Target
	route  *Route
	dead   chan string
}

// newGuardRoute starts rule "r" → target "t" with guard g.
func newGuardRoute(t *testing.T, g *Guard, edit func(*Policy)) *guardRoute {
	t.Helper()
	b := bustest.New(t)
	h := &guardRoute{bus: b, target: bustest.NewTarget(), dead: make(chan string, 100)}
	var p Policy
	p.Defaults()
	zero := 0.0
	p.Backoff.Jitter = &zero
	p.Concurrency = 4
	if edit != nil {
		edit(&p)
	}
	keeper := NewKeeper(b.Config().AckWait.D())
	t.Cleanup(keeper.Close)
	h.route = NewRoute(RouteConfig{
		Rule: "r", Target: "t", Policy: p, Sender: h.target, Guard: g,
		Bus: b, Keeper: keeper, Metrics: telemetry.NewMetrics(),
		Log: bustest.Logger(t), AckWait: b.Config().AckWait.D(),
		OnDeadLetter: func(rule, target, reason string, e *ce.Event, attempts int, cause error) {
			h.dead <- e.ID() + ":" + reason
		},
	})
	if err := h.route.Start(bustest.Context(t)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = h.route.Stop(ctx)
	})
	return h
}

// deliver submits a task for event id (attempts made before: attempts)
// and returns its outcome once settled.
func (h *guardRoute) deliver(t *testing.T, id string, attempts int) string {
	t.Helper()
	e := bustest.Event(id, "com.example.test")
	raw, err := e.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	out := make(chan error, 1)
	task := &Task{Event: e, Raw: raw, Key: "guard/" + id, Attempts: attempts, Ingested: time.Now(), Done: func(err error) { out <- err }}
	if err := h.route.Submit(bustest.Context(t), task); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-out:
		if err != nil {
			t.Fatalf("%s settled with %v", id, err)
		}
		return task.Outcome
	case <-time.After(bustest.Wait):
		t.Fatalf("%s was never settled", id)
		return ""
	}
}

// The rate limit holds the rate: 11 deliveries at 20/s past a burst of 1
// take at least 10/20 s, none fails or is deferred, and each is one
// attempt.
func TestGuardRateLimitHoldsTheRate(t *testing.T) {
	g := NewGuard("t", &connector.Common{RateLimit: &connector.RateLimit{PerSecond: 20, Burst: 1}}, GuardOptions{})
	h := newGuardRoute(t, g, nil)
	start := time.Now()
	type result struct {
		err  error
		task *Task
	}
	results := make(chan result, 11)
	for i := range 11 {
		e := bustest.Event("e"+strconv.Itoa(i), "com.example.test")
		raw, err := e.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		task := &Task{Event: e, Raw: raw, Key: "guard/" + e.ID()}
		task.Done = func(err error) { results <- result{err, task} }
		if err := h.route.Submit(bustest.Context(t), task); err != nil {
			t.Fatal(err)
		}
	}
	for range 11 {
		select {
		case r := <-results:
			if r.err != nil || r.task.Outcome != telemetry.OutcomeDelivered {
				t.Errorf("%s settled with %v, outcome %q; want delivered", r.task.Event.ID(), r.err, r.task.Outcome)
			}
		case <-time.After(bustest.Wait):
			t.Fatal("not every delivery was settled")
		}
	}
	if took := time.Since(start); took < 450*time.Millisecond {
		t.Errorf("11 deliveries at 20/s (burst 1) took %s, want at least 500ms", took)
	}
	if n := h.target.Attempts(); n != 11 {
		t.Errorf("%d attempts, want 11", n)
	}
	if n := bustest.Count(t, h.bus, bus.StreamRetry, ""); n != 0 {
		t.Errorf("RETRY holds %d messages, want none", n)
	}
}

// A delivery waiting for the rate limit when the route stops is handed
// back to the bus (ErrStopped), not failed or dead-lettered.
func TestGuardRateLimitWaitEndsWithTheRoute(t *testing.T) {
	g := NewGuard("t", &connector.Common{RateLimit: &connector.RateLimit{PerSecond: 0.001, Burst: 1}}, GuardOptions{})
	h := newGuardRoute(t, g, nil)
	if o := h.deliver(t, "first", 0); o != telemetry.OutcomeDelivered {
		t.Fatalf("first delivery: %q", o)
	}
	e := bustest.Event("second", "com.example.test")
	raw, _ := e.MarshalJSON()
	out := make(chan error, 1)
	if err := h.route.Submit(bustest.Context(t), &Task{Event: e, Raw: raw, Key: "guard/second", Done: func(err error) { out <- err }}); err != nil {
		t.Fatal(err)
	}
	bustest.Eventually(t, func() bool { return h.route.QueueLen() == 0 },
		func() string { return "no worker took the second delivery" })
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // stop at once: cancel deliveries in flight
	_ = h.route.Stop(ctx)
	select {
	case err := <-out:
		if !errors.Is(err, ErrStopped) {
			t.Fatalf("settled with %v, want ErrStopped", err)
		}
	case <-time.After(bustest.Wait):
		t.Fatal("the waiting delivery was never settled")
	}
	if n := h.target.Attempts(); n != 1 {
		t.Errorf("%d attempts, want 1 (the second never had its turn)", n)
	}
	select {
	case d := <-h.dead:
		t.Errorf("dead-lettered %s", d)
	default:
	}
}

// The breaker opens after N failures in a row; while it is open,
// deliveries are deferred to RETRY (no attempt counted, not dead-lettered
// even on their last attempt, due when a trial may go); after open_for
// one trial goes, and a good one closes it.
func TestGuardCircuitBreakerDefersAndCloses(t *testing.T) {
	clk := &guardClock{now: time.Now()}
	g := NewGuard("t", &connector.Common{CircuitBreaker: &connector.CircuitBreaker{Failures: 3, OpenFor: spec.Duration(30 * time.Second)}}, GuardOptions{Now: clk.Now})
	h := newGuardRoute(t, g, func(p *Policy) {
		p.MaxAttempts = 5
		p.Backoff.Initial = spec.Duration(time.Hour) // failed ones stay in RETRY
		p.Backoff.Max = spec.Duration(time.Hour)
	})
	h.target.Fail(&connector.StatusError{Code: 503, Err: errors.New("unavailable")})
	for _, id := range []string{"f1", "f2", "f3"} {
		if o := h.deliver(t, id, 0); o != telemetry.OutcomeRetry {
			t.Fatalf("%s: outcome %q, want retry", id, o)
		}
	}
	if s := g.Circuit(); s != "open" {
		t.Fatalf("breaker %s after 3 failures in a row, want open", s)
	}
	// Open: nothing is sent; a delivery on its last attempt is deferred,
	// not dead-lettered, and keeps its attempt count.
	before := time.Now()
	if o := h.deliver(t, "d1", 4); o != OutcomeDeferred {
		t.Fatalf("d1 while open: outcome %q, want %s", o, OutcomeDeferred)
	}
	if o := h.deliver(t, "d2", 0); o != OutcomeDeferred {
		t.Fatalf("d2 while open: outcome %q, want %s", o, OutcomeDeferred)
	}
	if n := h.target.Attempts(); n != 3 {
		t.Fatalf("%d attempts, want 3: a delivery went out while the breaker was open", n)
	}
	var d1 *bustest.Msg
	for _, m := range bustest.Retry(t, h.bus, "r", "t", 5) {
		if m.Event(t).ID() == "d1" {
			d1 = &m
		}
	}
	if d1 == nil {
		t.Fatal("d1 is not in RETRY")
	}
	if d1.Get(bus.HdrAttempts) != "4" {
		t.Errorf("deferred d1 has attempts %q, want 4 (unchanged)", d1.Get(bus.HdrAttempts))
	}
	due, err := time.Parse(time.RFC3339Nano, d1.Get(bus.HdrNotBefore))
	if err != nil || due.Before(before.Add(29*time.Second)) || due.After(time.Now().Add(31*time.Second)) {
		t.Errorf("deferred d1 due %v (%v), want when a trial may go (30s)", due, err)
	}
	if n := bustest.Count(t, h.bus, bus.StreamDLQ, ""); n != 0 {
		t.Errorf("DLQ holds %d messages while the breaker is open, want none", n)
	}
	// After open_for: one trial; the target is back, so it closes.
	h.target.Fail(nil)
	clk.Advance(30 * time.Second)
	if o := h.deliver(t, "trial", 0); o != telemetry.OutcomeDelivered {
		t.Fatalf("trial: outcome %q, want delivered", o)
	}
	if s := g.Circuit(); s != "closed" {
		t.Fatalf("breaker %s after a good trial, want closed", s)
	}
	if o := h.deliver(t, "after", 0); o != telemetry.OutcomeDelivered {
		t.Fatalf("after closing: outcome %q, want delivered", o)
	}
	select {
	case d := <-h.dead:
		t.Errorf("dead-lettered %s", d)
	default:
	}
}

// Deferred deliveries come back from RETRY when the breaker lets a trial
// through and are delivered, however many times they were deferred: with
// max_attempts 2, a delivery that failed once and was then deferred is
// still delivered, not dead-lettered.
func TestGuardDeferredDeliveriesComeBack(t *testing.T) {
	g := NewGuard("t", &connector.Common{CircuitBreaker: &connector.CircuitBreaker{Failures: 1, OpenFor: spec.Duration(300 * time.Millisecond)}}, GuardOptions{})
	h := newGuardRoute(t, g, func(p *Policy) {
		p.MaxAttempts = 2
		p.Backoff.Initial = spec.Duration(10 * time.Millisecond)
		p.Backoff.Max = spec.Duration(10 * time.Millisecond)
	})
	h.target.Script(func(n int, _ *ce.Event) error {
		if n == 1 {
			return errors.New("connection refused")
		}
		return nil
	})
	if o := h.deliver(t, "e1", 0); o != telemetry.OutcomeRetry {
		t.Fatalf("e1: outcome %q, want retry", o)
	}
	if o := h.deliver(t, "e2", 0); o != OutcomeDeferred {
		t.Fatalf("e2: outcome %q, want %s", o, OutcomeDeferred)
	}
	bustest.Eventually(t, func() bool { return len(h.target.Delivered()) == 2 },
		func() string { return "the deferred deliveries never came back" })
	bustest.WaitStream(t, h.bus, bus.StreamRetry, 0)
	if n := h.target.Attempts(); n != 3 {
		t.Errorf("%d attempts, want 3 (e1 failed once, then e1 and e2 delivered)", n)
	}
	if n := bustest.Count(t, h.bus, bus.StreamDLQ, ""); n != 0 {
		t.Errorf("DLQ holds %d messages, want none", n)
	}
	if s := g.Circuit(); s != "closed" {
		t.Errorf("breaker %s, want closed", s)
	}
}

// What tells the breaker what: permanent refusals say the target is up, a
// delivery given up by the route says nothing (a half-open trial may go
// again), and the state shows in the watched component's health.
func TestGuardOutcomesAndHealth(t *testing.T) {
	clk := &guardClock{now: time.Now()}
	g := NewGuard("t", &connector.Common{CircuitBreaker: &connector.CircuitBreaker{Failures: 2, OpenFor: spec.Duration(time.Minute)}}, GuardOptions{Now: clk.Now})
	tg := bustest.NewTarget()
	tg.Set(component.Running, nil)
	watched := g.Watch(tg)
	ctx := context.Background()
	send := func(ctx context.Context, err error) error {
		t.Helper()
		done, _, aerr := g.Admit(ctx)
		if aerr != nil {
			return aerr
		}
		done(ctx, err)
		return nil
	}
	fail := errors.New("timeout")
	for range 3 {
		_ = send(ctx, fail)
		_ = send(ctx, connector.Permanent(errors.New("bad event")))
	}
	if g.Circuit() != "closed" {
		t.Fatalf("breaker %s: permanent refusals broke the run of failures", g.Circuit())
	}
	_ = send(ctx, fail)
	_ = send(ctx, fail)
	if h := watched.Health(); h.Detail["circuit"] != "open" || h.State != component.Running {
		t.Fatalf("health %+v, want running with circuit open", h)
	}
	if _, after, err := g.Admit(ctx); !errors.Is(err, circuit.ErrOpen) || after != time.Minute {
		t.Fatalf("while open: %v, %s; want ErrOpen and a minute", err, after)
	}
	clk.Advance(time.Minute)
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if err := send(cancelled, fail); err != nil { // the trial, given up
		t.Fatal(err)
	}
	if err := send(ctx, nil); err != nil { // another trial may go
		t.Fatalf("no trial after an abandoned one: %v", err)
	}
	if h := watched.Health(); h.Detail["circuit"] != "closed" {
		t.Fatalf("health %+v, want circuit closed", h)
	}
	if NewGuard("x", &connector.Common{}, GuardOptions{}) != nil {
		t.Error("a guard without settings")
	}
	var none *Guard
	if none.Watch(tg) != component.Component(tg) || none.Circuit() != "" {
		t.Error("a nil guard changes something")
	}
}
