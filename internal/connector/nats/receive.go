package nats

import (
	"context"
	"errors"
	"log/slog"

	ce "github.com/cloudevents/sdk-go/v2/event"
	"github.com/nats-io/nats.go"

	"github.com/eventbridge-dev/eventbridge/internal/connector"
	"github.com/eventbridge-dev/eventbridge/internal/connector/conntrack"
	"github.com/eventbridge-dev/eventbridge/internal/connector/intake"
)

// item is a received message and how to settle it with the broker.
type item struct {
	msg *nats.Msg
	// stored settles a message whose event is in the bus (or that went to
	// the dead-letter subject): ack, or an empty reply to a request.
	stored func()
	// failed settles a message whose event could not be stored: nak (the
	// broker redelivers), or an error reply to a request.
	failed func(err error)
	// invalid settles a message that is not a valid CloudEvent: term, or
	// an error reply to a request.
	invalid func(reason error)
}

// receiver is what both NATS sources do with a batch of messages.
type receiver struct {
	name string
	cfg  *IntakeConfig
	deps connector.Deps
	log  *slog.Logger
	m    conntrack.Series
	// deadLetter publishes a copy of an invalid message.
	deadLetter func(ctx context.Context, m *nats.Msg) error
	// retry: keep trying to store a batch until quit (core NATS, which
	// never redelivers); else settle it as failed at once (JetStream
	// redelivers).
	retry bool
	// fails logs failing stores once per outage, not once per batch or
	// retry.
	fails *intake.Failures
	// ctx ends a store in progress; quit ends waiting and new attempts.
	ctx, quit       context.Context
	cancel, quitNow context.CancelFunc
	// queue holds what the broker delivered for the worker; done is
	// closed when the worker ends.
	queue *intake.Queue[item]
	done  chan struct{}
}

// open gives the receiver its contexts and a queue of up to high
// messages, for a worker to take.
func (r *receiver) open(high int) {
	r.ctx, r.cancel = context.WithCancel(context.Background())
	r.quit, r.quitNow = context.WithCancel(r.ctx)
	r.queue = intake.NewQueue[item](high)
	r.done = make(chan struct{})
}

// work takes batches of up to maxBatch messages from the queue and
// handles them, until quit or the queue is closed.
//
// It is a pipeline of two stages, so that the next batch is decoded while
// the bus stores the one before: this goroutine stores and settles the
// batches one at a time, in the order taken (so a subscription's messages
// are stored in the order received), and a second one takes and decodes
// them, at most one batch ahead. Only decoded events wait between the two
// (one batch): the memory stays bounded by max_batch.
func (r *receiver) work(maxBatch int) {
	defer close(r.done)
	ready := make(chan decoded, 1)
	go func() {
		defer close(ready)
		for {
			batch := r.queue.Take(r.quit, maxBatch)
			if batch == nil {
				return
			}
			d, ok := r.decode(batch)
			if !ok {
				d.fail(r.quit.Err())
				return
			}
			if len(d.events) == 0 {
				continue
			}
			select {
			case ready <- d:
			case <-r.quit.Done():
				d.fail(r.quit.Err())
				return
			}
		}
	}()
	for d := range ready {
		if !r.store(d) {
			// Stopping: what was decoded meanwhile is not stored.
			for d := range ready {
				d.fail(r.quit.Err())
			}
			return
		}
	}
}

// decoded is a batch whose valid messages are decoded: events[i] is the
// event of items[i].
type decoded struct {
	events []*ce.Event
	items  []item
}

// fail settles every message of d as not stored.
func (d decoded) fail(err error) {
	if err == nil {
		err = context.Canceled
	}
	for _, it := range d.items {
		it.failed(err)
	}
}

// wait waits for the worker to end, and cancels a store in progress if
// ctx is done first.
func (r *receiver) wait(ctx context.Context) {
	select {
	case <-r.done:
	case <-ctx.Done():
		r.cancel()
		<-r.done
	}
	r.cancel()
}

// decode turns a batch into events, rejecting (and settling) the
// messages that are not valid CloudEvents. It returns false if the source
// stopped while a dead letter was being published; the valid messages
// decoded so far are then in d, unsettled.
func (r *receiver) decode(batch []item) (d decoded, ok bool) {
	d = decoded{events: make([]*ce.Event, 0, len(batch)), items: make([]item, 0, len(batch))}
	for _, it := range batch {
		r.m.Received.Inc()
		e, err := Decode(it.msg.Header, it.msg.Data)
		if errors.Is(err, errNotCloudEvent) && r.cfg.Wrap != nil {
			e, err = r.cfg.Wrap.Event(it.msg.Data, header(it.msg.Header, "Content-Type"), it.msg.Subject), nil
		}
		if err == nil {
			err = r.cfg.CheckExtensions(e)
		}
		if err != nil {
			if !r.reject(it, err) {
				return d, false
			}
			continue
		}
		d.events = append(d.events, e)
		d.items = append(d.items, it)
	}
	return d, true
}

// store stores the events of d in the bus and settles their messages. It
// returns false once the source is stopping (d is then settled as
// failed).
func (r *receiver) store(d decoded) bool {
	events := d.events
	store := func(context.Context) error {
		ctx, cancel := context.WithTimeout(r.ctx, r.cfg.Timeout.D())
		defer cancel()
		return r.deps.Ingest.Ingest(ctx, r.name, events)
	}
	var err error
	if r.retry {
		err = intake.Retry(r.quit, store, func(_ int, err error) {
			r.m.Msgs(conntrack.Error).Add(float64(len(events)))
			r.fails.Failed(len(events), err)
		})
	} else if err = store(r.ctx); err != nil {
		r.m.Msgs(conntrack.Error).Add(float64(len(events)))
		if r.quit.Err() == nil {
			r.fails.Failed(len(events), err)
		}
	}
	if err != nil {
		d.fail(err)
		return r.quit.Err() == nil
	}
	r.fails.Stored()
	r.m.Msgs(conntrack.OK).Add(float64(len(events)))
	for _, it := range d.items {
		it.stored()
	}
	return true
}

// reject counts and logs a message that is not a valid CloudEvent,
// publishes it to the dead-letter subject when there is one, and settles
// it. It returns false if the source stopped before the dead letter was
// published.
func (r *receiver) reject(it item, reason error) bool {
	r.m.Rejected.WithLabelValues(connector.RejectReason(reason)).Inc()
	r.m.Msgs(conntrack.Invalid).Inc()
	r.log.Warn("message is not a valid CloudEvent", "subject", it.msg.Subject, "dead_letter", r.cfg.DeadLetter, "err", reason)
	if r.cfg.DeadLetter != "" {
		dl := &nats.Msg{Subject: r.cfg.DeadLetter, Data: it.msg.Data, Header: nats.Header{}}
		for k, v := range it.msg.Header {
			dl.Header[k] = v
		}
		dl.Header.Set("Eventbridge-Error", reason.Error())
		dl.Header.Set("Eventbridge-Subject", it.msg.Subject)
		err := intake.Retry(r.quit, func(context.Context) error {
			ctx, cancel := context.WithTimeout(r.ctx, r.cfg.Timeout.D())
			defer cancel()
			return r.deadLetter(ctx, dl)
		}, func(attempt int, err error) {
			r.log.Warn("cannot publish to the dead-letter subject; will retry", "attempt", attempt, "err", err)
		})
		if err != nil {
			it.failed(err)
			return false
		}
	}
	it.invalid(reason)
	return true
}
