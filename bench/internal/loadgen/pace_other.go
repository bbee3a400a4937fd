//go:build !linux

package loadgen

import (
	"context"
	"time"
)

// pacer waits for intended send times with Go's timers, which may oversleep
// by up to about a millisecond (see pace_linux.go for the precise version).
type pacer struct{ timer *time.Timer }

func newPacer() pacer { return pacer{timer: time.NewTimer(time.Hour)} }

// wait sleeps until t; it returns false if ctx was done first.
func (p pacer) wait(ctx context.Context, t time.Time) bool {
	d := time.Until(t)
	if d <= 0 {
		return ctx.Err() == nil
	}
	p.timer.Reset(d)
	select {
	case <-p.timer.C:
		return true
	case <-ctx.Done():
		return false
	}
}

func (p pacer) stop() { p.timer.Stop() }
