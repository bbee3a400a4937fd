package router

import (
	"context"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/eventbridge-dev/eventbridge/internal/bus"
	"github.com/eventbridge-dev/eventbridge/internal/component"
	"github.com/eventbridge-dev/eventbridge/internal/delivery"
)

// Routing from ingest (an embedded bus that listens on no port: one
// bridge owns its store).
//
// Publish writes each event once, to EVENTS, and hands every stored event
// to the router in this process (a bus local reader) before its producer
// is acknowledged; the router routes it with the event already parsed.
// The archive is the record of what the router has not settled: the
// router follows settlement by EVENTS sequence, and keeps a checkpoint
// (bus.Checkpoint, KV bucket "checkpoints"), saved every checkpointEvery
// when it moved and at stop: the low-water mark below which every event
// is settled — the lowest sequence that is handed and not settled, or
// not yet handed (the bus's EventsFloor), or not yet read back at start.
// At start it reads the archive back from the checkpoint (ReadEvents) and
// routes what it holds above it again; routes that order per key wait for
// that (delivery.Barrier). After a crash, the events routed since the
// last checkpoint are routed again (at-least-once; at most about
// checkpointEvery of traffic, plus what was unsettled). A route that
// cannot settle an event has it routed again from memory a second later.
//
// WORK is not written. What it holds at start (an older version, or a run
// with bus.listen) is read back and routed first, and WORK is purged once
// all of it is settled.
//
// The archive's limits (archive.max_age, archive.max_bytes, discard old)
// may drop an event the checkpoint had not passed only if the archive
// wraps faster than routing settles; it is found on the read-back after a
// crash (the archive's first sequence above the checkpoint's next), logged
// as an error and counted (eventbridge_router_unrouted_lost_total).

// localReader is the name of the router's local reader on the bus.
const localReader = "router"

// CheckpointKey is the router's key in bus.CheckpointsBucket.
const CheckpointKey = "router"

// tickEvery is how often the router routes again what is due, and looks
// whether the checkpoint is due.
const tickEvery = 200 * time.Millisecond

// checkpointEvery is how often the checkpoint is saved when it moved: it
// bounds what a crash has routed again (at 7k events/s, a second of them
// made 40% of TestKillDuringStream's events delivered twice; WORK was
// trimmed as often before). One small KV write per save.
const checkpointEvery = 200 * time.Millisecond

// localQueue bounds the events handed to the router and not yet routed;
// a full queue holds ingest back.
const localQueue = 1024

// retryAfter is how long an event that a route could not settle waits
// before it is routed again.
const retryAfter = time.Second

// noCap is the cap of the low-water mark while the router runs.
const noCap = math.MaxUint64

// local is the state of routing from ingest.
type local struct {
	in chan bus.Stored // handed, not yet routed; kept across Stop and Start

	mu        sync.Mutex
	unsettled map[uint64]struct{} // EVENTS sequences handed and not settled
	retry     []retryEntry        // unsettled events to route again
	reading   bool                // reading back at start
	live      map[uint64]struct{} // while reading: the sequences handed by Publish
	// readRouted are the sequences that the read-back routed while the
	// Publish call that stored them had not yet handed them: a call that
	// began after the reader was added may store an event before the
	// read-back's cut and hand it only after the read-back saw it. take
	// drops such an event instead of routing it twice. Pruned below the
	// bus's floor (those calls are over).
	readRouted map[uint64]struct{}
	frontier   uint64 // while reading: every sequence below was read back
	cut        uint64 // read back at start: every sequence below
	cap        uint64 // set at Stop: the bus's floor before the reader went

	cp      bus.Checkpoint // set at start
	saved   uint64         // the checkpoint as saved: settled up to it
	savedAt time.Time
	saveErr bool // the last save failed (logged once)

	// WORK read back at start (migration): the WORK sequences not yet
	// settled, and whether WORK is still to be purged (work: its last
	// sequence at start; workRead: it was read back through).
	migrating map[uint64]struct{}
	work      uint64
	workRead  bool
	workDone  uint64 // WORK read back below this (a retry goes on from it)

	ticks atomic.Uint64 // tick rounds run (tests)

	// run is set by Start and ended by Stop.
	quit    chan struct{}
	cancel  context.CancelFunc
	running sync.WaitGroup
}

type retryEntry struct {
	st  bus.Stored
	due time.Time
}

func newLocal() *local {
	return &local{
		in: make(chan bus.Stored, localQueue), unsettled: map[uint64]struct{}{},
		migrating: map[uint64]struct{}{}, cap: noCap,
	}
}

