//go:build unix

package kafka_test

import (
	"syscall"
	"testing"
	"time"
)

// cpuMeter reports the process's CPU time (user and system, every
// goroutine: the embedded server's too) per benchmark op as cpu-ns/op: on
// a shared machine, wall time per op says how busy the others were, CPU
// time per op what the work cost.
type cpuMeter struct{ start time.Duration }

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func startCPU() cpuMeter { return cpuMeter{start: cpuTime()} }

func (m cpuMeter) report(b *testing.B) {
	b.ReportMetric(float64(cpuTime()-m.start)/float64(b.N), "cpu-ns/op")
}
