package delivery

import (
	"context"
	"fmt"
	"hash/fnv"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/eventbridge-dev/eventbridge/internal/bus"
	"github.com/eventbridge-dev/eventbridge/internal/eventkey"
	"github.com/eventbridge-dev/eventbridge/internal/telemetry"
)

// orderParkPoll is how long an ordered RETRY message that cannot go yet,
// and finds no room in memory, is handed back to RETRY for.
const orderParkPoll = time.Second

// parkDelayLocked is how long a RETRY message that must wait away is
// handed back for: orderParkPoll, longer when many wait, so that these
// messages, which the bus hands out again before new ones, come back at
// most about orderParkRate a second and leave room for the new ones (a
// key's next event after a retry may be one of those).
func (o *orderer) parkDelayLocked() time.Duration {
	d := time.Duration(o.awayN) * time.Second / orderParkRate
	return min(max(d, orderParkPoll), orderParkMax)
}

// orderParkRate and orderParkMax bound the polling of events that wait
// away (parkDelayLocked).
const (
	orderParkRate = 500
	orderParkMax  = 30 * time.Second
)

// orderFetchMin is the fewest RETRY messages an ordered route asks for at
// a time, however full its memory.
const orderFetchMin = 32

// orderer delivers the events of one route that share an ordering key
// one at a time, in the order of their WORK sequence (docs/delivery.md,
// "Ordering per key"). Events of different keys go in parallel, up to the
// route's concurrency.
//
// For each key it keeps the events not yet done, sorted by sequence: in
// memory (a task), or away (nil: written to RETRY, after a failed attempt
// or because memory was full, or handed back to the bus). Only the first
// one may go, and only when it is in memory and no event of the key is
// in flight. So a retry holds its key until it comes back from RETRY,
// and a dead letter releases it. What is away is found again after a
// restart: RETRY records carry the key and sequence (bus.OrderMark),
// read when the route starts (load), and WORK messages the last process
// left unsettled are waited for by the Barrier.
//
// At most limit tasks wait in memory, plus one per key: the first of a
// key is always kept. A WORK task that cannot go and finds no room is
// written to RETRY (the router's Overflow), so a key held for long never
// stalls WORK or other rules; a RETRY task in the same case is handed
// back to RETRY for orderParkPoll.
//
// Every event kept away must come back: an ordered route's RETRY writes
// carry no message id (route.go, writeRetry), since a write that the bus
// took for a repeat of an earlier one (the same event failing again at the
// same attempt after a restart) would leave its key waiting for a record
// that is not there. A repeat costs a repeated delivery at worst.
type orderer struct {
	r       *Route
	key     *eventkey.Key
	limit   int
	barrier *Barrier

	mu        sync.Mutex
	keys      map[string]*orderKey
	waiting   int     // tasks in memory, not yet sent on
	awayN     int     // entries away (nil)
	ready     []*Task // sent on, to be put in the route's queue
	feeding   bool    // a feed goroutine runs
	fed       sync.WaitGroup
	watching  bool // a goroutine waits for the barrier
	stopped   bool
	keyErrors int
}

// orderKey is what an orderer knows of one key.
type orderKey struct {
	busy    bool
	entries []orderEntry // sorted by seq
}

// orderEntry is an event of a key that is not done: in memory (task) or
// away (nil).
type orderEntry struct {
	seq  uint64
	task *Task
}

func newOrderer(r *Route, key *eventkey.Key, limit int, barrier *Barrier) *orderer {
	if barrier == nil {
		barrier = newBarrier()
	}
	return &orderer{r: r, key: key, limit: max(limit, 16), barrier: barrier, keys: map[string]*orderKey{}}
}

// hashOrderKey is the form of a key kept in memory and in RETRY headers:
// short, and safe in a header whatever the key holds.
func hashOrderKey(k string) string {
	h := fnv.New64a()
	_, _ = h.Write([]byte(k))
	return strconv.FormatUint(h.Sum64(), 36)
}

// keyOf sets t's ordering key, once; false when t is not ordered (it has
// no WORK sequence, as replayed events, or its event has no key).
func (o *orderer) keyOf(t *Task) bool {
	if t.Seq == 0 {
		return false
	}
	if t.orderKey != "" {
		return true
	}
	k, ok, err := o.key.Of(t.Event)
	if err != nil {
		o.mu.Lock()
		o.keyErrors++
		first := o.keyErrors == 1
		o.mu.Unlock()
		if first {
			o.r.cfg.Log.Warn("cannot compute an event's ordering key; such events are delivered unordered", "route", o.r.Name(), "err", err)
		}
		return false
	}
	if !ok {
		return false
	}
	t.orderKey = hashOrderKey(k)
	return true
}

