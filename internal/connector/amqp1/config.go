package amqp1

import (
	"time"

	"github.com/eventbridge-dev/eventbridge/internal/connector"
	"github.com/eventbridge-dev/eventbridge/internal/connector/amqpbinding"
	"github.com/eventbridge-dev/eventbridge/internal/connector/intake"
	"github.com/eventbridge-dev/eventbridge/internal/spec"
)

// ConnConfig is how a source or target reaches the AMQP 1.0 peer: the URL
// (default amqp://127.0.0.1:5672), credentials (without them, SASL
// ANONYMOUS), TLS and timeouts the amqp connector shares (ConnectTimeout
// also bounds a link attach), and what only AMQP 1.0 has.
type ConnConfig struct {
	amqpbinding.Endpoint `yaml:",inline"`
	// ContainerID names this end of the connection. Default
	// eventbridge-<connector name>.
	ContainerID string `json:"container_id,omitempty"`
	// IdleTimeout is the longest silence before the connection counts as
	// dead. Default 60s.
	IdleTimeout spec.Duration `json:"idle_timeout,omitempty"`
}

func (c *ConnConfig) defaults() {
	c.Endpoint.Defaults("amqp://127.0.0.1:5672")
	if c.IdleTimeout == 0 {
		c.IdleTimeout = spec.Duration(60 * time.Second)
	}
}

func (c *ConnConfig) validate(p spec.Problems) {
	c.Endpoint.Validate(p)
	if c.IdleTimeout.D() < 0 {
		p.AddAt("idle_timeout", "must not be negative")
	}
}

// SourceConfig configures an amqp1 source: a receiver link on an address.
type SourceConfig struct {
	connector.Common `yaml:",inline"`
	ConnConfig       `yaml:",inline"`
	// Address is received from: a queue name, or with RabbitMQ 3.x
	// /amq/queue/<queue> for an existing queue. Required.
	Address string `json:"address"`
	// Credit is how many unsettled messages the peer may send ahead; it
	// also bounds one ingest batch. Default 100.
	Credit int `json:"credit,omitempty"`
	// DeadLetter is an address that messages which are not valid
	// CloudEvents are sent to (then accepted here). Without it they are
	// rejected, and the peer's dead-lettering, if any, takes them.
	DeadLetter string `json:"dead_letter,omitempty"`
	// StoreConfig: timeout, the extension limits and wrap.
	intake.StoreConfig `yaml:",inline"`
	// Redeliver is the outcome of a message whose event could not be
	// stored: release (default; RabbitMQ 3.x knows only this one) or
	// modify (modified with delivery-failed, which counts the attempt on
	// peers such as ActiveMQ Artemis or Azure Service Bus).
	Redeliver string `json:"redeliver,omitempty"`
}

// Defaults implements connector.Config.
func (c *SourceConfig) Defaults() {
	c.StoreConfig.Defaults()
	c.ConnConfig.defaults()
	if c.Credit == 0 {
		c.Credit = 100
	}
	if c.Redeliver == "" {
		c.Redeliver = "release"
	}
}

// Validate implements connector.Config.
func (c *SourceConfig) Validate(p spec.Problems) {
	c.StoreConfig.Validate(p)
	c.ConnConfig.validate(p)
	if c.Address == "" {
		p.AddAt("address", "required: the address (queue) to receive from")
	}
	if c.Credit < 1 || c.Credit > 10000 {
		p.AddAt("credit", "must be 1 to 10000")
	}
	if c.Redeliver != "release" && c.Redeliver != "modify" {
		p.AddAt("redeliver", "must be release or modify, not %q", c.Redeliver)
	}
}

// TargetConfig configures an amqp1 target: a sender link to an address.
type TargetConfig struct {
	connector.Common `yaml:",inline"`
	ConnConfig       `yaml:",inline"`
	// Address is sent to: a queue or topic name, or with RabbitMQ 3.x
	// /queue/<queue> or /exchange/<exchange>/<routing key>. Required.
	Address string `json:"address"`
	// Format: mode (binary: attributes in application properties) and
	// property_prefix.
	amqpbinding.Format `yaml:",inline"`
	// Durable asks the peer to keep messages across restarts. Default true.
	Durable *bool `json:"durable,omitempty"`
	// Timeout bounds one send and its disposition. Default 10s.
	Timeout spec.Duration `json:"timeout,omitempty"`
	// LinkName names the sender link. Default: a random name.
	LinkName string `json:"link_name,omitempty"`
	// SettlementMode is unsettled (default: Send waits for the peer to
	// accept each message) or settled (fire and forget, at most once).
	SettlementMode string `json:"settlement_mode,omitempty"`
	// LinkProperties are sent as the properties of the sender link.
	LinkProperties map[string]string `json:"link_properties,omitempty"`
}

// Defaults implements connector.Config.
func (c *TargetConfig) Defaults() {
	c.ConnConfig.defaults()
	c.Format.Defaults()
	if c.Durable == nil {
		t := true
		c.Durable = &t
	}
	if c.Timeout == 0 {
		c.Timeout = spec.Duration(10 * time.Second)
	}
	if c.SettlementMode == "" {
		c.SettlementMode = "unsettled"
	}
}

// Validate implements connector.Config.
func (c *TargetConfig) Validate(p spec.Problems) {
	if c.SettlementMode != "settled" && c.SettlementMode != "unsettled" {
		p.AddAt("settlement_mode", "must be settled or unsettled, not %q", c.SettlementMode)
	}
	for k := range c.LinkProperties {
		if k == "" {
			p.AddAt("link_properties", "keys must not be empty")
		}
	}
	c.ConnConfig.validate(p)
	if c.Address == "" {
		p.AddAt("address", "required: the address to send to")
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
