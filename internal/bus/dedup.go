package bus

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
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
// collector skips it, and it is rebuilt from the snapshot and the archive
// (loadDedup, rebuildDedup).
//
// It is two flat arrays, about 35 bytes per key (a Go map of the hash and
// its time plus a list to expire them took about 64): ring, the keys in
// the order they were stored (24 bytes each), which expiry drops from its
// head; and index, an open-addressing table (linear probing) of positions
// in ring, at most two thirds full, in which a key is found. A key stored
// again (the rebuild after a restart reads some twice) is appended again
// and the index points at its latest entry; the older entry is skipped
// when it expires. Both shrink when the window holds a quarter of what
// they have room for.
type dedupSet struct {
	window time.Duration

	mu       sync.Mutex
	ring     []keyAt // circular, len(ring) its capacity
	head     int     // ring[head] is the oldest entry
	n        int     // entries in ring
	base     int64   // entries dropped from the head so far (snapshots)
	index    []uint32
	keys     int                 // entries of index (distinct keys)
	inflight map[keyHash]claimed // until the publish of that key settles
}

// claimed is a key being published: done, made only when another claim
// of the key waits, is closed when it settles; at is when it was claimed
// (its archive copy is stored no earlier).
type claimed struct {
	done chan struct{}
	at   int64
}

type keyAt struct {
	h  keyHash
	at int64
}

// dedupMinRing is the least room the set keeps.
const dedupMinRing = 1024

func newDedupSet(window time.Duration) *dedupSet {
	d := &dedupSet{window: window, inflight: map[keyHash]claimed{}}
	d.resize(dedupMinRing)
	return d
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
			if c.done == nil {
				c.done = make(chan struct{})
				d.inflight[h] = c
			}
			d.mu.Unlock()
			select {
			case <-c.done:
				continue
			case <-ctx.Done():
				return false, ctx.Err()
			}
		}
		if d.find(h) >= 0 {
			d.mu.Unlock()
			return true, nil
		}
		d.inflight[h] = claimed{at: now.UnixNano()}
		d.mu.Unlock()
		return false, nil
	}
}

