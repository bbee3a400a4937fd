package nats

import (
	"context"
	"fmt"
	"log/slog"
	"sync/atomic"

	ce "github.com/cloudevents/sdk-go/v2/event"
	"github.com/nats-io/nats.go"

	"github.com/eventbridge-dev/eventbridge/internal/component"
	"github.com/eventbridge-dev/eventbridge/internal/connector"
	"github.com/eventbridge-dev/eventbridge/internal/connector/attrtemplate"
	"github.com/eventbridge-dev/eventbridge/internal/connector/conntrack"
	"github.com/eventbridge-dev/eventbridge/internal/netguard"
	"github.com/eventbridge-dev/eventbridge/internal/spec"
	"github.com/eventbridge-dev/eventbridge/pkg/connector/batch"
)

// TargetConfig configures a nats target (core NATS publish).
type TargetConfig struct {
	connector.Common `yaml:",inline"`
	ConnConfig       `yaml:",inline"`
	OutputConfig     `yaml:",inline"`
}

// Defaults implements connector.Config.
func (c *TargetConfig) Defaults() { c.ConnConfig.defaults(); c.OutputConfig.defaults() }

// Validate implements connector.Config.
func (c *TargetConfig) Validate(p spec.Problems) {
	c.ConnConfig.validate(p)
	c.OutputConfig.validate(p)
}

// publisher is the part both NATS targets share: the connection, its
// health, and turning an event into a message.
type publisher struct {
	name string
	typ  string
	conn *ConnConfig
	out  *OutputConfig
	// guard holds the connections of a target created through the API.
	guard *netguard.Guard
	tmpl  attrtemplate.Template
	log   *slog.Logger
	m     conntrack.Series
	h     health
	nc    *nats.Conn
	// flush writes a batch (set by the target kind); batcher gathers
	// concurrent Sends when batch is set, from Start to Stop.
	flush   batch.FlushFunc[pubItem]
	batcher atomic.Pointer[batch.Batcher[pubItem]]
	component.Tracker
}

// pubItem is one message of a batch, and its Nats-Msg-Id (jetstream).
type pubItem struct {
	m  *nats.Msg
	id string
}

func newPublisher(name, typ string, conn *ConnConfig, out *OutputConfig, deps connector.Deps) (*publisher, error) {
	tmpl, err := out.template()
	if err != nil {
		return nil, err
	}
	p := &publisher{name: name, typ: typ, conn: conn, out: out, tmpl: tmpl, log: deps.Log("target", name, "type", typ), guard: deps.Guard}
	p.m = conntrack.NewSeries(deps.Metrics, name, typ, "sender")
	p.h = health{tr: &p.Tracker, m: p.m, ch: conntrack.NewChanges(deps.Metrics, name, typ), log: p.log}
	p.Set(component.New, nil)
	return p, nil
}

// Start connects in the background and returns; Send answers
// connector.ErrNotConnected until the connection is up.
func (p *publisher) Start(context.Context) error {
	p.Set(component.Starting, nil)
	p.SetDetail("connected", false)
	nc, err := dial(p.conn, p.guard, "target "+p.name, p.log, p.h.set)
	if err != nil {
		p.Set(component.Failed, err)
		return fmt.Errorf("target %s: %w", p.name, err)
	}
	p.nc = nc
	if nc.IsConnected() {
		p.h.set(true, nil)
	}
	if p.out.Batch != nil {
		p.batcher.Store(batch.New(p.out.Batch.Config(), p.flush))
	}
	return nil
}

// submit adds m to the open batch and returns its outcome.
func (p *publisher) submit(ctx context.Context, m *nats.Msg, id string) error {
	b := p.batcher.Load()
	if b == nil {
		return connector.ErrNotConnected // stopped
	}
	return b.Submit(ctx, pubItem{m: m, id: id}, len(m.Data)+len(m.Subject))
}

// MinConcurrency implements batch.MinConcurrency: the routes to the
// target get max_in_flight workers, or a batch's worth if more.
func (p *publisher) MinConcurrency() int {
	n := p.out.MaxInFlight
	if p.out.Batch != nil {
		n = max(n, p.out.Batch.MaxEvents)
	}
	return n
}

// Stop closes the connection.
func (p *publisher) Stop(ctx context.Context) error {
	if b := p.batcher.Swap(nil); b != nil {
		_ = b.Close(ctx)
	}
	p.h.stop()
	if p.nc != nil {
		p.nc.Close()
	}
	p.Set(component.Terminated, nil)
	return nil
}

