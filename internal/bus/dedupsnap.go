package bus

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"time"
)

// The dedup set is saved to a file in data_dir (dedupSnapshotFile) every
// dedupSnapshotEvery and when the bus closes, so that a restart loads it and
// reads back from the archive only the keys stored after it was taken,
// instead of every key inside the window (seconds with a full window).
//
// Layout, little-endian: magic, the EVENTS stream's creation time (a
// snapshot of another archive is ignored), the entries (16-byte key hash,
// unix nanos stored), then resume (unix nanos: every key the archive stored
// from then on may be missing from the snapshot, so the rebuild reads the
// archive from there), last (the archive's last sequence when the snapshot
// began, 0 if unknown or if a publish was in flight: with it every key the
// archive stored up to last is in the snapshot, and the rebuild reads from
// last+1 instead, nothing at all after a clean close), the number of
// entries, and a CRC-32 of all that. A file that does not check out is
// ignored: the whole window is read back. Files of the layout before last
// (EBDEDUP2) still load; that version ignores these.
const (
	dedupSnapshotFile    = "dedup.snapshot"
	dedupSnapshotMagic   = "EBDEDUP3"
	dedupSnapshotMagicV2 = "EBDEDUP2"
	dedupSnapshotEvery   = 15 * time.Second
	// dedupResumeMargin is read back before resume, for the clock.
	dedupResumeMargin  = time.Second
	dedupEntrySize     = 16 + 8
	dedupHeaderSize    = 8 + 8
	dedupTrailerSize   = 8 + 8 + 8 + 4
	dedupTrailerSizeV2 = 8 + 8 + 4
	// dedupSnapshotChunk entries are copied per hold of the set's lock.
	dedupSnapshotChunk = 16384
)

// writeSnapshot writes the keys stored inside the window, oldest first, to
// w in the layout above. Resume is the claim time of the oldest publish in
// flight when it starts, or now. It holds the set's lock only to copy a
// chunk of its list at a time (publishes wait for it), and needs no copy
// of the whole set. A key appears once per store; on load a later entry of
// the same key wins. last is the archive's last sequence, read before the
// call (0: unknown).
func (d *dedupSet) writeSnapshot(w io.Writer, created int64, now time.Time) (entries int, err error) {
	return d.writeSnapshotSeq(w, created, 0, now)
}

func (d *dedupSet) writeSnapshotSeq(w io.Writer, created int64, last uint64, now time.Time) (entries int, err error) {
	crc := crc32.NewIEEE()
	w = io.MultiWriter(w, crc)
	n := now.UnixNano()
	limit := n - int64(d.window)
	var hdr [dedupHeaderSize]byte
	copy(hdr[:], dedupSnapshotMagic)
	binary.LittleEndian.PutUint64(hdr[8:], uint64(created))
	if _, err := w.Write(hdr[:]); err != nil {
		return 0, err
	}

	d.mu.Lock()
	resume := n
	for _, c := range d.inflight {
		resume = min(resume, c.at)
	}
	if len(d.inflight) > 0 {
		// Its archive copy may lie at or before last, yet its key is not
		// in the list: the rebuild goes by resume.
		last = 0
	}
	pos, end := d.base, d.base+int64(d.n)
	d.mu.Unlock()
	buf := make([]byte, 0, dedupSnapshotChunk*dedupEntrySize)
	for pos < end {
		buf = buf[:0]
		d.mu.Lock()
		pos = max(pos, d.base) // the ones dropped since had expired
		for ; pos < end && len(buf) < cap(buf); pos++ {
			e, ok := d.entryAt(pos)
			if !ok || e.at <= limit {
				continue
			}
			buf = append(buf, e.h[:]...)
			buf = binary.LittleEndian.AppendUint64(buf, uint64(e.at))
		}
		d.mu.Unlock()
		if _, err := w.Write(buf); err != nil {
			return entries, err
		}
		entries += len(buf) / dedupEntrySize
	}

	var tr [24]byte
	binary.LittleEndian.PutUint64(tr[:], uint64(resume))
	binary.LittleEndian.PutUint64(tr[8:], last)
	binary.LittleEndian.PutUint64(tr[16:], uint64(entries))
	if _, err := w.Write(tr[:]); err != nil {
		return entries, err
	}
	_, err = w.Write(binary.LittleEndian.AppendUint32(nil, crc.Sum32()))
	return entries, err
}

