package bus

import (
	"sync"
	"time"

	ce "github.com/cloudevents/sdk-go/v2/event"
)

// Stored is an event that Publish has stored in EVENTS (and WORK, when it
// writes it), as the bus
// hands it to its local readers (AddLocalReader) in this process, so that
// they need not read it back from the store. Readers must not change it.
type Stored struct {
	// Source is the source resource that ingested the event.
	Source string
	// Event is the event as it was ingested.
	Event *ce.Event
	// Raw is the message body as stored (the event's JSON form); it is not
	// reused by the bus.
	Raw []byte
	// Key is the event's dedup key (Eb-Key).
	Key string
	// Ingested is the time the bus stamped on it (Eb-Ingested).
	Ingested time.Time
	// WorkSeq and EventsSeq are the stream sequences of its WORK and
	// EVENTS copies (WorkSeq 0: not written to WORK; EventsSeq 0: read
	// back from WORK).
	WorkSeq, EventsSeq uint64
}

// LocalReader is told of every batch of events stored by Publish in this
// process, once each is stored (in EVENTS, and WORK if written) and before Publish
// returns (so before the producer is acknowledged). It runs on the
// publisher's goroutine: it must be quick, and it may block to push back
// on ingest. The slice is reused after it returns; its elements may be
// kept.
type LocalReader func(batch []Stored)

type localReaders struct {
	mu  sync.RWMutex
	fns map[string]LocalReader
	// pubs follows the Publish calls in flight (handover.go).
	pubs handover
}

// AddLocalReader registers fn under name (replacing an earlier one of that
// name); RemoveLocalReader ends it. Events stored before it was added are
// not given to it: a reader reads those back from the store.
func (b *Bus) AddLocalReader(name string, fn LocalReader) {
	b.local.mu.Lock()
	defer b.local.mu.Unlock()
	if b.local.fns == nil {
		b.local.fns = map[string]LocalReader{}
	}
	b.local.fns[name] = fn
}

// RemoveLocalReader ends the reader registered under name.
func (b *Bus) RemoveLocalReader(name string) {
	b.local.mu.Lock()
	defer b.local.mu.Unlock()
	delete(b.local.fns, name)
}

// hasLocalReaders tells whether any reader is registered.
func (b *Bus) hasLocalReaders() bool {
	b.local.mu.RLock()
	defer b.local.mu.RUnlock()
	return len(b.local.fns) > 0
}

// toLocal hands a stored batch to every reader.
func (b *Bus) toLocal(batch []Stored) {
	if len(batch) == 0 {
		return
	}
	b.local.mu.RLock()
	defer b.local.mu.RUnlock()
	for _, fn := range b.local.fns {
		fn(batch)
	}
}
