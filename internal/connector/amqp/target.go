package amqp

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	ce "github.com/cloudevents/sdk-go/v2/event"
	amqp091 "github.com/rabbitmq/amqp091-go"

	"github.com/eventbridge-dev/eventbridge/internal/component"
	"github.com/eventbridge-dev/eventbridge/internal/connector"
	"github.com/eventbridge-dev/eventbridge/internal/connector/amqpbinding"
	"github.com/eventbridge-dev/eventbridge/internal/connector/attrtemplate"
	"github.com/eventbridge-dev/eventbridge/internal/connector/conntrack"
	ebevent "github.com/eventbridge-dev/eventbridge/internal/event"
	"github.com/eventbridge-dev/eventbridge/internal/telemetry"
)

// Target publishes events to an exchange with publisher confirms: Send
// returns nil only once the broker has confirmed the message (for a
// persistent message to a durable queue: written to disk).
type Target struct {
	name string
	cfg  *TargetConfig
	key  attrtemplate.Template // OrEmpty: a missing attribute gives an empty routing key
	log  *slog.Logger
	// Reconnector gives Start (connect in the background and return at
	// once) and Stop (close the connection: Sends waiting for a confirm
	// fail).
	*connector.Reconnector[*session]
	cur atomic.Pointer[targetSession]

	conn *conntrack.Conn

	component.Tracker
}

// targetSession is a session in confirm mode, with the messages the
// broker returned as unroutable (mandatory), by message id.
type targetSession struct {
	*session
	returns chan amqp091.Return

	mu       sync.Mutex
	returned map[string]time.Time
}

func newTarget(name string, c connector.Config, deps connector.Deps) (connector.Target, error) {
	cfg := c.(*TargetConfig)
	if deps.Metrics == nil {
		deps.Metrics = telemetry.NewMetrics()
	}
	key, err := attrtemplate.Parse(cfg.RoutingKey)
	if err != nil {
		return nil, err
	}
	t := &Target{name: name, cfg: cfg, key: key.OrEmpty()}
	t.conn = conntrack.New(&t.Tracker, deps.Metrics, name, "amqp")
	if t.Reconnector, err = newReconnector(name, &cfg.ConnConfig, deps, t.conn, t.serve); err != nil {
		return nil, err
	}
	t.log = t.Log
	t.Set(component.New, nil)
	return t, nil
}

func (t *Target) serve(_ context.Context, sess *session, ready func(), stop <-chan struct{}) error {
	if err := sess.ch.Confirm(false); err != nil {
		return fmt.Errorf("confirm mode: %w", err)
	}
	ts := &targetSession{session: sess}
	if t.cfg.Mandatory {
		// Buffered: the library hands over a return before the confirm
		// of the same message, and Send drains the buffer after that
		// confirm, so it always sees its own return.
		ts.returns = sess.ch.NotifyReturn(make(chan amqp091.Return, 1024))
		ts.returned = map[string]time.Time{}
	}
	t.cur.Store(ts)
	t.conn.Link("sender", 1)
	defer func() {
		t.cur.CompareAndSwap(ts, nil)
		t.conn.Link("sender", -1)
	}()
	ready()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-stop:
			return nil
		case <-sess.broken:
			return sess.err
		case <-tick.C:
			if ts.returns != nil {
				ts.drainReturns() // keep the buffer from filling up
			}
		}
	}
}

// Send publishes e and waits for the broker's confirm.
func (t *Target) Send(ctx context.Context, e *ce.Event) error {
	err := t.send(ctx, e)
	switch {
	case err == nil:
		t.conn.Message(conntrack.Out, conntrack.OK, 1)
	case errors.Is(err, connector.ErrNotConnected):
	default:
		t.conn.Message(conntrack.Out, conntrack.Error, 1)
	}
	return err
}

