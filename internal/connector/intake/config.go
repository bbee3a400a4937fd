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

// BatchConfig is the part of an mqtt or nats source's config that says
// how received messages become stored events: in batches, each attempt
// to store one bounded by Timeout (these sources name it timeout, where
// Config says ingest_timeout).
type BatchConfig struct {
	// MaxBatch is the most messages stored in the bus at once. Default 100.
	MaxBatch int `json:"max_batch,omitempty"`
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
func (c *BatchConfig) Defaults() {
	c.FillExtensionDefaults()
	if c.MaxBatch == 0 {
		c.MaxBatch = 100
	}
	if c.Timeout == 0 {
		c.Timeout = spec.Duration(10 * time.Second)
	}
}

// Validate checks the fields.
func (c *BatchConfig) Validate(p spec.Problems) {
	c.ValidateExtensionLimits(p)
	if c.MaxBatch < 1 {
		p.AddAt("max_batch", "must be at least 1")
	}
	if c.Timeout.D() <= 0 {
		p.AddAt("timeout", "must be positive")
	}
	if c.Wrap != nil {
		c.Wrap.Validate(p.At("wrap"))
	}
}
