package nats

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/eventbridge-dev/eventbridge/internal/component"
	"github.com/eventbridge-dev/eventbridge/internal/connector"
	"github.com/eventbridge-dev/eventbridge/internal/connector/intake"
	"github.com/eventbridge-dev/eventbridge/internal/spec"
)

// JetStreamSourceConfig configures a jetstream source: a durable pull
// consumer on a stream.
type JetStreamSourceConfig struct {
	connector.Common `yaml:",inline"`
	ConnConfig       `yaml:",inline"`
	IntakeConfig     `yaml:",inline"`
	// Stream is the stream to consume.
	Stream string `json:"stream"`
	// CreateStream creates the stream (with Subjects, Storage) if it does
	// not exist; else the source waits for it to exist.
	CreateStream bool `json:"create_stream,omitempty"`
	// Subjects filter what the consumer receives (default: everything in
	// the stream); with create_stream they are the stream's subjects.
	Subjects []string `json:"subjects,omitempty"`
	// Storage of a created stream: file (default) or memory.
	Storage string `json:"storage,omitempty"`
	// Durable names the consumer. Default "eventbridge-<source name>":
	// replicas share it, and it outlives restarts.
	Durable string `json:"durable,omitempty"`
	// Deliver is where a new consumer starts: all (default), new or last.
	Deliver string `json:"deliver,omitempty"`
	// AckWait is how long the server waits for an ack before it sends a
	// message again. Default 30s.
	AckWait spec.Duration `json:"ack_wait,omitempty"`
	// MaxAckPending bounds the unacknowledged messages. Default 1000.
	MaxAckPending int `json:"max_ack_pending,omitempty"`
	// MaxDeliver bounds deliveries of a message (0: unlimited, the default).
	MaxDeliver int `json:"max_deliver,omitempty"`
}

// Defaults implements connector.Config.
func (c *JetStreamSourceConfig) Defaults() {
	c.ConnConfig.defaults()
	c.IntakeConfig.defaults()
	if c.Storage == "" {
		c.Storage = "file"
	}
	if c.Deliver == "" {
		c.Deliver = "all"
	}
	if c.AckWait == 0 {
		c.AckWait = spec.Duration(30 * time.Second)
	}
	if c.MaxAckPending == 0 {
		c.MaxAckPending = 1000
	}
}

// Validate implements connector.Config.
func (c *JetStreamSourceConfig) Validate(p spec.Problems) {
	c.ConnConfig.validate(p)
	c.IntakeConfig.validate(p)
	if c.Stream == "" {
		p.AddAt("stream", "required: the stream to consume")
	} else if err := validSubject(c.Stream); err != nil || len(c.Stream) > 255 {
		p.AddAt("stream", "not a stream name")
	}
	if c.CreateStream && len(c.Subjects) == 0 {
		p.AddAt("subjects", "required with create_stream: the stream's subjects")
	}
	for i, s := range c.Subjects {
		if err := validFilter(s); err != nil {
			p.At("subjects").Index(i).Add("%v", err)
		}
	}
	if c.Storage != "file" && c.Storage != "memory" {
		p.AddAt("storage", "must be file or memory")
	}
	if c.Deliver != "all" && c.Deliver != "new" && c.Deliver != "last" {
		p.AddAt("deliver", "must be all, new or last")
	}
	if c.AckWait.D() < time.Second {
		p.AddAt("ack_wait", "must be at least 1s")
	}
	if c.MaxAckPending < 1 {
		p.AddAt("max_ack_pending", "must be at least 1")
	}
	if c.MaxDeliver < 0 {
		p.AddAt("max_deliver", "must be 0 (unlimited) or more")
	}
}

// JetStreamSource consumes a stream: a message is acked once its event is
// in the bus, nak'ed (redelivered with backoff) when the store fails, and
// terminated when it is not a valid CloudEvent.
type JetStreamSource struct {
	sourceBase // wg: supervise
	cfg        *JetStreamSourceConfig

	js    jetstream.JetStream
	reset chan struct{} // the consumer is gone: set it up again

	mu        sync.Mutex
	consuming jetstream.ConsumeContext
}

func newJetStreamSource(name string, c connector.Config, deps connector.Deps) (connector.Source, error) {
	cfg := c.(*JetStreamSourceConfig)
	s := &JetStreamSource{cfg: cfg, reset: make(chan struct{}, 1)}
	s.init(name, "jetstream", &cfg.IntakeConfig, deps, false)
	return s, nil
}

// Start connects and sets the consumer up in the background, and returns.
func (s *JetStreamSource) Start(context.Context) error {
	if err := s.connect(&s.cfg.ConnConfig, s.cfg.MaxAckPending+1024, s.connState); err != nil {
		return err
	}
	var err error
	if s.js, err = jetstream.New(s.nc); err != nil {
		return s.fail(err, fmt.Errorf("source %s: %w", s.name, err))
	}
	s.recv.deadLetter = func(ctx context.Context, m *nats.Msg) error {
		_, err := s.js.PublishMsg(ctx, m)
		return err
	}
	s.wg.Add(1)
	go s.supervise(s.recv.quit)
	go s.recv.work(s.cfg.MaxBatch)
	return nil
}

// connState: losing the connection makes the source Starting; getting it
// back, Running again if the consumer was set up (Consume resumes on its
// own after a reconnect).
func (s *JetStreamSource) connState(up bool, err error) {
	s.mu.Lock()
	consuming := s.consuming != nil
	s.mu.Unlock()
	if !up || consuming {
		s.h.set(up, err)
	}
}

