package router

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	ce "github.com/cloudevents/sdk-go/v2/event"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus/testutil"

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
	st := func(seq uint64) []bus.Stored { return []bus.Stored{{EventsSeq: seq}} }
	settle := func(seq uint64) { l.settle(&bus.Stored{EventsSeq: seq}) }

	// Seq 10's Publish call is in flight: the bus's floor is 10.
	l.take(st(11), quit)
	if lw := l.lowWater(10); lw > 10 {
		t.Fatalf("mark %d passes seq 10, not yet handed", lw)
	}
	settle(11)
	if lw := l.lowWater(10); lw > 10 {
		t.Fatalf("mark %d passes seq 10, not yet handed (11 settled)", lw)
	}
	l.take(st(10), quit) // its call ends: the floor moves on
	if lw := l.lowWater(12); lw != 10 {
		t.Fatalf("mark %d, want 10 (handed, not settled)", lw)
	}
	l.again(bus.Stored{EventsSeq: 10}) // a route could not settle it
	if lw := l.lowWater(12); lw != 10 {
		t.Fatalf("mark %d, want 10 (waiting to be routed again)", lw)
	}
	l.again(bus.Stored{WorkSeq: 3}) // read back from WORK: another sequence space
	for _, s := range l.dueRetries(time.Now().Add(2 * retryAfter)) {
		l.settle(&s)
	}
	if lw := l.lowWater(12); lw != 12 {
		t.Fatalf("mark %d, want the floor 12 once all is settled", lw)
	}
	// Reading back at start: nothing above the frontier goes.
	l.reading, l.frontier = true, 5
	if lw := l.lowWater(13); lw != 5 {
		t.Fatalf("mark %d, want the read-back frontier 5", lw)
	}
	l.reading = false
	l.cap = 7 // set by Stop
	if lw := l.lowWater(13); lw != 7 {
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
	bus     *bus.Bus
	keeper  *delivery.Keeper
	metrics *telemetry.Metrics
	router  *Router
	route   *delivery.Route
}

// startRig starts a router that routes from ingest to target, through an
// ordered route when ordered.
func startRig(t *testing.T, b *bus.Bus, target *bustest.Target, ordered bool) *localRig {
	return startRigWith(t, b, target, ordered, false)
}

