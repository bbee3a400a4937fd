package state

import (
	"context"
	"time"

	"github.com/eventbridge-dev/eventbridge/internal/bus"
)

// The local feed (embedded bus): Publish hands every event it stored to
// fromPublish, in process, before it answers the producer. The feed's
// progress is a low-water mark (tracker): the EVENTS sequence up to which
// every event is applied. It is saved in the bucket (checkpoint.go) every
// checkpointEvery when it moved, and when the feed stops. On start the feed reads the
// archive back from the checkpoint to its end while live events flow
// (applying an event twice changes nothing: an entry is replaced only by
// a higher sequence). Every checkpointEvery it also reads back any
// sequence up to the archive's end at the previous check that it was not
// handed (an event whose Publish failed after the archive stored it) or
// failed to apply, so that the mark never stops behind a hole.
//
// A first start with the durable consumer of releases before this one
// goes on from the consumer's ack floor, then deletes the consumer.

// localReaderName is the feed's name among the bus's local readers.
const localReaderName = "state"

// checkpointEvery is how often the checkpoint is saved.
const checkpointEvery = 3 * time.Second

// readBackGap: holes closer than this are read back in one pass.
const readBackGap = 4096

func (f *feeder) startLocal(ctx context.Context) error {
	s := f.s
	created, err := s.bus.ArchiveCreated(ctx)
	if err != nil {
		return err
	}
	f.archive = created.UnixNano()
	floor, consumer, err := s.bus.StateConsumerFloor(ctx)
	if err != nil {
		return err
	}
	from, found, err := s.loadCheckpoint(ctx, f.archive)
	if err != nil {
		return err
	}
	how := "checkpoint"
	if !found {
		from, how = 0, "first start"
		if consumer {
			from, how = floor, "the consumer "+ConsumerName
		}
	}
	f.saved = from // as stored
	if _, last, err := s.bus.Archive().Bounds(ctx); err != nil {
		return err
	} else if from > last {
		// The archive lost its end (an OS crash before the store synced
		// it): the sequences after last go to new events.
		s.log.Warn("state: checkpoint past the archive's end; taken back to it", "checkpoint", from, "archive_last", last)
		from = last
	}
	f.tr = &tracker{low: from}
	f.fills = make(chan []span)

	go f.run()
	s.bus.AddLocalReader(localReaderName, f.fromPublish)
	// Every event stored from here on is handed to fromPublish or lies
	// at most at last: read back from the checkpoint to last.
	first, last, err := s.bus.Archive().Bounds(ctx)
	if err != nil {
		f.stopLocal()
		return err
	}
	if first > 0 {
		f.tr.raise(first - 1) // what left the archive is gone
	}
	if consumer {
		if err := f.saveNow(); err != nil {
			f.stopLocal()
			return err
		}
		if err := s.bus.DeleteStateConsumer(ctx); err != nil {
			s.log.Warn("state: cannot delete the consumer of earlier releases", "consumer", ConsumerName, "err", err)
		} else {
			s.log.Info("state: the feed runs in process now; its consumer of EVENTS is deleted", "consumer", ConsumerName, "ack_floor", floor)
		}
	}
	f.prevLast = last
	holes := f.tr.holes(last)
	f.wg.Add(2)
	go f.readLoop()
	go f.keep()
	if len(holes) > 0 {
		f.fills <- holes
	}
	s.log.Info("state feed started", "from", how, "applied_through", f.tr.lowWater(), "archive_last", last)
	return nil
}

// stopLocal ends the goroutines and saves the checkpoint.
func (f *feeder) stopLocal() {
	close(f.stop) // first: a Publish waiting to hand events returns
	f.s.bus.RemoveLocalReader(localReaderName)
	f.cancel()
	<-f.done
	f.wg.Wait()
	f.save()
}

// fromPublish is the local reader: it queues a batch Publish stored.
func (f *feeder) fromPublish(batch []bus.Stored) {
	select {
	case <-f.stop:
		return
	default:
	}
	rs := make([]rec, len(batch))
	for i := range batch {
		st := &batch[i]
		rs[i] = rec{seq: st.EventsSeq, res: st.Source, ev: st.Event, raw: st.Raw, ts: st.Ingested}
	}
	f.tr.takeRecs(rs)
	f.enqueue(rs)
}

