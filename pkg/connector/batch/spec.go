package batch

import (
	"time"

	"github.com/eventbridge-dev/eventbridge/pkg/spec"
)

// Spec is the batch: block of a target config, the same for every target
// kind that writes batches:
//
//	batch:
//	  max_events: 100   # default 100
//	  max_bytes: 1048576  # default 1 MiB
//	  linger: 10ms      # default 10ms
type Spec struct {
	// MaxEvents is the most events in one batch. Default 100, at most
	// 4096 (a route's highest concurrency).
	MaxEvents int `json:"max_events,omitempty"`
	// MaxBytes is the most encoded bytes in one batch. Default 1 MiB.
	MaxBytes int `json:"max_bytes,omitempty"`
	// Linger is how long a batch waits for more events after its first.
	// Default 10ms, at most 10s.
	Linger spec.Duration `json:"linger,omitempty"`
}

// The defaults of Spec.
const (
	DefaultMaxEvents = 100
	DefaultMaxBytes  = 1 << 20
	DefaultLinger    = 10 * time.Millisecond
)

// Defaults fills unset fields.
func (s *Spec) Defaults() {
	if s.MaxEvents == 0 {
		s.MaxEvents = DefaultMaxEvents
	}
	if s.MaxBytes == 0 {
		s.MaxBytes = DefaultMaxBytes
	}
	if s.Linger == 0 {
		s.Linger = spec.Duration(DefaultLinger)
	}
}

// Validate reports problems under p (the path of the batch block).
func (s *Spec) Validate(p spec.Problems) {
	if s.MaxEvents < 1 || s.MaxEvents > 4096 {
		p.AddAt("max_events", "must be between 1 and 4096")
	}
	if s.MaxBytes < 1024 || s.MaxBytes > 64<<20 {
		p.AddAt("max_bytes", "must be between 1024 and 67108864")
	}
	if s.Linger.D() < 0 || s.Linger.D() > 10*time.Second {
		p.AddAt("linger", "must be between 0s and 10s")
	}
}

// Config returns the Batcher config of s.
func (s *Spec) Config() Config {
	return Config{MaxItems: s.MaxEvents, MaxBytes: s.MaxBytes, Linger: s.Linger.D()}
}

// MinConcurrency is implemented by targets that fill batches from
// concurrent Send calls: the bridge raises the concurrency of every route
// to such a target to at least MinConcurrency, so that batches can fill.
type MinConcurrency interface {
	MinConcurrency() int
}
