package resource

import (
	"github.com/eventbridge-dev/eventbridge/internal/eventkey"
	"github.com/eventbridge-dev/eventbridge/internal/spec"
)

// Ordering makes a rule deliver the events that share a key one at a
// time, in the order they were stored, while events of different keys go
// in parallel (docs/delivery.md, "Ordering per key").
type Ordering struct {
	// Key is a CloudEvents attribute or extension name (partitionkey,
	// subject), or a jq expression over the event's JSON form
	// (.data.order_id). Events without a key are delivered unordered.
	Key string `json:"key"`
}

// Validate reports problems under p.
func (o *Ordering) Validate(p spec.Problems) {
	if _, err := eventkey.Compile(o.Key); err != nil {
		p.AddAt("key", "%v", err)
	}
}