// keep saves the checkpoint and has the holes read back, every f.every.
func (f *feeder) keep() {
	defer f.wg.Done()
	t := time.NewTicker(f.every)
	defer t.Stop()
	for {
		select {
		case <-f.stop:
			return
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(f.ctx, f.every)
		_, last, err := f.s.bus.Archive().Bounds(ctx)
		cancel()
		if err == nil {
			// What is stored up to the previous check's end and was not
			// handed in by now: read it back (unless the reader is busy).
			if holes := f.tr.holes(f.prevLast); len(holes) > 0 {
				select {
				case f.fills <- holes:
				default:
					for _, h := range holes {
						f.tr.failed(h.lo, h.hi)
					}
				}
			}
			f.prevLast = max(f.prevLast, last)
		}
		f.save()
	}
}

// readLoop reads back the holes it is given.
func (f *feeder) readLoop() {
	defer f.wg.Done()
	for {
		select {
		case <-f.stop:
			return
		case hs := <-f.fills:
			for len(hs) > 0 {
				n := 1
				for n < len(hs) && hs[n].lo-hs[n-1].hi < readBackGap {
					n++
				}
				f.readBack(hs[:n])
				hs = hs[n:]
			}
		}
	}
}

// readBack reads the sequences of hs (sorted) from the archive and queues
// them; those that are not in the archive are applied as they are.
func (f *feeder) readBack(hs []span) {
	i, next := 0, hs[0].lo // next: the first sequence not accounted for
	// gone notes hs's sequences from next to upto as not in the archive.
	gone := func(upto uint64) {
		for ; i < len(hs) && hs[i].lo <= upto; i++ {
			lo, hi := max(next, hs[i].lo), min(upto, hs[i].hi)
			if lo <= hi {
				f.tr.done(lo, hi)
			}
			if hs[i].hi > upto {
				break
			}
		}
		next = max(next, upto+1)
	}
	var batch []rec
	flush := func() bool {
		ok := len(batch) == 0 || f.enqueue(batch)
		batch = nil
		return ok
	}
	err := f.s.bus.ReadEvents(f.ctx, hs[0].lo, hs[len(hs)-1].hi, func(a *bus.Archived) error {
		gone(a.Seq - 1)
		for i < len(hs) && hs[i].hi < a.Seq {
			i++
		}
		next = a.Seq + 1
		if i == len(hs) || hs[i].lo > a.Seq {
			return nil // not a hole
		}
		ts := a.Ingested
		if ts.IsZero() {
			ts = a.Stored
		}
		batch = append(batch, rec{seq: a.Seq, res: a.Source, raw: a.Data, ts: ts})
		if len(batch) >= batchMax && !flush() {
			return context.Canceled
		}
		return nil
	})
	if err == nil && flush() {
		gone(hs[len(hs)-1].hi)
		return
	}
	// Not read: taken again at a later check.
	for _, r := range batch {
		f.tr.failed(r.seq, r.seq)
	}
	for _, h := range hs {
		if h.hi >= next {
			f.tr.failed(max(h.lo, next), h.hi)
		}
	}
	if err != nil && f.ctx.Err() == nil && !f.s.bus.Report(err) {
		f.s.log.Warn("state: cannot read events back from the archive; trying again", "err", err)
	}
}

// checkpointRefresh: the checkpoint is written again after this even
// when it did not move, so that the bucket's max_age does not drop it.
const checkpointRefresh = time.Hour

// save saves the checkpoint if it moved.
func (f *feeder) save() {
	if f.tr.lowWater() == f.saved && time.Since(f.savedAt) < checkpointRefresh {
		return
	}
	err := f.saveNow()
	switch {
	case err != nil && !f.saveErr:
		if !f.s.bus.Report(err) {
			f.s.log.Warn("state: cannot save the checkpoint: a restart reads back more of the archive", "err", err)
		}
	case err == nil && f.saveErr:
		f.s.log.Info("state: checkpoint saved again")
	}
	f.saveErr = err != nil
}

func (f *feeder) saveNow() error {
	low := f.tr.lowWater()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := f.s.saveCheckpoint(ctx, f.archive, low); err != nil {
		return err
	}
	f.saved, f.savedAt = low, time.Now()
	return nil
}

// appliedThrough is the feed's low-water mark (local feed; 0 otherwise).
func (s *Store) appliedThrough() uint64 {
	s.fmu.Lock()
	defer s.fmu.Unlock()
	if s.feed == nil || s.feed.tr == nil {
		return 0
	}
	return s.feed.tr.lowWater()
}
