// Package policy holds a rule's delivery policy: attempts, backoff, age
// limit, concurrency and queue size. It is a leaf (it imports only spec),
// so resource specs can name it without pulling in the delivery machinery
// and the bus (docs/architecture.md, "Layers").
package policy

import (
	"math"
	"math/rand/v2"
	"time"

	"github.com/eventbridge-dev/eventbridge/internal/spec"
)

// Policy is a rule's delivery policy.
type Policy struct {
	// MaxAttempts is how many times a delivery is tried before it goes to
	// the DLQ. Default 10.
	MaxAttempts int `json:"max_attempts,omitempty"`
	// Backoff spaces the attempts.
	Backoff Backoff `json:"backoff,omitempty"`
	// MaxAge gives up (DLQ) on a delivery whose first attempt is older than
	// this. Default 24h.
	MaxAge spec.Duration `json:"max_age,omitempty"`
	// Concurrency is the number of deliveries in flight per target. Default 32.
	Concurrency int `json:"concurrency,omitempty"`
	// QueueSize bounds the events waiting in memory per target; beyond it,
	// events wait on disk in the RETRY stream. Default 256.
	QueueSize int `json:"queue_size,omitempty"`
}

// Backoff is an exponential backoff with jitter.
type Backoff struct {
	// Initial is the delay before the second attempt. Default 1s.
	Initial spec.Duration `json:"initial,omitempty"`
	// Max caps the delay. Default 5m.
	Max spec.Duration `json:"max,omitempty"`
	// Multiplier grows the delay after each attempt. Default 2.
	Multiplier float64 `json:"multiplier,omitempty"`
	// Jitter randomises each delay by ± this fraction. Default 0.2.
	Jitter *float64 `json:"jitter,omitempty"`
}

// Defaults fills unset fields.
func (p *Policy) Defaults() {
	if p.MaxAttempts == 0 {
		p.MaxAttempts = 10
	}
	if p.MaxAge == 0 {
		p.MaxAge = spec.Duration(24 * time.Hour)
	}
	if p.Concurrency == 0 {
		p.Concurrency = 32
	}
	if p.QueueSize == 0 {
		p.QueueSize = 256
	}
	b := &p.Backoff
	if b.Initial == 0 {
		b.Initial = spec.Duration(time.Second)
	}
	if b.Max == 0 {
		b.Max = spec.Duration(5 * time.Minute)
	}
	if b.Multiplier == 0 {
		b.Multiplier = 2
	}
	if b.Jitter == nil {
		j := 0.2
		b.Jitter = &j
	}
}

// Validate reports problems under p.
func (p *Policy) Validate(pr spec.Problems) {
	if p.MaxAttempts < 1 {
		pr.AddAt("max_attempts", "must be at least 1")
	}
	if p.MaxAge.D() < time.Second {
		pr.AddAt("max_age", "must be at least 1s")
	}
	if p.Concurrency < 1 || p.Concurrency > 4096 {
		pr.AddAt("concurrency", "must be between 1 and 4096")
	}
	if p.QueueSize < 1 || p.QueueSize > 1<<20 {
		pr.AddAt("queue_size", "must be between 1 and 1048576")
	}
	b := p.Backoff
	if b.Initial.D() <= 0 {
		pr.AddAt("backoff.initial", "must be positive")
	}
	if b.Max.D() < b.Initial.D() {
		pr.AddAt("backoff.max", "must be at least backoff.initial (%s)", b.Initial.D())
	}
	if b.Multiplier < 1 {
		pr.AddAt("backoff.multiplier", "must be at least 1")
	}
	if b.Jitter != nil && (*b.Jitter < 0 || *b.Jitter > 1) {
		pr.AddAt("backoff.jitter", "must be between 0 and 1")
	}
}

// Delay returns the wait before the next attempt after `attempts` failed
// ones (attempts ≥ 1).
func (b Backoff) Delay(attempts int) time.Duration {
	d := float64(b.Initial) * math.Pow(b.Multiplier, float64(attempts-1))
	if d > float64(b.Max) || math.IsInf(d, 0) || math.IsNaN(d) {
		d = float64(b.Max)
	}
	if b.Jitter != nil && *b.Jitter > 0 {
		d *= 1 + *b.Jitter*(2*rand.Float64()-1)
	}
	if d < float64(time.Millisecond) {
		d = float64(time.Millisecond)
	}
	return time.Duration(d)
}
