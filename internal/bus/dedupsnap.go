package bus

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"slices"
	"time"
)

// The dedup set is saved to a file in data_dir (dedupSnapshotFile) every
// dedupSnapshotEvery and when the bus closes, so that a restart loads it and
// reads back from the archive only the keys stored after it was taken,
// instead of every key inside the window (seconds with a full window).
//
// Layout, little-endian: magic, the EVENTS stream's creation time (a
// snapshot of another archive is ignored), resume (unix nanos: every key
// the archive stored from then on may be missing from the snapshot, so the
// rebuild reads the archive from there), the number of entries, the entries
// (16-byte key hash, unix nanos stored), and a CRC-32 of all that. A file
// that does not check out is ignored: the whole window is read back.
const (
	dedupSnapshotFile  = "dedup.snapshot"
	dedupSnapshotMagic = "EBDEDUP1"
	dedupSnapshotEvery = 15 * time.Second
	// dedupResumeMargin is read back before resume, for the clock.
	dedupResumeMargin = time.Second
	dedupEntrySize    = 16 + 8
	dedupHeaderSize   = 8 + 8 + 8 + 8
)

// snapshot returns the keys stored inside the window, oldest first, and
// the time from which the archive may hold keys that are not among them:
// the claim time of the oldest publish in flight, or now. It holds the
// lock only to copy the list (publishes wait for it): a key appears in
// the list once per store, and a later entry of the same key wins when the
// snapshot is loaded.
func (d *dedupSet) snapshot(now time.Time) (entries []keyAt, resume int64) {
	n := now.UnixNano()
	d.mu.Lock()
	resume = n
	for _, c := range d.inflight {
		resume = min(resume, c.at)
	}
	entries = slices.Clone(d.order[d.head:])
	d.mu.Unlock()
	limit := n - int64(d.window)
	i := 0
	for i < len(entries) && entries[i].at <= limit {
		i++
	}
	return entries[i:], resume
}

// writeDedupSnapshot saves entries to path atomically (a temporary file
// renamed over it).
func writeDedupSnapshot(path string, created, resume int64, entries []keyAt) error {
	buf := make([]byte, dedupHeaderSize+len(entries)*dedupEntrySize+4)
	copy(buf, dedupSnapshotMagic)
	binary.LittleEndian.PutUint64(buf[8:], uint64(created))
	binary.LittleEndian.PutUint64(buf[16:], uint64(resume))
	binary.LittleEndian.PutUint64(buf[24:], uint64(len(entries)))
	p := buf[dedupHeaderSize:]
	for _, e := range entries {
		copy(p, e.h[:])
		binary.LittleEndian.PutUint64(p[16:], uint64(e.at))
		p = p[dedupEntrySize:]
	}
	binary.LittleEndian.PutUint32(p, crc32.ChecksumIEEE(buf[:len(buf)-4]))

	f, err := os.CreateTemp(filepath.Dir(path), dedupSnapshotFile+".*.tmp")
	if err != nil {
		return err
	}
	_, err = f.Write(buf)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		_ = os.Remove(f.Name())
	}
	return err
}

var errBadSnapshot = errors.New("not a dedup snapshot, or damaged")

// readDedupSnapshot loads a file written by writeDedupSnapshot for the
// archive created at created, keeping the entries stored after since.
func readDedupSnapshot(path string, created, since int64) (entries []keyAt, resume int64, err error) {
	buf, err := os.ReadFile(path)
	if err != nil {
		return nil, 0, err
	}
	if len(buf) < dedupHeaderSize+4 || string(buf[:8]) != dedupSnapshotMagic {
		return nil, 0, errBadSnapshot
	}
	n := binary.LittleEndian.Uint64(buf[24:])
	if n > uint64(len(buf)) || uint64(len(buf)) != dedupHeaderSize+n*dedupEntrySize+4 {
		return nil, 0, errBadSnapshot
	}
	body := buf[:len(buf)-4]
	if crc32.ChecksumIEEE(body) != binary.LittleEndian.Uint32(buf[len(buf)-4:]) {
		return nil, 0, errBadSnapshot
	}
	if int64(binary.LittleEndian.Uint64(buf[8:])) != created {
		return nil, 0, fmt.Errorf("%w: taken of another archive", errBadSnapshot)
	}
	resume = int64(binary.LittleEndian.Uint64(buf[16:]))
	p := body[dedupHeaderSize:]
	entries = make([]keyAt, 0, n)
	for ; len(p) >= dedupEntrySize; p = p[dedupEntrySize:] {
		var e keyAt
		copy(e.h[:], p[:16])
		e.at = int64(binary.LittleEndian.Uint64(p[16:]))
		if e.at > since {
			entries = append(entries, e)
		}
	}
	return entries, resume, nil
}

// loadDedup fills the set after a start: from the snapshot when there is a
// good one, and from the archive for what it may miss. It returns the keys
// taken from each.
func (b *Bus) loadDedup(ctx context.Context) (fromSnap, fromArchive int, err error) {
	now := time.Now()
	since := now.Add(-b.cfg.DedupWindow.D())
	if b.snapPath != "" {
		entries, resume, err := readDedupSnapshot(b.snapPath, b.eventsCreated, since.UnixNano())
		switch {
		case err == nil:
			b.dedup.mu.Lock()
			for _, e := range entries {
				b.dedup.addLocked(e.h, e.at)
			}
			b.dedup.mu.Unlock()
			fromSnap = len(entries)
			if r := time.Unix(0, resume).Add(-dedupResumeMargin); r.After(since) {
				since = r
			}
		case errors.Is(err, os.ErrNotExist):
		default:
			b.log.Warn("dedup snapshot ignored: reading the keys back from the archive", "file", b.snapPath, "err", err)
		}
	}
	fromArchive, err = b.rebuildDedup(ctx, since)
	return fromSnap, fromArchive, err
}

// saveDedup writes the snapshot of the set (embedded store only).
func (b *Bus) saveDedup() {
	if b.snapPath == "" || b.dedup == nil {
		return
	}
	entries, resume := b.dedup.snapshot(time.Now())
	if err := writeDedupSnapshot(b.snapPath, b.eventsCreated, resume, entries); err != nil {
		b.log.Warn("cannot save the dedup snapshot: a restart reads the keys back from the archive", "file", b.snapPath, "err", err)
	}
}

// snapshotLoop saves the set every dedupSnapshotEvery until stop closes.
func (b *Bus) snapshotLoop(stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	t := time.NewTicker(dedupSnapshotEvery)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			b.saveDedup()
		}
	}
}