// settle ends a claim: stored says whether the event is now in the bus.
func (d *dedupSet) settle(h keyHash, stored bool, now time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if c, ok := d.inflight[h]; ok {
		if c.done != nil {
			close(c.done)
		}
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

// load fills an empty set with entries, oldest first (a snapshot), taking
// the slice as its ring; a set that is not empty adds them.
func (d *dedupSet) load(entries []keyAt) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.n > 0 || len(entries) == 0 {
		for _, e := range entries {
			d.addLocked(e.h, e.at)
		}
		return
	}
	ring := entries[:cap(entries)]
	if len(ring) < dedupMinRing {
		ring = make([]keyAt, dedupMinRing)
		copy(ring, entries)
	}
	d.ring, d.head, d.n = ring, 0, len(entries)
	d.reindex()
}

// home is h's first slot in index.
func (d *dedupSet) home(h keyHash) int {
	return int(binary.LittleEndian.Uint64(h[:8]) & uint64(len(d.index)-1))
}

// find returns the ring position of h's latest entry, or -1.
func (d *dedupSet) find(h keyHash) int {
	mask := len(d.index) - 1
	for i := d.home(h); ; i = (i + 1) & mask {
		v := d.index[i]
		if v == 0 {
			return -1
		}
		if d.ring[v-1].h == h {
			return int(v - 1)
		}
	}
}

func (d *dedupSet) addLocked(h keyHash, at int64) {
	if d.n == len(d.ring) {
		d.resize(len(d.ring) * 2)
	}
	pos := d.head + d.n
	if pos >= len(d.ring) {
		pos -= len(d.ring)
	}
	d.ring[pos] = keyAt{h, at}
	d.n++
	d.indexPut(pos)
}

// indexPut points h's slot of index at ring position pos, taking a free
// slot if h has none.
func (d *dedupSet) indexPut(pos int) {
	h := d.ring[pos].h
	mask := len(d.index) - 1
	for i := d.home(h); ; i = (i + 1) & mask {
		v := d.index[i]
		if v == 0 {
			d.keys++
			d.index[i] = uint32(pos + 1)
			return
		}
		if d.ring[v-1].h == h {
			d.index[i] = uint32(pos + 1)
			return
		}
	}
}

// indexDrop removes ring position pos from index if h's slot points at it
// (not at a later entry of the same key), shifting the entries after it
// back so that every probe still finds them.
func (d *dedupSet) indexDrop(pos int) {
	mask := len(d.index) - 1
	i := d.home(d.ring[pos].h)
	for ; ; i = (i + 1) & mask {
		v := d.index[i]
		if v == 0 {
			return
		}
		if int(v-1) == pos {
			break
		}
	}
	d.keys--
	for j := (i + 1) & mask; ; j = (j + 1) & mask {
		v := d.index[j]
		if v == 0 {
			break
		}
		k := d.home(d.ring[v-1].h)
		// The entry at j may move to the hole at i unless its home lies
		// cyclically in (i, j].
		if (i <= j && (k <= i || k > j)) || (i > j && k <= i && k > j) {
			d.index[i] = v
			i = j
		}
	}
	d.index[i] = 0
}

// resize gives the ring room for size entries (at least those it holds)
// and rebuilds the index.
func (d *dedupSet) resize(size int) {
	ring := make([]keyAt, max(size, d.n, dedupMinRing))
	if d.n > 0 {
		k := copy(ring, d.ring[d.head:min(d.head+d.n, len(d.ring))])
		copy(ring[k:], d.ring[:d.n-k])
	}
	d.ring, d.head = ring, 0
	d.reindex()
}

// reindex builds the index of the ring's entries, at most two thirds full.
func (d *dedupSet) reindex() {
	size := 1
	for size*2 < len(d.ring)*3 {
		size *= 2
	}
	if len(d.index) == size {
		clear(d.index)
	} else {
		d.index = make([]uint32, size)
	}
	d.keys = 0
	for k := range d.n {
		pos := d.head + k
		if pos >= len(d.ring) {
			pos -= len(d.ring)
		}
		d.indexPut(pos)
	}
}

// entryAt returns the entry at absolute position p (base counts from the first
// entry ever added); ok is false once it was dropped, or not yet added.
func (d *dedupSet) entryAt(p int64) (e keyAt, ok bool) {
	k := p - d.base
	if k < 0 || k >= int64(d.n) {
		return keyAt{}, false
	}
	pos := d.head + int(k)
	if pos >= len(d.ring) {
		pos -= len(d.ring)
	}
	return d.ring[pos], true
}

// expireLocked forgets the keys stored before the window.
func (d *dedupSet) expireLocked(now int64) {
	limit := now - int64(d.window)
	dropped := false
	for d.n > 0 && d.ring[d.head].at <= limit {
		d.indexDrop(d.head)
		d.ring[d.head] = keyAt{}
		d.head++
		if d.head == len(d.ring) {
			d.head = 0
		}
		d.n--
		d.base++
		dropped = true
	}
	if dropped && len(d.ring) > dedupMinRing && d.n < len(d.ring)/4 {
		d.resize(len(d.ring) / 2)
	}
}

// len is the number of keys remembered (expired ones may still count).
func (d *dedupSet) len() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.keys
}

// rebuildDedup fills the set with the keys the archive stored since then
// (the start of the window, or of what the snapshot may miss), or from
// sequence fromSeq when it is not 0, reading message headers only. It
// stops at the archive's last message when it began, so it ends while
// producers keep sending.
func (b *Bus) rebuildDedup(ctx context.Context, since time.Time, fromSeq uint64) (int, error) {
	info, err := b.events.Info(ctx)
	if err != nil {
		return 0, fmt.Errorf("bus: rebuild dedup: %w", err)
	}
	last := info.State.LastSeq
	if info.State.Msgs == 0 || last == 0 {
		return 0, nil
	}
	if info.State.LastTime.Before(since) || (fromSeq > 0 && last < fromSeq) {
		return 0, nil
	}
	cfg := jetstream.OrderedConsumerConfig{
		DeliverPolicy: jetstream.DeliverByStartTimePolicy,
		OptStartTime:  &since,
		HeadersOnly:   true,
	}
	if fromSeq > 0 {
		cfg.DeliverPolicy, cfg.OptStartTime, cfg.OptStartSeq = jetstream.DeliverByStartSequencePolicy, nil, fromSeq
	}
	c, err := b.events.OrderedConsumer(ctx, cfg)
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
