package cli

import (
	"context"
	"os"
	"runtime/debug"
	"runtime/metrics"
	"time"
)

// The default soft memory limit of serve, when GOMEMLIMIT is not set: at
// least memLimitFloor, and memLimitRatio times the live heap. Go's default
// (GOGC=100, no limit) lets the heap grow to twice the live heap before
// it collects, and returns freed pages to the OS slowly; the bridge's live
// heap is small and mostly the bus's recent file blocks, so under load
// its resident memory was several times its live heap. The limit makes
// the collector run sooner and return pages at once while memory is
// near it; following the live heap, it never binds a large rule set more
// tightly than GOGC=50 would (docs/operations.md, "Memory").
const (
	memLimitFloor  = 64 << 20
	memLimitRatio  = 1.5
	memLimitPeriod = time.Second
)

// memLimitFor is the soft limit for a live heap of live bytes.
func memLimitFor(live uint64) int64 {
	return max(memLimitFloor, int64(float64(live)*memLimitRatio))
}

// softMemoryLimit sets the default soft memory limit and keeps it
// following the live heap until ctx ends, unless GOMEMLIMIT is set (the
// user's choice wins, "off" included). It returns at once.
func softMemoryLimit(ctx context.Context) {
	if os.Getenv("GOMEMLIMIT") != "" {
		return
	}
	sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	update := func() {
		metrics.Read(sample)
		if sample[0].Value.Kind() == metrics.KindUint64 {
			debug.SetMemoryLimit(memLimitFor(sample[0].Value.Uint64()))
		}
	}
	update()
	go func() {
		t := time.NewTicker(memLimitPeriod)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				update()
			}
		}
	}()
}
