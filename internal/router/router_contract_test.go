package router

// Contract tests of the router against an embedded bus (bustest): a WORK
// message is acknowledged, and so leaves WORK, only once every route it
// went to has settled it (delivered, or written to RETRY or DLQ) — or,
// routing from ingest, the router's checkpoint of the archive passes the
// event only then; a route that fails goes through RETRY, and one that
// cannot settle has the event handed out again, never lost; an event no
// rule matches is acknowledged (settled).

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/eventbridge-dev/eventbridge/internal/bus"
	"github.com/eventbridge-dev/eventbridge/internal/bus/bustest"
	"github.com/eventbridge-dev/eventbridge/internal/delivery"
	"github.com/eventbridge-dev/eventbridge/internal/filter"
	"github.com/eventbridge-dev/eventbridge/internal/spec"
	"github.com/eventbridge-dev/eventbridge/internal/telemetry"
)

type routerHarness struct {
	bus     *bus.Bus
	keeper  *delivery.Keeper
	metrics *telemetry.Metrics
	router  *Router
}

// newRouterHarnessWith makes a harness whose router consumes WORK through
// the durable consumer (as on an external cluster) when consume is set,
// and routes from ingest otherwise.
func newRouterHarnessWith(t *testing.T, consume bool) *routerHarness {
	t.Helper()
	b := bustest.New(t)
	h := &routerHarness{bus: b, keeper: delivery.NewKeeper(b.Config().AckWait.D()), metrics: telemetry.NewMetrics()}
	t.Cleanup(h.keeper.Close)
	h.router = New(Config{Bus: b, AckWait: b.Config().AckWait.D(), Keeper: h.keeper, Metrics: h.metrics, Log: bustest.Logger(t), Consume: consume})
	if err := h.router.Start(bustest.Context(t)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = h.router.Stop(context.Background()) })
	return h
}

// route starts a route rule → target.Name delivering to target; rb, when
// not nil, replaces the bus for its RETRY queue and its RETRY and DLQ writes. Retries are due
// an hour later, so that what RETRY holds stays there.
func (h *routerHarness) route(t *testing.T, rule, name string, target *bustest.Target, rb delivery.Bus) *delivery.Route {
	t.Helper()
	var p delivery.Policy
	p.Defaults()
	p.Backoff.Initial, p.Backoff.Max = spec.Duration(time.Hour), spec.Duration(time.Hour)
	if rb == nil {
		rb = h.bus
	}
	rt := delivery.NewRoute(delivery.RouteConfig{
		Rule: rule, Target: name, Policy: p, Sender: target, Bus: rb, Keeper: h.keeper,
		Metrics: h.metrics, Log: bustest.Logger(t), AckWait: h.bus.Config().AckWait.D(),
	})
	if err := rt.Start(bustest.Context(t)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = rt.Stop(ctx)
	})
	return rt
}

func (h *routerHarness) rules(t *testing.T, rules ...Rule) {
	t.Helper()
	if err := h.router.SetRules(bustest.Context(t), rules); err != nil {
		t.Fatal(err)
	}
}

// bothModes runs test routing from ingest and consuming WORK.
func bothModes(t *testing.T, test func(t *testing.T, consume bool)) {
	t.Run("from ingest", func(t *testing.T) { test(t, false) })
	t.Run("consumer", func(t *testing.T) { test(t, true) })
}

func delivered(t *testing.T, target *bustest.Target, ids ...string) {
	t.Helper()
	bustest.Eventually(t, func() bool { return len(target.Delivered()) == len(ids) },
		func() string { return "delivered " + joinIDs(target.Delivered()) + ", want " + joinIDs(ids) })
	for i, id := range target.Delivered() {
		if id != ids[i] {
			t.Fatalf("delivered %v, want %v", target.Delivered(), ids)
		}
	}
}

func joinIDs(ids []string) string {
	s := "["
	for i, id := range ids {
		if i > 0 {
			s += " "
		}
		s += id
	}
	return s + "]"
}

