package bus

import (
	"context"
)

// StreamStats are the size of one of the bus's streams.
type StreamStats struct {
	Msgs, Bytes uint64
}

// StreamStats returns the size of each of the bus's streams (EVENTS, WORK,
// RETRY, DLQ) that could be read.
func (b *Bus) StreamStats(ctx context.Context) map[string]StreamStats {
	out := make(map[string]StreamStats, 4)
	for _, name := range []string{StreamEvents, StreamWork, StreamRetry, StreamDLQ} {
		s, err := b.js.Stream(ctx, b.n.stream(name))
		if err != nil {
			continue
		}
		info, err := s.Info(ctx)
		if err != nil {
			continue
		}
		out[name] = StreamStats{Msgs: info.State.Msgs, Bytes: info.State.Bytes}
	}
	return out
}

// ConsumerStats are the counts of a durable consumer of a bus stream.
type ConsumerStats struct {
	// Pending: messages not yet handed out; AckPending: handed out and not
	// yet acknowledged; Redelivered: handed out more than once.
	Pending, AckPending, Redelivered uint64
}

// ConsumerStats returns the counts of the durable consumer name of stream
// (a logical name: StreamWork, ...).
func (b *Bus) ConsumerStats(ctx context.Context, stream, name string) (ConsumerStats, error) {
	c, err := b.js.Consumer(ctx, b.n.stream(stream), name)
	if err != nil {
		return ConsumerStats{}, err
	}
	info, err := c.Info(ctx)
	if err != nil {
		return ConsumerStats{}, err
	}
	return ConsumerStats{Pending: info.NumPending, AckPending: uint64(info.NumAckPending), Redelivered: uint64(info.NumRedelivered)}, nil
}
