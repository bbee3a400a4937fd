package amqp1

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"

	amqp "github.com/Azure/go-amqp"
	ce "github.com/cloudevents/sdk-go/v2/event"

	"github.com/eventbridge-dev/eventbridge/internal/component"
	"github.com/eventbridge-dev/eventbridge/internal/connector"
	"github.com/eventbridge-dev/eventbridge/internal/connector/conntrack"
	"github.com/eventbridge-dev/eventbridge/internal/telemetry"
)

// Target sends events to an AMQP 1.0 address as unsettled transfers:
// Send returns nil only once the peer has accepted the message.
type Target struct {
	name string
	cfg  *TargetConfig
	log  *slog.Logger
	// Reconnector gives Start (connect in the background and return at
	// once) and Stop (close the connection: Sends waiting for a
	// disposition fail).
	*connector.Reconnector[*session]
	cur atomic.Pointer[link]
	// dialErr is why the last connection attempt failed (nil once one
	// succeeds): Send's not-connected errors wrap it.
	dialErr atomic.Pointer[error]

	conn *conntrack.Conn

	component.Tracker
}

// link is an attached sender; fail tells serve that it broke.
type link struct {
	snd    *amqp.Sender
	broken chan struct{}
	once   sync.Once
	err    error
}

func (l *link) fail(err error) {
	l.once.Do(func() { l.err = err; close(l.broken) })
}

func newTarget(name string, c connector.Config, deps connector.Deps) (connector.Target, error) {
	cfg := c.(*TargetConfig)
	if deps.Metrics == nil {
		deps.Metrics = telemetry.NewMetrics()
	}
	t := &Target{name: name, cfg: cfg}
	var err error
	t.conn = conntrack.New(&t.Tracker, deps.Metrics, name, "amqp1")
	if t.Reconnector, err = newReconnector(name, &cfg.ConnConfig, deps, t.conn, t.serve); err != nil {
		return nil, err
	}
	t.log = t.Log
	dial := t.Dial
	t.Dial = func(ctx context.Context) (*session, error) {
		s, err := dial(ctx)
		if err != nil {
			t.dialErr.Store(&err)
		} else {
			t.dialErr.Store(nil)
		}
		return s, err
	}
	t.Set(component.New, nil)
	return t, nil
}

func (t *Target) serve(ctx context.Context, sess *session, ready func(), stop <-chan struct{}) error {
	actx, cancel := context.WithTimeout(ctx, t.cfg.ConnectTimeout.D())
	defer cancel()
	snd, err := sess.sess.NewSender(actx, t.cfg.Address, t.senderOptions())
	if err != nil {
		return fmt.Errorf("attach sender to %s: %w", t.cfg.Address, err)
	}
	l := &link{snd: snd, broken: make(chan struct{})}
	t.cur.Store(l)
	t.conn.Link("sender", 1)
	defer func() {
		t.cur.CompareAndSwap(l, nil)
		t.conn.Link("sender", -1)
	}()
	ready()
	select {
	case <-stop:
		return nil
	case <-sess.conn.Done():
		return sess.conn.Err()
	case <-l.broken:
		return l.err
	}
}

// senderOptions are the link's name, settlement mode and properties.
func (t *Target) senderOptions() *amqp.SenderOptions {
	o := &amqp.SenderOptions{Name: t.cfg.LinkName}
	if t.cfg.SettlementMode == "settled" {
		o.SettlementMode = amqp.SenderSettleModeSettled.Ptr()
	}
	if len(t.cfg.LinkProperties) > 0 {
		o.Properties = make(map[string]any, len(t.cfg.LinkProperties))
		for k, v := range t.cfg.LinkProperties {
			o.Properties[k] = v
		}
	}
	return o
}

// Send transfers e and waits for the peer's disposition (unsettled
// mode), or returns once it is written (settled mode). While there is no
// link it returns connector.ErrNotConnected, wrapping the error of the
// last failed connection attempt if there was one.
func (t *Target) Send(ctx context.Context, e *ce.Event) error {
	l := t.cur.Load()
	if l == nil {
		if derr := t.dialErr.Load(); derr != nil {
			// Why: connection refused, a DNS error… (errors.Is sees it).
			return fmt.Errorf("%w: %w", connector.ErrNotConnected, *derr)
		}
		return connector.ErrNotConnected
	}
	m, err := Encode(e, t.cfg.Mode, t.cfg.PropertyPrefix, *t.cfg.Durable)
	if err != nil {
		t.conn.Message(conntrack.Out, conntrack.Error, 1)
		return connector.Permanent(err)
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, t.cfg.Timeout.D())
		defer cancel()
	}
	err = l.snd.Send(ctx, m, nil)
	if err == nil {
		t.conn.Message(conntrack.Out, conntrack.OK, 1)
		return nil
	}
	if broken(err) {
		l.fail(err)
		return fmt.Errorf("%w: %v", connector.ErrNotConnected, err)
	}
	t.conn.Message(conntrack.Out, conntrack.Error, 1)
	return classify(err)
}

// classify marks refusals that will not change as permanent: the peer
// rejected the message as too large, unauthorized, malformed or not
// allowed. Other rejections (resource-limit-exceeded, internal-error)
// are retried.
func classify(err error) error {
	var ae *amqp.Error
	if !errors.As(err, &ae) {
		return err
	}
	err = fmt.Errorf("rejected: %w", err)
	switch ae.Condition {
	case amqp.ErrCondMessageSizeExceeded, amqp.ErrCondUnauthorizedAccess, amqp.ErrCondDecodeError,
		amqp.ErrCondInvalidField, amqp.ErrCondNotAllowed, amqp.ErrCondNotImplemented, amqp.ErrCondNotFound,
		amqp.ErrCondPreconditionFailed:
		return connector.Permanent(err)
	}
	return err
}

var _ connector.Target = (*Target)(nil)
