package delivery

import (
	"sync"
	"time"

	"github.com/eventbridge-dev/eventbridge/internal/bus"
)

// Keeper keeps bus messages that the bridge holds (waiting in a queue or
// being delivered) from being handed out again: every so often it tells the
// bus that work on those held longer than a third of AckWait is in
// progress. AckWait thus bounds how long a crashed process's messages wait
// to be redelivered, not how long a delivery may take. Safe for concurrent
// use.
type Keeper struct {
	ackWait time.Duration
	mu      sync.Mutex
	held    map[bus.Msg]time.Time
	stop    chan struct{}
	done    chan struct{}
	barrier *Barrier
}

// NewKeeper starts a keeper for messages of consumers with this AckWait.
func NewKeeper(ackWait time.Duration) *Keeper {
	k := &Keeper{ackWait: ackWait, held: map[bus.Msg]time.Time{}, stop: make(chan struct{}), done: make(chan struct{}), barrier: newBarrier()}
	go k.run()
	return k
}

// Hold starts keeping m alive.
func (k *Keeper) Hold(m bus.Msg) {
	k.mu.Lock()
	k.held[m] = time.Now()
	k.mu.Unlock()
}

// Release stops keeping m alive (it was acked or nacked).
func (k *Keeper) Release(m bus.Msg) {
	k.mu.Lock()
	delete(k.held, m)
	k.mu.Unlock()
}

// Barrier is the start barrier of the routes that order events per key.
// It lives here because the keeper is the one object that the router and
// every route of a bridge share.
func (k *Keeper) Barrier() *Barrier {
	if k == nil {
		return nil
	}
	return k.barrier
}

// Len returns the number of held messages.
func (k *Keeper) Len() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return len(k.held)
}

// Close stops the keeper.
func (k *Keeper) Close() {
	close(k.stop)
	<-k.done
}

func (k *Keeper) run() {
	defer close(k.done)
	every := k.ackWait / 3
	t := time.NewTicker(every)
	defer t.Stop()
	var due []bus.Msg
	for {
		select {
		case <-k.stop:
			return
		case now := <-t.C:
			due = due[:0]
			k.mu.Lock()
			for m, since := range k.held {
				if now.Sub(since) >= every {
					due = append(due, m)
					k.held[m] = now
				}
			}
			k.mu.Unlock()
			for _, m := range due {
				_ = m.InProgress()
			}
		}
	}
}