// holdsFor checks that WORK keeps n messages for d: nothing is acked
// meanwhile (the router holds its newest ack back for ackLinger, so the
// window is well beyond it). Routing from ingest, it checks that the
// checkpoint stays below the archive's last n events instead, in memory
// and saved (d spans more than one checkpoint).
func holdsFor(t *testing.T, h *routerHarness, n uint64, d time.Duration) {
	t.Helper()
	b := h.bus
	for deadline := time.Now().Add(d); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if h.router.local != nil {
			last := bustest.Count(t, b, bus.StreamEvents, "")
			lw := h.router.local.lowWater(b.EventsFloor())
			if saved := savedCheckpoint(t, b); lw > last-n+1 || saved > last-n {
				t.Fatalf("checkpoint %d (mark %d) passes the last %d of %d events: settled before every route settled", saved, lw, n, last)
			}
			continue
		}
		if got := bustest.Count(t, b, bus.StreamWork, ""); got != n {
			t.Fatalf("WORK holds %d messages, want %d: acked before every route settled", got, n)
		}
	}
}

// allSettled waits until every event is settled: WORK is empty, or,
// routing from ingest, the checkpoint saved has reached the archive's
// last event (WORK is never written).
func allSettled(t *testing.T, h *routerHarness) {
	t.Helper()
	if h.router.local == nil {
		bustest.WaitStream(t, h.bus, bus.StreamWork, 0)
		return
	}
	bustest.Eventually(t, func() bool {
		return savedCheckpoint(t, h.bus) == bustest.Count(t, h.bus, bus.StreamEvents, "")
	}, func() string {
		return fmt.Sprintf("checkpoint %d, want the archive's %d", savedCheckpoint(t, h.bus), bustest.Count(t, h.bus, bus.StreamEvents, ""))
	})
	if n := bustest.Count(t, h.bus, bus.StreamWork, ""); n != 0 {
		t.Errorf("WORK holds %d messages routing from ingest, want none", n)
	}
}

// One event, two routes (two rules, and a rule with two targets): WORK
// keeps it while any route has not settled, and lets it go once all have.
func TestRouterContractAcksOnlyWhenEveryRouteIsDone(t *testing.T) {
	for _, consume := range []bool{false, true} {
		name := "from ingest"
		if consume {
			name = "consumer"
		}
		t.Run(name, func(t *testing.T) { testAcksOnlyWhenEveryRouteIsDone(t, consume) })
	}
}

func testAcksOnlyWhenEveryRouteIsDone(t *testing.T, consume bool) {
	h := newRouterHarnessWith(t, consume)
	fast, slow, other := bustest.NewTarget(), bustest.NewTarget(), bustest.NewTarget()
	slow.Block()
	t.Cleanup(slow.Unblock)
	h.rules(t,
		Rule{Name: "two", Routes: []*delivery.Route{h.route(t, "two", "fast", fast, nil), h.route(t, "two", "slow", slow, nil)}},
		Rule{Name: "one", Routes: []*delivery.Route{h.route(t, "one", "other", other, nil)}},
	)
	bustest.Publish(t, h.bus, "web", bustest.Event("e1", "com.example.a"))
	delivered(t, fast, "e1")
	delivered(t, other, "e1")
	bustest.Eventually(t, func() bool { return slow.Attempts() == 1 }, func() string { return "the slow target was never called" })
	holdsFor(t, h, 1, time.Second+2*checkpointEvery)
	c := bustest.ConsumerState(t, h.bus, bus.StreamWork, ConsumerName)
	switch {
	case consume && c.AckPending != 1:
		t.Errorf("router consumer %+v, want the event pending acknowledgement", c)
	case !consume && c.Exists:
		t.Errorf("router consumer %+v, want none: the router takes events from ingest", c)
	}
	slow.Unblock()
	delivered(t, slow, "e1")
	allSettled(t, h)
	if h.keeper.Len() != 0 {
		t.Errorf("the keeper still holds %d messages", h.keeper.Len())
	}
}

// A route whose target fails writes the event to its RETRY subject; that
// settles it, so WORK lets the event go, and the other route delivers.
func TestRouterContractFailingRouteGoesToRetry(t *testing.T) {
	bothModes(t, testFailingRouteGoesToRetry)
}

