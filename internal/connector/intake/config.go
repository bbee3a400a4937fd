package intake

import (
	"time"

	"github.com/eventbridge-dev/eventbridge/internal/connector"
	"github.com/eventbridge-dev/eventbridge/internal/spec"
)

// Config is the part of a kafka, redis or postgres source's config that
// says how received messages become stored events.
type Config struct {
	// IngestTimeout bounds one Ingest call. Default 30s.
	IngestTimeout spec.Duration `json:"ingest_timeout,omitempty"`
	// ExtensionLimits (max_extensions, max_extension_size) bound the
	// extensions of a received event; a message over them is refused as
	// an invalid CloudEvent is.
	connector.ExtensionLimits
	// Wrap turns messages that carry no CloudEvent into events with this
	// type and source.
	Wrap *connector.Wrap `json:"wrap,omitempty"`
}

// Defaults fills the unset fields.
func (c *Config) Defaults() {
	c.FillExtensionDefaults()
	if c.IngestTimeout == 0 {
		c.IngestTimeout = spec.Duration(30 * time.Second)
	}
}

// Validate checks the fields.
func (c *Config) Validate(p spec.Problems) {
	c.ValidateExtensionLimits(p)
	if c.IngestTimeout.D() <= 0 {
		p.AddAt("ingest_timeout", "must be positive")
	}
	if c.Wrap != nil {
		c.Wrap.Validate(p.At("wrap"))
	}
}

// StoreConfig is the part of an amqp, amqp1, mqtt or nats source's
// config that says how received messages become stored events: each
// attempt to store a batch bounded by Timeout (these sources name it
// timeout, where Config says ingest_timeout).
type StoreConfig struct {
	// Timeout bounds one attempt to store a batch. Default 10s.
	Timeout spec.Duration `json:"timeout,omitempty"`
	// Wrap turns messages that are not CloudEvents into events.
	Wrap *connector.Wrap `json:"wrap,omitempty"`
	// ExtensionLimits (max_extensions, max_extension_size) bound the
	// extensions of a received event; a message over them is refused as
	// an invalid CloudEvent is.
	connector.ExtensionLimits
}

// Defaults fills the unset fields.
func (c *StoreConfig) Defaults() {
	c.FillExtensionDefaults()
	if c.Timeout == 0 {
		c.Timeout = spec.Duration(10 * time.Second)
	}
}

// Validate checks the fields.
func (c *StoreConfig) Validate(p spec.Problems) {
	c.ValidateExtensionLimits(p)
	if c.Timeout.D() <= 0 {
		p.AddAt("timeout", "must be positive")
	}
	if c.Wrap != nil {
		c.Wrap.Validate(p.At("wrap"))
	}
}

// BatchConfig is StoreConfig for the sources that take the batches from
// a queue of their own (mqtt, nats).
type BatchConfig struct {
	// MaxBatch is the most messages stored in the bus at once. Default 100.
	MaxBatch    int `json:"max_batch,omitempty"`
	StoreConfig `yaml:",inline"`
}

// Defaults fills the unset fields.
func (c *BatchConfig) Defaults() {
	c.StoreConfig.Defaults()
	if c.MaxBatch == 0 {
		c.MaxBatch = 100
	}
}

// Validate checks the fields.
func (c *BatchConfig) Validate(p spec.Problems) {
	c.StoreConfig.Validate(p)
	if c.MaxBatch < 1 {
		p.AddAt("max_batch", "must be at least 1")
	}
}
