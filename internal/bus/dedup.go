package bus

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// keyHash is a dedup key, (source, id), as the first 128 bits of its
// SHA-256: fixed size and pointer-free, and no producer can make two keys
// collide on purpose.
type keyHash [16]byte

func hashKey(k string) keyHash {
	s := sha256.Sum256([]byte(k))
	return keyHash(s[:16])
}

// dedupSet remembers the keys stored inside the dedup window. The bus
// keeps it, not the NATS server: the server's map holds a string and an
// entry object per key, which the garbage collector walks on every cycle
// (at 2,000 events/s a 2-minute window is 240,000 keys), and it is rebuilt
// after a restart only from messages still in the stream, which in WORK
// means the events not yet routed. This set holds no pointers, so the
// collector skips it, and it is rebuilt from the archive (rebuildDedup).
type dedupSet struct {
	window time.Duration

	mu       sync.Mutex
	at       map[keyHash]int64   // when stored (unix nanos)
	order    []keyAt             // oldest first from head, to expire
	head     int                 //
	base     int64               // entries dropped from the front of order so far (snapshots)
	inflight map[keyHash]claimed // until the publish of that key settles
}

// claimed is a key being published: done is closed when it settles; at is
// when it was claimed (its archive copy is stored no earlier).
type claimed struct {
	done chan struct{}
	at   int64
}

type keyAt struct {
	h  keyHash
	at int64
}

func newDedupSet(window time.Duration) *dedupSet {
	return &dedupSet{window: window, at: map[keyHash]int64{}, inflight: map[keyHash]claimed{}}
}

// claim reports whether h was stored inside the window. If it was not, the
// caller owns h until it calls settle; a concurrent claim of h waits for
// that, so that it neither stores h twice nor calls a failed store a
// duplicate.
func (d *dedupSet) claim(ctx context.Context, h keyHash, now time.Time) (dup bool, err error) {
	for {
		d.mu.Lock()
		d.expireLocked(now.UnixNano())
		if c, ok := d.inflight[h]; ok {
			d.mu.Unlock()
			select {
			case <-c.done:
				continue
			case <-ctx.Done():
				return false, ctx.Err()
			}
		}
		if _, ok := d.at[h]; ok {
			d.mu.Unlock()
			return true, nil
		}
		d.inflight[h] = claimed{make(chan struct{}), now.UnixNano()}
		d.mu.Unlock()
		return false, nil
	}
}

// settle ends a claim: stored says whether the event is now in the bus.
func (d *dedupSet) settle(h keyHash, stored bool, now time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if c, ok := d.inflight[h]; ok {
		close(c.done)
		delete(d.inflight, h)
	}
	if stored {
		d.addLocked(h, now.UnixNano())
	}
}

// add records h as stored at t (the rebuild after a restart).
func (d *dedupSet) add(h keyHash, t time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.addLocked(h, t.UnixNano())
}

func (d *dedupSet) addLocked(h keyHash, at int64) {
	d.at[h] = at
	d.order = append(d.order, keyAt{h, at})
}

// expireLocked forgets the keys stored before the window.
func (d *dedupSet) expireLocked(now int64) {
	limit := now - int64(d.window)
	for d.head < len(d.order) && d.order[d.head].at <= limit {
		e := d.order[d.head]
		if d.at[e.h] == e.at { // not stored again since
			delete(d.at, e.h)
		}
		d.head++
	}
	if d.head > 1024 && d.head > len(d.order)/2 {
		n := copy(d.order, d.order[d.head:])
		clear(d.order[n:])
		d.order = d.order[:n]
		d.base += int64(d.head)
		d.head = 0
	}
}

// len is the number of keys remembered (expired ones may still count).
func (d *dedupSet) len() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.at)
}

// rebuildDedup fills the set with the keys the archive stored since then
// (the start of the window, or of what the snapshot may miss), reading
// message headers only. It stops at the archive's last message when it
// began, so it ends while producers keep sending.
func (b *Bus) rebuildDedup(ctx context.Context, since time.Time) (int, error) {
	info, err := b.events.Info(ctx)
	if err != nil {
		return 0, fmt.Errorf("bus: rebuild dedup: %w", err)
	}
	last := info.State.LastSeq
	if info.State.Msgs == 0 || last == 0 {
		return 0, nil
	}
	if info.State.LastTime.Before(since) {
		return 0, nil
	}
	c, err := b.events.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{
		DeliverPolicy: jetstream.DeliverByStartTimePolicy,
		OptStartTime:  &since,
		HeadersOnly:   true,
	})
	if err != nil {
		return 0, fmt.Errorf("bus: rebuild dedup: %w", err)
	}
	n := 0
	for {
		batch, err := c.FetchNoWait(4096)
		if err != nil {
			return n, fmt.Errorf("bus: rebuild dedup: %w", err)
		}
		got := 0
		for m := range batch.Messages() {
			got++
			md, err := m.Metadata()
			if err != nil {
				return n, fmt.Errorf("bus: rebuild dedup: %w", err)
			}
			if k := EventKey(m.Headers()); k != "" {
				b.dedup.add(hashKey(k), md.Timestamp)
				n++
			}
			if md.Sequence.Stream >= last {
				return n, nil
			}
		}
		if err := batch.Error(); err != nil && !errors.Is(err, jetstream.ErrNoMessages) {
			return n, fmt.Errorf("bus: rebuild dedup: %w", err)
		}
		if got == 0 {
			// The tail was deleted (a dropped duplicate copy): nothing more.
			return n, nil
		}
		if err := ctx.Err(); err != nil {
			return n, err
		}
	}
}
