package bus

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// The router of an embedded bus that listens on no port takes events from
// Publish (local readers), which writes them to EVENTS only; the router
// keeps a checkpoint of the archive (CheckpointsBucket) and reads it back
// at start (ReadEvents). WORK is not written then: what an older version,
// or a run with bus.listen, left in it is read back once (ReadBack),
// routed, then purged (Trim) (docs/architecture.md, "Routing").

// ArchiveLastAtOpen is the archive's last sequence when the bus opened:
// every event above it was stored by this process.
func (b *Bus) ArchiveLastAtOpen() uint64 { return b.eventsAtOpen }

func (w *WorkQueue) stream(ctx context.Context) (jetstream.Stream, error) {
	w.mu.Lock()
	s := w.st
	w.mu.Unlock()
	if s != nil {
		return s, nil
	}
	s, err := w.b.rjs.Stream(ctx, w.b.n.stream(StreamWork))
	if err != nil {
		return nil, fmt.Errorf("bus: WORK: %w", err)
	}
	w.mu.Lock()
	w.st = s
	w.mu.Unlock()
	return s, nil
}

// LastSeq is the sequence of the last message stored in WORK (0: none
// ever).
func (w *WorkQueue) LastSeq(ctx context.Context) (uint64, error) {
	s, err := w.stream(ctx)
	if err != nil {
		return 0, err
	}
	info, err := s.Info(ctx)
	if err != nil {
		return 0, fmt.Errorf("bus: WORK: %w", err)
	}
	return info.State.LastSeq, nil
}

// Held is how many messages WORK holds, and the sequence of the last one
// ever stored.
func (w *WorkQueue) Held(ctx context.Context) (msgs, last uint64, err error) {
	s, err := w.stream(ctx)
	if err != nil {
		return 0, 0, err
	}
	info, err := s.Info(ctx)
	if err != nil {
		return 0, 0, fmt.Errorf("bus: WORK: %w", err)
	}
	return info.State.Msgs, info.State.LastSeq, nil
}

// Trim removes every WORK message of sequence below below (settled, or
// not for this router), in one purge.
func (w *WorkQueue) Trim(ctx context.Context, below uint64) error {
	if below <= 1 {
		return nil
	}
	s, err := w.stream(ctx)
	if err != nil {
		return err
	}
	if err := s.Purge(ctx, jetstream.WithPurgeSequence(below)); err != nil {
		w.mu.Lock()
		w.st = nil // looked up again: JetStream may have restarted
		w.mu.Unlock()
		return fmt.Errorf("bus: trim WORK: %w", err)
	}
	return nil
}

// DropConsumer deletes the durable consumer (WorkConsumer), which an
// embedded bus's router does not use: it reads back what an earlier run
// left with ReadBack, which a work queue allows only without it. What
// the consumer had handed out and not settled stays in WORK.
func (w *WorkQueue) DropConsumer(ctx context.Context) error {
	err := w.b.rjs.DeleteConsumer(ctx, w.b.n.stream(StreamWork), WorkConsumer)
	if err != nil && !errors.Is(err, jetstream.ErrConsumerNotFound) {
		return fmt.Errorf("bus: WORK consumer: %w", err)
	}
	w.mu.Lock()
	w.cons = nil
	w.mu.Unlock()
	return nil
}

// readBackBatch is how many messages ReadBack asks for at a time.
const readBackBatch = 256

// ReadBack hands fn, in order of sequence, every message WORK holds of
// sequence below below, as Stored (Event nil when the body is unreadable;
// EventsSeq zero). It acknowledges nothing: what fn is given stays in
// WORK until trimmed. It stops at ctx's end or fn's first error.
// DropConsumer must have been called.
func (w *WorkQueue) ReadBack(ctx context.Context, below uint64, fn func(Stored) error) error {
	if below <= 1 {
		return nil
	}
	name := w.b.n.stream(StreamWork)
	cons, err := w.b.rjs.CreateConsumer(ctx, name, jetstream.ConsumerConfig{
		Description:       "reads back what an earlier run left unsettled",
		DeliverPolicy:     jetstream.DeliverAllPolicy,
		AckPolicy:         jetstream.AckExplicitPolicy,
		AckWait:           time.Hour, // nothing is acknowledged, nothing handed out twice
		MaxAckPending:     -1,
		MaxDeliver:        1,
		InactiveThreshold: time.Minute,
		MemoryStorage:     true,
	})
	if err != nil {
		return fmt.Errorf("bus: read back WORK: %w", err)
	}
	defer func() {
		dctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = w.b.rjs.DeleteConsumer(dctx, name, cons.CachedInfo().Name)
	}()
	for {
		batch, err := cons.FetchNoWait(readBackBatch)
		if err != nil {
			return fmt.Errorf("bus: read back WORK: %w", err)
		}
		got := 0
		for m := range batch.Messages() {
			got++
			md, err := m.Metadata()
			if err != nil {
				continue
			}
			seq := md.Sequence.Stream
			if seq >= below {
				return nil
			}
			h := m.Headers()
			st := Stored{
				Source: h.Get(HdrSource), Raw: m.Data(), Key: EventKey(h),
				Ingested: parseTime(h.Get(HdrIngested)), WorkSeq: seq,
			}
			st.Event, _ = DecodeEvent(m.Data())
			if err := fn(st); err != nil {
				return err
			}
		}
		if err := batch.Error(); err != nil && !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, jetstream.ErrNoMessages) {
			return fmt.Errorf("bus: read back WORK: %w", err)
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if got == 0 {
			info, err := cons.Info(ctx)
			if err != nil {
				return fmt.Errorf("bus: read back WORK: %w", err)
			}
			if info.NumPending == 0 {
				return nil
			}
			select { // not handed out yet
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(10 * time.Millisecond):
			}
		}
	}
}

// CopyToWork writes to WORK the events of the archive with sequences from
// from to to (those a router of an embedded bus that listens on no port
// had not settled, above its checkpoint), for a router that consumes WORK
// now (bus.listen set since). Each copy carries the event's key as
// Nats-Msg-Id, so a second run inside WORK's duplicate window stores
// nothing twice. It returns how many it wrote.
func (w *WorkQueue) CopyToWork(ctx context.Context, from, to uint64) (copied int, err error) {
	b := w.b
	err = b.ReadEvents(ctx, from, to, func(a *Archived) error {
		e, err := DecodeEvent(a.Data)
		if err != nil {
			b.log.Error("an unreadable archived event is not copied to WORK", "seq", a.Seq, "err", err)
			return nil
		}
		m := &nats.Msg{
			Subject: b.n.workSubjectOf(b.n.subject(EventSubject(a.Source, e.Type()))),
			Header:  nats.Header{},
			Data:    a.Data,
		}
		m.Header.Set(HdrKey, a.Key)
		m.Header.Set(HdrContentType, ContentTypeEvent)
		m.Header.Set(HdrSource, a.Source)
		m.Header.Set(HdrIngested, a.Ingested.UTC().Format(time.RFC3339Nano))
		m.Header.Set(jetstream.MsgIDHeader, a.Key)
		if _, err := b.rjs.PublishMsg(ctx, m); err != nil {
			return fmt.Errorf("bus: copy to WORK: %w", err)
		}
		copied++
		return nil
	})
	return copied, err
}