func testFailingRouteGoesToRetry(t *testing.T, consume bool) {
	h := newRouterHarnessWith(t, consume)
	ok, bad := bustest.NewTarget(), bustest.NewTarget()
	bad.Fail(errors.New("refused"))
	h.rules(t, Rule{Name: "r", Routes: []*delivery.Route{h.route(t, "r", "ok", ok, nil), h.route(t, "r", "bad", bad, nil)}})
	bustest.Publish(t, h.bus, "web", bustest.Event("e1", "com.example.a"))
	delivered(t, ok, "e1")
	m := bustest.Retry(t, h.bus, "r", "bad", 1)[0]
	if m.Event(t).ID() != "e1" || m.Get(bus.HdrAttempts) != "1" {
		t.Errorf("RETRY holds %v, want e1 after one attempt", m)
	}
	allSettled(t, h)
	if n := bustest.Count(t, h.bus, bus.StreamRetry, bus.RetrySubject("r", "ok")); n != 0 {
		t.Errorf("the route that delivered has %d RETRY messages", n)
	}
}

// failingBus fails the first `fail` writes to RETRY.
type failingBus struct {
	*bus.Bus
	fail atomic.Int32
}

func (f *failingBus) PutRetry(ctx context.Context, r *bus.RetryRecord) error {
	if f.fail.Add(-1) >= 0 {
		return errors.New("injected: the bus refused the write")
	}
	return f.Bus.PutRetry(ctx, r)
}

// A route that cannot settle the event (its RETRY write fails) leaves it
// in WORK: the router hands it out again, and it reaches RETRY then.
func TestRouterContractUnsettledRouteIsHandedOutAgain(t *testing.T) {
	bothModes(t, testUnsettledRouteIsHandedOutAgain)
}

func testUnsettledRouteIsHandedOutAgain(t *testing.T, consume bool) {
	h := newRouterHarnessWith(t, consume)
	bad := bustest.NewTarget()
	bad.Fail(errors.New("refused"))
	fb := &failingBus{Bus: h.bus}
	fb.fail.Store(1)
	h.rules(t, Rule{Name: "r", Routes: []*delivery.Route{h.route(t, "r", "bad", bad, fb)}})
	bustest.Publish(t, h.bus, "web", bustest.Event("e1", "com.example.a"))
	m := bustest.Retry(t, h.bus, "r", "bad", 1)[0]
	if m.Event(t).ID() != "e1" {
		t.Errorf("RETRY holds %v, want e1", m)
	}
	allSettled(t, h)
	if n := bad.Attempts(); n != 2 {
		t.Errorf("%d attempts, want 2 (the first could not be settled, the event came back)", n)
	}
}

// An event that no rule matches (by filter, or by source) is acknowledged
// and goes nowhere; the others are routed.
func TestRouterContractUnmatchedEventsAreAcked(t *testing.T) {
	bothModes(t, testUnmatchedEventsAreAcked)
}

func testUnmatchedEventsAreAcked(t *testing.T, consume bool) {
	h := newRouterHarnessWith(t, consume)
	target := bustest.NewTarget()
	rt := h.route(t, "r", "t", target, nil)
	h.rules(t, Rule{Name: "r", Sources: []string{"web"}, Filter: filter.Spec{SQL: "type = 'com.example.wanted'"}, Routes: []*delivery.Route{rt}})
	bustest.Publish(t, h.bus, "web", bustest.Event("other-type", "com.example.other"))
	bustest.Publish(t, h.bus, "queue", bustest.Event("other-source", "com.example.wanted"))
	allSettled(t, h)
	bustest.Publish(t, h.bus, "web", bustest.Event("wanted", "com.example.wanted"))
	delivered(t, target, "wanted")
	allSettled(t, h)
	if n := bustest.Count(t, h.bus, bus.StreamEvents, ""); n != 3 {
		t.Errorf("the archive holds %d events, want all 3", n)
	}
}

// With no rules at all, events are acknowledged too: WORK does not grow.
func TestRouterContractNoRulesAcksEverything(t *testing.T) { bothModes(t, testNoRulesAcksEverything) }

func testNoRulesAcksEverything(t *testing.T, consume bool) {
	h := newRouterHarnessWith(t, consume)
	for _, id := range []string{"a", "b", "c"} {
		bustest.Publish(t, h.bus, "web", bustest.Event(id, "com.example.a"))
	}
	allSettled(t, h)
}