// message encodes e for its subject; errors are permanent.
func (p *publisher) message(e *ce.Event) (*nats.Msg, error) {
	subject, err := p.tmpl.Render(e)
	if err == nil {
		err = validSubject(subject)
	}
	if err != nil {
		p.m.Msgs(conntrack.Invalid).Inc()
		return nil, connector.Permanent(fmt.Errorf("subject: %w", err))
	}
	m, err := Encode(e, p.out.Mode)
	if err != nil {
		p.m.Msgs(conntrack.Invalid).Inc()
		return nil, connector.Permanent(fmt.Errorf("encode: %w", err))
	}
	m.Subject = subject
	size := len(m.Data) + len(subject)
	for k, vs := range m.Header {
		for _, v := range vs {
			size += len(k) + len(v) + 4
		}
	}
	if limit := p.nc.MaxPayload(); limit > 0 && int64(size) > limit {
		p.m.Msgs(conntrack.Invalid).Inc()
		return nil, connector.Permanent(fmt.Errorf("a message of %d bytes is over the server's max_payload of %d: %w", size, limit, nats.ErrMaxPayload))
	}
	return m, nil
}

// Target publishes events on core NATS.
type Target struct {
	*publisher
	// fl shares flush round trips between concurrent Sends.
	fl *flusher
}

func newTarget(name string, c connector.Config, deps connector.Deps) (connector.Target, error) {
	cfg := c.(*TargetConfig)
	p, err := newPublisher(name, "nats", &cfg.ConnConfig, &cfg.OutputConfig, deps)
	if err != nil {
		return nil, err
	}
	t := &Target{publisher: p}
	p.flush = t.flushBatch
	t.fl = &flusher{flush: t.flushConn, timeout: cfg.Timeout.D()}
	return t, nil
}

// Send implements connector.Target: it publishes e and returns once the
// server has it (a flush round trip, shared with the Sends in flight at
// the same time: see flusher). Core NATS delivers to the subscribers
// present at that moment, at most once.
func (t *Target) Send(ctx context.Context, e *ce.Event) error {
	if t.nc == nil || !t.h.isUp() || !t.nc.IsConnected() {
		return connector.ErrNotConnected
	}
	m, err := t.message(e)
	if err != nil {
		return err
	}
	if t.out.Batch != nil {
		return t.submit(ctx, m, "")
	}
	ctx, cancel := context.WithTimeout(ctx, t.out.Timeout.D())
	defer cancel()
	if err := t.nc.PublishMsg(m); err != nil {
		t.m.Msgs(conntrack.Error).Inc()
		return publishError(err)
	}
	if err := t.fl.wait(ctx); err != nil {
		t.m.Msgs(conntrack.Error).Inc()
		return err
	}
	t.m.Msgs(conntrack.OK).Inc()
	return nil
}

// flushConn waits for the server to have every message published so far
// (one round trip).
func (t *Target) flushConn(ctx context.Context) error {
	if err := t.nc.FlushWithContext(ctx); err != nil {
		if !t.nc.IsConnected() {
			return fmt.Errorf("%w: %v", connector.ErrNotConnected, err)
		}
		return fmt.Errorf("flush: %w", err)
	}
	return nil
}

// flushBatch publishes every message, then waits for the server to have
// them all (one flush round trip).
func (t *Target) flushBatch(ctx context.Context, items []pubItem) []error {
	errs := make([]error, len(items))
	sent := 0
	for i, it := range items {
		if err := t.nc.PublishMsg(it.m); err != nil {
			t.m.Msgs(conntrack.Error).Inc()
			errs[i] = publishError(err)
			continue
		}
		sent++
	}
	if sent == 0 {
		return errs
	}
	ctx, cancel := context.WithTimeout(ctx, t.out.Timeout.D())
	defer cancel()
	if err := t.flushConn(ctx); err != nil {
		for i := range errs {
			if errs[i] == nil {
				t.m.Msgs(conntrack.Error).Inc()
				errs[i] = err
			}
		}
		return errs
	}
	t.m.Msgs(conntrack.OK).Add(float64(sent))
	return errs
}

var (
	_ batch.MinConcurrency = (*Target)(nil)
	_ connector.Target     = (*Target)(nil)
	_ connector.Config     = (*TargetConfig)(nil)
)