func (t *Target) send(ctx context.Context, e *ce.Event) error {
	ts := t.cur.Load()
	if ts == nil {
		return connector.ErrNotConnected
	}
	pub, err := t.publishing(e)
	if err != nil {
		return connector.Permanent(err)
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, t.cfg.Timeout.D())
		defer cancel()
	}
	key, _ := t.key.Render(e) // OrEmpty: never fails
	dc, err := ts.ch.PublishWithDeferredConfirmWithContext(ctx, t.cfg.Exchange, key, t.cfg.Mandatory, false, pub)
	if err != nil {
		if errors.Is(err, amqp091.ErrClosed) {
			return connector.ErrNotConnected
		}
		return classify(fmt.Errorf("publish: %w", err))
	}
	acked, err := dc.WaitContext(ctx)
	if err != nil {
		return fmt.Errorf("waiting for the broker's confirm: %w", err)
	}
	if !acked {
		// A nack, or the channel closed: the close tells why (an exchange
		// that does not exist, a refused message).
		if cerr := ts.closeErr(time.Second); cerr != nil {
			return classify(fmt.Errorf("publish to exchange %q: %w", t.cfg.Exchange, cerr))
		}
		return errors.New("the broker did not confirm the message")
	}
	if ts.returns != nil && ts.wasReturned(pub.MessageId) {
		return &connector.StatusError{Code: amqp091.NoRoute, Err: fmt.Errorf("unroutable: exchange %q has no queue bound for routing key %q", t.cfg.Exchange, key)}
	}
	return nil
}

// publishing encodes e in the configured mode.
func (t *Target) publishing(e *ce.Event) (amqp091.Publishing, error) {
	pub := amqp091.Publishing{MessageId: e.ID(), Type: e.Type(), AppId: "eventbridge"}
	if *t.cfg.Persistent {
		pub.DeliveryMode = amqp091.Persistent
	}
	if t.cfg.Mode == "structured" {
		b, err := ebevent.EncodeJSON(e)
		if err != nil {
			return pub, fmt.Errorf("encode: %w", err)
		}
		pub.ContentType = amqpbinding.MediaStructured + "; charset=utf-8"
		pub.Body = b
		return pub, nil
	}
	// AMQP 0-9-1 timestamps count seconds: every attribute travels as
	// its canonical string, which any client can read.
	pub.Headers = amqp091.Table(amqpbinding.Properties(e, t.cfg.PropertyPrefix, amqpbinding.Natives{}))
	pub.ContentType = amqpbinding.ContentType(e)
	pub.Body = e.Data()
	return pub, nil
}

// drainReturns moves returned messages from the buffer to the map, and
// forgets old ones no Send asked about.
func (ts *targetSession) drainReturns() {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	for {
		select {
		case r, ok := <-ts.returns:
			if !ok {
				return
			}
			ts.returned[r.MessageId] = time.Now()
		default:
			for id, at := range ts.returned {
				if time.Since(at) > time.Minute {
					delete(ts.returned, id)
				}
			}
			return
		}
	}
}

// wasReturned reports (once) whether the message with this id came back.
func (ts *targetSession) wasReturned(id string) bool {
	ts.drainReturns()
	ts.mu.Lock()
	defer ts.mu.Unlock()
	_, ok := ts.returned[id]
	delete(ts.returned, id)
	return ok
}

// classify marks broker refusals that will not change as permanent:
// access refused (403), no such exchange (404), a message the broker will
// not take (406 precondition failed, e.g. over max_message_size). Other
// errors are retryable.
func classify(err error) error {
	var ae *amqp091.Error
	if errors.As(err, &ae) {
		switch ae.Code {
		case amqp091.AccessRefused, amqp091.NotFound, amqp091.PreconditionFailed, amqp091.FrameError, amqp091.SyntaxError, amqp091.CommandInvalid, amqp091.NotImplemented:
			return connector.Permanent(&connector.StatusError{Code: ae.Code, Err: err})
		}
		return &connector.StatusError{Code: ae.Code, Err: err}
	}
	return err
}

var _ connector.Target = (*Target)(nil)
