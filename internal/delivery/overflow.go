package delivery

import (
	"context"
	"sync"
	"time"

	"github.com/eventbridge-dev/eventbridge/internal/bus"
)

// Overflow writes are pipelined: Route.Overflow hands the task to the
// bus's overflow writer, shared by every route, and returns; the writer
// writes what has gathered meanwhile, from all routes, to RETRY in batches
// (bus.PutRetries: every write sent before the first answer is awaited),
// then settles each task with its own outcome. The router, which calls
// Overflow for every route whose queue is full, thus waits for no round
// trip to the store per route: an event fanned out to many full routes
// costs a batch, not a write each.
//
// A task is settled only once its write is answered, as before, so the
// source message is acknowledged only when the event is durably in RETRY
// (docs/architecture.md, "Invariants", 2). The writer runs only while
// there are writes: no goroutine per route, none when idle.

// retryBatcher is the optional ability of a Bus to write RETRY records in
// a pipelined batch (*bus.Bus has it). Without it, overflow writes are
// made one by one, inside Overflow.
type retryBatcher interface {
	PutRetries(ctx context.Context, recs []*bus.RetryRecord, errs []error)
}

var _ retryBatcher = (*bus.Bus)(nil)

// maxOverflowBatch bounds one batch of overflow writes; maxOverflowWaiting
// bounds the tasks waiting for the writer: beyond it Overflow writes
// itself, waiting, which slows the caller (the router) down rather than
// letting memory grow.
const (
	maxOverflowBatch   = 256
	maxOverflowWaiting = 4096
)

// overflowWriter writes the overflows of every route of one bus.
type overflowWriter struct {
	b       retryBatcher
	mu      sync.Mutex
	q       []overflowItem // waiting to be written
	running bool           // a writer goroutine runs
}

type overflowItem struct {
	r *Route
	t *Task
}

// overflowWriters holds the writer of each bus (retryBatcher → *overflowWriter).
var overflowWriters sync.Map

func writerOf(b retryBatcher) *overflowWriter {
	if w, ok := overflowWriters.Load(b); ok {
		return w.(*overflowWriter)
	}
	w, _ := overflowWriters.LoadOrStore(b, &overflowWriter{b: b})
	return w.(*overflowWriter)
}

// overflows is a route's share of the writer: how many of its tasks the
// writer holds, so that Stop can wait for them.
type overflows struct {
	mu     sync.Mutex
	closed bool          // the route stops: Overflow writes itself
	n      int           // tasks handed to the writer, not yet settled
	idle   chan struct{} // closed when n drops to zero
}

// queueOverflow hands t, an overflow already counted, to the writer. It
// returns false when t must be written by the caller (the bus cannot
// batch, the route orders events, stops, or too many writes wait).
func (r *Route) queueOverflow(t *Task) bool {
	b, ok := r.cfg.Bus.(retryBatcher)
	if !ok || r.ord != nil { // ordered: one by one, as the orderer expects
		return false
	}
	o := &r.ow
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.closed {
		return false
	}
	w := writerOf(b)
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.q) >= maxOverflowWaiting {
		return false
	}
	if o.n == 0 {
		o.idle = make(chan struct{})
	}
	o.n++
	w.q = append(w.q, overflowItem{r, t})
	if !w.running {
		w.running = true
		go w.run()
	}
	return true
}

// run writes the waiting overflows in batches until none is left, then
// exits.
func (w *overflowWriter) run() {
	var batch []overflowItem
	var recs []*bus.RetryRecord
	var errs []error
	for {
		w.mu.Lock()
		n := min(len(w.q), maxOverflowBatch)
		if n == 0 {
			w.running = false
			w.q = nil // the backing array may be large after a burst
			w.mu.Unlock()
			return
		}
		batch = append(batch[:0], w.q[:n]...)
		w.q = w.q[n:]
		w.mu.Unlock()
		// A stopping route's tasks go back to their source, as its queue's.
		keep := batch[:0]
		for _, it := range batch {
			if it.r.ow.stopping() {
				it.t.Done(ErrStopped)
				it.r.ow.settled()
				continue
			}
			keep = append(keep, it)
		}
		batch = keep
		recs, errs = recs[:0], errs[:0]
		now := time.Now()
		for _, it := range batch {
			recs = append(recs, it.r.retryRecord(it.t, it.t.Attempts, now, 0, nil, false))
			errs = append(errs, nil)
		}
		if len(batch) > 0 {
			ctx, cancel := context.WithTimeout(context.Background(), writeTimeout)
			w.b.PutRetries(ctx, recs, errs)
			cancel()
		}
		for i, it := range batch {
			r := it.r
			err := r.write("RETRY", errs[i])
			it.t.Done(err)
			if err == nil && !r.retryOpen.Load() && r.started.Load() {
				r.OpenRetries()
			}
			r.ow.settled()
			batch[i], recs[i] = overflowItem{}, nil
		}
	}
}

func (o *overflows) stopping() bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.closed
}

// settled counts one of the route's tasks settled by the writer.
func (o *overflows) settled() {
	o.mu.Lock()
	o.n--
	if o.n == 0 {
		close(o.idle)
	}
	o.mu.Unlock()
}

// close makes Overflow write by itself from now on, and waits for the
// writer to settle the route's tasks: those of the batch in flight are
// written, the others settled with ErrStopped (their source hands them out
// again, as a stopping route's queue).
func (o *overflows) close() {
	o.mu.Lock()
	o.closed = true
	idle, n := o.idle, o.n
	o.mu.Unlock()
	if n > 0 {
		<-idle
	}
}
