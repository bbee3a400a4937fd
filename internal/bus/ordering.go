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
// written. A route that orders its events calls it
// when it starts, before it reads RETRY: each mark holds its key until
// that event is done, so that a later event of the key is not delivered
// first after a restart. Records without a mark are skipped.
func (b *Bus) RetryOrderMarks(ctx context.Context, rule, target string) ([]OrderMark, error) {
	s, err := b.js.Stream(ctx, b.n.stream(StreamRetry))
	if err != nil {
		return nil, fmt.Errorf("bus: RETRY marks: %w", err)
	}
	subject := b.n.subject(RetrySubject(rule, target))
	info, err := s.Info(ctx, jetstream.WithSubjectFilter(subject))
	if err != nil {
		return nil, fmt.Errorf("bus: RETRY marks: %w", err)
	}
	if info.State.Subjects[subject] == 0 {
		return nil, nil
	}
	// RETRY is a work queue, which allows no second consumer on the
	// route's subject: the records are read one by one, each the next of
	// the subject from a sequence on.
	var marks []OrderMark
	for seq := info.State.FirstSeq; seq <= info.State.LastSeq; {
		m, err := s.GetMsg(ctx, seq, jetstream.WithGetMsgSubject(subject))
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			return marks, nil
		}
		if err != nil {
			return marks, fmt.Errorf("bus: RETRY marks: %w", err)
		}
		if oseq, _ := strconv.ParseUint(m.Header.Get(HdrOrderSeq), 10, 64); oseq > 0 && m.Header.Get(HdrOrderKey) != "" {
			marks = append(marks, OrderMark{Key: m.Header.Get(HdrOrderKey), Seq: oseq})
		}
		seq = m.Sequence + 1
	}
	return marks, nil
}

// WorkProgress is where the WORK consumer stands.
type WorkProgress struct {
	// Delivered is the highest WORK sequence handed out so far.
	Delivered uint64
	// AckFloor is the sequence up to which every message is settled.
	AckFloor uint64
	// Pending is the number of messages handed out and not yet settled,
	// as the consumer's state says. After a crash that state may be older
	// than the stream's: it may count messages that were acknowledged (and
	// so removed from WORK) just before.
	Pending int
	// Stored is the number of messages WORK still holds of sequence up to
	// Delivered: those handed out and not acknowledged. Set by Progress
	// when Pending is not zero.
	Stored int
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
	p := WorkProgress{Delivered: info.Delivered.Stream, AckFloor: info.AckFloor.Stream, Pending: info.NumAckPending}
	if p.Pending == 0 {
		return p, nil
	}
	st, err := w.b.rjs.Stream(ctx, w.b.n.stream(StreamWork))
	if err != nil {
		return p, fmt.Errorf("bus: WORK: %w", err)
	}
	si, err := st.Info(ctx, jetstream.WithDeletedDetails(true))
	if err != nil {
		return p, fmt.Errorf("bus: WORK: %w", err)
	}
	first := si.State.FirstSeq
	if si.State.Msgs == 0 || first == 0 || p.Delivered < first {
		return p, nil
	}
	n := p.Delivered - first + 1
	for _, d := range si.State.Deleted {
		if d >= first && d <= p.Delivered {
			n--
		}
	}
	p.Stored = int(n)
	return p, nil
}
