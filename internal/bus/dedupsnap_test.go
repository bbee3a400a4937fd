package bus

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	ce "github.com/cloudevents/sdk-go/v2/event"
)

func publishIDs(t *testing.T, b *Bus, ids ...string) (dups int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, id := range ids {
		n, err := b.Publish(ctx, "in", []*ce.Event{testEvent(id)})
		if err != nil {
			t.Fatal(err)
		}
		dups += n
	}
	return dups
}

// A clean close saves the dedup set; the next start loads it, so the keys
// stay duplicates even when the archive no longer has them (the snapshot
// is used, not the archive).
func TestDedupSnapshotAtClose(t *testing.T) {
	b := openTestBus(t)
	publishIDs(t, b, "a", "b", "c")
	ctx, events := stream(t, b, StreamEvents)
	if err := events.Purge(ctx); err != nil {
		t.Fatal(err)
	}
	b.Close()
	if _, err := os.Stat(filepath.Join(b.cfg.DataDir, dedupSnapshotFile)); err != nil {
		t.Fatalf("no snapshot after close: %v", err)
	}
	b = reopen(t, b)
	if n := b.dedup.len(); n != 3 {
		t.Fatalf("%d keys loaded, want 3", n)
	}
	if dups := publishIDs(t, b, "a", "b", "c", "d"); dups != 3 {
		t.Fatalf("after restart: %d duplicates, want 3", dups)
	}
	if n := msgs(t, b, StreamEvents); n != 1 {
		t.Fatalf("EVENTS holds %d, want 1", n)
	}
}

// After a crash, the keys stored since the last periodic snapshot come
// back from the archive's tail, and those before it from the snapshot.
func TestDedupSnapshotThenCrash(t *testing.T) {
	b := openTestBus(t)
	publishIDs(t, b, "old1", "old2")
	b.saveDedup() // the periodic snapshot
	ctx, events := stream(t, b, StreamEvents)
	if err := events.Purge(ctx); err != nil { // only the snapshot knows old*
		t.Fatal(err)
	}
	publishIDs(t, b, "new1", "new2")
	b.snapPath = "" // a crash: no snapshot at close
	b.Close()
	b.snapPath = filepath.Join(b.cfg.DataDir, dedupSnapshotFile)

	b = reopen(t, b)
	if dups := publishIDs(t, b, "old1", "old2", "new1", "new2", "x"); dups != 4 {
		t.Fatalf("after a crash: %d duplicates, want 4", dups)
	}
}

// A key whose publish was in flight when the snapshot was taken is read
// back from the archive: the snapshot's resume point is its claim.
func TestDedupSnapshotResumesAtInflightClaim(t *testing.T) {
	d := newDedupSet(time.Minute)
	ctx := context.Background()
	t0 := time.Unix(1000, 0)
	if dup, _ := d.claim(ctx, hashKey("done"), t0); dup {
		t.Fatal("new key is a duplicate")
	}
	d.settle(hashKey("done"), true, t0)
	if dup, _ := d.claim(ctx, hashKey("flying"), t0.Add(time.Second)); dup {
		t.Fatal("new key is a duplicate")
	}
	snap := func(now time.Time) ([]keyAt, int64) {
		t.Helper()
		var buf bytes.Buffer
		if _, err := d.writeSnapshot(&buf, 7, now); err != nil {
			t.Fatal(err)
		}
		entries, resume, err := parseDedupSnapshot(buf.Bytes(), 7, 0)
		if err != nil {
			t.Fatal(err)
		}
		return entries, resume
	}
	entries, resume := snap(t0.Add(5 * time.Second))
	if len(entries) != 1 || entries[0].h != hashKey("done") {
		t.Fatalf("snapshot entries %v, want only the settled key", entries)
	}
	if want := t0.Add(time.Second).UnixNano(); resume != want {
		t.Fatalf("resume %v, want the in-flight claim %v", time.Unix(0, resume), time.Unix(0, want))
	}
	d.settle(hashKey("flying"), true, t0.Add(time.Second))
	if _, resume = snap(t0.Add(6 * time.Second)); resume != t0.Add(6*time.Second).UnixNano() {
		t.Fatalf("resume %v with nothing in flight, want the snapshot's time", time.Unix(0, resume))
	}
}

