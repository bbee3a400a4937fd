package intake

import (
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// Failures logs a source's failing stores (events the bus did not take)
// once per change of state, not once per message or retry: a Warn line
// when storing starts failing, with the error, and an Info line when it
// works again, with how many attempts and messages failed and for how
// long. During an outage a broker source retries every few seconds; a
// line per retry would flood the logs (hundreds of thousands of lines
// after a bus restart). The failures themselves are counted by the
// eventbridge_connector_messages_total{direction="in",outcome="error"}
// metric, which the sources update on every failed attempt.
//
// The zero value is not ready; use NewFailures. Safe for concurrent use.
type Failures struct {
	log  *slog.Logger
	note string

	failing  atomic.Bool // read without the lock by every successful store
	mu       sync.Mutex
	since    time.Time
	attempts int
	messages int
}

// DefaultFailuresNote is what the "failing" line says happens to the
// messages of a broker source: they are kept unacknowledged and retried.
const DefaultFailuresNote = "retrying with backoff; nothing is acknowledged to the broker before it is stored"

// NewFailures returns a Failures that logs on log. note says what becomes
// of the messages meanwhile ("" means DefaultFailuresNote).
func NewFailures(log *slog.Logger, note string) *Failures {
	if note == "" {
		note = DefaultFailuresNote
	}
	return &Failures{log: log, note: note}
}

// Failed notes an attempt to store messages (n of them) that failed with
// err. The first failure after a success (or ever) is logged; the next
// ones are only counted.
func (f *Failures) Failed(n int, err error) {
	f.mu.Lock()
	if f.failing.Load() {
		f.attempts++
		f.messages += n
		f.mu.Unlock()
		return
	}
	f.failing.Store(true)
	f.since, f.attempts, f.messages = time.Now(), 1, n
	f.mu.Unlock()
	f.log.Warn("cannot store events on the bus: "+f.note+"; further failures are counted, not logged, until storing works again",
		"messages", n, "failed_attempts", 1, "err", err)
}

// Stored notes a successful store. When stores were failing, it logs
// that they work again, with the attempts and messages that failed
// meanwhile (a message retried counts once per attempt) and for how long.
func (f *Failures) Stored() {
	if !f.failing.Load() {
		return
	}
	f.mu.Lock()
	if !f.failing.Load() {
		f.mu.Unlock()
		return
	}
	f.failing.Store(false)
	since, attempts, messages := f.since, f.attempts, f.messages
	f.mu.Unlock()
	f.log.Info("events are stored on the bus again",
		"failed_attempts", attempts, "failed_messages", messages, "failing_for", time.Since(since).Round(time.Millisecond))
}

// Failing tells whether the last store failed.
func (f *Failures) Failing() bool { return f.failing.Load() }
