package bus

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"runtime"
	"testing"
	"time"
)

// The set against a plain map: keys added (some again, as a rebuild reads
// them twice), expired, found, through growing and shrinking.
func TestDedupSetMatchesMap(t *testing.T) {
	const window = 1000 // nanoseconds of the fake clock
	d := newDedupSet(window)
	want := map[keyHash]int64{} // latest store time of each key
	r := rand.New(rand.NewPCG(1, 2))
	now := int64(1)
	check := func(step int) {
		t.Helper()
		limit := now - window
		live := 0
		for h, at := range want {
			if at <= limit {
				delete(want, h)
				continue
			}
			live++
			if d.find(h) < 0 {
				t.Fatalf("step %d: key stored at %d missing at %d", step, at, now)
			}
		}
		if d.keys != live {
			t.Fatalf("step %d: %d keys, want %d", step, d.keys, live)
		}
	}
	// Rates that rise, then fall (the ring grows, then shrinks).
	for step, rate := range []int{1, 5, 40, 120, 40, 5, 1, 0, 0} {
		for range 3 * window {
			now++
			d.mu.Lock()
			d.expireLocked(now)
			for range r.IntN(rate + 1) {
				var h keyHash
				if len(want) > 0 && r.IntN(10) == 0 { // a key again
					for k := range want {
						h = k
						break
					}
				} else {
					h = hashKey(fmt.Sprint(r.Uint64()))
				}
				d.addLocked(h, now)
				want[h] = now
			}
			d.mu.Unlock()
			if now%499 == 0 {
				check(step)
			}
		}
		check(step)
		if absent := hashKey("never"); d.find(absent) >= 0 {
			t.Fatal("found a key never added")
		}
	}
	if len(d.ring) != dedupMinRing {
		t.Fatalf("ring of %d after the window emptied, want it shrunk to %d", len(d.ring), dedupMinRing)
	}
}

// A full window at 2,000 events/s (240,000 keys) costs at most 44 bytes
// per key of heap: the flat set takes about 35 (a map of the hash and its
// time plus the list that expires them took about 64).
func TestDedupSetBytesPerKey(t *testing.T) {
	const keys = 240_000
	hashes := make([]keyHash, keys)
	for i := range hashes {
		hashes[i] = hashKey(fmt.Sprint("/src\x00", i))
	}
	before := liveHeap()
	d := newDedupSet(2 * time.Minute)
	t0 := time.Now()
	for i, h := range hashes {
		d.add(h, t0.Add(time.Duration(i)*500*time.Microsecond))
	}
	after := liveHeap()
	perKey := float64(after-before) / keys
	t.Logf("%d keys: %.1f B/key of heap", d.len(), perKey)
	if d.len() != keys {
		t.Fatalf("%d keys, want %d", d.len(), keys)
	}
	if perKey > 44 {
		t.Fatalf("the dedup set takes %.1f B/key, want at most 44", perKey)
	}
	runtime.KeepAlive(d)
	runtime.KeepAlive(hashes)
}

func liveHeap() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// BenchmarkDedupClaimSettle is one publish's dedup work with a full window
// at 2,000 events/s: claim a new key, settle it stored, the oldest expire.
func BenchmarkDedupClaimSettle(b *testing.B) {
	d := newDedupSet(2 * time.Minute)
	t0 := time.Now()
	const step = 500 * time.Microsecond // 2,000/s
	i := 0
	for ; i < 240_000; i++ {
		d.add(hashKey(fmt.Sprint(i)), t0.Add(time.Duration(i)*step))
	}
	hashes := make([]keyHash, 1<<16)
	for j := range hashes {
		hashes[j] = hashKey(fmt.Sprint("b", j))
	}
	ctx := b.Context()
	b.ReportAllocs()
	b.ResetTimer()
	for n := range b.N {
		now := t0.Add(time.Duration(i+n) * step)
		h := hashes[n&(len(hashes)-1)]
		h[15] ^= byte(n >> 16)
		if dup, _ := d.claim(ctx, h, now); !dup {
			d.settle(h, true, now)
		}
	}
}

// BenchmarkDedupSnapshotLoad is the start-up's load of a snapshot of a
// full window at 2,000 events/s: parse it, fill the set. It reports the
// set's heap per key.
func BenchmarkDedupSnapshotLoad(b *testing.B) {
	const keys = 240_000
	d := newDedupSet(2 * time.Minute)
	t0 := time.Now()
	for i := range keys {
		d.add(hashKey(fmt.Sprint(i)), t0.Add(time.Duration(i)*500*time.Microsecond))
	}
	var buf bytes.Buffer
	if _, err := d.writeSnapshot(&buf, 1, t0.Add(119*time.Second)); err != nil {
		b.Fatal(err)
	}
	d = nil
	b.ReportAllocs()
	b.ResetTimer()
	var heap float64
	for range b.N {
		before := liveHeap()
		entries, _, err := parseDedupSnapshot(buf.Bytes(), 1, 0)
		if err != nil {
			b.Fatal(err)
		}
		d := newDedupSet(2 * time.Minute)
		d.load(entries)
		b.StopTimer()
		heap = float64(liveHeap()-before) / keys
		if d.len() != keys {
			b.Fatalf("%d keys loaded", d.len())
		}
		b.StartTimer()
	}
	b.ReportMetric(heap, "heapB/key")
}

// EVENTS keeps the least duplicate window the server takes, also on a
// store whose EVENTS an earlier version made with the dedup window: the
// server's own window there made it load every message inside it at each
// start. Duplicates are still the bus's to drop, across the restart.
func TestEventsServerDuplicateWindowIsLeast(t *testing.T) {
	b := openTestBus(t)
	ctx, events := stream(t, b, StreamEvents)
	cfg := events.CachedInfo().Config
	if cfg.Duplicates != eventsDuplicates {
		t.Fatalf("EVENTS duplicate window %s, want %s", cfg.Duplicates, eventsDuplicates)
	}
	cfg.Duplicates = b.cfg.DedupWindow.D() // as made before
	if _, err := b.js.UpdateStream(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	publishIDs(t, b, "a")
	b.Close()
	b = reopen(t, b)
	_, events = stream(t, b, StreamEvents)
	if got := events.CachedInfo().Config.Duplicates; got != eventsDuplicates {
		t.Fatalf("EVENTS duplicate window %s after a restart, want %s", got, eventsDuplicates)
	}
	if dups := publishIDs(t, b, "a", "b"); dups != 1 {
		t.Fatalf("after restart: %d duplicates, want 1", dups)
	}
}
