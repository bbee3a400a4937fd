package connector

import (
	"math/rand/v2"
	"time"
)

// Backoff is the wait between reconnect attempts: it doubles from Min to
// Max, with up to 20% jitter so that many connectors do not retry in step.
// Not safe for concurrent use; each reconnect loop has its own.
type Backoff struct {
	// Min and Max bound the wait; zero means 100ms and 10s.
	Min, Max time.Duration
	cur      time.Duration
}

// Next returns the wait before the next attempt.
func (b *Backoff) Next() time.Duration {
	lo, hi := b.Min, b.Max
	if lo <= 0 {
		lo = 100 * time.Millisecond
	}
	if hi <= 0 {
		hi = 10 * time.Second
	}
	switch {
	case b.cur == 0:
		b.cur = lo
	case b.cur < hi:
		b.cur = min(2*b.cur, hi)
	}
	return b.cur - time.Duration(rand.Int64N(int64(b.cur)/5+1))
}

// Reset starts again from Min, after a success.
func (b *Backoff) Reset() { b.cur = 0 }

// Sleep waits for d, or until done is closed; it reports whether the
// whole wait passed.
func Sleep(done <-chan struct{}, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-done:
		return false
	case <-t.C:
		return true
	}
}
