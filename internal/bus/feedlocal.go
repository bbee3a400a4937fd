package bus

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// The state feed of the embedded bus (internal/state) takes events from
// Publish in this process (AddLocalReader) instead of a durable consumer
// of EVENTS. What it needs of the bus for that: the archive's identity
// (for its checkpoint), the floor of the durable consumer of releases
// before it (to go on from there once), and reads of EVENTS by sequence
// with no consumer state kept by the server.

// StateFeedLocal reports whether the state feed takes events from Publish
// in this process (the embedded bus that listens on no port, which one
// bridge owns) rather than from the durable consumer StateConsumer (an
// external cluster, or an embedded bus with bus.listen set: other bridges
// may share those, and publish events this process does not see). The
// router decides its mode the same way.
func (b *Bus) StateFeedLocal() bool { return b.cfg.URL == "" && b.cfg.Listen == "" }

// ArchiveCreated is when the EVENTS stream was created: it tells an
// archive from one made again under the same name.
func (b *Bus) ArchiveCreated(ctx context.Context) (time.Time, error) {
	s, err := b.js.Stream(ctx, b.n.stream(StreamEvents))
	if err != nil {
		return time.Time{}, fmt.Errorf("bus: archive: %w", err)
	}
	return s.CachedInfo().Created, nil
}

// StateConsumerFloor returns the ack floor of the durable consumer
// StateConsumer (every event up to it was written to the state), and
// whether the consumer exists.
func (b *Bus) StateConsumerFloor(ctx context.Context) (floor uint64, exists bool, err error) {
	c, err := b.js.Consumer(ctx, b.n.stream(StreamEvents), StateConsumer)
	if errors.Is(err, jetstream.ErrConsumerNotFound) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("bus: state consumer: %w", err)
	}
	return c.CachedInfo().AckFloor.Stream, true, nil
}

// DeleteStateConsumer removes the durable consumer StateConsumer (gone
// already is not an error).
func (b *Bus) DeleteStateConsumer(ctx context.Context) error {
	err := b.js.DeleteConsumer(ctx, b.n.stream(StreamEvents), StateConsumer)
	if err != nil && !errors.Is(err, jetstream.ErrConsumerNotFound) {
		return fmt.Errorf("bus: delete the state consumer: %w", err)
	}
	return nil
}

// ReadEvents calls fn, in order, for each event of EVENTS with a sequence
// from from to to, to being at most the archive's last sequence at some
// time before the call. It returns nil once it has read through to: a
// sequence of the range fn was not given is not in the archive (removed by
// its limits or deleted). It reads with an ephemeral consumer in memory
// that acknowledges nothing; an error of fn ends it with that error.
func (b *Bus) ReadEvents(ctx context.Context, from, to uint64, fn func(*Archived) error) error {
	from = max(from, 1)
	if to < from {
		return nil
	}
	s, err := b.js.Stream(ctx, b.n.stream(StreamEvents))
	if err != nil {
		return fmt.Errorf("bus: read events: %w", err)
	}
	cons, err := s.CreateConsumer(ctx, jetstream.ConsumerConfig{
		FilterSubject: b.n.subject(AllEvents),
		DeliverPolicy: jetstream.DeliverByStartSequencePolicy, OptStartSeq: from,
		AckPolicy: jetstream.AckNonePolicy, InactiveThreshold: time.Minute, MemoryStorage: true,
	})
	if err != nil {
		return fmt.Errorf("bus: read events: %w", err)
	}
	ci := cons.CachedInfo()
	defer func() { _ = s.DeleteConsumer(context.WithoutCancel(ctx), ci.Name) }()
	if ci.NumPending == 0 {
		return nil // nothing from from on
	}
	for idle := 0; ; {
		if err := ctx.Err(); err != nil {
			return err
		}
		batch, err := cons.Fetch(500, jetstream.FetchMaxWait(time.Second))
		if err != nil {
			return fmt.Errorf("bus: read events: %w", err)
		}
		got, done := 0, false
		var ferr error
		for msg := range batch.Messages() {
			got++
			if done {
				continue // drain the fetch so that it ends
			}
			meta, err := msg.Metadata()
			if err != nil {
				continue
			}
			seq := meta.Sequence.Stream
			if seq > to {
				done = true
				continue
			}
			h := msg.Headers()
			if err := fn(&Archived{
				Seq: seq, Stored: meta.Timestamp, Source: h.Get(HdrSource), Key: EventKey(h),
				Ingested: parseTime(h.Get(HdrIngested)), Data: msg.Data(),
			}); err != nil {
				done, ferr = true, err
				continue
			}
			// Nothing after it: the rest of the range is not there.
			done = seq == to || meta.NumPending == 0
		}
		if done {
			return ferr
		}
		if err := batch.Error(); err != nil && !errors.Is(err, jetstream.ErrNoMessages) && !errors.Is(err, context.DeadlineExceeded) {
			return fmt.Errorf("bus: read events: %w", err)
		}
		if got > 0 {
			idle = 0
			continue
		}
		// Nothing came for a while: is anything left to read?
		if idle++; idle >= 2 {
			info, err := cons.Info(ctx)
			if err != nil {
				return fmt.Errorf("bus: read events: %w", err)
			}
			if info.NumPending == 0 {
				return nil
			}
		}
	}
}
