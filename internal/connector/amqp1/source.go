package amqp1

import (
	"context"
	"fmt"
	"time"

	amqp "github.com/Azure/go-amqp"
	ce "github.com/cloudevents/sdk-go/v2/event"

	"github.com/eventbridge-dev/eventbridge/internal/connector"
	"github.com/eventbridge-dev/eventbridge/internal/connector/amqpbinding"
	"github.com/eventbridge-dev/eventbridge/internal/connector/conntrack"
)

// Source receives from an AMQP 1.0 address. Each message is accepted only
// after its event is stored (at-least-once); when storing fails, the
// messages are released (or modified) after a backoff, so that the peer
// delivers them again. Messages that are not valid CloudEvents are
// wrapped (wrap), sent to dead_letter and accepted, or rejected.
type Source struct {
	amqpbinding.Source[*session]
	cfg *SourceConfig
}

func newSource(name string, c connector.Config, deps connector.Deps) (connector.Source, error) {
	cfg := c.(*SourceConfig)
	s := &Source{cfg: cfg}
	if err := s.Init("amqp1", name, deps, func(conn *conntrack.Conn) (*connector.Reconnector[*session], error) {
		return newReconnector(name, &cfg.ConnConfig, deps, conn, s.serve)
	}); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *Source) serve(ctx context.Context, sess *session, ready func(), stop <-chan struct{}) error {
	actx, cancel := context.WithTimeout(ctx, s.cfg.ConnectTimeout.D())
	defer cancel()
	rcv, err := sess.sess.NewReceiver(actx, s.cfg.Address, &amqp.ReceiverOptions{Credit: int32(s.cfg.Credit)})
	if err != nil {
		return fmt.Errorf("attach receiver to %s: %w", s.cfg.Address, err)
	}
	s.Conn.Link("receiver", 1)
	defer s.Conn.Link("receiver", -1)
	var dl *amqp.Sender
	if s.cfg.DeadLetter != "" {
		if dl, err = sess.sess.NewSender(actx, s.cfg.DeadLetter, nil); err != nil {
			return fmt.Errorf("attach sender to dead letter %s: %w", s.cfg.DeadLetter, err)
		}
		s.Conn.Link("sender", 1)
		defer s.Conn.Link("sender", -1)
	}
	ready()
	s.SetDetail("address", s.cfg.Address)
	// Receive until stop, which cancels rctx.
	rctx, rcancel := context.WithCancel(ctx)
	defer rcancel()
	go func() {
		select {
		case <-stop:
		case <-rctx.Done():
		}
		rcancel()
	}()
	batch := make([]*amqp.Message, 0, s.cfg.Credit)
	for {
		m, err := rcv.Receive(rctx, nil)
		if err != nil {
			select {
			case <-stop:
				return nil
			default:
				return err
			}
		}
		batch = append(batch[:0], m)
		for len(batch) < cap(batch) {
			next := rcv.Prefetched()
			if next == nil {
				break
			}
			batch = append(batch, next)
		}
		if err := s.handle(ctx, rcv, dl, batch, stop); err != nil {
			return err
		}
	}
}

// handle stores one batch and settles its messages. An error means the
// link broke.
func (s *Source) handle(ctx context.Context, rcv *amqp.Receiver, dl *amqp.Sender, batch []*amqp.Message, stop <-chan struct{}) error {
	events := make([]*ce.Event, 0, len(batch))
	keep := make([]*amqp.Message, 0, len(batch))
	for _, m := range batch {
		s.Received(1)
		e, err := s.decode(ctx, rcv, dl, m)
		if err != nil {
			return err
		}
		if e != nil {
			events = append(events, e)
			keep = append(keep, m)
		}
	}
	if len(events) == 0 {
		return nil
	}
	err := s.Store(ctx, s.cfg.Timeout.D(), events)
	if err == nil {
		s.Retry.Reset()
		for _, m := range keep {
			if err := rcv.AcceptMessage(ctx, m); err != nil {
				return err // redelivered after the reconnect; the bus dedups
			}
		}
		return nil
	}
	// Store logged the failure (once per outage, see intake.Failures).
	select {
	case <-stop:
		return nil // detaching releases them
	case <-time.After(s.Retry.Next()):
	}
	for _, m := range keep {
		var err error
		if s.cfg.Redeliver == "modify" {
			err = rcv.ModifyMessage(ctx, m, &amqp.ModifyMessageOptions{DeliveryFailed: true})
		} else {
			err = rcv.ReleaseMessage(ctx, m)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// decode returns the event of m, or nil after settling a message that is
// not a valid CloudEvent (wrapped ones become events). An error means the
// link broke.
func (s *Source) decode(ctx context.Context, rcv *amqp.Receiver, dl *amqp.Sender, m *amqp.Message) (*ce.Event, error) {
	e, kind, err := Decode(m)
	if err == nil && kind == amqpbinding.NotCloudEvent {
		if s.cfg.Wrap != nil {
			body, _ := Body(m)
			subject := ""
			if m.Properties != nil {
				if m.Properties.Subject != nil {
					subject = *m.Properties.Subject
				} else if m.Properties.To != nil {
					subject = *m.Properties.To
				}
			}
			return s.cfg.Wrap.Event(body, contentType(m), subject), nil
		}
		err = fmt.Errorf("not a CloudEvent: no %s… application properties and content type %q", amqpbinding.PrefixColon, contentType(m))
	}
	if err == nil {
		err = s.cfg.CheckExtensions(e)
	}
	if err == nil {
		return e, nil
	}
	s.Invalid(err)
	s.Log.Warn("a message that is not a valid CloudEvent", "address", s.cfg.Address, "kind", kind.String(), "dead_letter", s.cfg.DeadLetter, "err", err)
	if dl != nil {
		if m.ApplicationProperties == nil {
			m.ApplicationProperties = map[string]any{}
		}
		m.ApplicationProperties["eventbridge_error"] = err.Error()
		m.ApplicationProperties["eventbridge_source"] = s.Name
		sctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout.D())
		serr := dl.Send(sctx, m, nil)
		cancel()
		if serr == nil {
			return nil, rcv.AcceptMessage(ctx, m)
		}
		if broken(serr) {
			return nil, serr
		}
		s.Log.Warn("the dead letter refused the message; rejecting it", "err", serr)
	}
	return nil, rcv.RejectMessage(ctx, m, &amqp.Error{Condition: amqp.ErrCondDecodeError, Description: truncate(err.Error(), 512)})
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

var _ connector.Source = (*Source)(nil)
