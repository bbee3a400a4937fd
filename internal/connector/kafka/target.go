package kafka

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync/atomic"

	ce "github.com/cloudevents/sdk-go/v2/event"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/eventbridge-dev/eventbridge/internal/component"
	"github.com/eventbridge-dev/eventbridge/internal/connector"
	"github.com/eventbridge-dev/eventbridge/internal/connector/attrtemplate"
	"github.com/eventbridge-dev/eventbridge/internal/connector/conntrack"
	"github.com/eventbridge-dev/eventbridge/internal/netguard"
	"github.com/eventbridge-dev/eventbridge/pkg/connector/batch"
)

// Target produces events to Kafka with an idempotent producer and
// acks=all (every in-sync replica has the record before Send returns nil).
// Records with the same key go to the same partition, in the order sent.
type Target struct {
	name       string
	cfg        *TargetConfig
	log        *slog.Logger
	conn       *conntrack.Conn
	topic, key attrtemplate.Template
	// guard holds the connections of a target created through the API.
	guard *netguard.Guard
	cl    conntrack.Client[*kgo.Client]
	// batcher gathers concurrent Sends when batch is set, from Start to
	// Stop.
	batcher atomic.Pointer[batch.Batcher[*kgo.Record]]

	component.Tracker
}

func newTarget(name string, c connector.Config, deps connector.Deps) (connector.Target, error) {
	cfg := c.(*TargetConfig)
	t := &Target{name: name, cfg: cfg, log: deps.Log("target", name), guard: deps.Guard}
	var err error
	if t.topic, err = attrtemplate.Parse(cfg.Topic); err != nil {
		return nil, fmt.Errorf("target %s: topic: %w", name, err)
	}
	if cfg.Key != nil {
		if t.key, err = attrtemplate.Parse(*cfg.Key); err != nil {
			return nil, fmt.Errorf("target %s: key: %w", name, err)
		}
	}
	t.conn = conntrack.New(&t.Tracker, deps.Metrics, name, "kafka")
	t.Set(component.New, nil)
	return t, nil
}

// Start creates the producer and returns; it connects in the background.
func (t *Target) Start(ctx context.Context) error {
	t.conn.Starting()
	opts, err := t.cfg.opts(t.guard)
	if err != nil {
		t.Set(component.Failed, err)
		return fmt.Errorf("target %s: %w", t.name, err)
	}
	codec, _ := compression(t.cfg.Compression)
	opts = append(opts,
		kgo.RequiredAcks(kgo.AllISRAcks()), // idempotent writes are the default
		kgo.ProducerBatchCompression(codec),
		kgo.ProducerBatchMaxBytes(int32(t.cfg.MaxMessageBytes)),
		kgo.BrokerMaxWriteBytes(max(int32(t.cfg.MaxMessageBytes)*2, 100<<20)),
		kgo.RecordDeliveryTimeout(t.cfg.Timeout.D()),
		kgo.ProducerLinger(0),
		kgo.WithLogger(logger{t.log}),
	)
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		t.Set(component.Failed, err)
		return fmt.Errorf("target %s: %w", t.name, err)
	}
	t.cl.Start(ctx, t.conn, cl, func(ctx context.Context, cl *kgo.Client) { probe(ctx, cl, t.conn) })
	if t.cfg.Batch != nil {
		t.batcher.Store(batch.New(t.cfg.Batch.Config(), t.flush))
	}
	return nil
}

// Stop waits (within ctx) for records in flight, then closes the client.
func (t *Target) Stop(ctx context.Context) error {
	t.conn.Stopping()
	if b := t.batcher.Swap(nil); b != nil {
		_ = b.Close(ctx)
	}
	t.cl.Stop(ctx, func(cl *kgo.Client) {
		_ = cl.Flush(ctx)
		cl.Close()
	})
	t.conn.Stopped(nil)
	return nil
}

// Send produces e and waits for the brokers' acknowledgement. While the
// cluster is unreachable it returns connector.ErrNotConnected. Records the
// brokers refuse for good (too large, invalid topic, not authorized) are
// connector.Permanent; other failures are retryable.
func (t *Target) Send(ctx context.Context, e *ce.Event) error {
	cl, ok := t.cl.Get()
	if !ok {
		return connector.ErrNotConnected
	}
	r, err := t.record(e)
	if err != nil {
		t.conn.Message(conntrack.Out, conntrack.Invalid, 1)
		return connector.Permanent(err)
	}
	if t.cfg.Batch != nil {
		b := t.batcher.Load()
		if b == nil {
			return connector.ErrNotConnected // stopped
		}
		return b.Submit(ctx, r, len(r.Key)+len(r.Value)+len(r.Topic))
	}
	done := make(chan error, 1)
	cl.Produce(ctx, r, func(_ *kgo.Record, err error) { done <- err })
	select {
	case err = <-done:
	case <-ctx.Done():
		// The record may still be written (the idempotent producer does not
		// give up on a record in flight); a retry may then duplicate it.
		err = ctx.Err()
	}
	if err == nil {
		t.conn.Message(conntrack.Out, conntrack.OK, 1)
		return nil
	}
	t.conn.Message(conntrack.Out, conntrack.Error, 1)
	return t.classify(r.Topic, err)
}

