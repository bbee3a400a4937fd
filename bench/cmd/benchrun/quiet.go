package main

import (
	"context"
	"os"
	"time"
)

// quietCores is the machine-wide CPU use, in cores, under which the machine
// counts as quiet before a sample starts (nothing of the benchmark runs
// then).
const quietCores = 0.15

// waitQuiet waits, up to --quiet-wait, for a one-second window in which the
// machine used less than quietCores of CPU, so that a sample does not start
// in the middle of someone else's build. It returns how long it waited and
// the CPU use of the last window, in cores (0 where /proc is unavailable).
func (r *runner) waitQuiet(ctx context.Context) (time.Duration, float64) {
	start := time.Now()
	if r.cfg.QuietWait <= 0 {
		return 0, 0
	}
	for {
		tasks0, t0 := snapshotTasks(), time.Now()
		select {
		case <-ctx.Done():
			return time.Since(start), 0
		case <-time.After(time.Second):
		}
		cores := snapshotTasks().CPUSince(tasks0, os.Getpid()).Seconds() / time.Since(t0).Seconds()
		if cores < quietCores || time.Since(start) >= r.cfg.QuietWait {
			return time.Since(start), cores
		}
	}
}
