// Package batch lets a target write several events in one request while
// the bridge still hands it one event at a time.
//
// The bridge calls a target's Send from each of a route's workers (up to
// the rule's delivery.concurrency at once, and from every rule that names
// the target). A Batcher collects those concurrent calls: each Submit
// joins the open batch and waits; the batch is written by one call of the
// flush function when it holds MaxItems items, when the next item would
// take it past MaxBytes, or Linger after its first item came, and every
// Submit then returns its own item's outcome. The bridge retries or
// dead-letters each event on its own, as it does for targets that write
// one at a time, so a batch that fails is never retried as a whole.
//
// A batch holds at most as many items as there are Send calls waiting,
// so a route fills batches of MaxItems only when its concurrency is at
// least MaxItems.
package batch

import (
	"context"
	"errors"
	"sync"
	"time"
)

// Config bounds the batches.
type Config struct {
	// MaxItems is the most items in one batch (at least 1).
	MaxItems int
	// MaxBytes is the most bytes (the sizes given to Submit) in one batch;
	// 0 is no limit. An item larger than MaxBytes on its own goes in a
	// batch of one.
	MaxBytes int
	// Linger is how long a batch waits for more items after its first
	// one. 0 writes every item on its own, at once.
	Linger time.Duration
}

// FlushFunc writes a batch. It returns nil when every item was written,
// or one error per item (nil for those written); any other length is
// taken as the same failure for every item (use All). It is called from
// one goroutine per batch; batches may be written concurrently. ctx is
// the Batcher's own (see New), not a Submit caller's.
type FlushFunc[T any] func(ctx context.Context, items []T) []error

// All returns err for each of n items, or nil when err is nil.
func All(err error, n int) []error {
	if err == nil {
		return nil
	}
	errs := make([]error, n)
	for i := range errs {
		errs[i] = err
	}
	return errs
}

// ErrClosed is returned by Submit after Close.
var ErrClosed = errors.New("batch: closed")

// Batcher collects concurrent Submit calls into batches. It is safe for
// concurrent use.
type Batcher[T any] struct {
	cfg   Config
	flush FlushFunc[T]
	ctx   context.Context
	stop  context.CancelFunc

	mu     sync.Mutex
	open   *pending[T] // the batch that takes new items, or nil
	closed bool
	wg     sync.WaitGroup // flushes under way
}

type pending[T any] struct {
	items []*item[T]
	bytes int
	timer *time.Timer
}

type item[T any] struct {
	v    T
	size int
	done chan error // buffered: the flush never blocks on it
}

// New returns a batcher that writes its batches with flush, passing it a
// context that Close cancels.
func New[T any](cfg Config, flush FlushFunc[T]) *Batcher[T] {
	if cfg.MaxItems < 1 {
		cfg.MaxItems = 1
	}
	ctx, stop := context.WithCancel(context.Background())
	return &Batcher[T]{cfg: cfg, flush: flush, ctx: ctx, stop: stop}
}

// Submit adds v (of the given size in bytes) to the open batch and
// blocks until that batch is written, returning v's outcome, or until ctx
// is done. When ctx ends before the batch is written, v is taken out of
// the batch if it is still open (it is then not written) and ctx's error
// is returned; if the batch was already being written, v may still be
// written.
func (b *Batcher[T]) Submit(ctx context.Context, v T, size int) error {
	it := &item[T]{v: v, size: size, done: make(chan error, 1)}
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return ErrClosed
	}
	p := b.open
	if p != nil && b.cfg.MaxBytes > 0 && len(p.items) > 0 && p.bytes+size > b.cfg.MaxBytes {
		b.seal(p) // v would take it past MaxBytes: write it as it is
		p = nil
	}
	if p == nil {
		p = &pending[T]{}
		b.open = p
		if b.cfg.Linger > 0 {
			p.timer = time.AfterFunc(b.cfg.Linger, func() {
				b.mu.Lock()
				if b.open == p {
					b.seal(p)
				}
				b.mu.Unlock()
			})
		}
	}
	p.items = append(p.items, it)
	p.bytes += size
	if len(p.items) >= b.cfg.MaxItems || b.cfg.Linger <= 0 || b.cfg.MaxBytes > 0 && p.bytes >= b.cfg.MaxBytes {
		b.seal(p)
	}
	b.mu.Unlock()

	select {
	case err := <-it.done:
		return err
	case <-ctx.Done():
	}
	b.mu.Lock()
	if b.open == p {
		for i, x := range p.items {
			if x == it {
				p.items = append(p.items[:i], p.items[i+1:]...)
				p.bytes -= size
				break
			}
		}
		if len(p.items) == 0 {
			if p.timer != nil {
				p.timer.Stop()
			}
			b.open = nil
		}
	}
	b.mu.Unlock()
	return ctx.Err()
}

// Pending returns the number of items in the open batch.
func (b *Batcher[T]) Pending() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.open == nil {
		return 0
	}
	return len(b.open.items)
}

// seal closes p to new items and writes it in its own goroutine. b.mu is
// held.
func (b *Batcher[T]) seal(p *pending[T]) {
	if b.open == p {
		b.open = nil
	}
	if p.timer != nil {
		p.timer.Stop()
	}
	if len(p.items) == 0 {
		return
	}
	b.wg.Add(1)
	go b.write(p.items)
}

func (b *Batcher[T]) write(items []*item[T]) {
	defer b.wg.Done()
	vs := make([]T, len(items))
	for i, it := range items {
		vs[i] = it.v
	}
	errs := b.flush(b.ctx, vs)
	if errs != nil && len(errs) != len(items) {
		errs = All(errors.Join(errs...), len(items))
	}
	for i, it := range items {
		if errs == nil {
			it.done <- nil
		} else {
			it.done <- errs[i]
		}
	}
}

// Close writes the open batch at once, refuses further Submits, and waits
// (within ctx) for the batches being written; when ctx ends first, it
// cancels their context and returns ctx's error.
func (b *Batcher[T]) Close(ctx context.Context) error {
	b.mu.Lock()
	b.closed = true
	if b.open != nil {
		b.seal(b.open)
	}
	b.mu.Unlock()
	done := make(chan struct{})
	go func() { b.wg.Wait(); close(done) }()
	select {
	case <-done:
		b.stop()
		return nil
	case <-ctx.Done():
		b.stop()
		<-done
		return ctx.Err()
	}
}