// startRigWith is startRig with a router that consumes WORK when consume
// is set (as with bus.listen).
func startRigWith(t *testing.T, b *bus.Bus, target *bustest.Target, ordered, consume bool) *localRig {
	t.Helper()
	rg := &localRig{bus: b, keeper: delivery.NewKeeper(b.Config().AckWait.D())}
	t.Cleanup(rg.keeper.Close)
	m := telemetry.NewMetrics()
	rg.metrics = m
	rg.router = New(Config{Bus: b, Keeper: rg.keeper, Metrics: m, Log: bustest.Logger(t), Consume: consume})
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

// Each event is written once, to the archive: WORK is never written,
// has no consumer, and the router's checkpoint follows the archive to its
// end once every event is settled.
func TestLocalWritesOnceAndCheckpoints(t *testing.T) {
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
	if _, last, err := rg.router.work.Held(bustest.Context(t)); err != nil || last != 0 {
		t.Errorf("WORK has had %d messages (%v), want none: one write per event", last, err)
	}
	if c := bustest.ConsumerState(t, b, bus.StreamWork, ConsumerName); c.Exists {
		t.Errorf("WORK has the router's consumer %+v: want none", c)
	}
	if n := bustest.Count(t, b, bus.StreamEvents, ""); n != uint64(len(ids)) {
		t.Errorf("the archive holds %d events, want %d", n, len(ids))
	}
	bustest.Eventually(t, func() bool { return savedCheckpoint(t, b) == uint64(len(ids)) },
		func() string { return fmt.Sprintf("checkpoint %d, want %d", savedCheckpoint(t, b), len(ids)) })
}

// savedCheckpoint reads the router's checkpoint from the bucket.
func savedCheckpoint(t *testing.T, b *bus.Bus) uint64 {
	t.Helper()
	ctx := bustest.Context(t)
	created, err := b.ArchiveCreated(ctx)
	if err != nil {
		t.Fatal(err)
	}
	kv, err := b.KV(ctx, bus.CheckpointsBucket)
	if err != nil {
		t.Fatal(err)
	}
	seq, _, _, err := bus.Checkpoint{KV: kv, Key: CheckpointKey, Archive: created.UnixNano()}.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return seq
}

// A crash (the bus closed without stopping the router or the routes)
// with events waiting in the route loses none: the next start reads
// them back from the archive above the checkpoint and delivers them;
// those settled before the last checkpoint are not delivered again.
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
	bustest.Eventually(t, func() bool { return savedCheckpoint(t, b) >= 20 },
		func() string { return fmt.Sprintf("checkpoint %d, want 20", savedCheckpoint(t, b)) })

	first.Block()
	t.Cleanup(first.Unblock)
	var late []string
	for i := range 30 {
		id := fmt.Sprint("late", i)
		late = append(late, id)
		bustest.Publish(t, b, "web", bustest.Event(id, "com.example.a"))
	}
	bustest.Eventually(t, func() bool { return first.Attempts() > 20 }, func() string { return "the blocked target was not called" })
	// Let checkpoints be saved while the events wait.
	ticks := rg.router.local.ticks.Load()
	bustest.Eventually(t, func() bool { return rg.router.local.ticks.Load() >= ticks+3*uint64(checkpointEvery/tickEvery) },
		func() string { return "no ticks" })
	if cp := savedCheckpoint(t, b); cp != 20 {
		t.Errorf("checkpoint %d while the late events wait, want 20", cp)
	}
	// The backlog that WORK's depth no longer shows.
	if n := testutil.ToFloat64(rg.metrics.Unsettled); n != 30 {
		t.Errorf("eventbridge_router_unsettled = %v while the late events wait, want 30", n)
	}
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
	if early > 0 {
		t.Errorf("%d events settled before the checkpoint delivered again after the restart: %v", early, got)
	}
	if ordered {
		// One key per event: nothing to order, but the barrier must have
		// lifted for anything to go.
		if b := rg2.keeper.Barrier(); b.Up() {
			t.Error("the ordering barrier is still up")
		}
	}
	bustest.WaitStream(t, b2, bus.StreamWork, 0)
	bustest.Eventually(t, func() bool { return testutil.ToFloat64(rg2.metrics.Unsettled) == 0 },
		func() string {
			return fmt.Sprintf("eventbridge_router_unsettled = %v, want 0", testutil.ToFloat64(rg2.metrics.Unsettled))
		})
}

// Concurrent producers, a crash in the middle of their stream (the bus
// closed under them), a restart: every event whose Publish returned nil
// is delivered in one run or the other, though events are handed to the
// router out of order and checkpoints are saved meanwhile.
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

