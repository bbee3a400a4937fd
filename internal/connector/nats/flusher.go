package nats

import (
	"cmp"
	"context"
	"sync"
	"time"
)

// flusher shares flush round trips between concurrent publishers on one
// connection (a group commit). A core NATS publish only writes to the
// connection's buffer; the server has a message once a PING sent after it
// is answered (a flush). Without sharing, each Send paid a round trip of
// its own: with a route's 32 workers, 32 PINGs in flight and as many
// PONGs to read, per 32 events.
//
// A publisher publishes, then calls wait: it joins the waiters of the next
// flush. One goroutine at a time flushes: it takes every waiter there is,
// flushes once, and gives each the outcome; waiters that came meanwhile
// go with the next flush. Every waiter's message was written before the
// PING of the flush it is settled by (it published before joining, and
// the flush is sent after it was taken), so a PONG vouches for all of
// them. When there is no concurrency, a flush holds one message and costs
// what it did before.
type flusher struct {
	// flush makes one round trip, within timeout.
	flush   func(ctx context.Context) error
	timeout time.Duration

	mu      sync.Mutex
	waiting []chan error
	running bool
}

// wait waits for a flush that began after it was called, and returns its
// error, or ctx's error when ctx ends first (the message may then still
// reach the server).
func (f *flusher) wait(ctx context.Context) error {
	done := make(chan error, 1) // the flusher never blocks on it
	f.mu.Lock()
	f.waiting = append(f.waiting, done)
	if !f.running {
		f.running = true
		go f.run()
	}
	f.mu.Unlock()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// run flushes for the waiters until there are none.
func (f *flusher) run() {
	var spare []chan error
	for {
		f.mu.Lock()
		group := f.waiting
		if len(group) == 0 {
			f.running = false
			f.mu.Unlock()
			return
		}
		f.waiting = spare[:0]
		f.mu.Unlock()
		ctx, cancel := context.WithTimeout(context.Background(), cmp.Or(f.timeout, 10*time.Second))
		err := f.flush(ctx)
		cancel()
		for i, done := range group {
			done <- err
			group[i] = nil
		}
		spare = group
	}
}
