package bus

import (
	"context"
	"errors"
	"iter"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Msg is a message handed out by one of the bus's durable consumers (the
// router's WORK consumer, a route's RETRY consumer, the state feed). It
// must be settled once: Ack, Nak, NakWithDelay or Term; InProgress keeps
// it from being handed out again meanwhile.
//
// Msg is a small value (it wraps the client's message, with no copy of
// its data or headers): pass it by value, compare it with ==, use it as
// a map key. The zero Msg is no message (IsZero).
type Msg struct{ m jetstream.Msg }

// WrapMsg makes a Msg of a JetStream message. It is for the bus and for
// tests that need a fake message; the bridge's packages get theirs from
// the bus's consumers.
func WrapMsg(m jetstream.Msg) Msg { return Msg{m: m} }

// IsZero tells whether m is the zero Msg.
func (m Msg) IsZero() bool { return m.m == nil }

// Subject is the subject the message was stored on.
func (m Msg) Subject() string { return m.m.Subject() }

// Data is the message body (for every stream of the bus, a CloudEvent in
// the JSON format). It is not a copy: do not change it.
func (m Msg) Data() []byte { return m.m.Data() }

// Header returns the first value of the header name ("" when missing).
func (m Msg) Header(name string) string { return m.m.Headers().Get(name) }

// Source is the source resource that ingested the event (Eb-Source).
func (m Msg) Source() string { return m.Header(HdrSource) }

// Key is the event's dedup key (see EventKey).
func (m Msg) Key() string { return EventKey(m.m.Headers()) }

// Ingested is when the event was first stored (zero when unknown).
func (m Msg) Ingested() time.Time { return parseTime(m.Header(HdrIngested)) }

// Retry reads the message as a RETRY record.
func (m Msg) Retry() *RetryRecord { return DecodeRetry(m.m.Headers(), m.m.Data()) }

// MsgInfo is where a message stands in its stream and consumer.
type MsgInfo struct {
	// Seq is the message's sequence in its stream.
	Seq uint64
	// NumDelivered is how many times it has been handed out (1 the first
	// time).
	NumDelivered uint64
	// Time is when it was stored.
	Time time.Time
}

// Info reads the message's sequence, delivery count and time.
func (m Msg) Info() (MsgInfo, error) {
	md, err := m.m.Metadata()
	if err != nil {
		return MsgInfo{}, err
	}
	return MsgInfo{Seq: md.Sequence.Stream, NumDelivered: md.NumDelivered, Time: md.Timestamp}, nil
}

// Ack settles the message: it is done (and leaves a work-queue stream).
func (m Msg) Ack() error { return m.m.Ack() }

// Nak hands the message back to be handed out again at once.
func (m Msg) Nak() error { return m.m.Nak() }

// NakWithDelay hands the message back to be handed out again after d.
func (m Msg) NakWithDelay(d time.Duration) error { return m.m.NakWithDelay(d) }

// InProgress tells the bus that work on the message goes on: its
// ack_wait starts again.
func (m Msg) InProgress() error { return m.m.InProgress() }

// Term settles the message for good without processing it (it is
// unreadable); reason says why.
func (m Msg) Term(reason string) error { return m.m.TermWithReason(reason) }

// ErrConsumerStopped is returned by MsgStream.Next once Stop was called.
var ErrConsumerStopped = errors.New("bus: consumer stopped")

// MsgStream hands out the messages of a durable consumer one at a time,
// pulling ahead in batches.
type MsgStream struct{ it jetstream.MessagesContext }

// Next waits for the next message. It returns ErrConsumerStopped once
// Stop was called; other errors are passing (a missed heartbeat, a
// reconnection): call Next again.
func (s *MsgStream) Next() (Msg, error) {
	m, err := s.it.Next()
	if err != nil {
		if errors.Is(err, jetstream.ErrMsgIteratorClosed) {
			return Msg{}, ErrConsumerStopped
		}
		return Msg{}, err
	}
	return Msg{m: m}, nil
}

// Stop stops pulling; Next returns ErrConsumerStopped after the messages
// already received.
func (s *MsgStream) Stop() { s.it.Stop() }

// Batch is the answer of one Fetch: up to the number of messages asked
// for, handed out as they arrive.
type Batch struct{ b jetstream.MessageBatch }

// All yields the messages of the batch as they arrive, until the batch is
// complete or its wait ends.
func (b *Batch) All() iter.Seq[Msg] {
	return func(yield func(Msg) bool) {
		for m := range b.b.Messages() {
			if !yield(Msg{m: m}) {
				// Let the rest arrive: they are the caller's, and are
				// handed out again after ack_wait unless settled.
				for m := range b.b.Messages() {
					_ = m.Nak()
				}
				return
			}
		}
	}
}

// Err is why the batch ended early, once All is done; nil when it ended
// because its wait ran out (a batch with fewer messages than asked for is
// normal).
func (b *Batch) Err() error {
	err := b.b.Error()
	if err == nil || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, nats.ErrTimeout) || errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}
