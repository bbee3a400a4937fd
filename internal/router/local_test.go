package router

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	ce "github.com/cloudevents/sdk-go/v2/event"

	"github.com/eventbridge-dev/eventbridge/internal/bus"
	"github.com/eventbridge-dev/eventbridge/internal/bus/bustest"
	"github.com/eventbridge-dev/eventbridge/internal/delivery"
	"github.com/eventbridge-dev/eventbridge/internal/eventkey"
	"github.com/eventbridge-dev/eventbridge/internal/spec"
	"github.com/eventbridge-dev/eventbridge/internal/telemetry"
)

// The low-water mark never passes a sequence that is handed and not
// settled, nor one the bus may still hand over (its floor), whatever
// order the events are handed and settled in: seq 11 is handed and
// settled before seq 10 is handed.
func TestLowWaterNeverPassesUnsettledOrUnhanded(t *testing.T) {
	l := newLocal()
	l.reading = false
	quit := make(chan struct{})
	go func() {
		for range l.in { // the router's loop, routing nothing
		}
	}()
	defer close(l.in)
	st := func(seq uint64) []bus.Stored { return []bus.Stored{{WorkSeq: seq}} }

	// Seq 10's Publish call is in flight: the bus's floor is 10.
	l.take(st(11), quit)
	if lw := l.lowWater(10, true); lw > 10 {
		t.Fatalf("mark %d passes seq 10, not yet handed", lw)
	}
	l.settle(11)
	if lw := l.lowWater(10, true); lw > 10 {
		t.Fatalf("mark %d passes seq 10, not yet handed (11 settled)", lw)
	}
	l.take(st(10), quit) // its call ends: the floor moves on
	if lw := l.lowWater(12, true); lw != 10 {
		t.Fatalf("mark %d, want 10 (handed, not settled)", lw)
	}
	l.again(bus.Stored{WorkSeq: 10}) // a route could not settle it
	if lw := l.lowWater(12, true); lw != 10 {
		t.Fatalf("mark %d, want 10 (waiting to be routed again)", lw)
	}
	for _, s := range l.dueRetries(time.Now().Add(2 * retryAfter)) {
		l.settle(s.WorkSeq)
	}
	if lw := l.lowWater(12, true); lw != 12 {
		t.Fatalf("mark %d, want the floor 12 once all is settled", lw)
	}
	// While events flow the newest handed stays; once idle, it goes too.
	l.take(st(12), quit)
	l.settle(12)
	if lw := l.lowWater(13, false); lw != 12 {
		t.Fatalf("mark %d, want 12 (the newest handed is kept while events flow)", lw)
	}
	if lw := l.lowWater(13, false); lw != 13 {
		t.Fatalf("mark %d, want 13 once idle", lw)
	}
	// Reading back at start: nothing above the frontier goes.
	l.reading, l.frontier = true, 5
	if lw := l.lowWater(13, true); lw != 5 {
		t.Fatalf("mark %d, want the read-back frontier 5", lw)
	}
	l.reading = false
	l.cap = 7 // set by Stop
	if lw := l.lowWater(13, true); lw != 7 {
		t.Fatalf("mark %d, want the cap 7", lw)
	}
}

// openBus opens an embedded bus in dir (the same dir again: a restart).
func openBus(t *testing.T, dir string) *bus.Bus {
	t.Helper()
	cfg := bus.Config{DataDir: dir}
	cfg.Archive.MaxBytes = spec.ByteSize(64 << 20)
	cfg.Defaults()
	b, err := bus.Open(bustest.Context(t), cfg, bustest.Logger(t))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

type localRig struct {
	bus    *bus.Bus
	keeper *delivery.Keeper
	router *Router
	route  *delivery.Route
}

// startRig starts a router that routes from ingest to target, through an
// ordered route when ordered.
func startRig(t *testing.T, b *bus.Bus, target *bustest.Target, ordered bool) *localRig {
	t.Helper()
	rg := &localRig{bus: b, keeper: delivery.NewKeeper(b.Config().AckWait.D())}
	t.Cleanup(rg.keeper.Close)
	m := telemetry.NewMetrics()
	rg.router = New(Config{Bus: b, Keeper: rg.keeper, Metrics: m, Log: bustest.Logger(t)})
	var p delivery.Policy
	p.Defaults()
	rc := delivery.RouteConfig{
		Rule: "r", Target: "t", Policy: p, Sender: target, Bus: b, Keeper: rg.keeper,
		Metrics: m, Log: bustest.Logger(t), AckWait: b.Config().AckWait.D(),
	}
	if ordered {
		k, err := eventkey.Compile("id")
		if err != nil {
			t.Fatal(err)
		}
		rc.Ordering = k
	}
	rg.route = delivery.NewRoute(rc)
	if err := rg.route.Start(bustest.Context(t)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = rg.route.Stop(ctx)
	})
	if err := rg.router.SetRules(bustest.Context(t), []Rule{{Name: "r", Routes: []*delivery.Route{rg.route}}}); err != nil {
		t.Fatal(err)
	}
	if err := rg.router.Start(bustest.Context(t)); err != nil {
		t.Fatal(err)
	}
	return rg
}

