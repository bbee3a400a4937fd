package delivery

// Tests of ordering per key (ordering.go): one event at a time per key in
// sequence order, keys in parallel, a retry holds its key, a dead letter
// releases it, RETRY records hold their keys after a restart, and memory
// full sends the rest to RETRY without losing the order.

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	ce "github.com/cloudevents/sdk-go/v2/event"

	"github.com/eventbridge-dev/eventbridge/internal/bus"
	"github.com/eventbridge-dev/eventbridge/internal/bus/bustest"
	"github.com/eventbridge-dev/eventbridge/internal/component"
	"github.com/eventbridge-dev/eventbridge/internal/connector"
	"github.com/eventbridge-dev/eventbridge/internal/eventkey"
	"github.com/eventbridge-dev/eventbridge/internal/spec"
	"github.com/eventbridge-dev/eventbridge/internal/telemetry"
)

// orderTarget records deliveries and in-flight counts; fail decides the
// outcome of each attempt.
type orderTarget struct {
	mu        sync.Mutex
	fail      func(e *ce.Event, attempt int) error
	delay     func() time.Duration
	attempts  map[string]int
	delivered []string            // ids, in order of success
	perKey    map[string][]string // key -> ids in order of first success
	done      map[string]bool
	inFlight  map[string]int // key -> sends in flight
	flying    int
	maxFlying int
	overlap   []string // keys that had two sends in flight
	component.Tracker
}

func newOrderTarget() *orderTarget {
	return &orderTarget{attempts: map[string]int{}, perKey: map[string][]string{}, done: map[string]bool{}, inFlight: map[string]int{}}
}

func (o *orderTarget) Start(context.Context) error { return nil }
func (o *orderTarget) Stop(context.Context) error  { return nil }
func (o *orderTarget) Send(ctx context.Context, e *ce.Event) error {
	k, _ := e.Extensions()["partitionkey"].(string)
	o.mu.Lock()
	o.attempts[e.ID()]++
	n := o.attempts[e.ID()]
	o.inFlight[k]++
	if o.inFlight[k] > 1 {
		o.overlap = append(o.overlap, k)
	}
	o.flying++
	o.maxFlying = max(o.maxFlying, o.flying)
	fail, delay := o.fail, o.delay
	o.mu.Unlock()
	if delay != nil {
		time.Sleep(delay()) // the target's own slowness, not a wait in the test
	}
	var err error
	if fail != nil {
		err = fail(e, n)
	}
	o.mu.Lock()
	o.inFlight[k]--
	o.flying--
	if err == nil {
		o.delivered = append(o.delivered, e.ID())
		if !o.done[e.ID()] {
			o.done[e.ID()] = true
			o.perKey[k] = append(o.perKey[k], e.ID())
		}
	}
	o.mu.Unlock()
	return err
}

func (o *orderTarget) snapshot() (perKey map[string][]string, delivered []string, maxFlying int, overlap []string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	perKey = map[string][]string{}
	for k, v := range o.perKey {
		perKey[k] = append([]string(nil), v...)
	}
	return perKey, append([]string(nil), o.delivered...), o.maxFlying, append([]string(nil), o.overlap...)
}

// orderHarness is an ordered route (key: partitionkey) on a fresh bus.
type orderHarness struct {
	bus    *bus.Bus
	target *orderTarget
	route  *Route
	keeper *Keeper
	policy Policy
	seq    uint64
	edit   func(*ce.Event) // changes each event before it is sent

	mu      sync.Mutex
	settled map[string]string // id -> outcome
}

