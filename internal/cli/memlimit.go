package cli

import (
	"context"
	"os"
	"runtime/debug"
	"runtime/metrics"
	"sync/atomic"
	"time"
)

// The default soft memory limit of serve, when GOMEMLIMIT is not set: the
// live heap, plus what the runtime holds besides the heap (goroutine
// stacks, its own metadata), plus room for the heap to grow between two
// collections of memLimitRatio times the live heap and at least
// memLimitRoom; never under memLimitFloor. Once the bridge has started, while
// it allocates (memLimitBusy in the last period), the limit rises above that, to what
// the collector needs to keep up at a cost that does not grow with the live
// heap (below): the unused part of the heap's spans counted as the runtime
// counts it, a room of at least memLimitScanRatio times the scannable heap,
// and the runtime's own headroom below the limit.
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
// Two things made that room vanish with many rules (issue 15, "Rules":
// 10,000 rules cost 2.2–5.3× the CPU per event of one rule at saturation,
// nearly all of it the collector). The unused part of the heap's spans
// (fragmentation: the start-up's garbage leaves sparse spans, 40 MB with
// 10,000 rules) was counted as heap, but the runtime counts it against the
// limit as it counts stacks, and keeps a headroom of its own below the
// limit (memLimitHeadroom): the heap's goal fell below the heap, and the
// collector ran back to back. And what a collection costs is the
// scannable heap, not the live heap: 10,000 rules' patterns, routes and
// specs make 33 MB of it against the 1-rule bridge's 10 MB (mostly
// pointer-free file blocks), so a room of a quarter of the live heap made
// each allocated byte cost 2.4 bytes of marking against 0.7. A room of at
// least the scannable heap keeps that at most 1 (what GOGC=100 gives a heap
// of pointers). An idle process, whose collector has nothing to keep up
// with, is not given that: it keeps the lower limit and the lower resident
// memory that goes with it. (Giving a busy process only as much more as it
// allocated in the last period starved it: a bridge that the collector
// slows allocates little, so it stayed slow.) Nor is a bridge that is
// starting: its live heap is being built among much garbage (1.1 GB
// allocated to start 10,000 rules), and a larger room then leaves the live
// objects scattered over more spans, which stay resident (40 MB more idle
// RSS at 10,000 rules).
const (
	memLimitFloor     = 64 << 20
	memLimitRatio     = 0.25
	memLimitScanRatio = 1.0
	memLimitRoom      = 8 << 20
	memLimitPeriod    = time.Second
	memLimitBusy      = 4 << 20 // bytes allocated per period: a few hundred events per second
	// memLimitHeadroom is the share of the limit left for the headroom the
	// runtime keeps below it (runtime.memoryLimitHeapGoalHeadroomPercent:
	// 3% of its goal in Go 1.26, at least 1 MiB).
	memLimitHeadroom = 0.05
)

// memLimitFor is the soft limit for m, given that allocated bytes were
// allocated during the last period.
func memLimitFor(m memSample, allocated uint64) int64 {
	room := max(uint64(float64(m.live)*memLimitRatio), memLimitRoom)
	idle := m.live + m.other + room
	busy := uint64(float64(m.live+m.other+m.unused+max(room, uint64(float64(m.scan)*memLimitScanRatio))) / (1 - memLimitHeadroom))
	limit := idle
	if allocated >= memLimitBusy {
		limit = max(idle, busy)
	}
	return max(memLimitFloor, int64(limit))
}

// memSampleNames are the runtime metrics readMemory reads.
var memSampleNames = []string{
	"/gc/heap/live:bytes",
	"/memory/classes/total:bytes",
	"/memory/classes/heap/released:bytes",
	"/memory/classes/heap/objects:bytes",
	"/memory/classes/heap/unused:bytes",
	"/memory/classes/heap/free:bytes",
	"/gc/scan/heap:bytes",
	"/gc/heap/allocs:bytes",
}

// memSample is what memLimitFor is given.
type memSample struct {
	live   uint64 // the live heap
	scan   uint64 // its scannable part (what a collection marks)
	other  uint64 // what the runtime holds besides the heap
	unused uint64 // the unused part of the heap's spans
	allocs uint64 // bytes allocated since the process started
}

// readMemory reads m's figures.
func readMemory(s []metrics.Sample) (m memSample, ok bool) {
	metrics.Read(s)
	v := make([]uint64, len(s))
	for i := range s {
		if s[i].Value.Kind() != metrics.KindUint64 {
			return memSample{}, false
		}
		v[i] = s[i].Value.Uint64()
	}
	heap := v[2] + v[3] + v[4] + v[5] // released, objects, unused, free
	if v[1] > heap {
		m.other = v[1] - heap
	}
	m.live, m.unused, m.scan, m.allocs = v[0], v[4], v[6], v[7]
	return m, true
}

// softMemoryLimit sets the default soft memory limit and keeps it
// following the live heap until ctx ends, unless GOMEMLIMIT is set (the
// user's choice wins, "off" included). It returns at once, with the func to
// call once the bridge has started (the limit of a busy bridge applies
// from then on).
func softMemoryLimit(ctx context.Context) (started func()) {
	if os.Getenv("GOMEMLIMIT") != "" {
		return func() {}
	}
	samples := make([]metrics.Sample, len(memSampleNames))
	for i, n := range memSampleNames {
		samples[i].Name = n
	}
	var up atomic.Bool
	var allocs uint64
	update := func() {
		if m, ok := readMemory(samples); ok {
			allocated := m.allocs - allocs
			allocs = m.allocs
			if !up.Load() {
				allocated = 0
			}
			debug.SetMemoryLimit(memLimitFor(m, allocated))
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
	return func() { up.Store(true) }
}
