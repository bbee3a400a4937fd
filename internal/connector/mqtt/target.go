package mqtt

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	ce "github.com/cloudevents/sdk-go/v2/event"

	"github.com/eventbridge-dev/eventbridge/internal/component"
	"github.com/eventbridge-dev/eventbridge/internal/connector"
	"github.com/eventbridge-dev/eventbridge/internal/connector/attrtemplate"
	"github.com/eventbridge-dev/eventbridge/internal/connector/conntrack"
	"github.com/eventbridge-dev/eventbridge/internal/netguard"
	"github.com/eventbridge-dev/eventbridge/internal/spec"
)

// TargetConfig configures an mqtt target.
type TargetConfig struct {
	connector.Common `yaml:",inline"`
	ConnConfig       `yaml:",inline"`
	// Topic is where events are published: a template with {attribute}
	// placeholders, such as "events/{type}".
	Topic string `json:"topic"`
	// QoS of the messages: 0, 1 (default) or 2.
	QoS *int `json:"qos,omitempty"`
	// Retain sets the retain flag: the broker keeps the last message of
	// each topic for new subscribers.
	Retain bool `json:"retain,omitempty"`
	// Mode is binary (attributes in user properties; the default in MQTT 5)
	// or structured (the JSON event format; the only mode of MQTT 3.1.1).
	Mode Mode `json:"mode,omitempty"`
	// Timeout bounds one publish. Default 10s.
	Timeout spec.Duration `json:"timeout,omitempty"`

	topic *attrtemplate.Template
}

// Defaults implements connector.Config.
func (c *TargetConfig) Defaults() {
	c.ConnConfig.defaults()
	if c.QoS == nil {
		q := 1
		c.QoS = &q
	}
	if c.Mode == "" {
		c.Mode = ModeBinary
		if c.Version == V311 {
			c.Mode = ModeStructured
		}
	}
	if c.Timeout == 0 {
		c.Timeout = spec.Duration(10 * time.Second)
	}
}

// Validate implements connector.Config.
func (c *TargetConfig) Validate(p spec.Problems) {
	c.ConnConfig.validate(p)
	t, err := attrtemplate.Parse(c.Topic)
	switch {
	case c.Topic == "":
		p.AddAt("topic", "required: the topic to publish to, such as events/{type}")
	case err != nil:
		p.AddAt("topic", "%v", err)
	case !t.HasPlaceholders():
		if err := validTopic(c.Topic); err != nil {
			p.AddAt("topic", "%v", err)
		}
	}
	c.topic = nil
	if err == nil {
		c.topic = &t
	}
	if q := *c.QoS; q < 0 || q > 2 {
		p.AddAt("qos", "must be 0, 1 or 2")
	}
	switch {
	case c.Mode != ModeBinary && c.Mode != ModeStructured:
		p.AddAt("mode", "must be binary or structured, not %q", c.Mode)
	case c.Mode == ModeBinary && c.Version == V311:
		p.AddAt("mode", "MQTT 3.1.1 has no user properties: only structured mode")
	}
	if c.Timeout.D() <= 0 {
		p.AddAt("timeout", "must be positive")
	}
}

// Target publishes events.
type Target struct {
	name string
	cfg  *TargetConfig
	log  *slog.Logger
	m    conntrack.Series
	link link
	// guard holds the connections of a target created through the API.
	guard *netguard.Guard

	health connHealth
	component.Tracker
}

func newTarget(name string, c connector.Config, deps connector.Deps) (connector.Target, error) {
	cfg := c.(*TargetConfig)
	if cfg.topic == nil { // built without Validate
		t, err := attrtemplate.Parse(cfg.Topic)
		if err != nil {
			return nil, err
		}
		cfg.topic = &t
	}
	t := &Target{name: name, cfg: cfg, log: deps.Log("target", name, "type", "mqtt"), m: conntrack.NewSeries(deps.Metrics, name, "mqtt", "sender"), guard: deps.Guard}
	t.health = connHealth{tr: &t.Tracker, m: t.m, ch: conntrack.NewChanges(deps.Metrics, name, "mqtt"), log: t.log}
	t.Set(component.New, nil)
	return t, nil
}

// Start connects in the background and returns; Send answers
// connector.ErrNotConnected until the connection is up.
func (t *Target) Start(context.Context) error {
	t.Set(component.Starting, nil)
	t.SetDetail("connected", false)
	id := t.cfg.clientID("target", t.name)
	t.SetDetail("client_id", id)
	l, err := dial(linkConfig{conn: &t.cfg.ConnConfig, clientID: id, cleanStart: true,
		onState: t.health.state, onTakeover: t.health.takeover, guard: t.guard, log: t.log})
	if err != nil {
		t.Set(component.Failed, err)
		return fmt.Errorf("target %s: %w", t.name, err)
	}
	t.link = l
	return nil
}

// Stop disconnects.
func (t *Target) Stop(ctx context.Context) error {
	t.health.stop()
	t.Set(component.Stopping, nil)
	var err error
	if t.link != nil {
		err = t.link.close(ctx)
	}
	t.health.closed()
	t.Set(component.Terminated, nil)
	return err
}

// Send implements connector.Target: it publishes e and, at QoS 1 or 2,
// returns once the broker acknowledged it.
func (t *Target) Send(ctx context.Context, e *ce.Event) error {
	if t.link == nil || !t.health.up.Load() {
		return connector.ErrNotConnected
	}
	topic, err := t.cfg.topic.Render(e)
	if err == nil {
		err = validTopic(topic)
	}
	if err != nil {
		t.m.Msgs(conntrack.Invalid).Inc()
		return connector.Permanent(fmt.Errorf("topic: %w", err))
	}
	m, err := Encode(e, t.cfg.Mode)
	if err != nil {
		t.m.Msgs(conntrack.Invalid).Inc()
		return connector.Permanent(fmt.Errorf("encode: %w", err))
	}
	m.Topic, m.QoS, m.Retain = topic, byte(*t.cfg.QoS), t.cfg.Retain
	ctx, cancel := context.WithTimeout(ctx, t.cfg.Timeout.D())
	defer cancel()
	if err := t.link.publish(ctx, m); err != nil {
		t.m.Msgs(conntrack.Error).Inc()
		return err
	}
	t.m.Msgs(conntrack.OK).Inc()
	return nil
}

var (
	_ connector.Target = (*Target)(nil)
	_ connector.Config = (*TargetConfig)(nil)
)