// load marks the events waiting in the route's RETRY subject as away, so
// that their keys are held until each comes back.
func (o *orderer) load(marks []bus.OrderMark) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, m := range marks {
		o.putLocked(o.keyLocked(m.Key), m.Seq, nil)
	}
}

func (o *orderer) keyLocked(k string) *orderKey {
	ks := o.keys[k]
	if ks == nil {
		ks = &orderKey{}
		o.keys[k] = ks
	}
	return ks
}

// putLocked is ks.put, counting the entries away.
func (o *orderer) putLocked(ks *orderKey, seq uint64, t *Task) bool {
	before := ks.entries
	_, dup := ks.put(seq, t)
	switch {
	case len(ks.entries) > len(before) && t == nil: // a new entry away
		o.awayN++
	case !dup && len(ks.entries) == len(before) && t != nil: // one away came back
		o.awayN--
	}
	return dup
}

// put adds the event seq, or fills its entry when it is away; it returns
// the entry's index and whether the event was already in memory.
func (ks *orderKey) put(seq uint64, t *Task) (int, bool) {
	i, found := slices.BinarySearchFunc(ks.entries, seq, func(e orderEntry, s uint64) int {
		switch {
		case e.seq < s:
			return -1
		case e.seq > s:
			return 1
		}
		return 0
	})
	if found {
		if ks.entries[i].task != nil {
			return i, true
		}
		ks.entries[i].task = t
		return i, false
	}
	ks.entries = slices.Insert(ks.entries, i, orderEntry{seq: seq, task: t})
	return i, false
}

// canGo tells whether the event seq may be sent on now.
func (o *orderer) canGoLocked(ks *orderKey, seq uint64) bool {
	return !o.stopped && !o.barrier.Up() && !ks.busy && isFirst(ks, seq)
}

// isFirst tells whether seq is the first event of ks not yet done.
func isFirst(ks *orderKey, seq uint64) bool { return len(ks.entries) == 0 || ks.entries[0].seq >= seq }

// mustWaitAway tells whether an event that arrives now is kept away from
// memory: the route is stopping, or the event cannot go now, memory is
// full, and it is not the first of its key (that one is always kept: it
// goes as soon as its key is free, and fetching it again from RETRY would
// cost a round of polling).
func (o *orderer) mustWaitAwayLocked(ks *orderKey, seq uint64) bool {
	return o.stopped || (!o.canGoLocked(ks, seq) && o.waiting >= o.limit && !isFirst(ks, seq))
}

// add takes a task from WORK. ok is false when t must be written to
// RETRY (Overflow): it cannot go now and memory is full. handled is false
// when t is not ordered.
func (o *orderer) add(t *Task) (ok, handled bool) {
	if !o.keyOf(t) {
		return false, false
	}
	o.mu.Lock()
	ks := o.keyLocked(t.orderKey)
	if o.mustWaitAwayLocked(ks, t.Seq) {
		o.putLocked(ks, t.Seq, nil) // its place, held while it is away
		o.mu.Unlock()
		return false, true
	}
	dup := o.holdLocked(ks, t)
	o.mu.Unlock()
	if dup {
		// Another copy of the event is in memory; that one is delivered.
		t.Done(nil)
	}
	return true, true
}

// addRetry takes a task from RETRY, read from msg; false when t is not
// ordered.
func (o *orderer) addRetry(t *Task, msg bus.Msg) bool {
	if t.Seq == 0 || t.orderKey == "" {
		return false
	}
	o.mu.Lock()
	ks := o.keyLocked(t.orderKey)
	if o.mustWaitAwayLocked(ks, t.Seq) {
		o.putLocked(ks, t.Seq, nil)
		delay := o.parkDelayLocked()
		o.mu.Unlock()
		o.r.cfg.Keeper.Release(msg)
		_ = msg.NakWithDelay(delay)
		return true
	}
	dup := o.holdLocked(ks, t)
	o.mu.Unlock()
	if dup {
		t.Done(nil)
	}
	return true
}

// holdLocked keeps t in memory and sends on what may go. It returns true
// when another copy of the event is in memory already (t is not kept).
func (o *orderer) holdLocked(ks *orderKey, t *Task) bool {
	if o.putLocked(ks, t.Seq, t) {
		return true
	}
	o.waiting++
	o.pumpLocked(ks)
	return false
}