// isLocal tells whether the router routes from ingest: the bus is
// embedded and does not listen (bus.listen lets other bridges share it,
// which then share the consumer), unless Config.Consume asks for the
// consumer.
func isLocal(cfg Config) bool {
	bc := cfg.Bus.Config()
	return bc.URL == "" && bc.Listen == "" && !cfg.Consume
}

// checkpoint opens the router's checkpoint of the current archive.
func (r *Router) checkpoint(ctx context.Context) (bus.Checkpoint, error) {
	created, err := r.cfg.Bus.ArchiveCreated(ctx)
	if err != nil {
		return bus.Checkpoint{}, err
	}
	kv, err := r.cfg.Bus.KV(ctx, bus.CheckpointsBucket)
	if err != nil {
		return bus.Checkpoint{}, err
	}
	return bus.Checkpoint{KV: kv, Key: CheckpointKey, Archive: created.UnixNano()}, nil
}

// handOverCheckpoint runs when the router of an embedded bus consumes
// WORK (bus.listen): WORK is the record then. What the archive holds above
// a checkpoint that an earlier run without bus.listen left (events it had
// not settled) is copied to WORK, and the checkpoint is deleted, so that a
// later start without bus.listen does not take a stale one (it reads back
// WORK and goes on from the archive's end at open).
func (r *Router) handOverCheckpoint(ctx context.Context) error {
	if r.cfg.Bus.Config().URL != "" {
		return nil
	}
	cp, err := r.checkpoint(ctx)
	if err != nil {
		return err
	}
	seq, found, _, err := cp.Load(ctx)
	if err != nil || !found {
		return err
	}
	if last := r.cfg.Bus.ArchiveLastAtOpen(); last > seq {
		n, err := r.work.CopyToWork(ctx, seq+1, last)
		if err != nil {
			return err
		}
		r.cfg.Log.Info("copied to WORK what the archive held above the router's checkpoint (an earlier run without bus.listen)", "events", n)
	}
	return cp.KV.(*bus.KV).Delete(ctx, CheckpointKey, 0)
}

// startLocal loads the checkpoint, registers the local reader, reads
// back what the last run left (WORK, then the archive above the
// checkpoint) and routes from ingest.
func (r *Router) startLocal(ctx context.Context) error {
	l := r.local
	if err := r.work.DropConsumer(ctx); err != nil {
		return err
	}
	cp, err := r.checkpoint(ctx)
	if err != nil {
		return err
	}
	from, found, ignored, err := cp.Load(ctx)
	if err != nil {
		return err
	}
	if ignored != nil {
		r.cfg.Log.Warn("router checkpoint ignored", "why", ignored)
	}
	how := "checkpoint"
	if !found {
		// A first start of this version (or a new archive): what an older
		// run left unsettled is in WORK; every event above the archive's
		// end at open was stored by this process.
		from, how = r.cfg.Bus.ArchiveLastAtOpen(), "first start"
	}
	_, last, err := r.cfg.Bus.Archive().Bounds(ctx)
	if err != nil {
		return err
	}
	back := from > last
	if back {
		// The archive lost its end (an OS crash before the store synced
		// it): the sequences after last go to new events.
		r.cfg.Log.Warn("router checkpoint past the archive's end; taken back to it", "checkpoint", from, "archive_last", last)
		from = last
	}
	if !found || back {
		// Saved now: a crash before the first periodic save must read
		// back from here, not from the next run's archive end at open.
		if err := cp.Save(ctx, from); err != nil {
			return err
		}
	}
	workMsgs, workLast, err := r.work.Held(ctx)
	if err != nil {
		return err
	}
	quit := make(chan struct{})
	rctx, cancel := context.WithCancel(context.Background())
	l.mu.Lock()
	l.reading, l.frontier, l.cut, l.cap, l.live = true, from+1, 0, noCap, map[uint64]struct{}{}
	l.readRouted = map[uint64]struct{}{}
	l.cp, l.saved, l.savedAt = cp, from, time.Now()
	if workMsgs > 0 && l.work == 0 {
		l.work, l.workRead, l.workDone = workLast, false, 0
	}
	l.quit, l.cancel = quit, cancel
	l.mu.Unlock()
	r.cfg.Log.Info("router reads back the archive", "from", how, "settled_through", from, "work_held", workMsgs)
	r.cfg.Bus.AddLocalReader(localReader, func(batch []bus.Stored) { l.take(batch, quit) })
	l.running.Add(3)
	go r.runLocal(quit)
	go r.tickLoop(quit)
	go r.readBack(rctx)
	return nil
}

