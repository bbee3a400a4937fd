package delivery

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// Barrier keeps the routes that order events per key from delivering
// anything after a start until the WORK messages that an earlier process
// left unsettled have come back (docs/delivery.md, "Ordering per key").
// JetStream hands those out again only after ack_wait, while newer
// messages come at once: without the barrier, a newer event of a key
// could be delivered before an older one that was waiting when the
// process died. Routes that do not order are not held.
//
// The router arms it when it is made (before any route starts), and sets
// it when its consumer is open: from then on, it lifts once every message
// the consumer had handed out and not settled (up to the highest
// sequence it had handed out) has been routed again, or once the
// consumer's ack floor has passed that sequence (another replica settled
// them). Safe for concurrent use.
type Barrier struct {
	up atomic.Bool

	mu        sync.Mutex
	set       bool   // Set was called since Arm
	gen       uint64 // counts Arm and Set: a poll of an older Set lifts nothing
	delivered uint64
	want      int
	seen      map[uint64]struct{}
	lifted    chan struct{} // closed when the barrier lifts
}

// newBarrier returns a lifted barrier.
func newBarrier() *Barrier {
	b := &Barrier{lifted: make(chan struct{})}
	close(b.lifted)
	return b
}

// Arm raises the barrier until Set, and then until the messages it names
// are back.
func (b *Barrier) Arm() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.gen++
	if b.up.Load() {
		b.set = false
		return
	}
	b.set, b.seen = false, nil
	b.lifted = make(chan struct{})
	b.up.Store(true)
}

// Set names the messages the barrier waits for: the pending ones of
// sequence up to delivered (read from the consumer before it hands out
// anything). floor, polled every poll until done is closed, reads the
// consumer's ack floor; the barrier lifts when it reaches delivered.
func (b *Barrier) Set(delivered uint64, pending int, floor func(context.Context) (uint64, error), poll time.Duration, done <-chan struct{}) {
	b.mu.Lock()
	if !b.up.Load() {
		b.mu.Unlock()
		return
	}
	b.gen++
	b.set, b.delivered, b.want, b.seen = true, delivered, pending, make(map[uint64]struct{}, pending)
	if pending <= 0 {
		b.liftLocked()
		b.mu.Unlock()
		return
	}
	lifted, gen := b.lifted, b.gen
	b.mu.Unlock()
	go func() {
		t := time.NewTicker(poll)
		defer t.Stop()
		for {
			select {
			case <-lifted:
				return
			case <-done:
				return
			case <-t.C:
			}
			ctx, cancel := context.WithTimeout(context.Background(), poll)
			f, err := floor(ctx)
			cancel()
			if err == nil && f >= delivered {
				b.mu.Lock()
				if b.gen == gen {
					b.liftLocked()
				}
				b.mu.Unlock()
			}
		}
	}()
}

// Up reports whether the barrier holds ordered deliveries.
func (b *Barrier) Up() bool { return b.up.Load() }

// Seen tells the barrier that the message of WORK sequence seq has been
// routed (handed to every route it matched). Call it after the routes
// have the message's tasks.
func (b *Barrier) Seen(seq uint64) {
	if !b.up.Load() {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.set || seq > b.delivered || !b.up.Load() {
		return
	}
	b.seen[seq] = struct{}{}
	if len(b.seen) >= b.want {
		b.liftLocked()
	}
}

// Progress returns how many of the messages waited for have been seen,
// and how many there are.
func (b *Barrier) Progress() (seen, want int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.seen), b.want
}

// Lifted returns a channel closed when the barrier lifts.
func (b *Barrier) Lifted() <-chan struct{} {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.lifted
}

func (b *Barrier) liftLocked() {
	if !b.up.Load() {
		return
	}
	b.up.Store(false)
	b.seen = nil
	close(b.lifted)
}
