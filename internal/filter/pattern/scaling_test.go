//go:build unix

package pattern

import (
	"os"
	"syscall"
	"testing"
	"time"
)

// TestMatchScaling measures Match with 1 and 10,000 rules in CPU time of
// the process rather than wall time, so that other load on the machine does
// not skew the ratio, and checks that 10,000 rules cost at most 5× one rule.
// It runs only with PATTERN_SCALING=1 (it takes a few seconds).
func TestMatchScaling(t *testing.T) {
	if os.Getenv("PATTERN_SCALING") != "1" {
		t.Skip("set PATTERN_SCALING=1 to measure")
	}
	ev := benchEvent(0)
	perOp := func(n int) time.Duration {
		m := buildBench(t, benchRules(n))
		dst := m.Match(ev, nil)
		const ops = 2_000_000
		start := cpuTime()
		for i := 0; i < ops; i++ {
			dst = m.Match(ev, dst[:0])
		}
		return (cpuTime() - start) / ops
	}
	one, many := perOp(1), perOp(10000)
	ratio := float64(many) / float64(one)
	t.Logf("CPU per Match: 1 rule %v, 10,000 rules %v, ratio %.2f", one, many, ratio)
	if ratio > 5 {
		t.Errorf("10,000 rules cost %.2f× one rule; want at most 5×", ratio)
	}
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		panic(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