// A crash between two checkpoints loses nothing and routes again only
// events after the last checkpoint saved: the first run delivers every
// event it was handed, then the bus is closed under it while events
// flow; the second run delivers every stored event the first did not,
// and none of sequence up to the checkpoint it found.
func TestLocalCrashBetweenCheckpoints(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "bus")
	b := openBus(t, dir)
	first := bustest.NewTarget()
	startRig(t, b, first, false)
	var stored []string // in order: event i has EVENTS sequence i+1
	for i := range 50 {
		id := fmt.Sprint("a", i)
		bustest.Publish(t, b, "web", bustest.Event(id, "com.example.a"))
		stored = append(stored, id)
	}
	bustest.Eventually(t, func() bool { return savedCheckpoint(t, b) == 50 },
		func() string { return fmt.Sprintf("checkpoint %d, want 50", savedCheckpoint(t, b)) })
	// More events, and the crash right after them: the checkpoint has
	// not caught up with all of them.
	for i := range 200 {
		id := fmt.Sprint("b", i)
		if _, err := b.Publish(context.Background(), "web", []*ce.Event{bustest.Event(id, "com.example.a")}); err != nil {
			t.Fatal(err)
		}
		stored = append(stored, id)
	}
	b.Close() // crash

	b2 := openBus(t, dir)
	t.Cleanup(b2.Close)
	cp := savedCheckpoint(t, b2)
	if cp < 50 || cp > uint64(len(stored)) {
		t.Fatalf("checkpoint %d after the crash, want 50..%d", cp, len(stored))
	}
	second := bustest.NewTarget()
	rg2 := startRig(t, b2, second, false)
	t.Cleanup(func() { _ = rg2.router.Stop(context.Background()) })
	missing := func() []string {
		got := map[string]bool{}
		for _, id := range append(first.Delivered(), second.Delivered()...) {
			got[id] = true
		}
		var miss []string
		for _, id := range stored {
			if !got[id] {
				miss = append(miss, id)
			}
		}
		return miss
	}
	bustest.Eventually(t, func() bool { return len(missing()) == 0 },
		func() string { return fmt.Sprintf("%d stored events never delivered: %v", len(missing()), missing()) })
	again := 0
	for _, id := range second.Delivered() {
		seq := uint64(slices.Index(stored, id) + 1)
		if seq <= cp {
			t.Errorf("event %s (seq %d) delivered again, below the checkpoint %d", id, seq, cp)
		}
		if slices.Contains(first.Delivered(), id) {
			again++
		}
	}
	if max := uint64(len(stored)) - cp; uint64(again) > max {
		t.Errorf("%d events delivered twice, want at most the %d after the checkpoint", again, max)
	}
	t.Logf("checkpoint %d of %d; %d delivered in both runs", cp, len(stored), again)
	bustest.Eventually(t, func() bool { return savedCheckpoint(t, b2) == uint64(len(stored)) },
		func() string { return fmt.Sprintf("checkpoint %d, want %d", savedCheckpoint(t, b2), len(stored)) })
}

// Migration: WORK written by an older version (or a run with
// bus.listen), with events the router had not settled, is read back and
// routed first, each once, then purged; the archive is not routed again
// for them, and new events are routed from ingest with one write.
func TestLocalMigratesWork(t *testing.T) {
	for _, ordered := range []bool{false, true} {
		t.Run(fmt.Sprint("ordered=", ordered), func(t *testing.T) { testLocalMigratesWork(t, ordered) })
	}
}

func testLocalMigratesWork(t *testing.T, ordered bool) {
	dir := filepath.Join(t.TempDir(), "bus")
	b := openBus(t, dir)
	// An older version: every event written to WORK and EVENTS, nothing
	// consumed.
	if err := b.Work().Open(bustest.Context(t), bus.WorkOptions{MaxAckPending: 100}); err != nil {
		t.Fatal(err)
	}
	var old []string
	for i := range 10 {
		id := fmt.Sprint("old", i)
		old = append(old, id)
		bustest.Publish(t, b, "web", bustest.Event(id, "com.example.a"))
	}
	if n := bustest.Count(t, b, bus.StreamWork, ""); n != 10 {
		t.Fatalf("WORK holds %d, want 10", n)
	}
	b.Close()

	b2 := openBus(t, dir)
	t.Cleanup(b2.Close)
	target := bustest.NewTarget()
	rg := startRig(t, b2, target, ordered)
	t.Cleanup(func() { _ = rg.router.Stop(context.Background()) })
	bustest.Publish(t, b2, "web", bustest.Event("new", "com.example.a"))
	want := append(slices.Clone(old), "new")
	bustest.Eventually(t, func() bool { return len(target.Delivered()) >= len(want) },
		func() string { return fmt.Sprintf("delivered %v, want %v", target.Delivered(), want) })
	bustest.WaitStream(t, b2, bus.StreamWork, 0)
	got := slices.Clone(target.Delivered())
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("delivered %v, want each of %v once", got, want)
	}
	if _, last, err := rg.router.work.Held(bustest.Context(t)); err != nil || last != 10 {
		t.Errorf("WORK's last sequence %d (%v), want 10: nothing written since", last, err)
	}
	if ordered && rg.keeper.Barrier().Up() {
		t.Error("the ordering barrier is still up")
	}
	bustest.Eventually(t, func() bool { return savedCheckpoint(t, b2) == 11 },
		func() string { return fmt.Sprintf("checkpoint %d, want 11", savedCheckpoint(t, b2)) })
}