// writeDedupSnapshot saves the set to path atomically (a temporary file
// renamed over it).
func writeDedupSnapshot(path string, d *dedupSet, created int64, last uint64, now time.Time) error {
	f, err := os.CreateTemp(filepath.Dir(path), dedupSnapshotFile+".*.tmp")
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(f, 64<<10)
	_, err = d.writeSnapshotSeq(bw, created, last, now)
	if err == nil {
		err = bw.Flush()
	}
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
func readDedupSnapshot(path string, created, since int64) (entries []keyAt, resume int64, last uint64, err error) {
	buf, err := os.ReadFile(path)
	if err != nil {
		return nil, 0, 0, err
	}
	return parseDedupSnapshotSeq(buf, created, since)
}

func parseDedupSnapshot(buf []byte, created, since int64) (entries []keyAt, resume int64, err error) {
	entries, resume, _, err = parseDedupSnapshotSeq(buf, created, since)
	return entries, resume, err
}

func parseDedupSnapshotSeq(buf []byte, created, since int64) (entries []keyAt, resume int64, last uint64, err error) {
	trSize := dedupTrailerSize
	if len(buf) >= 8 && string(buf[:8]) == dedupSnapshotMagicV2 {
		trSize = dedupTrailerSizeV2
	} else if len(buf) < 8 || string(buf[:8]) != dedupSnapshotMagic {
		return nil, 0, 0, errBadSnapshot
	}
	if len(buf) < dedupHeaderSize+trSize {
		return nil, 0, 0, errBadSnapshot
	}
	body := buf[:len(buf)-4]
	if crc32.ChecksumIEEE(body) != binary.LittleEndian.Uint32(buf[len(buf)-4:]) {
		return nil, 0, 0, errBadSnapshot
	}
	tr := buf[len(buf)-trSize:]
	resume = int64(binary.LittleEndian.Uint64(tr))
	if trSize == dedupTrailerSize {
		last = binary.LittleEndian.Uint64(tr[8:])
		tr = tr[8:]
	}
	n := binary.LittleEndian.Uint64(tr[8:])
	p := buf[dedupHeaderSize : len(buf)-trSize]
	if uint64(len(p))%dedupEntrySize != 0 || uint64(len(p))/dedupEntrySize != n {
		return nil, 0, 0, errBadSnapshot
	}
	if int64(binary.LittleEndian.Uint64(buf[8:])) != created {
		return nil, 0, 0, fmt.Errorf("%w: taken of another archive", errBadSnapshot)
	}
	entries = make([]keyAt, 0, n+n/4) // room for the tail read back after it
	for ; len(p) >= dedupEntrySize; p = p[dedupEntrySize:] {
		var e keyAt
		copy(e.h[:], p[:16])
		e.at = int64(binary.LittleEndian.Uint64(p[16:]))
		if e.at > since {
			entries = append(entries, e)
		}
	}
	return entries, resume, last, nil
}

// loadDedup fills the set after a start: from the snapshot when there is a
// good one, and from the archive for what it may miss. It returns the keys
// taken from each.
func (b *Bus) loadDedup(ctx context.Context) (fromSnap, fromArchive int, err error) {
	now := time.Now()
	var fromSeq uint64
	since := now.Add(-b.cfg.DedupWindow.D())
	if b.snapPath != "" {
		entries, resume, last, err := readDedupSnapshot(b.snapPath, b.eventsCreated, since.UnixNano())
		switch {
		case err == nil:
			b.dedup.load(entries) // the ring is the snapshot's list, sized to it
			fromSnap = len(entries)
			if last > 0 && time.Unix(0, resume).After(since) {
				// Every key the archive stored up to last is loaded; no
				// clock margin needed, and after a clean close nothing to
				// read (nor any block of the archive to load).
				fromSeq = last + 1
			} else if r := time.Unix(0, resume).Add(-dedupResumeMargin); r.After(since) {
				since = r
			}
		case errors.Is(err, os.ErrNotExist):
		default:
			b.log.Warn("dedup snapshot ignored: reading the keys back from the archive", "file", b.snapPath, "err", err)
		}
	}
	// On a cluster that is still settling (a replica starting while routes
	// form or a leader moves), reading the archive may get "no responders":
	// retried like the making of streams, within bus.start_timeout. The
	// attempt runs on ctx, not untilUp's per-attempt timeout: a large
	// window takes longer than one attempt may. Keys read twice are one.
	err = b.untilUp(ctx, "rebuild dedup", func(context.Context) error {
		var rerr error
		fromArchive, rerr = b.rebuildDedup(ctx, since, fromSeq)
		return rerr
	})
	return fromSnap, fromArchive, err
}

// saveDedup writes the snapshot of the set (embedded store only). Called
// by the snapshot loop, then once by Close after the loop ended.
func (b *Bus) saveDedup() {
	if b.snapPath == "" || b.dedup == nil {
		return
	}
	// The archive's last sequence first (see writeSnapshotSeq); without
	// it the rebuild goes by time.
	var last uint64
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	if info, err := b.events.Info(ctx); err == nil {
		last = info.State.LastSeq
	}
	cancel()
	err := writeDedupSnapshot(b.snapPath, b.dedup, b.eventsCreated, last, time.Now())
	switch {
	case err != nil && !b.snapFailing: // once until it works again (a full disk)
		b.log.Warn("cannot save the dedup snapshot: a restart reads back from the archive the keys stored since the last one", "file", b.snapPath, "err", err)
	case err == nil && b.snapFailing:
		b.log.Info("dedup snapshot saved again", "file", b.snapPath)
	}
	b.snapFailing = err != nil
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
