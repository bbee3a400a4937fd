package bus

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// WorkConsumer is the durable name of the router's consumer of WORK. All
// replicas share it, so each event is routed by one of them. Before WORK
// existed the router consumed EVENTS under the same name (see
// WorkQueue.MoveLegacy).
const WorkConsumer = "router"

// WorkQueue is the router's durable consumer of WORK (docs/architecture.md,
// "Routing"). It runs on a connection of its own, so that its deliveries
// and acknowledgements do not queue behind ingest. Safe for concurrent
// use.
type WorkQueue struct {
	b    *Bus
	mu   sync.Mutex
	cons jetstream.Consumer
	st   jetstream.Stream // WORK, for Trim and ReadBack (worklocal.go)
}

// Work returns the WORK consumer; Open creates it on the bus.
func (b *Bus) Work() *WorkQueue { return &WorkQueue{b: b} }

// WorkOptions are the settings of the WORK consumer.
type WorkOptions struct {
	// AckWait is how long a message handed out may go without news (an
	// acknowledgement or InProgress) before it is handed out again; zero:
	// the bus's ack_wait.
	AckWait time.Duration
	// MaxAckPending is how many messages may be handed out and not yet
	// settled.
	MaxAckPending int
}

// Open creates the durable consumer, or updates its settings.
func (w *WorkQueue) Open(ctx context.Context, o WorkOptions) error {
	// From now on Publish writes WORK on any bus (writesWork).
	w.b.workConsumed.Store(true)
	cc := jetstream.ConsumerConfig{
		Durable:       WorkConsumer,
		Description:   "matches every event against the rules",
		DeliverPolicy: jetstream.DeliverAllPolicy,
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       cmp.Or(o.AckWait, w.b.cfg.AckWait.D()),
		MaxAckPending: o.MaxAckPending,
		MaxDeliver:    -1,
	}
	var cons jetstream.Consumer
	err := w.b.untilUp(ctx, "WORK consumer", func(ctx context.Context) (err error) {
		cons, err = w.b.rjs.CreateOrUpdateConsumer(ctx, w.b.n.stream(StreamWork), cc)
		return err
	})
	if err != nil {
		return fmt.Errorf("bus: WORK consumer: %w", err)
	}
	w.mu.Lock()
	w.cons = cons
	w.mu.Unlock()
	return nil
}

// IsOpen tells whether Open has made the consumer.
func (w *WorkQueue) IsOpen() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.cons != nil
}

// Messages starts handing out WORK messages, pulling up to pull at a
// time. Open must have been called.
func (w *WorkQueue) Messages(pull int) (*MsgStream, error) {
	w.mu.Lock()
	cons := w.cons
	w.mu.Unlock()
	if cons == nil {
		return nil, errors.New("bus: WORK consumer not open")
	}
	it, err := cons.Messages(jetstream.PullMaxMessages(pull))
	if err != nil {
		return nil, fmt.Errorf("bus: WORK consumer: %w", err)
	}
	return &MsgStream{it: it}, nil
}

// MoveLegacy moves the events that the router's consumer of EVENTS (the
// layout before WORK) had not yet settled into WORK, then deletes that
// consumer, and returns how many it moved (found is false when there was
// no such consumer). The events are copied from the
// consumer's ack floor on, so an event is routed again rather than lost
// if it was acked out of order; the copies carry the event's key as
// Nats-Msg-Id, so a second run inside the dedup window stores nothing
// twice. Nothing happens when there is no such consumer.
func (w *WorkQueue) MoveLegacy(ctx context.Context) (moved int, found bool, err error) {
	js := w.b.rjs
	old, err := js.Consumer(ctx, w.b.n.stream(StreamEvents), WorkConsumer)
	if errors.Is(err, jetstream.ErrConsumerNotFound) {
		return 0, false, nil
	}
	if err != nil {
		return 0, true, err
	}
	info, err := old.Info(ctx)
	if err != nil {
		return 0, true, err
	}
	stream, err := js.Stream(ctx, w.b.n.stream(StreamEvents))
	if err != nil {
		return 0, true, err
	}
	sinfo, err := stream.Info(ctx)
	if err != nil {
		return 0, true, err
	}
	from, last := max(info.AckFloor.Stream+1, sinfo.State.FirstSeq), sinfo.State.LastSeq
	if from <= last {
		oc, err := stream.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{
			DeliverPolicy: jetstream.DeliverByStartSequencePolicy, OptStartSeq: from,
		})
		if err != nil {
			return moved, true, err
		}
		for done := false; !done; {
			batch, err := oc.Fetch(256, jetstream.FetchMaxWait(time.Second))
			if err != nil {
				return moved, true, err
			}
			got := 0
			for msg := range batch.Messages() {
				got++
				meta, err := msg.Metadata()
				if err != nil {
					return moved, true, err
				}
				if meta.Sequence.Stream > last {
					done = true
					break
				}
				m := &nats.Msg{Subject: w.b.n.workSubjectOf(msg.Subject()), Header: msg.Headers(), Data: msg.Data()}
				if m.Header.Get(jetstream.MsgIDHeader) == "" {
					// Written by this version while the migration ran:
					// WORK has it already, and dedups on the key.
					m.Header.Set(jetstream.MsgIDHeader, EventKey(m.Header))
				}
				if _, err := js.PublishMsg(ctx, m); err != nil {
					return moved, true, err
				}
				moved++
				done = meta.Sequence.Stream >= last
			}
			if err := batch.Error(); err != nil {
				return moved, true, err
			}
			if got == 0 {
				done = true
			}
		}
	}
	if err := js.DeleteConsumer(ctx, w.b.n.stream(StreamEvents), WorkConsumer); err != nil && !errors.Is(err, jetstream.ErrConsumerNotFound) {
		return moved, true, err
	}
	return moved, true, nil
}
