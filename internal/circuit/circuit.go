// Package circuit is a circuit breaker for targets (every kind: delivery
// runs one per target, see delivery.Guard): after N failures in a row it
// opens and refuses calls for a while, so that a dead endpoint is not
// hammered and deliveries wait in the bus instead of in timeouts; then it
// lets one trial call through (half-open), and closes again if that
// succeeds.
//
// Why not sony/gobreaker/v2 (v2.4.0): this breaker takes an injected
// clock, so its tests and delivery's need no sleeping (gobreaker reads the
// wall clock), and Allow says how long it stays open, which delivery needs
// to schedule a refused delivery in RETRY for when the trial may go
// (gobreaker only says "open"). It is 150 lines.
package circuit

import (
	"errors"
	"sync"
	"time"
)

// ErrOpen is returned by Allow while the breaker refuses calls.
var ErrOpen = errors.New("circuit breaker open")

// State is where the breaker is.
type State int

// The states.
const (
	Closed   State = iota // calls pass; failures are counted
	Open                  // calls are refused until OpenFor has passed
	HalfOpen              // one trial call passes; the others are refused
)

func (s State) String() string {
	switch s {
	case Open:
		return "open"
	case HalfOpen:
		return "half-open"
	}
	return "closed"
}

// Breaker counts consecutive failures. Safe for concurrent use.
type Breaker struct {
	failures int
	openFor  time.Duration
	now      func() time.Time

	mu       sync.Mutex
	state    State
	count    int       // consecutive failures while closed
	openedAt time.Time // when it last opened
	trial    bool      // a half-open trial is in flight
	// OnChange, when set, is told of every change of state (under the
	// breaker's lock: keep it short).
	OnChange func(from, to State)
}

// New returns a closed breaker that opens after failures consecutive
// failures and stays open for openFor. now is nil for the wall clock.
func New(failures int, openFor time.Duration, now func() time.Time) *Breaker {
	if now == nil {
		now = time.Now
	}
	return &Breaker{failures: max(failures, 1), openFor: openFor, now: now}
}

// Allow asks to make a call. On nil, the caller must report its outcome
// with Done. While open it returns ErrOpen and how long until a trial is
// allowed.
func (b *Breaker) Allow() (time.Duration, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch b.state {
	case Open:
		left := b.openFor - b.now().Sub(b.openedAt)
		if left > 0 {
			return left, ErrOpen
		}
		b.set(HalfOpen)
		b.trial = true
		return 0, nil
	case HalfOpen:
		if b.trial {
			// The trial call decides; retry soon after it.
			return min(b.openFor, time.Second), ErrOpen
		}
		b.trial = true
		return 0, nil
	}
	return 0, nil
}

// Done reports the outcome of an allowed call: failed is true when the
// call failed in a way that says the endpoint is unwell (timeouts,
// connection errors, 5xx, 429).
func (b *Breaker) Done(failed bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch b.state {
	case HalfOpen:
		b.trial = false
		if failed {
			b.open()
		} else {
			b.count = 0
			b.set(Closed)
		}
	case Closed:
		if !failed {
			b.count = 0
			return
		}
		b.count++
		if b.count >= b.failures {
			b.open()
		}
	case Open:
		// A call allowed before the breaker opened: nothing to learn.
	}
}

// Abandon releases an allowed call whose outcome says nothing about the
// endpoint (the caller gave up): a half-open trial may be tried again.
func (b *Breaker) Abandon() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.state == HalfOpen {
		b.trial = false
	}
}

// State returns the current state.
func (b *Breaker) State() State {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.state
}

func (b *Breaker) open() {
	b.openedAt = b.now()
	b.count = 0
	b.set(Open)
}

func (b *Breaker) set(s State) {
	if b.state == s {
		return
	}
	from := b.state
	b.state = s
	if b.OnChange != nil {
		b.OnChange(from, s)
	}
}