// supervise sets the consumer up (again when it is gone) until quit.
func (s *JetStreamSource) supervise(quit context.Context) {
	defer s.wg.Done()
	for {
		err := intake.Retry(quit, s.setup, func(_ int, err error) { s.h.notReady(s.nc.IsConnected(), err) })
		if err != nil {
			return
		}
		if s.nc.IsConnected() {
			s.h.set(true, nil)
		}
		select {
		case <-quit.Done():
			return
		case <-s.reset:
			s.mu.Lock()
			s.consuming.Stop()
			s.consuming = nil
			s.mu.Unlock()
			s.h.notReady(s.nc.IsConnected(), errors.New("the consumer is gone; setting it up again"))
		}
	}
}

func (s *JetStreamSource) setup(ctx context.Context) error {
	if !s.nc.IsConnected() {
		return connector.ErrNotConnected
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	var stream jetstream.Stream
	var err error
	if s.cfg.CreateStream {
		storage := jetstream.FileStorage
		if s.cfg.Storage == "memory" {
			storage = jetstream.MemoryStorage
		}
		stream, err = s.js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{Name: s.cfg.Stream, Subjects: s.cfg.Subjects, Storage: storage})
	} else {
		stream, err = s.js.Stream(ctx, s.cfg.Stream)
	}
	if err != nil {
		return fmt.Errorf("stream %s: %w", s.cfg.Stream, err)
	}
	durable := s.cfg.Durable
	if durable == "" {
		durable = "eventbridge-" + s.name
	}
	cc := jetstream.ConsumerConfig{Durable: durable, AckPolicy: jetstream.AckExplicitPolicy, AckWait: s.cfg.AckWait.D(),
		MaxAckPending: s.cfg.MaxAckPending, MaxDeliver: s.cfg.MaxDeliver}
	// One filter as FilterSubject: servers before 2.10 know no other.
	switch len(s.cfg.Subjects) {
	case 0:
	case 1:
		cc.FilterSubject = s.cfg.Subjects[0]
	default:
		cc.FilterSubjects = s.cfg.Subjects
	}
	if s.cfg.MaxDeliver == 0 {
		cc.MaxDeliver = -1
	}
	switch s.cfg.Deliver {
	case "new":
		cc.DeliverPolicy = jetstream.DeliverNewPolicy
	case "last":
		cc.DeliverPolicy = jetstream.DeliverLastPolicy
	}
	cons, err := stream.CreateOrUpdateConsumer(ctx, cc)
	if err != nil {
		return fmt.Errorf("consumer %s: %w", durable, err)
	}
	consuming, err := cons.Consume(s.received,
		jetstream.PullMaxMessages(min(s.cfg.MaxAckPending, 500)),
		jetstream.ConsumeErrHandler(func(_ jetstream.ConsumeContext, err error) {
			s.log.Debug("consume", "err", err)
			if errors.Is(err, jetstream.ErrConsumerDeleted) || errors.Is(err, jetstream.ErrConsumerNotFound) {
				select {
				case s.reset <- struct{}{}:
				default:
				}
			}
		}))
	if err != nil {
		return fmt.Errorf("consume: %w", err)
	}
	s.mu.Lock()
	s.consuming = consuming
	s.mu.Unlock()
	s.SetDetail("consumer", durable)
	return nil
}

func (s *JetStreamSource) received(m jetstream.Msg) {
	s.recv.queue.Put(item{
		msg:    &nats.Msg{Subject: m.Subject(), Header: m.Headers(), Data: m.Data()},
		stored: func() { _ = m.Ack() },
		failed: func(error) {
			n := uint64(1)
			if md, err := m.Metadata(); err == nil {
				n = md.NumDelivered
			}
			_ = m.NakWithDelay(nakDelay(n))
		},
		invalid: func(reason error) { _ = m.TermWithReason(reason.Error()) },
	})
}

// nakDelay is the redelivery delay after the n-th failed delivery:
// 100ms doubling to 5s. It is a function of the delivery count the server
// keeps, not a conntrack.Backoff: there is no loop here to hold state.
func nakDelay(n uint64) time.Duration {
	d := intake.MinBackoff
	for i := uint64(1); i < n && d < intake.MaxBackoff; i++ {
		d *= 2
	}
	return min(d, intake.MaxBackoff)
}

// Stop stops consuming, lets the batch in hand finish within ctx, gives
// back (naks) what was received but not stored, and closes.
func (s *JetStreamSource) Stop(ctx context.Context) error {
	s.h.stop()
	if s.nc == nil {
		s.Set(component.Terminated, nil)
		return nil
	}
	s.recv.quitNow()
	s.wg.Wait() // supervise: no new consumer
	s.mu.Lock()
	if s.consuming != nil {
		s.consuming.Stop()
	}
	s.mu.Unlock()
	for _, it := range s.recv.queue.Close() {
		it.failed(errors.New("the source stopped"))
	}
	s.recv.wait(ctx)
	_ = s.nc.FlushTimeout(time.Second) // the last acks
	s.nc.Close()
	s.Set(component.Terminated, nil)
	return nil
}

var (
	_ connector.Source = (*JetStreamSource)(nil)
	_ connector.Config = (*JetStreamSourceConfig)(nil)
)