// flush produces recs together and waits for all of them; each gets its
// own outcome.
func (t *Target) flush(ctx context.Context, recs []*kgo.Record) []error {
	cl, ok := t.cl.Get()
	if !ok {
		return batch.All(connector.ErrNotConnected, len(recs))
	}
	ctx, cancel := context.WithTimeout(ctx, t.cfg.Timeout.D())
	defer cancel()
	// The results come in the order the records completed: they are
	// matched to the records by pointer.
	at := make(map[*kgo.Record]int, len(recs))
	for i, r := range recs {
		at[r] = i
	}
	errs := make([]error, len(recs))
	for _, r := range cl.ProduceSync(ctx, recs...) {
		if r.Err == nil {
			t.conn.Message(conntrack.Out, conntrack.OK, 1)
			continue
		}
		t.conn.Message(conntrack.Out, conntrack.Error, 1)
		errs[at[r.Record]] = t.classify(r.Record.Topic, r.Err)
	}
	return errs
}

// MinConcurrency implements batch.MinConcurrency: the routes to the
// target get max_in_flight workers, or a batch's worth if more.
func (t *Target) MinConcurrency() int {
	n := t.cfg.MaxInFlight
	if t.cfg.Batch != nil {
		n = max(n, t.cfg.Batch.MaxEvents)
	}
	return n
}

// record builds the record of e.
func (t *Target) record(e *ce.Event) (*kgo.Record, error) {
	topic, err := t.topic.Render(e)
	if err != nil {
		return nil, fmt.Errorf("topic %q: %w", t.cfg.Topic, err)
	}
	if !topicRE.MatchString(topic) {
		return nil, fmt.Errorf("topic %q: not a Kafka topic name", topic)
	}
	r := &kgo.Record{Topic: topic}
	if key, err := t.key.Render(e); err == nil && key != "" { // no key when an attribute is missing
		r.Key = []byte(key)
	}
	if err := encode(e, t.cfg.Mode, r); err != nil {
		return nil, fmt.Errorf("encode: %w", err)
	}
	return r, nil
}

// permanentErrs are broker refusals that the same record will get again.
var permanentErrs = []error{
	kerr.MessageTooLarge, kerr.RecordListTooLarge, kerr.InvalidTopicException,
	kerr.TopicAuthorizationFailed, kerr.ClusterAuthorizationFailed,
	kerr.TransactionalIDAuthorizationFailed, kerr.InvalidRecord,
	kerr.CorruptMessage, kerr.UnsupportedForMessageFormat, kerr.PolicyViolation,
}

func (t *Target) classify(topic string, err error) error {
	for _, p := range permanentErrs {
		if errors.Is(err, p) {
			return connector.Permanent(fmt.Errorf("kafka topic %s: %w", topic, err))
		}
	}
	var ne net.Error
	if errors.Is(err, kgo.ErrRecordTimeout) || errors.As(err, &ne) || errors.Is(err, context.DeadlineExceeded) {
		t.conn.Down(err)
	}
	if errors.Is(err, kgo.ErrClientClosed) {
		return connector.ErrNotConnected
	}
	return fmt.Errorf("kafka topic %s: %w", topic, err)
}

// logger sends the client's log to slog, one level lower: the client
// reports every failed dial as a warning, and reconnecting is routine here.
type logger struct{ l *slog.Logger }

func (l logger) Level() kgo.LogLevel { return kgo.LogLevelWarn }

func (l logger) Log(level kgo.LogLevel, msg string, kv ...any) {
	lv := slog.LevelDebug
	switch level {
	case kgo.LogLevelError:
		lv = slog.LevelWarn
	case kgo.LogLevelWarn:
		lv = slog.LevelInfo
	}
	l.l.Log(context.Background(), lv, "kafka: "+msg, kv...)
}

var (
	_ connector.Target     = (*Target)(nil)
	_ batch.MinConcurrency = (*Target)(nil)
	_ kgo.Logger           = logger{}
)
