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
// The room is what the collector's CPU depends on: the heap grows by about
// that much between two collections, so at a given allocation rate half
// the room means twice the collections. In the http bench (about 10 KB
// allocated per event, 25–30 MB live) a room of 8 MiB put the collector
// at 13% of the CPU (150 µs per event against 12), and one of 16 MiB
// doubled its CPU per event (+18 µs, about +12%); 24 MiB costs about as
// much as the earlier fixed floor of 64 MiB did at that live heap (which
// gave the heap 22–28 MB of room), and unlike that floor it lets every
// MiB taken off the live heap come off resident memory
// (docs/operations.md, "Memory"). Less allocation per event is what will
// let the room shrink.
const (
	memLimitFloor  = 32 << 20 // an idle bridge: a few MiB live
	memLimitRatio  = 0.25
	memLimitRoom   = 24 << 20
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
