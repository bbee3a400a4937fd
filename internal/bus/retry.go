package bus

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// RetryConsumer is the durable name of the RETRY consumer of the route
// (rule, target).
func RetryConsumer(rule, target string) string { return "retry_" + rule + "_" + target }

// RetryQueue is the RETRY subject of one route (a rule and one of its
// targets) and the route's durable consumer of it (docs/architecture.md,
// "Delivery, retry and dead letters").
type RetryQueue struct {
	b            *Bus
	rule, target string
	cons         jetstream.Consumer // set by Open
}

// RetryQueue returns the RETRY queue of the route (rule, target); Open
// creates its consumer on the bus.
func (b *Bus) RetryQueue(rule, target string) *RetryQueue {
	return &RetryQueue{b: b, rule: rule, target: target}
}

// Open creates the route's durable consumer, or updates its settings.
// ackWait is how long a message handed out may go without news before it
// is handed out again (zero: the bus's ack_wait). Open is not safe to
// call concurrently with Fetch.
func (q *RetryQueue) Open(ctx context.Context, ackWait time.Duration) error {
	cons, err := q.b.js.CreateOrUpdateConsumer(ctx, q.b.n.stream(StreamRetry), jetstream.ConsumerConfig{
		Durable:       RetryConsumer(q.rule, q.target),
		Description:   "retries of rule " + q.rule + " to target " + q.target,
		FilterSubject: q.b.n.subject(RetrySubject(q.rule, q.target)),
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       cmp.Or(ackWait, q.b.cfg.AckWait.D()),
		MaxAckPending: 10000,
		MaxDeliver:    -1,
	})
	if err != nil {
		return fmt.Errorf("bus: RETRY consumer: %w", q.b.writeErr(err))
	}
	q.cons = cons
	return nil
}

// Fetch asks for up to n messages, waiting until ctx is done for them to
// arrive. Read them with Batch.All.
func (q *RetryQueue) Fetch(ctx context.Context, n int) (*Batch, error) {
	if q.cons == nil {
		return nil, errors.New("bus: RETRY consumer not open")
	}
	b, err := q.cons.Fetch(n, jetstream.FetchContext(ctx))
	if err != nil {
		return nil, err
	}
	return &Batch{b: b}, nil
}

// PutRetry writes r to its route's RETRY subject. With r.MsgID set, a
// second write of the same id inside the dedup window is stored once.
// ErrUnavailable when no stream leader answers (see Report).
func (b *Bus) PutRetry(ctx context.Context, r *RetryRecord) error {
	m := r.Encode()
	m.Subject = b.n.subject(m.Subject)
	_, err := b.js.PublishMsg(ctx, m)
	return b.writeErr(err)
}

// PutDeadLetter writes d to its route's DLQ subject. With d.MsgID set, a
// second write of the same id inside the dedup window is stored once.
func (b *Bus) PutDeadLetter(ctx context.Context, d *DeadLetter) error {
	m := d.Encode()
	m.Subject = b.n.subject(m.Subject)
	_, err := b.js.PublishMsg(ctx, m)
	return b.writeErr(err)
}

// DropRoute forgets the RETRY queue of a route that is gone: it deletes
// the route's consumer and the messages waiting on its subject. A route
// that has none is not an error.
func (b *Bus) DropRoute(ctx context.Context, rule, target string) error {
	var errs []error
	if err := b.js.DeleteConsumer(ctx, b.n.stream(StreamRetry), RetryConsumer(rule, target)); err != nil && !errors.Is(err, jetstream.ErrConsumerNotFound) {
		errs = append(errs, fmt.Errorf("delete the RETRY consumer: %w", err))
	}
	s, err := b.js.Stream(ctx, b.n.stream(StreamRetry))
	if err == nil {
		err = s.Purge(ctx, jetstream.WithPurgeSubject(b.n.subject(RetrySubject(rule, target))))
	}
	if err != nil {
		errs = append(errs, fmt.Errorf("purge the RETRY subject: %w", err))
	}
	return errors.Join(errs...)
}

// RetryCounts returns the number of messages waiting on each route's RETRY
// subject (see RetrySubject), in one request; subjects with none are
// absent. A route whose subject holds messages needs its consumer open.
func (b *Bus) RetryCounts(ctx context.Context) (map[string]uint64, error) {
	s, err := b.js.Stream(ctx, b.n.stream(StreamRetry))
	if err != nil {
		return nil, err
	}
	info, err := s.Info(ctx, jetstream.WithSubjectFilter(b.n.subject("retry.>")))
	if err != nil {
		return nil, err
	}
	if info.State.Subjects == nil {
		return map[string]uint64{}, nil
	}
	return b.n.logicalCounts(info.State.Subjects), nil
}
