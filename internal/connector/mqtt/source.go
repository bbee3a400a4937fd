package mqtt

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	ce "github.com/cloudevents/sdk-go/v2/event"

	"github.com/eventbridge-dev/eventbridge/internal/component"
	"github.com/eventbridge-dev/eventbridge/internal/connector"
	"github.com/eventbridge-dev/eventbridge/internal/connector/conntrack"
	"github.com/eventbridge-dev/eventbridge/internal/connector/intake"
	"github.com/eventbridge-dev/eventbridge/internal/spec"
)

// SourceConfig configures an mqtt source.
type SourceConfig struct {
	connector.Common `yaml:",inline"`
	ConnConfig       `yaml:",inline"`
	// Topics are the topic filters to subscribe to: wildcards (+, #) and
	// shared subscriptions ($share/<group>/<filter>) allowed.
	Topics []string `json:"topics"`
	// Group, when set, subscribes every topic as the shared subscription
	// $share/<group>/<topic>, so that replicas split the messages.
	Group string `json:"group,omitempty"`
	// QoS is the maximum QoS of the subscriptions: 0, 1 (default) or 2.
	QoS *int `json:"qos,omitempty"`
	// CleanStart discards the broker's session (unacknowledged and queued
	// messages) when the source starts. Default false.
	CleanStart bool `json:"clean_start,omitempty"`
	// SessionExpiry is how long the broker keeps the session (and queues
	// QoS 1/2 messages) after a disconnect, in MQTT 5. Default 1h.
	SessionExpiry *spec.Duration `json:"session_expiry,omitempty"`
	// MaxInflight bounds the unacknowledged QoS 1/2 messages the broker
	// sends (MQTT 5 Receive Maximum). Default 1000.
	MaxInflight int `json:"max_inflight,omitempty"`
	// BatchConfig: max_batch, timeout, wrap and the extension limits.
	intake.BatchConfig `yaml:",inline"`
	// DeadLetter is a topic where messages that are not valid CloudEvents
	// (and not wrapped) are published, as they came, with the reason in
	// the user property "eventbridge-error" (MQTT 5).
	DeadLetter string `json:"dead_letter,omitempty"`
}

// Defaults implements connector.Config.
func (c *SourceConfig) Defaults() {
	c.BatchConfig.Defaults()
	c.ConnConfig.defaults()
	if c.QoS == nil {
		q := 1
		c.QoS = &q
	}
	if c.SessionExpiry == nil {
		d := spec.Duration(time.Hour)
		c.SessionExpiry = &d
	}
	if c.MaxInflight == 0 {
		c.MaxInflight = 1000
	}
}

// Validate implements connector.Config.
func (c *SourceConfig) Validate(p spec.Problems) {
	c.BatchConfig.Validate(p)
	c.ConnConfig.validate(p)
	if len(c.Topics) == 0 {
		p.AddAt("topics", "required: at least one topic filter")
	}
	for i, f := range c.Topics {
		if err := validFilter(f); err != nil {
			p.At("topics").Index(i).Add("%v", err)
		} else if c.Group != "" && len(f) > 7 && f[:7] == "$share/" {
			p.At("topics").Index(i).Add("is already a shared subscription; group would share it again")
		}
	}
	if c.Group != "" {
		if err := validFilter("$share/" + c.Group + "/x"); err != nil || containsSlash(c.Group) {
			p.AddAt("group", "a share name may not contain /, + or #")
		}
	}
	if q := *c.QoS; q < 0 || q > 2 {
		p.AddAt("qos", "must be 0, 1 or 2")
	}
	if c.SessionExpiry.D() < 0 || c.SessionExpiry.D() > 0xFFFFFFFF*time.Second {
		p.AddAt("session_expiry", "must be between 0 and 136 years")
	}
	if c.MaxInflight < 1 || c.MaxInflight > 65535 {
		p.AddAt("max_inflight", "must be between 1 and 65535")
	}
	if c.DeadLetter != "" {
		if err := validTopic(c.DeadLetter); err != nil {
			p.AddAt("dead_letter", "%v", err)
		}
	}
}

func containsSlash(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == '/' {
			return true
		}
	}
	return false
}

// filters are the subscriptions, with the shared group applied.
func (c *SourceConfig) filters() []subscription {
	out := make([]subscription, len(c.Topics))
	for i, f := range c.Topics {
		if c.Group != "" {
			f = "$share/" + c.Group + "/" + f
		}
		out[i] = subscription{filter: f, qos: byte(*c.QoS)}
	}
	return out
}

// Source subscribes to topics and stores the events it receives; a
// message is acknowledged to the broker only once the bus has it.
type Source struct {
	name string
	cfg  *SourceConfig
	deps connector.Deps
	log  *slog.Logger
	m    conntrack.Series
	// fails logs failing stores once per outage, not once per retry.
	fails *intake.Failures

	queue   *intake.Queue[delivery]
	link    link
	ctx     context.Context // the worker's life: ends a store in progress
	cancel  context.CancelFunc
	quit    context.Context // done once Stop began: no new attempts
	quitNow context.CancelFunc
	done    chan struct{}
	health  connHealth

	component.Tracker
}

func newSource(name string, c connector.Config, deps connector.Deps) (connector.Source, error) {
	s := &Source{name: name, cfg: c.(*SourceConfig), deps: deps, log: deps.Log("source", name, "type", "mqtt")}
	s.m = conntrack.NewSeries(deps.Metrics, name, "mqtt", "receiver")
	s.fails = intake.NewFailures(s.log, "")
	s.health = connHealth{tr: &s.Tracker, m: s.m, ch: conntrack.NewChanges(deps.Metrics, name, "mqtt"), log: s.log}
	s.Set(component.New, nil)
	return s, nil
}

