package connector

import (
	"math"
	"time"

	"github.com/eventbridge-dev/eventbridge/pkg/spec"
)

// RateLimit bounds the deliveries a target is sent (targets only). The
// bridge enforces it for every target kind, around Send: a delivery waits
// for its turn, and waiting costs no attempt.
type RateLimit struct {
	// PerSecond is the sustained rate (fractions allowed: 0.5 is one
	// every 2s).
	PerSecond float64 `json:"per_second"`
	// Burst is how many deliveries may go at once after a quiet time.
	// Default: PerSecond rounded up (at least 1).
	Burst int `json:"burst,omitempty"`
}

// CircuitBreaker stops sending to a target that keeps failing (targets
// only). The bridge enforces it for every target kind, around Send:
// while it is open, deliveries wait in the bus (no attempt is counted)
// until one trial delivery is let through.
type CircuitBreaker struct {
	// Failures in a row (retryable errors: timeouts, connection errors,
	// 408, 429, 5xx...) that open the breaker. Default 5.
	Failures int `json:"failures,omitempty"`
	// OpenFor is how long it stays open before one trial delivery.
	// Default 30s.
	OpenFor spec.Duration `json:"open_for,omitempty"`
}

// Defaults fills unset fields.
func (r *RateLimit) Defaults() {
	if r != nil && r.Burst == 0 {
		r.Burst = max(1, int(math.Ceil(min(r.PerSecond, 1<<20))))
	}
}

// Defaults fills unset fields.
func (b *CircuitBreaker) Defaults() {
	if b == nil {
		return
	}
	if b.Failures == 0 {
		b.Failures = 5
	}
	if b.OpenFor == 0 {
		b.OpenFor = spec.Duration(30 * time.Second)
	}
}

// validateGuards reports problems of rate_limit and circuit_breaker; a
// zero burst, failures or open_for stands for the default.
func (c *Common) validateGuards(p spec.Problems) {
	if r := c.RateLimit; r != nil {
		if r.PerSecond <= 0 || math.IsInf(r.PerSecond, 0) || math.IsNaN(r.PerSecond) {
			p.AddAt("rate_limit.per_second", "must be a positive number of deliveries per second")
		}
		if r.Burst < 0 {
			p.AddAt("rate_limit.burst", "must be at least 1")
		}
	}
	if b := c.CircuitBreaker; b != nil {
		if b.Failures < 0 {
			p.AddAt("circuit_breaker.failures", "must be at least 1")
		}
		if b.OpenFor < 0 {
			p.AddAt("circuit_breaker.open_for", "must be positive")
		}
	}
}