// take is the local reader: it notes each event as unsettled and queues
// it for the router, waiting for room (which holds ingest back).
func (l *local) take(batch []bus.Stored, quit chan struct{}) {
	l.mu.Lock()
	var skip []bool // routed by the read-back already
	for i := range batch {
		s := batch[i].EventsSeq
		if s == 0 { // no sequence in the store's answer: not followed
			continue
		}
		if _, done := l.readRouted[s]; done {
			delete(l.readRouted, s)
			if skip == nil {
				skip = make([]bool, len(batch))
			}
			skip[i] = true
			continue
		}
		l.unsettled[s] = struct{}{}
		if l.reading {
			l.live[s] = struct{}{}
		}
	}
	l.mu.Unlock()
	for i := range batch {
		if skip != nil && skip[i] {
			continue
		}
		select {
		case l.in <- batch[i]:
		case <-quit:
			// Stopped: the event stays above the checkpoint (its sequence
			// is above the cap Stop set) and is read back at the next start.
			l.mu.Lock()
			for _, st := range batch[i:] {
				delete(l.unsettled, st.EventsSeq)
			}
			l.mu.Unlock()
			return
		}
	}
}

func (r *Router) runLocal(quit chan struct{}) {
	defer r.local.running.Done()
	var idx []int
	var routes []*delivery.Route
	for {
		select {
		case <-quit:
			return
		case st := <-r.local.in:
			idx, routes = r.routeStored(&st, idx[:0], routes[:0])
		}
	}
}

// readBack routes again what WORK holds from an older run, then what the
// archive holds above the checkpoint from before the local reader was
// added, then lifts the ordering barrier.
func (r *Router) readBack(ctx context.Context) {
	l := r.local
	defer l.running.Done()
	var idx []int
	var routes []*delivery.Route
	for {
		err := r.cfg.Bus.WaitPublishing(ctx)
		if err == nil {
			err = r.readBackWork(ctx)
		}
		var first, last uint64
		if err == nil {
			first, last, err = r.cfg.Bus.Archive().Bounds(ctx)
		}
		n := 0
		if err == nil {
			l.mu.Lock()
			from := l.frontier
			l.mu.Unlock()
			if first > from && from <= last {
				// The archive dropped events above the checkpoint: they
				// were never settled, and are lost.
				lost := first - from
				if r.cfg.Metrics != nil {
					r.cfg.Metrics.UnroutedLost.Add(float64(lost))
				}
				r.cfg.Log.Error("the archive dropped events that were not routed (archive.max_age or archive.max_bytes wrapped faster than routing): they are lost",
					"events", lost, "from_seq", from, "archive_first", first)
			}
			err = r.cfg.Bus.ReadEvents(ctx, from, last, func(a *bus.Archived) error {
				st := bus.Stored{
					Source: a.Source, Raw: a.Data, Key: a.Key, Ingested: a.Ingested, EventsSeq: a.Seq,
				}
				if st.Ingested.IsZero() {
					st.Ingested = a.Stored
				}
				l.mu.Lock()
				_, known := l.unsettled[a.Seq]
				if _, handed := l.live[a.Seq]; handed {
					known = true // routed from ingest already
				}
				if !known {
					l.unsettled[a.Seq] = struct{}{}
					l.readRouted[a.Seq] = struct{}{}
				}
				l.frontier = a.Seq + 1
				l.mu.Unlock()
				if !known {
					n++
					st.Event, _ = bus.DecodeEvent(a.Data)
					idx, routes = r.routeStored(&st, idx[:0], routes[:0])
				}
				return nil
			})
		}
		if ctx.Err() != nil {
			return
		}
		if err == nil {
			l.mu.Lock()
			l.reading, l.live, l.cut = false, nil, last+1
			l.mu.Unlock()
			if n > 0 {
				r.cfg.Log.Info("routed again what the last run left unsettled in the archive", "events", n)
			}
			if b := r.cfg.Keeper.Barrier(); b != nil {
				b.Set(0, 0, nil, 0, nil) // nothing more to wait for: lift
			}
			return
		}
		r.Set(component.Running, err)
		if !r.cfg.Bus.Report(err) {
			r.cfg.Log.Warn("cannot read back the archive; trying again", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Second):
		}
	}
}

