package bus

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// StateConsumer is the durable name of the consumer of EVENTS that feeds
// the state bucket (docs/architecture.md, "Streams and buckets").
const StateConsumer = "state"

// FeedOptions are the settings of the state feed's consumer.
type FeedOptions struct {
	// AckWait is how long a message handed out may go without news before
	// it is handed out again (zero: the bus's ack_wait).
	AckWait time.Duration
	// MaxAckPending is how many messages may be handed out and not yet
	// settled.
	MaxAckPending int
	// Pull is how many messages are pulled ahead at most.
	Pull int
	// OnError, when set, is told of passing errors of the consumer (a
	// missed heartbeat is not one).
	OnError func(error)
}

// Feed is a running state feed; Stop ends it.
type Feed struct{ cc jetstream.ConsumeContext }

// StateFeed hands every archived event (EVENTS) to fn, from where the
// durable consumer StateConsumer left off (from the first event on a first
// start). fn runs on the client's goroutine, one message at a time; it
// must settle each message, at once or later, and may block (the consumer
// then stops pulling).
func (b *Bus) StateFeed(ctx context.Context, o FeedOptions, fn func(Msg)) (*Feed, error) {
	ccfg := jetstream.ConsumerConfig{
		Durable:       StateConsumer,
		Description:   "keeps the last event per key in the state bucket",
		DeliverPolicy: jetstream.DeliverAllPolicy,
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       cmp.Or(o.AckWait, b.cfg.AckWait.D()),
		MaxAckPending: o.MaxAckPending,
		FilterSubject: b.n.subject(AllEvents),
	}
	var cons jetstream.Consumer
	err := b.untilUp(ctx, "state consumer", func(ctx context.Context) (err error) {
		cons, err = b.js.CreateOrUpdateConsumer(ctx, b.n.stream(StreamEvents), ccfg)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("bus: state consumer: %w", err)
	}
	cc, err := cons.Consume(func(m jetstream.Msg) { fn(Msg{m: m}) },
		jetstream.PullMaxMessages(o.Pull),
		jetstream.ConsumeErrHandler(func(_ jetstream.ConsumeContext, err error) {
			if o.OnError != nil && !errors.Is(err, jetstream.ErrNoHeartbeat) {
				o.OnError(err)
			}
		}))
	if err != nil {
		return nil, fmt.Errorf("bus: state consumer: %w", err)
	}
	return &Feed{cc: cc}, nil
}

// Stop stops pulling. Messages fn has not settled are the caller's to
// settle (or are handed out again after ack_wait).
func (f *Feed) Stop() { f.cc.Stop() }
