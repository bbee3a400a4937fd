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

// Routing from ingest (an embedded bus: one bridge owns its store).
//
// Publish hands every stored event to the router in this process (a bus
// local reader), after its WORK and EVENTS writes and before its
// producer is acknowledged; the router routes it with the event already
// parsed. WORK is not consumed: it stays the record of what the router
// has not settled. The router follows settlement by WORK sequence and
// every trimEvery purges WORK below its low-water mark: the lowest
// sequence that is handed and not settled, or not yet handed (the bus's
// WorkFloor), or not yet read back at start. At start it reads back what
// WORK holds from the last run (ReadBack) and routes it again; routes
// that order per key wait for that (delivery.Barrier). A route that
// cannot settle an event has it routed again from memory a second later.
// On a crash, what was not settled is still in WORK for the next start.

// localReader is the name of the router's local reader on the bus.
const localReader = "router"

// trimEvery is how often WORK is trimmed below the low-water mark.
const trimEvery = 200 * time.Millisecond

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
	unsettled map[uint64]struct{} // WORK sequences handed and not settled
	retry     []retryEntry        // unsettled events to route again
	handed    uint64              // the highest WORK sequence handed
	handedAt  uint64              // handed at the last trim
	reading   bool                // reading back WORK at start
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
	trimmed    uint64 // WORK was trimmed below this

	ticks atomic.Uint64 // trim rounds run (tests)

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
	return &local{in: make(chan bus.Stored, localQueue), unsettled: map[uint64]struct{}{}, cap: noCap}
}

// isLocal tells whether the router routes from ingest: the bus is
// embedded and does not listen (bus.listen lets other bridges share it,
// which then share the consumer), unless Config.Consume asks for the
// consumer.
func isLocal(cfg Config) bool {
	bc := cfg.Bus.Config()
	return bc.URL == "" && bc.Listen == "" && !cfg.Consume
}

// startLocal registers the local reader, reads back what the last run
// left in WORK and routes from ingest.
func (r *Router) startLocal(ctx context.Context) error {
	l := r.local
	if err := r.work.DropConsumer(ctx); err != nil {
		return err
	}
	quit := make(chan struct{})
	rctx, cancel := context.WithCancel(context.Background())
	l.mu.Lock()
	l.reading, l.frontier, l.cap, l.live = true, 0, noCap, map[uint64]struct{}{}
	l.readRouted = map[uint64]struct{}{}
	l.quit, l.cancel = quit, cancel
	l.mu.Unlock()
	r.cfg.Bus.AddLocalReader(localReader, func(batch []bus.Stored) { l.take(batch, quit) })
	l.running.Add(3)
	go r.runLocal(quit)
	go r.trimLoop(quit)
	go r.readBack(rctx)
	return nil
}