// readBackWork routes what WORK held at start (written by an older
// version, or a run with bus.listen), once.
func (r *Router) readBackWork(ctx context.Context) error {
	l := r.local
	l.mu.Lock()
	below, from, done := l.work+1, l.workDone, l.workRead || l.work == 0
	l.mu.Unlock()
	if done {
		return nil
	}
	var idx []int
	var routes []*delivery.Route
	n := 0
	err := r.work.ReadBack(ctx, below, func(st bus.Stored) error {
		if st.WorkSeq < from {
			return nil // routed by an earlier try
		}
		l.mu.Lock()
		l.migrating[st.WorkSeq] = struct{}{}
		l.workDone = st.WorkSeq + 1
		l.mu.Unlock()
		st.EventsSeq = 0 // followed by its WORK sequence
		n++
		idx, routes = r.routeStored(&st, idx[:0], routes[:0])
		return nil
	})
	if err != nil {
		return err
	}
	l.mu.Lock()
	l.workRead = true
	l.mu.Unlock()
	r.cfg.Log.Info("routed what an earlier run left in WORK; WORK is purged once they are settled", "events", n)
	return nil
}

// seqOf is the sequence an event is followed by: its EVENTS sequence, or
// its WORK sequence when it was read back from WORK.
func seqOfStored(st *bus.Stored) uint64 {
	if st.EventsSeq != 0 {
		return st.EventsSeq
	}
	return st.WorkSeq
}

// routeStored routes one event handed by Publish or read back.
func (r *Router) routeStored(st *bus.Stored, idx []int, routes []*delivery.Route) ([]int, []*delivery.Route) {
	ev := st.Event
	if ev == nil {
		r.cfg.Log.Error("dropping an unreadable stored event", "seq", st.EventsSeq, "work_seq", st.WorkSeq)
		r.local.settle(st)
		return idx, routes
	}
	r.observe(ev)
	r.mu.RLock()
	defer r.mu.RUnlock()
	idx, routes = r.matchLocked(ev, st.Source, idx, routes)
	if len(routes) == 0 {
		r.local.settle(st)
		return idx, routes
	}
	p := &localPending{r: r, st: *st}
	p.left.Store(int32(len(routes)))
	tasks := p.one[:]
	if len(routes) > 1 {
		tasks = make([]delivery.Task, len(routes))
	}
	for i, rt := range routes {
		t := &tasks[i]
		*t = delivery.Task{Event: ev, Raw: st.Raw, Key: st.Key, Ingested: st.Ingested, Done: p.done}
		if rt.Ordered() {
			// EVENTS sequences; an event read back from WORK keeps its
			// WORK sequence, which is below the archive's end at open
			// (every WORK write was followed by its archive copy), so
			// below every event stored since.
			t.Seq = seqOfStored(st)
		}
		if !rt.TryEnqueue(t) {
			rt.Overflow(t)
		}
	}
	return idx, routes
}

// localPending is an event routed from ingest, waiting for its routes.
type localPending struct {
	r      *Router
	st     bus.Stored
	left   atomic.Int32
	failed atomic.Bool
	one    [1]delivery.Task
}

func (p *localPending) done(err error) {
	if err != nil {
		p.failed.Store(true)
	}
	if p.left.Add(-1) != 0 {
		return
	}
	if p.failed.Load() {
		// Some route could not settle it: route it again a little later
		// (it stays unsettled, so above the checkpoint).
		p.r.local.again(p.st)
		return
	}
	p.r.local.settle(&p.st)
}

func (l *local) settle(st *bus.Stored) {
	l.mu.Lock()
	if st.EventsSeq != 0 {
		delete(l.unsettled, st.EventsSeq)
	} else {
		delete(l.migrating, st.WorkSeq)
	}
	l.mu.Unlock()
}

func (l *local) again(st bus.Stored) {
	l.mu.Lock()
	l.retry = append(l.retry, retryEntry{st: st, due: time.Now().Add(retryAfter)})
	l.mu.Unlock()
}

// dueRetries takes the events due to be routed again.
func (l *local) dueRetries(now time.Time) []bus.Stored {
	l.mu.Lock()
	defer l.mu.Unlock()
	var due []bus.Stored
	kept := l.retry[:0]
	for _, e := range l.retry {
		if now.Before(e.due) {
			kept = append(kept, e)
			continue
		}
		due = append(due, e.st)
	}
	clear(l.retry[len(kept):])
	l.retry = kept
	return due
}

func (r *Router) tickLoop(quit chan struct{}) {
	defer r.local.running.Done()
	t := time.NewTicker(tickEvery)
	defer t.Stop()
	var idx []int
	var routes []*delivery.Route
	for {
		select {
		case <-quit:
			return
		case now := <-t.C:
			for _, st := range r.local.dueRetries(now) {
				idx, routes = r.routeStored(&st, idx[:0], routes[:0])
			}
			r.local.pruneReadRouted(r.cfg.Bus.EventsFloor())
			if r.cfg.Metrics != nil {
				r.cfg.Metrics.Unsettled.Set(float64(r.local.unsettledLen()))
			}
			if r.local.saveDue(now) {
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				r.save(ctx)
				cancel()
			}
			r.local.ticks.Add(1)
		}
	}
}

