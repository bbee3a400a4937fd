package delivery

import (
	"errors"
	"time"

	ce "github.com/cloudevents/sdk-go/v2/event"
)

// ErrStopped settles a task that the route gave up on because it is
// stopping; its source message should be handed out again.
var ErrStopped = errors.New("delivery: route stopped")

// Task is one event to deliver through one route.
type Task struct {
	Event *ce.Event
	// Raw is the event in the JSON format, as stored in the bus; it is
	// written to RETRY and DLQ as is.
	Raw []byte
	// Key identifies the event for deduplication of RETRY and DLQ writes
	// (the bus dedup key; replays and redrives prefix it).
	Key string
	// Attempts is the number of attempts made before this one.
	Attempts int
	// FirstTry is when the first attempt was made (zero: not yet).
	FirstTry time.Time
	// Ingested is when the event was stored, for latency metrics.
	Ingested time.Time
	// Done is called exactly once when the task is settled: nil when it was
	// delivered or durably queued in RETRY or DLQ, an error when it could
	// not be (the caller must not acknowledge its source message).
	Done func(err error)
	// Seq is the event's sequence in WORK, set by the router for routes
	// that order events per key (Route.Ordered); zero: none (a replay).
	Seq uint64
	// orderKey is the hash of the event's ordering key ("": unordered).
	orderKey string
	// Outcome is set before Done: one of the telemetry outcomes
	// (delivered, retry, dead_lettered, overflow), or "" when not settled.
	Outcome string
}
