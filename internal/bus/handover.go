package bus

import (
	"context"
	"sync"
	"time"
)

// handover follows the Publish calls in flight, so that a local reader
// that routes what Publish hands it can tell up to which EVENTS sequence
// it has been handed everything it will be handed (EventsFloor). Each
// call is noted with a floor: one more than the highest EVENTS sequence
// that a finished call had stored when it began. The store numbers
// messages in the order it takes them, so each of the call's archive
// copies has a sequence at or above its floor.
type handover struct {
	mu      sync.Mutex
	next    uint64            // ids of calls
	calls   map[uint64]uint64 // call id → floor
	lastSeq uint64            // the highest EVENTS sequence a finished call stored
}

// begin notes a Publish call; end must follow.
func (h *handover) begin() (id uint64) {
	h.mu.Lock()
	h.next++
	id = h.next
	if h.calls == nil {
		h.calls = map[uint64]uint64{}
	}
	h.calls[id] = h.lastSeq + 1
	h.mu.Unlock()
	return id
}

// end notes that the call id is over: it handed its stored events to the
// local readers (if it had any), and maxWork is the highest EVENTS
// sequence it learnt of.
func (h *handover) end(id, maxWork uint64) {
	h.mu.Lock()
	delete(h.calls, id)
	h.lastSeq = max(h.lastSeq, maxWork)
	h.mu.Unlock()
}

// floor is the lowest floor of the calls in flight, or one more than the
// highest EVENTS sequence stored when none is.
func (h *handover) floor() uint64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	f := h.lastSeq + 1
	for _, cf := range h.calls {
		f = min(f, cf)
	}
	return f
}

// busyBefore tells whether a call with an id up to id is in flight.
func (h *handover) busyBefore(id uint64) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	for cid := range h.calls {
		if cid <= id {
			return true
		}
	}
	return false
}

// EventsFloor is the EVENTS sequence below which every event that Publish
// stored in this process has been handed to the local readers — or will
// never be: its call failed (its producer was told so and sends it again)
// or began before the readers were added (see WaitPublishing). A reader
// that settles what it is handed may thus checkpoint the archive below
// the lowest of EventsFloor and what it has not settled.
func (b *Bus) EventsFloor() uint64 { return b.local.pubs.floor() }

// WaitPublishing waits until every Publish call that began before it was
// called is over. A local reader added before it is then handed every
// event that is stored after it returns; those stored before are read
// back from the store.
func (b *Bus) WaitPublishing(ctx context.Context) error {
	b.local.pubs.mu.Lock()
	mark := b.local.pubs.next
	b.local.pubs.mu.Unlock()
	t := time.NewTicker(2 * time.Millisecond)
	defer t.Stop()
	for b.local.pubs.busyBefore(mark) {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
	return nil
}