// away marks t's event as written to RETRY (by Overflow), unless it is
// known already.
func (o *orderer) away(t *Task) {
	if !o.keyOf(t) {
		return
	}
	o.mu.Lock()
	o.putLocked(o.keyLocked(t.orderKey), t.Seq, nil)
	o.mu.Unlock()
}

// pumpLocked sends on the first event of ks if it may go.
func (o *orderer) pumpLocked(ks *orderKey) {
	if o.stopped || ks.busy || len(ks.entries) == 0 || ks.entries[0].task == nil {
		return
	}
	if o.barrier.Up() {
		o.watchLocked()
		return
	}
	t := ks.entries[0].task
	ks.entries = ks.entries[1:]
	ks.busy = true
	o.waiting--
	inner := t.Done
	t.Done = func(err error) {
		o.settled(t, err)
		inner(err)
	}
	o.ready = append(o.ready, t)
	if !o.feeding {
		o.feeding = true
		o.fed.Add(1)
		go o.feed()
	}
}

// settled learns how a task that was sent on ended: delivered or dead
// lettered (the key is free), or away (its place is kept).
func (o *orderer) settled(t *Task, err error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	ks := o.keyLocked(t.orderKey)
	ks.busy = false
	switch {
	case err != nil, t.Outcome == telemetry.OutcomeRetry, t.Outcome == telemetry.OutcomeOverflow, t.Outcome == OutcomeDeferred,
		t.Outcome == OutcomeDelayed: // held in RETRY until due (timing.go)
		o.putLocked(ks, t.Seq, nil)
	}
	if len(ks.entries) == 0 {
		delete(o.keys, t.orderKey)
		return
	}
	o.pumpLocked(ks)
}

// feed puts the tasks sent on into the route's queue, waiting for room.
func (o *orderer) feed() {
	defer o.fed.Done()
	r := o.r
	for {
		o.mu.Lock()
		if len(o.ready) == 0 {
			o.feeding = false
			o.mu.Unlock()
			return
		}
		t := o.ready[0]
		o.ready[0] = nil
		o.ready = o.ready[1:]
		o.mu.Unlock()
		select {
		case <-r.stopping:
			t.Done(ErrStopped)
			continue
		default:
		}
		select {
		case r.queue <- t:
		case <-r.stopping:
			t.Done(ErrStopped)
		}
	}
}

// watchLocked waits, once, for the barrier to lift, then sends on what
// may go.
func (o *orderer) watchLocked() {
	if o.watching {
		return
	}
	o.watching = true
	lifted := o.barrier.Lifted()
	go func() {
		select {
		case <-lifted:
		case <-o.r.stopping:
		}
		o.mu.Lock()
		defer o.mu.Unlock()
		o.watching = false
		for _, ks := range o.keys {
			o.pumpLocked(ks)
		}
	}()
}

// room is how many RETRY messages the route may fetch now.
func (o *orderer) room() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	// Always a batch: the event a key waits for may be in RETRY, and must
	// come back soon even when memory is full of the events behind it;
	// those fetched that cannot go are handed back (addRetry).
	return max(orderFetchMin, o.limit-o.waiting)
}

// stop settles the tasks waiting in memory with ErrStopped (their
// messages go back to the bus) and waits for the feed. The route is
// stopping: nothing is sent on from now on.
func (o *orderer) stop() {
	o.mu.Lock()
	o.stopped = true
	var left []*Task
	for _, ks := range o.keys {
		for _, e := range ks.entries {
			if e.task != nil {
				left = append(left, e.task)
			}
		}
	}
	o.keys, o.waiting, o.awayN = map[string]*orderKey{}, 0, 0
	o.mu.Unlock()
	o.fed.Wait()
	for _, t := range left {
		t.Done(ErrStopped)
	}
}

// Ordered reports whether the route delivers events in order per key; the
// router then sets each task's Seq.
func (r *Route) Ordered() bool { return r.ord != nil }

// loadOrder reads which events of an ordered route wait in RETRY, before
// the route reads RETRY (orderer.load).
func (r *Route) loadOrder(ctx context.Context) error {
	if r.ord == nil || !r.cfg.HasRetries {
		return nil
	}
	marks, err := r.cfg.Bus.RetryOrderMarks(ctx, r.cfg.Rule, r.cfg.Target)
	if err != nil {
		return fmt.Errorf("route %s: %w", r.Name(), err)
	}
	r.ord.load(marks)
	return nil
}
