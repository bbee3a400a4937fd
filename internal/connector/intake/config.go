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