func newOrderHarness(t *testing.T, b *bus.Bus, tgt *orderTarget, hasRetries bool, edit func(*Policy)) *orderHarness {
	t.Helper()
	if b == nil {
		b = bustest.New(t)
	}
	var p Policy
	p.Defaults()
	zero := 0.0
	p.Backoff.Jitter = &zero
	p.Backoff.Initial = spec.Duration(50 * time.Millisecond)
	p.Concurrency = 8
	if edit != nil {
		edit(&p)
	}
	key, err := eventkey.Compile("partitionkey")
	if err != nil {
		t.Fatal(err)
	}
	h := &orderHarness{bus: b, target: tgt, policy: p, settled: map[string]string{}}
	h.keeper = NewKeeper(b.Config().AckWait.D())
	t.Cleanup(h.keeper.Close)
	h.route = NewRoute(RouteConfig{
		Rule: "r", Target: "t", Policy: p, Sender: tgt, Bus: b, Keeper: h.keeper,
		Metrics: telemetry.NewMetrics(), Log: bustest.Logger(t), AckWait: b.Config().AckWait.D(),
		Ordering: key, HasRetries: hasRetries,
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

// send hands the route the next event of key, as the router does (with
// the next WORK sequence); a task refused for want of memory is written
// to RETRY (Overflow), as the router does.
func (h *orderHarness) send(t *testing.T, id, key string) {
	t.Helper()
	h.seq++
	h.sendSeq(t, id, key, h.seq)
}

func (h *orderHarness) sendSeq(t *testing.T, id, key string, seq uint64) {
	t.Helper()
	e := bustest.Event(id, "com.example.order")
	if key != "" {
		e.SetExtension("partitionkey", key)
	}
	if h.edit != nil {
		h.edit(e)
	}
	raw, err := e.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	var task *Task
	task = &Task{Event: e, Raw: raw, Key: "bustest/" + id, Seq: seq, Ingested: time.Now(), Done: func(err error) {
		h.mu.Lock()
		defer h.mu.Unlock()
		if err != nil {
			t.Errorf("task %s settled with %v", id, err)
			return
		}
		h.settled[id] = task.Outcome
	}}
	if !h.route.TryEnqueue(task) {
		h.route.Overflow(task)
	}
}

func (h *orderHarness) waitDelivered(t *testing.T, n int) {
	t.Helper()
	bustest.Eventually(t, func() bool {
		_, d, _, _ := h.target.snapshot()
		return len(d) >= n
	}, func() string {
		_, d, _, _ := h.target.snapshot()
		return fmt.Sprintf("%d deliveries of %d", len(d), n)
	})
}

func checkOrder(t *testing.T, perKey map[string][]string, want map[string][]string) {
	t.Helper()
	for k, ids := range want {
		if fmt.Sprint(perKey[k]) != fmt.Sprint(ids) {
			t.Errorf("key %s delivered %v, want %v", k, perKey[k], ids)
		}
	}
}

// Events of one key go one at a time, in sequence order, even when the
// target is slow at random; events of different keys go in parallel.
func TestOrderingOneAtATimePerKeyKeysInParallel(t *testing.T) {
	tgt := newOrderTarget()
	tgt.delay = func() time.Duration { return time.Duration(rand.IntN(3)) * time.Millisecond }
	h := newOrderHarness(t, nil, tgt, false, nil)
	want := map[string][]string{}
	const keys, each = 6, 30
	for i := 0; i < each; i++ {
		for k := 0; k < keys; k++ {
			key, id := fmt.Sprintf("k%d", k), fmt.Sprintf("k%d-%03d", k, i)
			want[key] = append(want[key], id)
			h.send(t, id, key)
		}
	}
	h.waitDelivered(t, keys*each)
	perKey, _, maxFlying, overlap := tgt.snapshot()
	checkOrder(t, perKey, want)
	if len(overlap) > 0 {
		t.Errorf("keys %v had two deliveries in flight at once", overlap)
	}
	if maxFlying < 2 {
		t.Errorf("at most %d deliveries in flight; want keys delivered in parallel", maxFlying)
	}
}

// A retry holds its key: the next events of the key wait for it, while
// other keys go on. A dead letter releases the key.
func TestOrderingRetryHoldsKeyDeadLetterReleasesIt(t *testing.T) {
	tgt := newOrderTarget()
	tgt.fail = func(e *ce.Event, attempt int) error {
		switch e.ID() {
		case "a1":
			if attempt < 3 {
				return &connector.StatusError{Code: 503, Err: errors.New("unavailable")}
			}
		case "c1":
			return connector.Permanent(&connector.StatusError{Code: 400, Err: errors.New("bad")})
		}
		return nil
	}
	h := newOrderHarness(t, nil, tgt, false, func(p *Policy) {
		p.Backoff.Initial = spec.Duration(300 * time.Millisecond)
		p.Backoff.Max = spec.Duration(300 * time.Millisecond)
	})
	h.send(t, "a1", "A")
	h.send(t, "c1", "C")
	h.send(t, "a2", "A")
	h.send(t, "b1", "B")
	h.send(t, "c2", "C")
	h.send(t, "a3", "A")
	h.waitDelivered(t, 5)
	perKey, delivered, _, overlap := tgt.snapshot()
	checkOrder(t, perKey, map[string][]string{"A": {"a1", "a2", "a3"}, "B": {"b1"}, "C": {"c2"}})
	if len(overlap) > 0 {
		t.Errorf("keys %v had two deliveries in flight at once", overlap)
	}
	pos := map[string]int{}
	for i, id := range delivered {
		pos[id] = i
	}
	if pos["b1"] > pos["a1"] || pos["c2"] > pos["a1"] {
		t.Errorf("delivered %v: b1 and c2 should not wait for a1's retries", delivered)
	}
	if got := tgt.attempts["a1"]; got != 3 {
		t.Errorf("a1 tried %d times, want 3", got)
	}
	bustest.DLQ(t, h.bus, "r", "t", 1)
}

// An event that waits in RETRY when the route starts (a retry pending
// across a crash) holds its key: a later event of the key is delivered
// only after it.
func TestOrderingRetryPendingAtStartHoldsItsKey(t *testing.T) {
	b := bustest.New(t)
	e := bustest.Event("a1", "com.example.order")
	e.SetExtension("partitionkey", "A")
	raw, err := e.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	rec := &bus.RetryRecord{
		Delivery:  bus.Delivery{Rule: "r", Target: "t", Key: "bustest/a1", Attempts: 1, FirstTry: time.Now(), Event: raw},
		NotBefore: time.Now().Add(400 * time.Millisecond),
		Order:     bus.OrderMark{Key: hashOrderKey("A"), Seq: 5},
	}
	if err := b.PutRetry(bustest.Context(t), rec); err != nil {
		t.Fatal(err)
	}
	tgt := newOrderTarget()
	h := newOrderHarness(t, b, tgt, true, nil)
	h.sendSeq(t, "a2", "A", 7)
	h.sendSeq(t, "b1", "B", 8)
	h.waitDelivered(t, 3)
	perKey, delivered, _, _ := tgt.snapshot()
	checkOrder(t, perKey, map[string][]string{"A": {"a1", "a2"}, "B": {"b1"}})
	if delivered[0] != "b1" {
		t.Errorf("delivered %v: b1 should not wait for key A", delivered)
	}
}

// With memory full of events waiting behind a held key, further events
// are written to RETRY (the router's Overflow) and still come out in
// order; the key's first event, in RETRY, comes back.
func TestOrderingMemoryFullOverflowsInOrder(t *testing.T) {
	tgt := newOrderTarget()
	tgt.fail = func(e *ce.Event, attempt int) error {
		if e.ID() == "a-000" && attempt == 1 {
			return &connector.StatusError{Code: 503, Err: errors.New("unavailable")}
		}
		return nil
	}
	h := newOrderHarness(t, nil, tgt, false, func(p *Policy) {
		p.QueueSize = 4 // memory for 16 waiting tasks (the least)
		p.Backoff.Initial = spec.Duration(200 * time.Millisecond)
	})
	var want []string
	for i := 0; i < 60; i++ {
		id := fmt.Sprintf("a-%03d", i)
		want = append(want, id)
		h.send(t, id, "A")
	}
	h.waitDelivered(t, 60)
	perKey, _, _, _ := tgt.snapshot()
	checkOrder(t, perKey, map[string][]string{"A": want})
	h.mu.Lock()
	overflowed := 0
	for _, o := range h.settled {
		if o == telemetry.OutcomeOverflow {
			overflowed++
		}
	}
	h.mu.Unlock()
	if overflowed == 0 {
		t.Errorf("no event was written to RETRY; memory should have been full")
	}
}

// Events without the key, and replayed events (no WORK sequence), are
// delivered unordered, without waiting for a held key.
func TestOrderingUnkeyedEventsDoNotWait(t *testing.T) {
	tgt := newOrderTarget()
	block := make(chan struct{})
	tgt.fail = func(e *ce.Event, attempt int) error {
		if e.ID() == "a1" {
			<-block
		}
		return nil
	}
	h := newOrderHarness(t, nil, tgt, false, nil)
	h.send(t, "a1", "A")
	h.send(t, "n1", "")
	h.sendSeq(t, "r1", "A", 0)
	h.waitDelivered(t, 2)
	close(block)
	h.waitDelivered(t, 3)
	_, delivered, _, _ := tgt.snapshot()
	if delivered[2] != "a1" {
		t.Errorf("delivered %v: n1 and r1 should not wait for a1", delivered)
	}
}

// The start barrier lifts when every message left unsettled has been
// seen again, or when the consumer's ack floor passes them.
func TestBarrier(t *testing.T) {
	b := newBarrier()
	if b.Up() {
		t.Fatal("a new barrier is up")
	}
	b.Arm()
	if !b.Up() {
		t.Fatal("an armed barrier is down")
	}
	done := make(chan struct{})
	defer close(done)
	never := func(context.Context) (uint64, error) { return 0, nil }
	b.Set(10, 2, never, time.Hour, done)
	b.Seen(11) // newer: not one of those waited for
	b.Seen(4)
	b.Seen(4)
	if !b.Up() {
		t.Fatal("lifted after one of two")
	}
	b.Seen(9)
	select {
	case <-b.Lifted():
	default:
		t.Fatal("not lifted after both were seen")
	}

	b.Arm()
	b.Set(10, 0, never, time.Hour, done)
	if b.Up() {
		t.Fatal("up with nothing pending")
	}

	b.Arm()
	var mu sync.Mutex
	floor := uint64(3)
	b.Set(10, 5, func(context.Context) (uint64, error) { mu.Lock(); defer mu.Unlock(); return floor, nil }, 5*time.Millisecond, done)
	mu.Lock()
	floor = 10
	mu.Unlock()
	select {
	case <-b.Lifted():
	case <-time.After(bustest.Wait):
		t.Fatal("not lifted once the ack floor passed")
	}
}

// While the barrier is up, an ordered route delivers nothing; unordered
// events go on.
func TestOrderingWaitsForTheBarrier(t *testing.T) {
	tgt := newOrderTarget()
	h := newOrderHarness(t, nil, tgt, false, nil)
	bar := h.keeper.Barrier()
	bar.Arm()
	h.sendSeq(t, "a2", "A", 2)
	h.sendSeq(t, "n1", "", 3)
	h.waitDelivered(t, 1)
	done := make(chan struct{})
	defer close(done)
	bar.Set(1, 1, func(context.Context) (uint64, error) { return 0, nil }, time.Hour, done)
	h.sendSeq(t, "a1", "A", 1) // the one left unsettled comes back
	bar.Seen(1)
	h.waitDelivered(t, 3)
	perKey, delivered, _, _ := tgt.snapshot()
	checkOrder(t, perKey, map[string][]string{"A": {"a1", "a2"}})
	if delivered[0] != "n1" {
		t.Errorf("delivered %v: n1 is not ordered and should not wait", delivered)
	}
}

// The RETRY record of an ordered route carries the key's hash and the
// WORK sequence, and no message id: a write the bus took for a repeat
// would leave the key waiting for a record that is not there.
func TestOrderingRetryRecordCarriesMarks(t *testing.T) {
	tgt := newOrderTarget()
	tgt.fail = func(*ce.Event, int) error { return &connector.StatusError{Code: 503, Err: errors.New("unavailable")} }
	h := newOrderHarness(t, nil, tgt, false, func(p *Policy) { p.Backoff.Initial = spec.Duration(time.Hour) })
	h.sendSeq(t, "a1", "A", 42)
	m := bustest.Retry(t, h.bus, "r", "t", 1)[0]
	if m.Get(bus.HdrOrderKey) != hashOrderKey("A") || m.Get(bus.HdrOrderSeq) != "42" {
		t.Errorf("RETRY headers %v: want the order key %s and seq 42", m.Header, hashOrderKey("A"))
	}
	if id := m.Get("Nats-Msg-Id"); id != "" {
		t.Errorf("RETRY record has message id %q, want none", id)
	}
	marks, err := h.bus.RetryOrderMarks(bustest.Context(t), "r", "t")
	if err != nil || len(marks) != 1 || marks[0] != (bus.OrderMark{Key: hashOrderKey("A"), Seq: 42}) {
		t.Errorf("marks %v (%v), want the one record's", marks, err)
	}
}

// A delayed event (its deliverat) holds its key until it is delivered: a
// later event of the key waits for it, other keys do not.
func TestOrderingDelayHoldsKey(t *testing.T) {
	tgt := newOrderTarget()
	h := newOrderHarness(t, nil, tgt, false, nil)
	h.route.cfg.Timing = Timing{MaxDelay: time.Hour} // before the first event: no worker runs yet
	h.edit = func(e *ce.Event) {
		if e.ID() == "a1" {
			e.SetExtension(ExtDeliverAt, time.Now().Add(time.Second).UTC().Format(time.RFC3339Nano))
		}
	}
	h.send(t, "a1", "A")
	h.send(t, "a2", "A")
	h.send(t, "b1", "B")
	h.waitDelivered(t, 3)
	perKey, delivered, _, _ := tgt.snapshot()
	checkOrder(t, perKey, map[string][]string{"A": {"a1", "a2"}, "B": {"b1"}})
	if delivered[0] != "b1" {
		t.Errorf("delivered %v: b1 should not wait for key A", delivered)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.settled["a1"] != OutcomeDelayed {
		t.Errorf("a1 settled as %q, want %s (held in RETRY)", h.settled["a1"], OutcomeDelayed)
	}
}
