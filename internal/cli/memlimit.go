package cli

import (
	"context"
	"os"
	"runtime/debug"
	"runtime/metrics"
	"time"
)

// The default soft memory limit of serve, when GOMEMLIMIT is not set: the
// live heap, plus what the runtime holds besides the heap (goroutine
// stacks, its own metadata), plus room for the heap to grow between two
// collections of memLimitRatio times the live heap and at least
// memLimitRoom; never under memLimitFloor.
//
// Go's default (GOGC=100, no limit) lets the heap grow to twice the live
// heap before it collects, and returns freed pages to the OS slowly; the
// bridge's live heap is mostly the bus's recent file blocks, so under load
// its resident memory was several times its live heap. The limit makes
// the collector return pages at once while memory is near it.
//
// The room is counted above the live heap and the runtime's other memory
// (which the limit covers too): a limit of 1.5 times the live heap alone
// left the heap 4 to 7 MB of room when 46 MB were live, and the collector
// ran every few hundred events at saturation (215 collections in 23 s).
// The room is kept small on purpose: in the http bench a room of half the
// live heap (at least 16 MiB) took the collector's share of CPU from 5–7%
// to 4.4% but peak RSS from 98–101 to 117–118 MiB, and resident memory is
// the further of the two from its goal; allocating less lowers both
// (docs/operations.md, "Memory").
//
// The floor stays (issue 15, measured in the http bench and a 3-minute
// soak): a limit of the live heap plus other plus at least 24 MiB, floor
// 32 MiB, cost 15-30% more collections in the http bench for 5 MiB less
// peak RSS, and in the soak, where the live heap grows past 40 MB once the
// archive expires its oldest block and the dedup window is full, gave the
// heap more room than the floor does (RSS 93 -> 108 MiB against a flat
// 91 -> 90). Rooms of 16 and 8 MiB took the collector's CPU per event from
// 12 to 30 and 148 µs. Less allocation per event is what lets the room shrink.
const (
	memLimitFloor  = 64 << 20
	memLimitRatio  = 0.25
	memLimitRoom   = 8 << 20
	memLimitPeriod = time.Second
)

// memLimitFor is the soft limit for a live heap of live bytes and other
// bytes that the runtime holds besides the heap.
func memLimitFor(live, other uint64) int64 {
	room := max(uint64(float64(live)*memLimitRatio), memLimitRoom)
	return max(memLimitFloor, int64(live+other+room))
}

// memSampleNames are the runtime metrics memLimitFor needs.
var memSampleNames = []string{
	"/gc/heap/live:bytes",
	"/memory/classes/total:bytes",
	"/memory/classes/heap/released:bytes",
	"/memory/classes/heap/objects:bytes",
	"/memory/classes/heap/unused:bytes",
	"/memory/classes/heap/free:bytes",
}

// readMemory returns the live heap and the memory the runtime holds
// besides the heap (what the soft limit counts that is not heap).
func readMemory(s []metrics.Sample) (live, other uint64, ok bool) {
	metrics.Read(s)
	v := make([]uint64, len(s))
	for i := range s {
		if s[i].Value.Kind() != metrics.KindUint64 {
			return 0, 0, false
		}
		v[i] = s[i].Value.Uint64()
	}
	heap := v[2] + v[3] + v[4] + v[5] // released, objects, unused, free
	if v[1] > heap {
		other = v[1] - heap
	}
	return v[0], other, true
}

// softMemoryLimit sets the default soft memory limit and keeps it
// following the live heap until ctx ends, unless GOMEMLIMIT is set (the
// user's choice wins, "off" included). It returns at once.
func softMemoryLimit(ctx context.Context) {
	if os.Getenv("GOMEMLIMIT") != "" {
		return
	}
	samples := make([]metrics.Sample, len(memSampleNames))
	for i, n := range memSampleNames {
		samples[i].Name = n
	}
	update := func() {
		if live, other, ok := readMemory(samples); ok {
			debug.SetMemoryLimit(memLimitFor(live, other))
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
