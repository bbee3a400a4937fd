package bus

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/nats-io/nats.go/jetstream"
)

// The headers of a RETRY record of a route that orders its events per key
// (docs/delivery.md, "Ordering per key").
const (
	HdrOrderKey = "Eb-Order-Key" // RETRY: the hash of the event's ordering key
	HdrOrderSeq = "Eb-Order-Seq" // RETRY: the event's sequence in WORK
)

// OrderMark is where an event of an ordered route waits in RETRY: its
// ordering key (hashed) and its sequence in WORK.
type OrderMark struct {
	Key string
	Seq uint64
}

// RetryOrderMarks reads the ordering marks of the events waiting on the
// RETRY subject of the route (rule, target), in the order they were
// written, reading headers only. A route that orders its events calls it
// when it starts, before it reads RETRY: each mark holds its key until
// that event is done, so that a later event of the key is not delivered
// first after a restart. Records without a mark are skipped.
func (b *Bus) RetryOrderMarks(ctx context.Context, rule, target string) ([]OrderMark, error) {
	s, err := b.js.Stream(ctx, StreamRetry)
	if err != nil {
		return nil, fmt.Errorf("bus: RETRY marks: %w", err)
	}
	subject := RetrySubject(rule, target)
	info, err := s.Info(ctx, jetstream.WithSubjectFilter(subject))
	if err != nil {
		return nil, fmt.Errorf("bus: RETRY marks: %w", err)
	}
	if info.State.Subjects[subject] == 0 {
		return nil, nil
	}
	last := info.State.LastSeq
	c, err := s.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{
		FilterSubjects: []string{subject},
		HeadersOnly:    true,
	})
	if err != nil {
		return nil, fmt.Errorf("bus: RETRY marks: %w", err)
	}
	var marks []OrderMark
	for {
		batch, err := c.FetchNoWait(1024)
		if err != nil {
			return marks, fmt.Errorf("bus: RETRY marks: %w", err)
		}
		got := 0
		for m := range batch.Messages() {
			got++
			md, err := m.Metadata()
			if err != nil {
				return marks, fmt.Errorf("bus: RETRY marks: %w", err)
			}
			h := m.Headers()
			if seq, _ := strconv.ParseUint(h.Get(HdrOrderSeq), 10, 64); seq > 0 && h.Get(HdrOrderKey) != "" {
				marks = append(marks, OrderMark{Key: h.Get(HdrOrderKey), Seq: seq})
			}
			if md.Sequence.Stream >= last {
				return marks, nil
			}
		}
		if err := batch.Error(); err != nil && !errors.Is(err, jetstream.ErrNoMessages) {
			return marks, fmt.Errorf("bus: RETRY marks: %w", err)
		}
		if got == 0 {
			return marks, nil
		}
		if err := ctx.Err(); err != nil {
			return marks, err
		}
	}
}

// WorkProgress is where the WORK consumer stands.
type WorkProgress struct {
	// Delivered is the highest WORK sequence handed out so far.
	Delivered uint64
	// AckFloor is the sequence up to which every message is settled.
	AckFloor uint64
	// Pending is the number of messages handed out and not yet settled.
	Pending int
}

// Progress reads where the WORK consumer stands. Read before Messages, it
// tells which messages a crashed process left unsettled: those are handed
// out again only after ack_wait, while newer ones come at once.
func (w *WorkQueue) Progress(ctx context.Context) (WorkProgress, error) {
	w.mu.Lock()
	cons := w.cons
	w.mu.Unlock()
	if cons == nil {
		return WorkProgress{}, errors.New("bus: WORK consumer not open")
	}
	info, err := cons.Info(ctx)
	if err != nil {
		return WorkProgress{}, fmt.Errorf("bus: WORK consumer: %w", err)
	}
	return WorkProgress{Delivered: info.Delivered.Stream, AckFloor: info.AckFloor.Stream, Pending: info.NumAckPending}, nil
}
