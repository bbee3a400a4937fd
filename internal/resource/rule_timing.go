package resource

import (
	"time"

	"github.com/eventbridge-dev/eventbridge/internal/eventkey"
	"github.com/eventbridge-dev/eventbridge/internal/spec"
)

// Bounds of a rule's dedup and delay settings.
const (
	// DefaultMaxDelay is a rule's max_delay when unset.
	DefaultMaxDelay = 24 * time.Hour
	// MaxMaxDelay is the largest max_delay: an event held longer is more
	// likely a mistake than a schedule, and waits on the bus's disk.
	MaxMaxDelay = 90 * 24 * time.Hour
	// MaxDedupWindow is the largest dedup window.
	MaxDedupWindow = 30 * 24 * time.Hour
)

// RuleTiming is the part of a rule's spec that decides whether and when
// each event goes out: dedup and delay (docs/delivery.md, "Idempotent
// rules" and "Delayed and scheduled delivery"). Its fields sit at the top
// of the rule's spec.
type RuleTiming struct {
	// Dedup delivers one event per key per window, to each target.
	Dedup *Dedup `json:"dedup,omitempty"`
	// Delay holds every event this long after it was ingested before its
	// first attempt.
	Delay spec.Duration `json:"delay,omitempty"`
	// MaxDelay caps how long an event is held, by Delay or by its
	// `deliverat` extension, counted from ingest. Default 24h.
	MaxDelay spec.Duration `json:"max_delay,omitempty"`
}

// Dedup is a rule's dedup: events with the same key inside the window are
// delivered once.
type Dedup struct {
	// Key is a CloudEvents attribute or extension name, or a jq expression
	// over the event's JSON form. An event without a key is delivered.
	Key string `json:"key"`
	// Window is how long, from the ingest of the event delivered, later
	// events with its key are dropped.
	Window spec.Duration `json:"window"`
}

func (r *RuleTiming) defaults() {
	if r.MaxDelay == 0 {
		r.MaxDelay = spec.Duration(DefaultMaxDelay)
	}
}

func (r *RuleTiming) validate(p spec.Problems) {
	if d := r.Dedup; d != nil {
		dp := p.At("dedup")
		if _, err := eventkey.Compile(d.Key); err != nil {
			dp.AddAt("key", "%v", err)
		}
		switch w := d.Window.D(); {
		case w == 0:
			dp.AddAt("window", "required: a duration such as 10m")
		case w < time.Second:
			dp.AddAt("window", "must be at least 1s")
		case w > MaxDedupWindow:
			dp.AddAt("window", "must be at most %s", MaxDedupWindow)
		}
	}
	if r.Delay < 0 {
		p.AddAt("delay", "must not be negative")
	}
	switch m := r.MaxDelay.D(); {
	case m < time.Second:
		p.AddAt("max_delay", "must be at least 1s")
	case m > MaxMaxDelay:
		p.AddAt("max_delay", "must be at most %s", MaxMaxDelay)
	case r.Delay.D() > m:
		p.AddAt("delay", "must be at most max_delay (%s)", m)
	}
}