// WORK is trimmed once events are settled — to nothing once traffic
// stops — with no consumer on it, so no acknowledgement per event.
func TestLocalTrimsWorkWithoutAcks(t *testing.T) {
	b := bustest.New(t)
	target := bustest.NewTarget()
	rg := startRig(t, b, target, false)
	t.Cleanup(func() { _ = rg.router.Stop(context.Background()) })
	var ids []string
	for i := range 300 {
		id := fmt.Sprint("e", i)
		ids = append(ids, id)
		bustest.Publish(t, b, "web", bustest.Event(id, "com.example.a"))
	}
	bustest.Eventually(t, func() bool { return len(target.Delivered()) == len(ids) },
		func() string { return fmt.Sprintf("delivered %d of %d", len(target.Delivered()), len(ids)) })
	bustest.WaitStream(t, b, bus.StreamWork, 0)
	if c := bustest.ConsumerState(t, b, bus.StreamWork, ConsumerName); c.Exists {
		t.Errorf("WORK has the router's consumer %+v: want none", c)
	}
	if n := bustest.Count(t, b, bus.StreamEvents, ""); n != uint64(len(ids)) {
		t.Errorf("the archive holds %d events, want %d", n, len(ids))
	}
}

// A crash (the bus closed without stopping the router or the routes)
// with events waiting in the route loses none: the next start reads
// them back from WORK and delivers them; those settled before were
// trimmed and are not delivered again (but the newest one may be).
func TestLocalCrashLosesNothing(t *testing.T) {
	for _, ordered := range []bool{false, true} {
		t.Run(fmt.Sprint("ordered=", ordered), func(t *testing.T) { testLocalCrash(t, ordered) })
	}
}

func testLocalCrash(t *testing.T, ordered bool) {
	dir := filepath.Join(t.TempDir(), "bus")
	b := openBus(t, dir)
	first := bustest.NewTarget()
	rg := startRig(t, b, first, ordered)
	for i := range 20 {
		bustest.Publish(t, b, "web", bustest.Event(fmt.Sprint("early", i), "com.example.a"))
	}
	bustest.Eventually(t, func() bool { return len(first.Delivered()) == 20 }, func() string { return "early events not delivered" })
	bustest.Eventually(t, func() bool { return bustest.Count(t, b, bus.StreamWork, "") <= 1 },
		func() string {
			return fmt.Sprintf("WORK holds %d, want it trimmed", bustest.Count(t, b, bus.StreamWork, ""))
		})

	first.Block()
	t.Cleanup(first.Unblock)
	var late []string
	for i := range 30 {
		id := fmt.Sprint("late", i)
		late = append(late, id)
		bustest.Publish(t, b, "web", bustest.Event(id, "com.example.a"))
	}
	bustest.Eventually(t, func() bool { return first.Attempts() > 20 }, func() string { return "the blocked target was not called" })
	// Let trims run while the events wait.
	ticks := rg.router.local.ticks.Load()
	bustest.Eventually(t, func() bool { return rg.router.local.ticks.Load() >= ticks+3 }, func() string { return "no trims" })
	b.Close() // crash: nothing stopped

	b2 := openBus(t, dir)
	t.Cleanup(b2.Close)
	second := bustest.NewTarget()
	rg2 := startRig(t, b2, second, ordered)
	t.Cleanup(func() { _ = rg2.router.Stop(context.Background()) })
	bustest.Eventually(t, func() bool {
		got := second.Delivered()
		for _, id := range late {
			if !slices.Contains(got, id) {
				return false
			}
		}
		return true
	}, func() string {
		return fmt.Sprintf("after the restart delivered %v, want every late event", second.Delivered())
	})
	got := second.Delivered()
	early := 0
	for _, id := range got {
		if len(id) > 5 && id[:5] == "early" {
			early++
		}
	}
	if early > 1 {
		t.Errorf("%d settled events delivered again after the restart, want at most the newest: %v", early, got)
	}
	if ordered {
		// One key per event: nothing to order, but the barrier must have
		// lifted for anything to go.
		if b := rg2.keeper.Barrier(); b.Up() {
			t.Error("the ordering barrier is still up")
		}
	}
	bustest.WaitStream(t, b2, bus.StreamWork, 0)
}

// Concurrent producers, a crash in the middle of their stream (the bus
// closed under them), a restart: every event whose Publish returned nil
// is delivered in one run or the other, though events are handed to the
// router out of order and WORK is trimmed meanwhile.
func TestLocalConcurrentPublishCrashLosesNothing(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "bus")
	b := openBus(t, dir)
	first := bustest.NewTarget()
	first.Script(func(n int, _ *ce.Event) error {
		if n%7 == 0 {
			time.Sleep(time.Millisecond) // some deliveries lag, so settlement is out of order
		}
		return nil
	})
	startRig(t, b, first, false)
	const producers, each = 8, 150
	var mu sync.Mutex
	var stored []string
	var wg sync.WaitGroup
	half := make(chan struct{})
	var once sync.Once
	for p := range producers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				id := fmt.Sprint("p", p, "-", i)
				if _, err := b.Publish(context.Background(), "web", []*ce.Event{bustest.Event(id, "com.example.a")}); err != nil {
					return // the bus is gone: this producer stops
				}
				mu.Lock()
				stored = append(stored, id)
				if len(stored) == producers*each/2 {
					once.Do(func() { close(half) })
				}
				mu.Unlock()
			}
		}()
	}
	<-half
	b.Close() // crash, with producers still sending
	wg.Wait()

	b2 := openBus(t, dir)
	t.Cleanup(b2.Close)
	second := bustest.NewTarget()
	rg2 := startRig(t, b2, second, false)
	t.Cleanup(func() { _ = rg2.router.Stop(context.Background()) })
	missing := func() []string {
		got := map[string]bool{}
		for _, id := range first.Delivered() {
			got[id] = true
		}
		for _, id := range second.Delivered() {
			got[id] = true
		}
		var miss []string
		mu.Lock()
		defer mu.Unlock()
		for _, id := range stored {
			if !got[id] {
				miss = append(miss, id)
			}
		}
		return miss
	}
	bustest.Eventually(t, func() bool { return len(missing()) == 0 },
		func() string { return fmt.Sprintf("%d stored events never delivered: %v", len(missing()), missing()) })
	bustest.WaitStream(t, b2, bus.StreamWork, 0)
}
