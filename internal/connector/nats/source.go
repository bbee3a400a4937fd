package nats

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/eventbridge-dev/eventbridge/internal/component"
	"github.com/eventbridge-dev/eventbridge/internal/connector"
	"github.com/eventbridge-dev/eventbridge/internal/spec"
)

// SourceConfig configures a nats source (core NATS).
type SourceConfig struct {
	connector.Common `yaml:",inline"`
	ConnConfig       `yaml:",inline"`
	IntakeConfig     `yaml:",inline"`
	// Subjects to subscribe to; wildcards (*, >) allowed.
	Subjects []string `json:"subjects"`
	// Queue is the queue group: the replicas of a bridge share the
	// messages. Default "eventbridge-<source name>".
	Queue string `json:"queue,omitempty"`
}

// Defaults implements connector.Config.
func (c *SourceConfig) Defaults() {
	c.ConnConfig.defaults()
	c.IntakeConfig.defaults()
}

// Validate implements connector.Config.
func (c *SourceConfig) Validate(p spec.Problems) {
	c.ConnConfig.validate(p)
	c.IntakeConfig.validate(p)
	if len(c.Subjects) == 0 {
		p.AddAt("subjects", "required: at least one subject")
	}
	for i, s := range c.Subjects {
		if err := validFilter(s); err != nil {
			p.At("subjects").Index(i).Add("%v", err)
		}
	}
	if c.Queue != "" {
		if err := validSubject(c.Queue); err != nil {
			p.AddAt("queue", "%v", err)
		}
	}
}

// Source subscribes to subjects. Core NATS keeps nothing: a message is
// stored in the bus before the next is taken (retrying while the bus is
// down), and a request is answered once its event is stored.
type Source struct {
	sourceBase // wg: readiness checks
	cfg        *SourceConfig

	mu         sync.Mutex
	subscribed bool
	subs       []*nats.Subscription
}

func newSource(name string, c connector.Config, deps connector.Deps) (connector.Source, error) {
	cfg := c.(*SourceConfig)
	s := &Source{cfg: cfg}
	s.init(name, "nats", &cfg.IntakeConfig, deps, true)
	return s, nil
}

// Start connects and subscribes in the background and returns.
func (s *Source) Start(context.Context) error {
	if err := s.connect(&s.cfg.ConnConfig, 1<<16, s.connState); err != nil {
		return err
	}
	nc := s.nc
	s.recv.deadLetter = func(ctx context.Context, m *nats.Msg) error {
		if err := nc.PublishMsg(m); err != nil {
			return publishError(err)
		}
		return nc.FlushWithContext(ctx)
	}
	queue := s.cfg.Queue
	if queue == "" {
		queue = "eventbridge-" + s.name
	}
	for _, subj := range s.cfg.Subjects {
		// Subscriptions made while disconnected are sent on connecting.
		sub, err := nc.QueueSubscribe(subj, queue, s.received)
		if err != nil {
			return s.fail(err, fmt.Errorf("source %s: subscribe %s: %w", s.name, subj, err))
		}
		s.subs = append(s.subs, sub)
	}
	s.mu.Lock()
	s.subscribed = true
	s.mu.Unlock()
	go s.recv.work(s.cfg.MaxBatch)
	s.connState(true, nil)
	return nil
}

// connState reports the connection. Up counts once the server has the
// subscriptions: a flush round trip after they were sent.
func (s *Source) connState(up bool, err error) {
	if !up {
		s.h.set(false, err)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.subscribed {
		return
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		if err := s.nc.FlushTimeout(5 * time.Second); err != nil {
			s.h.set(false, err)
			return
		}
		if s.nc.IsConnected() {
			s.h.set(true, nil)
		}
	}()
}

func (s *Source) received(m *nats.Msg) {
	it := item{msg: m, stored: func() {}, failed: func(error) {}, invalid: func(error) {}}
	if m.Reply != "" {
		it.stored = func() { _ = m.Respond(nil) }
		it.failed = func(err error) { s.respondError(m, 503, "not stored: "+err.Error()) }
		it.invalid = func(err error) { s.respondError(m, 400, err.Error()) }
	}
	s.recv.queue.Put(it)
}

// respondError answers a request with the NATS service error headers.
func (s *Source) respondError(m *nats.Msg, code int, text string) {
	r := &nats.Msg{Subject: m.Reply, Header: nats.Header{}}
	r.Header.Set("Nats-Service-Error", text)
	r.Header.Set("Nats-Service-Error-Code", fmt.Sprint(code))
	_ = m.RespondMsg(r)
}

// Stop unsubscribes, lets the batch in hand finish within ctx (what is
// queued behind it is dropped: core NATS keeps nothing), and closes.
func (s *Source) Stop(ctx context.Context) error {
	s.h.stop()
	if s.nc == nil {
		s.Set(component.Terminated, nil)
		return nil
	}
	for _, sub := range s.subs {
		_ = sub.Unsubscribe()
	}
	if left := s.recv.queue.Close(); len(left) > 0 {
		s.log.Warn("stopping: dropping messages not yet stored", "messages", len(left))
		for _, it := range left {
			it.failed(fmt.Errorf("the source stopped"))
		}
	}
	s.recv.quitNow()
	s.recv.wait(ctx)
	s.nc.Close()
	s.wg.Wait()
	s.Set(component.Terminated, nil)
	return nil
}

var (
	_ connector.Source = (*Source)(nil)
	_ connector.Config = (*SourceConfig)(nil)
)
