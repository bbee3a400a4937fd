package amqp

import (
	"time"

	"github.com/eventbridge-dev/eventbridge/internal/connector"
	"github.com/eventbridge-dev/eventbridge/internal/connector/amqpbinding"
	"github.com/eventbridge-dev/eventbridge/internal/connector/attrtemplate"
	"github.com/eventbridge-dev/eventbridge/internal/connector/intake"
	"github.com/eventbridge-dev/eventbridge/internal/spec"
)

// ConnConfig is how a source or target reaches the broker: the URL
// (default amqp://127.0.0.1:5672/, with the vhost as path), credentials
// (without them, RabbitMQ's default guest/guest), TLS and timeouts the
// amqp1 connector shares, and the heartbeat.
type ConnConfig struct {
	amqpbinding.Endpoint `yaml:",inline"`
	// Heartbeat is the AMQP heartbeat interval. Default 10s.
	Heartbeat spec.Duration `json:"heartbeat,omitempty"`
}

func (c *ConnConfig) defaults() {
	c.Endpoint.Defaults("amqp://127.0.0.1:5672/")
	if c.Heartbeat == 0 {
		c.Heartbeat = spec.Duration(10 * time.Second)
	}
}

func (c *ConnConfig) validate(p spec.Problems) {
	c.Endpoint.Validate(p)
	if c.Heartbeat.D() < 0 {
		p.AddAt("heartbeat", "must not be negative")
	}
}

// SourceConfig configures an amqp source: it consumes one queue.
type SourceConfig struct {
	connector.Common `yaml:",inline"`
	ConnConfig       `yaml:",inline"`
	// Queue is consumed. Required.
	Queue string `json:"queue"`
	// Declare, when set, declares the queue (and its bindings) on every
	// connect; without it the queue must exist.
	Declare *Declare `json:"declare,omitempty"`
	// DeadLetter is the exchange that messages which are not valid
	// CloudEvents go to, set as the queue's x-dead-letter-exchange when
	// the source declares it. Without declare, the queue's own
	// dead-letter exchange (from a policy or its arguments) applies.
	DeadLetter string `json:"dead_letter,omitempty"`
	// DeadLetterRoutingKey replaces their routing key (x-dead-letter-routing-key).
	DeadLetterRoutingKey string `json:"dead_letter_routing_key,omitempty"`
	// Prefetch is how many unacknowledged messages the broker hands out
	// at once (basic.qos); it also bounds one ingest batch. Default 100.
	Prefetch int `json:"prefetch,omitempty"`
	// ConsumerTag names the consumer. Default eventbridge-<source name>.
	ConsumerTag string `json:"consumer_tag,omitempty"`
	// StoreConfig: timeout, the extension limits, and wrap (without it,
	// messages that are not CloudEvents are rejected: dead-lettered).
	intake.StoreConfig `yaml:",inline"`
}

// Declare says how the source declares its queue.
type Declare struct {
	// Durable queues survive a broker restart. Default true.
	Durable *bool `json:"durable,omitempty"`
	// AutoDelete deletes the queue when its last consumer goes.
	AutoDelete bool `json:"auto_delete,omitempty"`
	// QueueType is classic (default), quorum or stream (x-queue-type).
	QueueType string `json:"queue_type,omitempty"`
	// Bindings bind the queue to exchanges.
	Bindings []Binding `json:"bindings,omitempty"`
}

// Binding binds the queue to an exchange.
type Binding struct {
	// Exchange is bound from. Required.
	Exchange string `json:"exchange"`
	// RoutingKey is the binding key ("#" matches all on a topic exchange).
	RoutingKey string `json:"routing_key,omitempty"`
	// ExchangeType, when set (direct, fanout, topic, headers), declares
	// the exchange as durable of that type; otherwise it must exist.
	ExchangeType string `json:"exchange_type,omitempty"`
}

// Defaults implements connector.Config.
func (c *SourceConfig) Defaults() {
	c.StoreConfig.Defaults()
	c.ConnConfig.defaults()
	if c.Prefetch == 0 {
		c.Prefetch = 100
	}
	if c.Declare != nil && c.Declare.Durable == nil {
		t := true
		c.Declare.Durable = &t
	}
}

// Validate implements connector.Config.
func (c *SourceConfig) Validate(p spec.Problems) {
	c.StoreConfig.Validate(p)
	c.ConnConfig.validate(p)
	if c.Queue == "" {
		p.AddAt("queue", "required: the queue to consume")
	}
	if c.Prefetch < 1 || c.Prefetch > 65535 {
		p.AddAt("prefetch", "must be 1 to 65535")
	}
	if (c.DeadLetter != "" || c.DeadLetterRoutingKey != "") && c.Declare == nil {
		p.AddAt("dead_letter", "needs declare: the dead-letter exchange is a queue argument (otherwise set it with a policy)")
	}
	if d := c.Declare; d != nil {
		switch d.QueueType {
		case "", "classic", "quorum", "stream":
		default:
			p.AddAt("declare.queue_type", "must be classic, quorum or stream, not %q", d.QueueType)
		}
		for i, b := range d.Bindings {
			bp := p.At("declare.bindings").Index(i)
			if b.Exchange == "" {
				bp.AddAt("exchange", "required")
			}
			switch b.ExchangeType {
			case "", "direct", "fanout", "topic", "headers":
			default:
				bp.AddAt("exchange_type", "must be direct, fanout, topic or headers, not %q", b.ExchangeType)
			}
		}
	}
}

// TargetConfig configures an amqp target: it publishes to an exchange.
type TargetConfig struct {
	connector.Common `yaml:",inline"`
	ConnConfig       `yaml:",inline"`
	// Exchange is published to; "" is the default exchange, which routes
	// by queue name.
	Exchange string `json:"exchange,omitempty"`
	// RoutingKey is a template filled from each event: "orders.{type}",
	// "{subject}". Required with the default exchange.
	RoutingKey string `json:"routing_key,omitempty"`
	// Format: mode (binary: attributes in headers) and property_prefix.
	amqpbinding.Format `yaml:",inline"`
	// Mandatory makes an unroutable message an error (retried) instead of
	// being dropped by the broker.
	Mandatory bool `json:"mandatory,omitempty"`
	// Persistent marks messages persistent (delivery mode 2). Default true.
	Persistent *bool `json:"persistent,omitempty"`
	// Timeout bounds one publish and its confirm. Default 10s.
	Timeout spec.Duration `json:"timeout,omitempty"`
}

// Defaults implements connector.Config.
func (c *TargetConfig) Defaults() {
	c.ConnConfig.defaults()
	c.Format.Defaults()
	if c.Persistent == nil {
		t := true
		c.Persistent = &t
	}
	if c.Timeout == 0 {
		c.Timeout = spec.Duration(10 * time.Second)
	}
}

// Validate implements connector.Config.
func (c *TargetConfig) Validate(p spec.Problems) {
	c.ConnConfig.validate(p)
	if c.Exchange == "" && c.RoutingKey == "" {
		p.AddAt("routing_key", "required with the default exchange: the queue to publish to")
	}
	if _, err := attrtemplate.Parse(c.RoutingKey); err != nil {
		p.AddAt("routing_key", "%v", err)
	}
	c.Format.Validate(p)
	if c.Timeout.D() <= 0 {
		p.AddAt("timeout", "must be positive")
	}
}

var (
	_ connector.Config = (*SourceConfig)(nil)
	_ connector.Config = (*TargetConfig)(nil)
)
