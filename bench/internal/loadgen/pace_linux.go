package loadgen

import (
	"context"
	"runtime"
	"syscall"
	"time"
)

// prSetTimerSlack is prctl's PR_SET_TIMERSLACK.
const prSetTimerSlack = 29

// pacer waits for intended send times with about 20 µs of overshoot.
//
// Go's own timers are not precise enough here: when the process is
// otherwise idle the runtime waits for the next timer in epoll with a
// timeout in whole milliseconds, so a 500 µs sleep measured ~1.1 ms on
// this project's machines. At 2,000 events/s that would make the
// generator itself late by ~0.5 ms on most sends, and since latency counts
// from the intended time, it would be charged to the system under test.
// So the dispatcher gets an OS thread of its own, with the kernel's timer
// slack at 1 ns, and sleeps with nanosleep(2).
type pacer struct{}

// newPacer takes over the calling goroutine's OS thread for pacing. The
// thread is never unlocked, so it is discarded when the goroutine exits
// rather than returned to the runtime with its changed timer slack.
func newPacer() pacer {
	runtime.LockOSThread()
	_, _, _ = syscall.RawSyscall(syscall.SYS_PRCTL, prSetTimerSlack, 1, 0) // best effort
	return pacer{}
}

// wait sleeps until t; it returns false if ctx was done first. It looks at
// ctx at least every 10 ms.
func (pacer) wait(ctx context.Context, t time.Time) bool {
	for {
		if ctx.Err() != nil {
			return false
		}
		d := time.Until(t)
		if d <= 0 {
			return true
		}
		ts := syscall.NsecToTimespec(int64(min(d, 10*time.Millisecond)))
		_ = syscall.Nanosleep(&ts, nil) // EINTR: the loop sleeps the rest
	}
}

func (pacer) stop() {}
