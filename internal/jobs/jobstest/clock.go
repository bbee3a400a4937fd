// Package jobstest helps test jobs and the sources that run as jobs: a
// clock that moves only when the test says so, so that schedules run
// without sleeping on the wall clock.
package jobstest

import (
	"sync"
	"time"

	"github.com/eventbridge-dev/eventbridge/internal/jobs"
)

// Clock is a jobs.Clock moved by hand. Safe for concurrent use.
type Clock struct {
	mu     sync.Mutex
	now    time.Time
	timers map[*timer]struct{}
}

type timer struct {
	at time.Time
	c  chan time.Time
}

// NewClock returns a clock reading now.
func NewClock(now time.Time) *Clock {
	return &Clock{now: now, timers: map[*timer]struct{}{}}
}

// Now implements jobs.Clock.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Until implements jobs.Clock.
func (c *Clock) Until(at time.Time) (<-chan time.Time, func()) {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &timer{at: at, c: make(chan time.Time, 1)}
	if !at.After(c.now) {
		t.c <- c.now
		return t.c, func() {}
	}
	c.timers[t] = struct{}{}
	return t.c, func() {
		c.mu.Lock()
		delete(c.timers, t)
		c.mu.Unlock()
	}
}

// Advance moves the clock forward by d and fires the timers it passes.
func (c *Clock) Advance(d time.Duration) { c.Set(c.Now().Add(d)) }

// Set moves the clock to t and fires the timers it passes.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
	for tm := range c.timers {
		if !tm.at.After(t) {
			tm.c <- t
			delete(c.timers, tm)
		}
	}
}

// Sleepers returns how many timers wait: a scheduler that waits for its
// next occurrence holds one.
func (c *Clock) Sleepers() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.timers)
}

// Next returns the earliest time a timer waits for (zero: none).
func (c *Clock) Next() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	var next time.Time
	for tm := range c.timers {
		if next.IsZero() || tm.at.Before(next) {
			next = tm.at
		}
	}
	return next
}

var _ jobs.Clock = (*Clock)(nil)
