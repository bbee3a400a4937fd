package bus

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// The state feed of the embedded bus (internal/state) takes events from
// Publish in this process (AddLocalReader) instead of a durable consumer
// of EVENTS. What it needs of the bus for that: a checkpoint saved in
// data_dir (the EVENTS sequence below which every event is in the state),
// the floor of the durable consumer of releases before it (to go on from
// there once), and reads of EVENTS by sequence with no consumer state
// kept by the server.

// StateFeedLocal reports whether the state feed takes events from Publish
// in this process (the embedded bus, which one bridge owns) rather than
// from the durable consumer StateConsumer (an external cluster, which
// several bridges may share).
func (b *Bus) StateFeedLocal() bool { return b.cfg.URL == "" }

// stateCheckpointFile is the state feed's checkpoint in data_dir. Layout,
// little-endian: magic, the EVENTS stream's creation time (a checkpoint of
// another archive is ignored), the sequence, and a CRC-32 of all that.
const (
	stateCheckpointFile  = "state.checkpoint"
	stateCheckpointMagic = "EBSTATE1"
	stateCheckpointSize  = 8 + 8 + 8 + 4
)

// Checkpoint is the state feed's checkpoint file for the archive the bus
// has now.
type Checkpoint struct {
	path    string
	created int64 // the EVENTS stream's creation time (unix nanos)
}

// StateCheckpoint returns the checkpoint of the state feed (embedded bus
// only: an error otherwise), tied to the archive as it is now.
func (b *Bus) StateCheckpoint(ctx context.Context) (*Checkpoint, error) {
	if !b.StateFeedLocal() {
		return nil, errors.New("bus: state checkpoint: not an embedded bus")
	}
	dir, err := filepath.Abs(b.cfg.DataDir)
	if err != nil {
		return nil, fmt.Errorf("bus: state checkpoint: %w", err)
	}
	s, err := b.js.Stream(ctx, b.n.stream(StreamEvents))
	if err != nil {
		return nil, fmt.Errorf("bus: state checkpoint: %w", err)
	}
	return &Checkpoint{path: filepath.Join(dir, stateCheckpointFile), created: s.CachedInfo().Created.UnixNano()}, nil
}

// Load reads the sequence saved. found is false when there is none for
// this archive; err says why a file there was not taken (damaged, or
// saved for another archive).
func (c *Checkpoint) Load() (seq uint64, found bool, err error) {
	buf, err := os.ReadFile(c.path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return 0, false, nil
	case err != nil:
		return 0, false, err
	case len(buf) != stateCheckpointSize || string(buf[:8]) != stateCheckpointMagic ||
		crc32.ChecksumIEEE(buf[:24]) != binary.LittleEndian.Uint32(buf[24:]):
		return 0, false, fmt.Errorf("%s is damaged", c.path)
	case int64(binary.LittleEndian.Uint64(buf[8:])) != c.created:
		return 0, false, fmt.Errorf("%s was saved for another archive", c.path)
	}
	return binary.LittleEndian.Uint64(buf[16:]), true, nil
}

// Save writes seq atomically (a temporary file, synced, renamed over it).
func (c *Checkpoint) Save(seq uint64) error {
	buf := make([]byte, 0, stateCheckpointSize)
	buf = append(buf, stateCheckpointMagic...)
	buf = binary.LittleEndian.AppendUint64(buf, uint64(c.created))
	buf = binary.LittleEndian.AppendUint64(buf, seq)
	buf = binary.LittleEndian.AppendUint32(buf, crc32.ChecksumIEEE(buf))
	f, err := os.CreateTemp(filepath.Dir(c.path), stateCheckpointFile+".*.tmp")
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
		err = os.Rename(f.Name(), c.path)
	}
	if err != nil {
		_ = os.Remove(f.Name())
	}
	return err
}

// Path is the checkpoint's file.
func (c *Checkpoint) Path() string { return c.path }

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