// take is the local reader: it notes each event as unsettled and queues
// it for the router, waiting for room (which holds ingest back).
func (l *local) take(batch []bus.Stored, quit chan struct{}) {
	l.mu.Lock()
	var skip []bool // routed by the read-back already
	for i := range batch {
		s := batch[i].WorkSeq
		if s == 0 { // no sequence in the store's answer: not followed
			continue
		}
		l.handed = max(l.handed, s)
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
			// Stopped: the event stays in WORK (its sequence is above the
			// cap Stop set) and is read back at the next start.
			l.mu.Lock()
			for _, st := range batch[i:] {
				delete(l.unsettled, st.WorkSeq)
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

// readBack routes again what WORK holds from before the local reader was
// added, then lifts the ordering barrier.
func (r *Router) readBack(ctx context.Context) {
	l := r.local
	defer l.running.Done()
	var idx []int
	var routes []*delivery.Route
	for {
		err := r.cfg.Bus.WaitPublishing(ctx)
		var cut uint64
		if err == nil {
			cut, err = r.work.LastSeq(ctx)
			cut++
		}
		n := 0
		if err == nil {
			err = r.work.ReadBack(ctx, cut, func(st bus.Stored) error {
				l.mu.Lock()
				_, known := l.unsettled[st.WorkSeq]
				if _, handed := l.live[st.WorkSeq]; handed {
					known = true // routed from ingest already
				}
				if !known {
					l.unsettled[st.WorkSeq] = struct{}{}
					l.readRouted[st.WorkSeq] = struct{}{}
				}
				l.frontier = st.WorkSeq + 1
				l.mu.Unlock()
				if !known {
					n++
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
			l.reading, l.live, l.cut = false, nil, cut
			l.mu.Unlock()
			if n > 0 {
				r.cfg.Log.Info("routed again what the last run left unsettled in WORK", "events", n)
			}
			if b := r.cfg.Keeper.Barrier(); b != nil {
				b.Set(0, 0, nil, 0, nil) // nothing more to wait for: lift
			}
			return
		}
		r.Set(component.Running, err)
		if !r.cfg.Bus.Report(err) {
			r.cfg.Log.Warn("cannot read back WORK; trying again", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Second):
		}
	}
}

// routeStored routes one event handed by Publish or read back.
func (r *Router) routeStored(st *bus.Stored, idx []int, routes []*delivery.Route) ([]int, []*delivery.Route) {
	ev := st.Event
	if ev == nil {
		r.cfg.Log.Error("dropping an unreadable WORK message", "seq", st.WorkSeq)
		r.local.settle(st.WorkSeq)
		return idx, routes
	}
	r.observe(ev)
	r.mu.RLock()
	defer r.mu.RUnlock()
	idx, routes = r.matchLocked(ev, st.Source, idx, routes)
	if len(routes) == 0 {
		r.local.settle(st.WorkSeq)
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
			t.Seq = st.WorkSeq
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
		// (it stays unsettled, so in WORK).
		p.r.local.again(p.st)
		return
	}
	p.r.local.settle(p.st.WorkSeq)
}

func (l *local) settle(seq uint64) {
	l.mu.Lock()
	delete(l.unsettled, seq)
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

func (r *Router) trimLoop(quit chan struct{}) {
	defer r.local.running.Done()
	t := time.NewTicker(trimEvery)
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
			r.local.pruneReadRouted(r.cfg.Bus.WorkFloor())
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			r.trim(ctx, false)
			cancel()
			r.local.ticks.Add(1)
		}
	}
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

// lowWater is the WORK sequence below which everything is settled or not
// the router's. all: do not keep the newest event handed.
func (l *local) lowWater(floor uint64, all bool) uint64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	// Below the cut, what WORK held at start was read back; above it, the
	// bus hands over everything below its floor.
	lw := min(max(floor, l.cut), l.cap)
	if l.reading {
		lw = min(lw, l.frontier)
	}
	for s := range l.unsettled {
		lw = min(lw, s)
	}
	for _, e := range l.retry {
		lw = min(lw, e.st.WorkSeq)
	}
	// While events flow, the newest one handed stays: a trim that
	// empties WORK makes the store replace its newest block (see acker).
	if !all && l.handed != l.handedAt {
		lw = min(lw, l.handed)
	}
	l.handedAt = l.handed
	return lw
}

// trim purges WORK below the low-water mark.
func (r *Router) trim(ctx context.Context, all bool) {
	l := r.local
	// The bus's floor is read first: an event handed after it is read is
	// noted unsettled before its call ends, so it holds the mark then.
	lw := l.lowWater(r.cfg.Bus.WorkFloor(), all)
	l.mu.Lock()
	if lw <= l.trimmed {
		l.mu.Unlock()
		return
	}
	l.mu.Unlock()
	if err := r.work.Trim(ctx, lw); err != nil {
		if !r.cfg.Bus.Report(err) {
			r.cfg.Log.Warn("cannot trim WORK", "err", err)
		}
		return
	}
	l.mu.Lock()
	l.trimmed = max(l.trimmed, lw)
	l.mu.Unlock()
}

// stopLocal stops taking events from Publish. Events handed and not yet
// routed, and those the routes have not settled, stay in WORK.
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
	floor := r.cfg.Bus.WorkFloor()
	l.mu.Lock()
	l.cap = max(floor, l.cut)
	l.mu.Unlock()
	close(quit)
	l.cancel()
	r.cfg.Bus.RemoveLocalReader(localReader)
	l.running.Wait()
	r.trim(ctx, true)
}

// Trim purges from WORK what has been settled since Stop (the routes'
// Stop settles what they held); the bridge calls it once the routes have
// stopped. It does nothing when the router consumes WORK.
func (r *Router) Trim(ctx context.Context) {
	if r.local != nil {
		r.trim(ctx, true)
	}
}
