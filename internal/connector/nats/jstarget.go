package nats

import (
	"context"
	"errors"
	"fmt"

	ce "github.com/cloudevents/sdk-go/v2/event"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/eventbridge-dev/eventbridge/internal/connector"
	"github.com/eventbridge-dev/eventbridge/internal/connector/conntrack"
	ebevent "github.com/eventbridge-dev/eventbridge/internal/event"
	"github.com/eventbridge-dev/eventbridge/internal/spec"
	"github.com/eventbridge-dev/eventbridge/pkg/connector/batch"
)

// JetStreamTargetConfig configures a jetstream target.
type JetStreamTargetConfig struct {
	connector.Common `yaml:",inline"`
	ConnConfig       `yaml:",inline"`
	OutputConfig     `yaml:",inline"`
	// Stream, when set, is the stream the subject must belong to
	// (Nats-Expected-Stream); a message for another stream is refused.
	Stream string `json:"stream,omitempty"`
}

// Defaults implements connector.Config.
func (c *JetStreamTargetConfig) Defaults() { c.ConnConfig.defaults(); c.OutputConfig.defaults() }

// Validate implements connector.Config.
func (c *JetStreamTargetConfig) Validate(p spec.Problems) {
	c.ConnConfig.validate(p)
	c.OutputConfig.validate(p)
}

// JetStreamTarget publishes events into a stream and waits for the
// stream's acknowledgement. Nats-Msg-Id is the event's (source, id) key,
// so the stream stores a redelivered event once (within its duplicate
// window).
type JetStreamTarget struct {
	*publisher
	js   jetstream.JetStream
	opts []jetstream.PublishOpt
}

func newJetStreamTarget(name string, c connector.Config, deps connector.Deps) (connector.Target, error) {
	cfg := c.(*JetStreamTargetConfig)
	p, err := newPublisher(name, "jetstream", &cfg.ConnConfig, &cfg.OutputConfig, deps)
	if err != nil {
		return nil, err
	}
	t := &JetStreamTarget{publisher: p}
	p.flush = t.flushBatch
	if cfg.Stream != "" {
		t.opts = append(t.opts, jetstream.WithExpectStream(cfg.Stream))
	}
	return t, nil
}

// Start connects in the background.
func (t *JetStreamTarget) Start(ctx context.Context) error {
	if err := t.publisher.Start(ctx); err != nil {
		return err
	}
	js, err := jetstream.New(t.nc)
	if err != nil {
		return err
	}
	t.js = js
	return nil
}

// Send implements connector.Target.
func (t *JetStreamTarget) Send(ctx context.Context, e *ce.Event) error {
	if t.nc == nil || t.js == nil || !t.h.isUp() || !t.nc.IsConnected() {
		return connector.ErrNotConnected
	}
	m, err := t.message(e)
	if err != nil {
		return err
	}
	if t.out.Batch != nil {
		return t.submit(ctx, m, ebevent.DedupKey(e.Source(), e.ID()))
	}
	ctx, cancel := context.WithTimeout(ctx, t.out.Timeout.D())
	defer cancel()
	opts := append([]jetstream.PublishOpt{jetstream.WithMsgID(ebevent.DedupKey(e.Source(), e.ID()))}, t.opts...)
	if _, err := t.js.PublishMsg(ctx, m, opts...); err != nil {
		t.m.Msgs(conntrack.Error).Inc()
		return t.classify(err)
	}
	t.m.Msgs(conntrack.OK).Inc()
	return nil
}

// flushBatch publishes every message asynchronously, then waits for the
// stream's acknowledgements; each message gets its own outcome.
func (t *JetStreamTarget) flushBatch(ctx context.Context, items []pubItem) []error {
	ctx, cancel := context.WithTimeout(ctx, t.out.Timeout.D())
	defer cancel()
	errs := make([]error, len(items))
	futures := make([]jetstream.PubAckFuture, len(items))
	for i, it := range items {
		opts := append([]jetstream.PublishOpt{jetstream.WithMsgID(it.id)}, t.opts...)
		f, err := t.js.PublishMsgAsync(it.m, opts...)
		if err != nil {
			t.m.Msgs(conntrack.Error).Inc()
			errs[i] = t.classify(err)
			continue
		}
		futures[i] = f
	}
	for i, f := range futures {
		if f == nil {
			continue
		}
		select {
		case <-f.Ok():
			t.m.Msgs(conntrack.OK).Inc()
		case err := <-f.Err():
			t.m.Msgs(conntrack.Error).Inc()
			errs[i] = t.classify(err)
		case <-ctx.Done():
			t.m.Msgs(conntrack.Error).Inc()
			errs[i] = t.classify(fmt.Errorf("waiting for the stream's acknowledgement: %w", ctx.Err()))
		}
	}
	return errs
}

// classify: a stream that refuses the message for what it is (too
// large, the wrong stream) is permanent; no stream for the subject (yet),
// timeouts and connection trouble are retryable.
func (t *JetStreamTarget) classify(err error) error {
	var apiErr *jetstream.APIError
	switch {
	case !t.nc.IsConnected():
		return fmt.Errorf("%w: %v", connector.ErrNotConnected, err)
	case errors.Is(err, nats.ErrMaxPayload):
		return connector.Permanent(err)
	case errors.Is(err, jetstream.ErrNoStreamResponse), errors.Is(err, nats.ErrNoResponders):
		return fmt.Errorf("no stream takes this subject (yet): %w", err)
	case errors.As(err, &apiErr):
		serr := &connector.StatusError{Code: apiErr.Code, Err: err}
		if apiErr.Code == 400 {
			return connector.Permanent(serr)
		}
		return serr
	}
	return publishError(err)
}

var (
	_ batch.MinConcurrency = (*JetStreamTarget)(nil)
	_ connector.Target     = (*JetStreamTarget)(nil)
	_ connector.Config     = (*JetStreamTargetConfig)(nil)
)
