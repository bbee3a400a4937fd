package delivery

// Contract tests of a route's retry and dead-letter decisions, against an
// embedded bus (bustest) and a scripted target. What a route promises:
// a failed attempt is queued in RETRY (attempts and the due time in its
// headers) unless the error is permanent, the attempts are used up or the
// delivery is older than max_age, which dead-letter it with that reason;
// and a task is settled (Done) with nil only once it is delivered or
// durably written, so that its source message is acknowledged only then.

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
	"github.com/eventbridge-dev/eventbridge/internal/connector"
	"github.com/eventbridge-dev/eventbridge/internal/spec"
	"github.com/eventbridge-dev/eventbridge/internal/telemetry"
)

type deadCall struct {
	reason   string
	attempts int
	id       string
}

type routeHarness struct {
	bus    *bus.Bus
	target *bustest.Target
	route  *Route

	mu   sync.Mutex
	dead []deadCall
}

// newRouteHarness starts the route rule "r" → target "t" on a fresh bus.
// edit changes the policy after defaults; jitter is off.
func newRouteHarness(t *testing.T, edit func(*Policy)) *routeHarness {
	t.Helper()
	b := bustest.New(t)
	h := &routeHarness{bus: b, target: bustest.NewTarget()}
	var p Policy
	p.Defaults()
	zero := 0.0
	p.Backoff.Jitter = &zero
	p.Concurrency = 2
	if edit != nil {
		edit(&p)
	}
	keeper := NewKeeper(b.Config().AckWait.D())
	t.Cleanup(keeper.Close)
	h.route = NewRoute(RouteConfig{
		Rule: "r", Target: "t", Policy: p, Sender: h.target,
		Bus: b, Keeper: keeper, Metrics: telemetry.NewMetrics(),
		Log: bustest.Logger(t), AckWait: b.Config().AckWait.D(),
		OnDeadLetter: func(rule, target, reason string, e *ce.Event, attempts int, cause error) {
			h.mu.Lock()
			h.dead = append(h.dead, deadCall{reason, attempts, e.ID()})
			h.mu.Unlock()
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

// settled is a task's Done outcome.
type settled struct {
	err     error
	outcome string
}

// submit hands the route a task for a new event and returns where its
// outcome arrives. Done must be called exactly once.
func (h *routeHarness) submit(t *testing.T, id string, edit func(*Task)) <-chan settled {
	t.Helper()
	e := bustest.Event(id, "com.example.test")
	raw, err := e.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	out := make(chan settled, 2)
	var task *Task
	var once sync.Once
	task = &Task{Event: e, Raw: raw, Key: "bustest/" + id, Ingested: time.Now(), Done: func(err error) {
		called := false
		once.Do(func() { called = true })
		if !called {
			t.Errorf("task %s settled twice (second: %v)", id, err)
			return
		}
		out <- settled{err, task.Outcome}
	}}
	if edit != nil {
		edit(task)
	}
	if err := h.route.Submit(bustest.Context(t), task); err != nil {
		t.Fatal(err)
	}
	return out
}

func wait(t *testing.T, ch <-chan settled) settled {
	t.Helper()
	select {
	case s := <-ch:
		return s
	case <-time.After(bustest.Wait):
		t.Fatal("the task was never settled")
		return settled{}
	}
}

func (h *routeHarness) deadCalls() []deadCall {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]deadCall(nil), h.dead...)
}

// A retryable failure is written to RETRY with the attempt counted and the
// backoff's due time; the task is settled (its source may be acked) and
// nothing is dead-lettered.
func TestRouteContractRetryableFailureGoesToRetry(t *testing.T) {
	h := newRouteHarness(t, func(p *Policy) {
		p.Backoff.Initial = spec.Duration(time.Hour) // stays in RETRY for the test
		p.Backoff.Max = spec.Duration(time.Hour)
	})
	h.target.Fail(&connector.StatusError{Code: 503, Err: errors.New("unavailable")})
	before := time.Now()
	s := wait(t, h.submit(t, "e1", nil))
	if s.err != nil || s.outcome != "retry" {
		t.Fatalf("settled with %v, outcome %q; want nil, retry", s.err, s.outcome)
	}
	m := bustest.Retry(t, h.bus, "r", "t", 1)[0]
	if m.Get(bus.HdrAttempts) != "1" || m.Get(bus.HdrLastStatus) != "503" || m.Get(bus.HdrLastError) != "unavailable" {
		t.Errorf("RETRY headers %v: want attempts 1, status 503, error unavailable", m.Header)
	}
	if m.Get(bus.HdrRule) != "r" || m.Get(bus.HdrTarget) != "t" || m.Get(bus.HdrKey) != "bustest/e1" {
		t.Errorf("RETRY headers %v: want rule r, target t, key bustest/e1", m.Header)
	}
	due, err := time.Parse(time.RFC3339Nano, m.Get(bus.HdrNotBefore))
	if err != nil || due.Before(before.Add(59*time.Minute)) || due.After(time.Now().Add(61*time.Minute)) {
		t.Errorf("due %v (%v), want an hour from now (backoff.initial)", due, err)
	}
	if m.Event(t).ID() != "e1" {
		t.Errorf("RETRY holds event %q, want e1", m.Event(t).ID())
	}
	if n := bustest.Count(t, h.bus, bus.StreamDLQ, ""); n != 0 {
		t.Errorf("DLQ holds %d messages, want none", n)
	}
	if h.target.Attempts() != 1 {
		t.Errorf("%d attempts, want 1 (the next is an hour away)", h.target.Attempts())
	}
}

// A target's Retry-After wins over the backoff.
func TestRouteContractRetryAfterSetsTheDueTime(t *testing.T) {
	h := newRouteHarness(t, func(p *Policy) {
		p.Backoff.Initial = spec.Duration(time.Second)
	})
	h.target.Fail(connector.RetryAfter(errors.New("slow down"), 2*time.Hour))
	before := time.Now()
	if s := wait(t, h.submit(t, "e1", nil)); s.err != nil {
		t.Fatal(s.err)
	}
	m := bustest.Retry(t, h.bus, "r", "t", 1)[0]
	due, err := time.Parse(time.RFC3339Nano, m.Get(bus.HdrNotBefore))
	if err != nil || due.Before(before.Add(2*time.Hour-time.Minute)) {
		t.Errorf("due %v (%v), want two hours from now (Retry-After)", due, err)
	}
}

// A permanent error dead-letters at once, however many attempts are left.
func TestRouteContractPermanentErrorDeadLettersAtOnce(t *testing.T) {
	h := newRouteHarness(t, func(p *Policy) { p.MaxAttempts = 10 })
	h.target.Fail(connector.Permanent(&connector.StatusError{Code: 400, Err: errors.New("bad event")}))
	s := wait(t, h.submit(t, "e1", nil))
	if s.err != nil || s.outcome != "dead_lettered" {
		t.Fatalf("settled with %v, outcome %q; want nil, dead_lettered", s.err, s.outcome)
	}
	m := bustest.DLQ(t, h.bus, "r", "t", 1)[0]
	if m.Get(bus.HdrReason) != ReasonPermanent || m.Get(bus.HdrAttempts) != "1" || m.Get(bus.HdrLastStatus) != "400" {
		t.Errorf("DLQ headers %v: want reason permanent, attempts 1, status 400", m.Header)
	}
	if n := bustest.Count(t, h.bus, bus.StreamRetry, ""); n != 0 {
		t.Errorf("RETRY holds %d messages, want none", n)
	}
	if d := h.deadCalls(); len(d) != 1 || d[0] != (deadCall{ReasonPermanent, 1, "e1"}) {
		t.Errorf("OnDeadLetter calls %v, want one (permanent, 1, e1)", d)
	}
}

// Retries go through RETRY and come back until max_attempts: then the
// event is dead-lettered as exhausted, and RETRY is left empty.
func TestRouteContractAttemptsExhausted(t *testing.T) {
	h := newRouteHarness(t, func(p *Policy) {
		p.MaxAttempts = 3
		p.Backoff.Initial = spec.Duration(10 * time.Millisecond)
		p.Backoff.Max = spec.Duration(10 * time.Millisecond)
	})
	h.target.Fail(errors.New("connection refused"))
	if s := wait(t, h.submit(t, "e1", nil)); s.err != nil || s.outcome != "retry" {
		t.Fatalf("first attempt settled with %v, outcome %q; want nil, retry", s.err, s.outcome)
	}
	m := bustest.DLQ(t, h.bus, "r", "t", 1)[0]
	if m.Get(bus.HdrReason) != ReasonExhausted || m.Get(bus.HdrAttempts) != "3" || m.Get(bus.HdrLastError) != "connection refused" {
		t.Errorf("DLQ headers %v: want reason exhausted, attempts 3", m.Header)
	}
	if m.Get(bus.HdrFirstTry) == "" {
		t.Error("the dead letter does not say when the first attempt was")
	}
	bustest.WaitStream(t, h.bus, bus.StreamRetry, 0)
	if n := h.target.Attempts(); n != 3 {
		t.Errorf("%d attempts, want max_attempts (3)", n)
	}
}

// A delivery whose first attempt is older than max_age is dead-lettered as
// expired on its next failure, even with attempts left.
func TestRouteContractMaxAgeExpiry(t *testing.T) {
	h := newRouteHarness(t, func(p *Policy) {
		p.MaxAttempts = 100
		p.MaxAge = spec.Duration(time.Hour)
	})
	h.target.Fail(errors.New("timeout"))
	first := time.Now().Add(-2 * time.Hour)
	s := wait(t, h.submit(t, "e1", func(task *Task) { task.Attempts, task.FirstTry = 4, first }))
	if s.err != nil || s.outcome != "dead_lettered" {
		t.Fatalf("settled with %v, outcome %q; want nil, dead_lettered", s.err, s.outcome)
	}
	m := bustest.DLQ(t, h.bus, "r", "t", 1)[0]
	if m.Get(bus.HdrReason) != ReasonExpired || m.Get(bus.HdrAttempts) != "5" {
		t.Errorf("DLQ headers %v: want reason expired, attempts 5", m.Header)
	}
	if got, err := time.Parse(time.RFC3339Nano, m.Get(bus.HdrFirstTry)); err != nil || !got.Equal(first.UTC()) {
		t.Errorf("first try %v (%v), want the task's %v", got, err, first.UTC())
	}
	// A younger delivery with the same attempts is retried.
	s = wait(t, h.submit(t, "e2", func(task *Task) { task.Attempts, task.FirstTry = 4, time.Now().Add(-time.Minute) }))
	if s.err != nil || s.outcome != "retry" {
		t.Fatalf("younger delivery settled with %v, outcome %q; want nil, retry", s.err, s.outcome)
	}
}

// Failing, then delivered from RETRY: the event reaches the target once,
// RETRY empties and nothing is dead-lettered.
func TestRouteContractDeliveredAfterRetries(t *testing.T) {
	h := newRouteHarness(t, func(p *Policy) {
		p.Backoff.Initial = spec.Duration(10 * time.Millisecond)
		p.Backoff.Max = spec.Duration(10 * time.Millisecond)
	})
	h.target.Script(func(n int, _ *ce.Event) error {
		if n <= 2 {
			return errors.New("refused " + strconv.Itoa(n))
		}
		return nil
	})
	wait(t, h.submit(t, "e1", nil))
	bustest.Eventually(t, func() bool { return len(h.target.Delivered()) == 1 },
		func() string { return "never delivered after two failures" })
	bustest.WaitStream(t, h.bus, bus.StreamRetry, 0)
	if n := bustest.Count(t, h.bus, bus.StreamDLQ, ""); n != 0 || len(h.deadCalls()) != 0 {
		t.Errorf("DLQ holds %d messages, want none", n)
	}
	if got := h.target.Delivered(); len(got) != 1 || got[0] != "e1" || h.target.Attempts() != 3 {
		t.Errorf("delivered %v in %d attempts, want [e1] in 3", got, h.target.Attempts())
	}
}

// When the bus cannot take the RETRY or DLQ write, the task is settled
// with an error: its source message must not be acknowledged.
func TestRouteContractBusFailureIsNotSettledAsDone(t *testing.T) {
	for name, err := range map[string]error{
		"retry":       errors.New("refused"),
		"dead letter": connector.Permanent(errors.New("bad event")),
	} {
		t.Run(name, func(t *testing.T) {
			h := newRouteHarness(t, nil)
			h.target.Fail(err)
			h.target.Block()
			ch := h.submit(t, "e1", nil)
			bustest.Eventually(t, func() bool { return h.target.Attempts() == 1 }, func() string { return "the target was never called" })
			h.bus.Close()
			h.target.Unblock()
			if s := wait(t, ch); s.err == nil {
				t.Fatalf("settled with nil (outcome %q) though the bus could not be written", s.outcome)
			}
			if d := h.deadCalls(); len(d) != 0 {
				t.Errorf("OnDeadLetter told of %v, which was not written", d)
			}
		})
	}
}