// The archive's limits dropped events above the checkpoint before they
// were routed (it wrapped faster than routing): the read-back after the
// crash finds the gap, logs it and counts it, and routes the rest.
func TestLocalDetectsArchiveWrap(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "bus")
	b := openBus(t, dir)
	first := bustest.NewTarget()
	first.Block()
	t.Cleanup(first.Unblock)
	startRig(t, b, first, false)
	for i := range 10 {
		bustest.Publish(t, b, "web", bustest.Event(fmt.Sprint("e", i), "com.example.a"))
	}
	bustest.Eventually(t, func() bool { return first.Attempts() > 0 }, func() string { return "the blocked target was not called" })
	b.Close() // crash: nothing settled, the checkpoint is 0

	b2 := openBus(t, dir)
	t.Cleanup(b2.Close)
	// The archive drops its oldest 4 (as its limits would).
	ctx := bustest.Context(t)
	s, err := b2.JetStream().Stream(ctx, b2.StreamName(bus.StreamEvents))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Purge(ctx, jetstream.WithPurgeSequence(5)); err != nil {
		t.Fatal(err)
	}
	second := bustest.NewTarget()
	rg := startRig(t, b2, second, false)
	t.Cleanup(func() { _ = rg.router.Stop(context.Background()) })
	want := []string{"e4", "e5", "e6", "e7", "e8", "e9"}
	bustest.Eventually(t, func() bool { return len(second.Delivered()) == len(want) },
		func() string { return fmt.Sprintf("delivered %v, want %v", second.Delivered(), want) })
	if lost := testutil.ToFloat64(rg.metrics.UnroutedLost); lost != 4 {
		t.Errorf("eventbridge_router_unrouted_lost_total %v, want 4", lost)
	}
}

// A crash with events above the checkpoint, then a start whose router
// consumes WORK (bus.listen set since): the archive above the checkpoint
// is copied to WORK and delivered, and the checkpoint is gone.
func TestLocalThenConsumerCopiesWhatWasUnsettled(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "bus")
	b := openBus(t, dir)
	first := bustest.NewTarget()
	first.Block()
	t.Cleanup(first.Unblock)
	startRig(t, b, first, false)
	for i := range 5 {
		bustest.Publish(t, b, "web", bustest.Event(fmt.Sprint("e", i), "com.example.a"))
	}
	bustest.Eventually(t, func() bool { return first.Attempts() > 0 }, func() string { return "the blocked target was not called" })
	b.Close() // crash: nothing settled

	b2 := openBus(t, dir)
	t.Cleanup(b2.Close)
	second := bustest.NewTarget()
	rg := startRigWith(t, b2, second, false, true)
	t.Cleanup(func() { _ = rg.router.Stop(context.Background()) })
	bustest.Eventually(t, func() bool { return len(second.Delivered()) == 5 },
		func() string { return fmt.Sprintf("delivered %v, want e0..e4", second.Delivered()) })
	kv, err := b2.KV(bustest.Context(t), bus.CheckpointsBucket)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kv.Get(bustest.Context(t), CheckpointKey); !errors.Is(err, bus.ErrKeyNotFound) {
		t.Errorf("checkpoint still there (%v), want it deleted", err)
	}
}