// Start connects in the background and returns: the source is Starting
// until it is connected and subscribed, then Running.
func (s *Source) Start(context.Context) error {
	s.Set(component.Starting, nil)
	s.SetDetail("connected", false)
	// Room for every unacknowledged QoS 1/2 message the broker may send,
	// so that the library's read loop never waits on us for those.
	s.queue = intake.NewQueue[delivery](s.cfg.MaxInflight + 1024)
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.quit, s.quitNow = context.WithCancel(s.ctx)
	id := s.cfg.clientID("source", s.name)
	s.SetDetail("client_id", id)
	l, err := dial(linkConfig{
		conn:          &s.cfg.ConnConfig,
		clientID:      id,
		cleanStart:    s.cfg.CleanStart,
		sessionExpiry: s.cfg.SessionExpiry.D(),
		receiveMax:    uint16(s.cfg.MaxInflight),
		subs:          s.cfg.filters(),
		onMessage:     func(d delivery) { s.queue.Put(d) },
		onState:       s.health.state,
		onTakeover:    s.health.takeover,
		guard:         s.deps.Guard,
		log:           s.log,
	})
	if err != nil {
		s.cancel()
		s.quitNow()
		s.Set(component.Failed, err)
		return fmt.Errorf("source %s: %w", s.name, err)
	}
	s.link = l
	s.done = make(chan struct{})
	go s.work()
	return nil
}

// Stop stops intake, lets the batch in hand finish within ctx, and
// disconnects. Messages not yet stored stay unacknowledged: the broker
// sends them again.
func (s *Source) Stop(ctx context.Context) error {
	s.health.stop()
	s.Set(component.Stopping, nil)
	if s.link == nil {
		s.Set(component.Terminated, nil)
		return nil
	}
	s.queue.Close()
	s.quitNow()
	select {
	case <-s.done:
	case <-ctx.Done():
		s.cancel()
		<-s.done
	}
	s.cancel()
	err := s.link.close(ctx)
	s.health.closed()
	s.Set(component.Terminated, nil)
	return err
}

func (s *Source) work() {
	defer close(s.done)
	v5 := s.cfg.Version == V5
	for {
		batch := s.queue.Take(s.quit, s.cfg.MaxBatch)
		if batch == nil {
			return
		}
		if !s.handle(batch, v5) {
			return
		}
	}
}

// handle stores a batch and acknowledges it. It returns false when the
// source stopped first (nothing more is acknowledged then).
func (s *Source) handle(batch []delivery, v5 bool) bool {
	events := make([]*ce.Event, 0, len(batch))
	acks := make([]func(), 0, len(batch))
	for _, d := range batch {
		s.m.Received.Inc()
		e, err := Decode(&d.msg, v5)
		if errors.Is(err, errNotCloudEvent) && s.cfg.Wrap != nil {
			e, err = s.cfg.Wrap.Event(d.msg.Payload, d.msg.ContentType, d.msg.Topic), nil
		}
		if err == nil {
			err = s.cfg.CheckExtensions(e)
		}
		if err != nil {
			if !s.reject(d, err) {
				return false
			}
			continue
		}
		events = append(events, e)
		acks = append(acks, d.ack)
	}
	if len(events) == 0 {
		return true
	}
	err := intake.Retry(s.quit, func(context.Context) error {
		// A store in progress may finish while Stop waits; only new
		// attempts end with quit.
		ctx, cancel := context.WithTimeout(s.ctx, s.cfg.Timeout.D())
		defer cancel()
		return s.deps.Ingest.Ingest(ctx, s.name, events)
	}, func(attempt int, err error) {
		s.m.Msgs(conntrack.Error).Add(float64(len(events)))
		s.fails.Failed(len(events), err)
	})
	if err != nil {
		return false
	}
	s.fails.Stored()
	s.m.Msgs(conntrack.OK).Add(float64(len(events)))
	for _, ack := range acks {
		ack()
	}
	return true
}

// reject counts and logs a message that is not a valid CloudEvent,
// publishes it to the dead-letter topic when there is one, and
// acknowledges it. It returns false if the source stopped before the
// dead letter was published.
func (s *Source) reject(d delivery, reason error) bool {
	s.m.Rejected.WithLabelValues(connector.RejectReason(reason)).Inc()
	s.m.Msgs(conntrack.Invalid).Inc()
	s.log.Warn("message is not a valid CloudEvent", "topic", d.msg.Topic, "dead_letter", s.cfg.DeadLetter, "err", reason)
	if s.cfg.DeadLetter != "" {
		dl := d.msg
		dl.Topic, dl.QoS, dl.Retain = s.cfg.DeadLetter, 1, false
		dl.Properties = append(append([]Property(nil), d.msg.Properties...),
			Property{Key: "eventbridge-error", Value: reason.Error()},
			Property{Key: "eventbridge-topic", Value: d.msg.Topic})
		err := intake.Retry(s.quit, func(context.Context) error {
			ctx, cancel := context.WithTimeout(s.ctx, s.cfg.Timeout.D())
			defer cancel()
			return s.link.publish(ctx, &dl)
		}, func(attempt int, err error) {
			s.log.Warn("cannot publish to the dead-letter topic; will retry", "attempt", attempt, "err", err)
		})
		if err != nil {
			return false
		}
	}
	d.ack()
	return true
}

var (
	_ connector.Source = (*Source)(nil)
	_ connector.Config = (*SourceConfig)(nil)
)
