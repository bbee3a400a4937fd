package amqp

import (
	"context"
	"fmt"
	"time"

	ce "github.com/cloudevents/sdk-go/v2/event"
	amqp091 "github.com/rabbitmq/amqp091-go"

	"github.com/eventbridge-dev/eventbridge/internal/connector"
	"github.com/eventbridge-dev/eventbridge/internal/connector/amqpbinding"
	"github.com/eventbridge-dev/eventbridge/internal/connector/conntrack"
)

// Source consumes a RabbitMQ queue. Each message is acknowledged only
// after its event is stored (at-least-once); when storing fails, the
// messages are returned to the queue after a backoff. Messages that are
// not valid CloudEvents are wrapped (wrap) or rejected without requeue, so
// that the queue's dead-letter exchange takes them.
type Source struct {
	amqpbinding.Source[*session]
	cfg *SourceConfig
}

func newSource(name string, c connector.Config, deps connector.Deps) (connector.Source, error) {
	cfg := c.(*SourceConfig)
	s := &Source{cfg: cfg}
	if err := s.Init("amqp", name, deps, func(conn *conntrack.Conn) (*connector.Reconnector[*session], error) {
		return newReconnector(name, &cfg.ConnConfig, deps, conn, s.serve)
	}); err != nil {
		return nil, err
	}
	if cfg.ConsumerTag == "" {
		cfg.ConsumerTag = "eventbridge-" + name
	}
	return s, nil
}

// serve declares and consumes on one session until it breaks or stop.
func (s *Source) serve(ctx context.Context, sess *session, ready func(), stop <-chan struct{}) error {
	if err := s.declare(sess.ch); err != nil {
		return err
	}
	if err := sess.ch.Qos(s.cfg.Prefetch, 0, false); err != nil {
		return fmt.Errorf("qos: %w", err)
	}
	deliveries, err := sess.ch.Consume(s.cfg.Queue, s.cfg.ConsumerTag, false, false, false, false, nil)
	if err != nil {
		return fmt.Errorf("consume %s: %w", s.cfg.Queue, err)
	}
	s.Conn.Link("receiver", 1)
	defer s.Conn.Link("receiver", -1)
	ready()
	s.SetDetail("queue", s.cfg.Queue)
	batch := make([]amqp091.Delivery, 0, s.cfg.Prefetch)
	for {
		select {
		case <-stop:
			_ = sess.ch.Cancel(s.cfg.ConsumerTag, false)
			return nil
		case <-sess.broken:
			return sess.err
		case d, ok := <-deliveries:
			if !ok { // the channel closed: the watcher tells why
				return sess.closeErr(time.Second)
			}
			batch = append(batch[:0], d)
		more:
			for len(batch) < cap(batch) {
				select {
				case d, ok := <-deliveries:
					if !ok {
						break more
					}
					batch = append(batch, d)
				default:
					break more
				}
			}
			s.handle(ctx, batch, sess, stop)
		}
	}
}

// declare declares the queue and its bindings when configured to.
func (s *Source) declare(ch *amqp091.Channel) error {
	d := s.cfg.Declare
	if d == nil {
		return nil
	}
	args := amqp091.Table{}
	if d.QueueType != "" {
		args["x-queue-type"] = d.QueueType
	}
	if s.cfg.DeadLetter != "" {
		args["x-dead-letter-exchange"] = s.cfg.DeadLetter
	}
	if s.cfg.DeadLetterRoutingKey != "" {
		args["x-dead-letter-routing-key"] = s.cfg.DeadLetterRoutingKey
	}
	if _, err := ch.QueueDeclare(s.cfg.Queue, *d.Durable, d.AutoDelete, false, false, args); err != nil {
		return fmt.Errorf("declare queue %s: %w", s.cfg.Queue, err)
	}
	for _, b := range d.Bindings {
		if b.ExchangeType != "" {
			if err := ch.ExchangeDeclare(b.Exchange, b.ExchangeType, true, false, false, false, nil); err != nil {
				return fmt.Errorf("declare exchange %s: %w", b.Exchange, err)
			}
		}
		if err := ch.QueueBind(s.cfg.Queue, b.RoutingKey, b.Exchange, false, nil); err != nil {
			return fmt.Errorf("bind queue %s to %s: %w", s.cfg.Queue, b.Exchange, err)
		}
	}
	return nil
}

// handle stores one batch: invalid messages are settled at once, the
// events are ingested together, then acknowledged, or returned to the
// queue when the store failed.
func (s *Source) handle(ctx context.Context, batch []amqp091.Delivery, sess *session, stop <-chan struct{}) {
	events := make([]*ce.Event, 0, len(batch))
	keep := batch[:0]
	s.Received(len(batch))
	for _, d := range batch {
		e, ok := s.decode(d)
		if !ok {
			continue
		}
		events = append(events, e)
		keep = append(keep, d)
	}
	if len(events) == 0 {
		return
	}
	err := s.Store(ctx, s.cfg.Timeout.D(), events)
	if err == nil {
		for _, d := range keep {
			_ = d.Ack(false) // a lost ack means a redelivery, which the bus dedups
		}
		s.Retry.Reset()
		return
	}
	// Store logged the failure (once per outage, see intake.Failures).
	// Hold the messages for a while (a bus that is down would see them
	// again at once), then requeue them.
	select {
	case <-stop:
		return // closing the channel requeues them
	case <-sess.broken:
		return
	case <-time.After(s.Retry.Next()):
	}
	for _, d := range keep {
		_ = d.Nack(false, true)
	}
}

// decode turns a delivery into an event. A message that is not a valid
// CloudEvent is wrapped, or rejected (and counted) and settled here.
func (s *Source) decode(d amqp091.Delivery) (*ce.Event, bool) {
	e, kind, err := amqpbinding.Decode(d.ContentType, d.Headers, d.Body)
	if err == nil && kind == amqpbinding.NotCloudEvent {
		if s.cfg.Wrap != nil {
			return s.cfg.Wrap.Event(d.Body, d.ContentType, d.RoutingKey), true
		}
		err = fmt.Errorf("not a CloudEvent: no %s… application properties and content type %q", amqpbinding.PrefixColon, d.ContentType)
	}
	if err == nil {
		err = s.cfg.CheckExtensions(e)
	}
	if err != nil {
		s.Invalid(err)
		s.Log.Warn("rejecting a message that is not a valid CloudEvent (to the dead-letter exchange, if the queue has one)",
			"queue", s.cfg.Queue, "routing_key", d.RoutingKey, "kind", kind.String(), "err", err)
		_ = d.Nack(false, false)
		return nil, false
	}
	return e, true
}

var _ connector.Source = (*Source)(nil)