// A snapshot larger than one chunk, taken while the set expires and
// compacts its list, holds every key still inside the window once.
func TestDedupSnapshotChunks(t *testing.T) {
	d := newDedupSet(time.Minute)
	t0 := time.Unix(1000, 0)
	const n = 3*dedupSnapshotChunk + 100
	for i := range n {
		d.add(hashKey(fmt.Sprint(i)), t0.Add(time.Duration(i)*time.Millisecond))
	}
	// Expire the first half (and compact) between the first chunk and the rest.
	now := t0.Add(time.Minute + time.Duration(n/2)*time.Millisecond)
	var buf bytes.Buffer
	w := &hookWriter{w: &buf, after: 2, hook: func() { d.mu.Lock(); d.expireLocked(now.UnixNano()); d.mu.Unlock() }}
	if _, err := d.writeSnapshot(w, 1, t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if d.base == 0 {
		t.Fatal("the list was not compacted during the snapshot")
	}
	entries, _, err := parseDedupSnapshot(buf.Bytes(), 1, 0)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[keyHash]bool{}
	for _, e := range entries {
		if seen[e.h] {
			t.Fatalf("key %x twice", e.h)
		}
		seen[e.h] = true
	}
	for i := n/2 + 1; i < n; i++ { // still inside the window
		if !seen[hashKey(fmt.Sprint(i))] {
			t.Fatalf("key %d missing from the snapshot (%d entries)", i, len(entries))
		}
	}
}

// hookWriter calls hook once, after its after-th write.
type hookWriter struct {
	w     io.Writer
	after int
	hook  func()
}

func (h *hookWriter) Write(p []byte) (int, error) {
	h.after--
	if h.after == 0 {
		h.hook()
	}
	return h.w.Write(p)
}

// A damaged snapshot is ignored and the keys are read back from the
// archive; a snapshot of another archive (the store was removed) is
// ignored too.
func TestDedupSnapshotDamagedOrStale(t *testing.T) {
	b := openTestBus(t)
	publishIDs(t, b, "a", "b")
	b.Close()
	path := filepath.Join(b.cfg.DataDir, dedupSnapshotFile)
	buf, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	buf[dedupHeaderSize] ^= 0xff
	if err := os.WriteFile(path, buf, 0o600); err != nil {
		t.Fatal(err)
	}
	b = reopen(t, b)
	if dups := publishIDs(t, b, "a", "b"); dups != 2 {
		t.Fatalf("with a damaged snapshot: %d duplicates, want 2", dups)
	}
	b.Close()
	if _, _, _, err := readDedupSnapshot(path, b.eventsCreated, 0); err != nil {
		t.Fatalf("the snapshot saved at close does not load: %v", err)
	}

	// A new store beside the old snapshot: nothing is a duplicate.
	if err := os.RemoveAll(filepath.Join(b.cfg.DataDir, "jetstream")); err != nil {
		t.Fatal(err)
	}
	b = reopen(t, b)
	if dups := publishIDs(t, b, "a", "b"); dups != 0 {
		t.Fatalf("a new archive took %d duplicates from an old snapshot, want 0", dups)
	}
}

// The snapshot records the archive's last sequence: after a clean close
// the start reads nothing back from the archive, and after a crash only
// the keys stored since the last snapshot, with no clock margin.
func TestDedupSnapshotReadsOnlyKeysSinceIt(t *testing.T) {
	b := openTestBus(t)
	publishIDs(t, b, "a", "b", "c")
	b.Close()
	b = reopen(t, b)
	load := func() (fromSnap, fromArchive int) {
		t.Helper()
		b.dedup = newDedupSet(b.cfg.DedupWindow.D())
		fromSnap, fromArchive, err := b.loadDedup(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		return fromSnap, fromArchive
	}
	if fromSnap, fromArchive := load(); fromSnap != 3 || fromArchive != 0 {
		t.Fatalf("after a clean close: %d keys from the snapshot, %d from the archive; want 3 and 0", fromSnap, fromArchive)
	}
	publishIDs(t, b, "d")
	b.saveDedup() // the periodic snapshot
	publishIDs(t, b, "e", "f")
	// A crash now: the next start finds the snapshot with a..d.
	if fromSnap, fromArchive := load(); fromSnap != 4 || fromArchive != 2 {
		t.Fatalf("after a crash: %d keys from the snapshot, %d from the archive; want 4 and 2 (e, f)", fromSnap, fromArchive)
	}
	if dups := publishIDs(t, b, "a", "d", "e", "f", "g"); dups != 4 {
		t.Fatalf("%d duplicates, want 4", dups)
	}
}

// A snapshot in the layout before the archive's last sequence (EBDEDUP2)
// still loads, and the rebuild then goes by time.
func TestDedupSnapshotV2Loads(t *testing.T) {
	d := newDedupSet(time.Minute)
	t0 := time.Unix(1000, 0)
	d.add(hashKey("a"), t0)
	d.add(hashKey("b"), t0.Add(time.Second))
	var buf bytes.Buffer
	if _, err := d.writeSnapshotSeq(&buf, 9, 42, t0.Add(2*time.Second)); err != nil {
		t.Fatal(err)
	}
	v3 := buf.Bytes()
	entries, resume, last, err := parseDedupSnapshotSeq(v3, 9, 0)
	if err != nil || len(entries) != 2 || last != 42 || resume != t0.Add(2*time.Second).UnixNano() {
		t.Fatalf("v3: %v entries, resume %d, last %d, err %v", entries, resume, last, err)
	}
	// The same in the old layout: no last in the trailer.
	body := v3[:len(v3)-4]
	v2 := append([]byte(dedupSnapshotMagicV2), body[8:len(body)-dedupTrailerSize+4]...)
	tr := body[len(body)-dedupTrailerSize+4:]
	v2 = append(v2, tr[:8]...)  // resume
	v2 = append(v2, tr[16:]...) // entries
	v2 = binary.LittleEndian.AppendUint32(v2, crc32.ChecksumIEEE(v2))
	entries2, resume2, last2, err := parseDedupSnapshotSeq(v2, 9, 0)
	if err != nil || len(entries2) != 2 || entries2[1] != entries[1] || resume2 != resume || last2 != 0 {
		t.Fatalf("v2: %v entries, resume %d, last %d, err %v", entries2, resume2, last2, err)
	}
	if _, _, _, err := parseDedupSnapshotSeq(v2, 8, 0); err == nil {
		t.Fatal("a v2 snapshot of another archive loaded")
	}
}
