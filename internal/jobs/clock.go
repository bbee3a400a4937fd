package jobs

import "time"

// Clock is the time the scheduler reads and waits on. Tests inject a
// manual clock (jobstest.Clock) to run schedules without sleeping.
type Clock interface {
	Now() time.Time
	// Until returns a channel that receives once the clock reaches t (at
	// once if it has), and a func that releases the timer.
	Until(t time.Time) (<-chan time.Time, func())
}

// SystemClock is the wall clock.
type SystemClock struct{}

// Now implements Clock.
func (SystemClock) Now() time.Time { return time.Now() }

// Until implements Clock.
func (SystemClock) Until(t time.Time) (<-chan time.Time, func()) {
	tm := time.NewTimer(time.Until(t))
	return tm.C, func() { tm.Stop() }
}

var _ Clock = SystemClock{}
