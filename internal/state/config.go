package state

import (
	"time"

	"github.com/eventbridge-dev/eventbridge/internal/spec"
)

// Defaults of the state section.
const (
	DefaultMaxAge       = 720 * time.Hour
	DefaultMaxBytes     = 256 << 20
	DefaultMaxEventSize = 256 << 10
)

// Config is the `state` section of the config file.
type Config struct {
	// Enabled keeps the last event per key. Default true.
	Enabled *bool `json:"enabled,omitempty"`
	// MaxAge drops an entry that has not been updated for this long.
	// Default 720h (30 days).
	MaxAge spec.Duration `json:"max_age,omitempty"`
	// MaxBytes bounds the bucket; beyond it the entries updated longest
	// ago are discarded. Default 256MiB.
	MaxBytes spec.ByteSize `json:"max_bytes,omitempty"`
	// MaxEventSize: an event whose JSON form is bigger is kept without its
	// data (the entry says truncated). Default 256KiB.
	MaxEventSize spec.ByteSize `json:"max_event_size,omitempty"`
	// Replicas of the bucket on an external cluster (set from bus.replicas).
	Replicas int `json:"-"`
}

// On reports whether state is kept.
func (c *Config) On() bool { return c.Enabled == nil || *c.Enabled }

// Defaults fills unset fields.
func (c *Config) Defaults() {
	if c.MaxAge == 0 {
		c.MaxAge = spec.Duration(DefaultMaxAge)
	}
	if c.MaxBytes == 0 {
		c.MaxBytes = DefaultMaxBytes
	}
	if c.MaxEventSize == 0 {
		c.MaxEventSize = DefaultMaxEventSize
	}
}

// Validate reports problems under p.
func (c *Config) Validate(p spec.Problems) {
	if c.MaxAge.D() < time.Second {
		p.AddAt("max_age", "must be at least 1s")
	}
	if c.MaxBytes < 1<<20 {
		p.AddAt("max_bytes", "must be at least 1MiB")
	}
	if c.MaxEventSize < 1<<10 {
		p.AddAt("max_event_size", "must be at least 1KiB")
	}
	if c.MaxEventSize > 8<<20 {
		p.AddAt("max_event_size", "must be at most 8MiB")
	}
	if c.MaxBytes >= 1<<20 && c.MaxEventSize >= 1<<10 && c.MaxEventSize > c.MaxBytes/4 {
		p.AddAt("max_event_size", "must be at most a quarter of max_bytes (%d bytes)", int64(c.MaxBytes/4))
	}
}