// unsettledLen is the number of events handed and not yet settled.
func (l *local) unsettledLen() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.unsettled) + len(l.migrating)
}

// saveDue tells whether checkpointEvery has passed since the last save.
func (l *local) saveDue(now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	// Half a tick of slack: a save is stamped a little after its tick.
	return now.Sub(l.savedAt) >= checkpointEvery-tickEvery/2
}

// pruneReadRouted forgets the read-back's sequences below floor: the
// Publish calls that stored them are over, so none is handed any more.
func (l *local) pruneReadRouted(floor uint64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for s := range l.readRouted {
		if s < floor {
			delete(l.readRouted, s)
		}
	}
}

// lowWater is the EVENTS sequence below which everything is settled.
func (l *local) lowWater(floor uint64) uint64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	// Below the cut, what the archive held at start was read back; above
	// it, the bus hands over everything below its floor.
	lw := min(max(floor, l.cut), l.cap)
	if l.reading {
		lw = min(lw, l.frontier)
	}
	for s := range l.unsettled {
		lw = min(lw, s)
	}
	for _, e := range l.retry {
		if e.st.EventsSeq != 0 {
			lw = min(lw, e.st.EventsSeq)
		}
	}
	return lw
}

// workSettled tells whether WORK is to be purged: it held messages at
// start, all were read back, and every one is settled.
func (l *local) workSettled() (below uint64, ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.work == 0 || !l.workRead || len(l.migrating) > 0 {
		return 0, false
	}
	for _, e := range l.retry {
		if e.st.EventsSeq == 0 {
			return 0, false
		}
	}
	return l.work + 1, true
}

// save saves the checkpoint if the low-water mark moved, and purges WORK
// once what it held at start is settled.
func (r *Router) save(ctx context.Context) {
	l := r.local
	if below, ok := l.workSettled(); ok {
		if err := r.work.Trim(ctx, below); err != nil {
			if !r.cfg.Bus.Report(err) {
				r.cfg.Log.Warn("cannot purge WORK", "err", err)
			}
		} else {
			l.mu.Lock()
			l.work = 0
			l.mu.Unlock()
			r.cfg.Log.Info("WORK purged: what an earlier run left there is settled")
		}
	}
	// The bus's floor is read first: an event handed after it is read is
	// noted unsettled before its call ends, so it holds the mark then.
	lw := l.lowWater(r.cfg.Bus.EventsFloor())
	l.mu.Lock()
	cp, saved := l.cp, l.saved
	l.savedAt = time.Now()
	l.mu.Unlock()
	if lw == 0 || lw-1 <= saved || cp.KV == nil {
		return
	}
	err := cp.Save(ctx, lw-1)
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case err != nil && !l.saveErr:
		if !r.cfg.Bus.Report(err) {
			r.cfg.Log.Warn("cannot save the router's checkpoint: a crash routes more again", "err", err)
		}
	case err == nil && l.saveErr:
		r.cfg.Log.Info("router checkpoint saved again")
	}
	l.saveErr = err != nil
	if err == nil {
		l.saved = max(l.saved, lw-1)
	}
}

// stopLocal stops taking events from Publish. Events handed and not yet
// routed, and those the routes have not settled, stay above the
// checkpoint.
func (r *Router) stopLocal(ctx context.Context) {
	l := r.local
	l.mu.Lock()
	quit := l.quit
	l.quit = nil
	l.mu.Unlock()
	if quit == nil {
		return
	}
	// What Publish calls in flight store is above the bus's floor now;
	// those that end after the reader goes are not handed, so the mark
	// stays below it until the next start reads them back.
	floor := r.cfg.Bus.EventsFloor()
	l.mu.Lock()
	l.cap = max(floor, l.cut)
	l.mu.Unlock()
	close(quit)
	l.cancel()
	r.cfg.Bus.RemoveLocalReader(localReader)
	l.running.Wait()
	r.save(ctx)
}

// Trim saves the checkpoint with what has been settled since Stop (the
// routes' Stop settles what they held), and purges WORK if what it held
// at start is settled; the bridge calls it once the routes have stopped.
// It does nothing when the router consumes WORK.
func (r *Router) Trim(ctx context.Context) {
	if r.local != nil {
		r.save(ctx)
	}
}
