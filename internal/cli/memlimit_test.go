package cli

import (
	"context"
	"runtime/debug"
	"testing"
)

func TestMemLimitFor(t *testing.T) {
	const busy = 1 << 30
	for _, c := range []struct {
		live, scan, other, unused, allocated uint64
		want                                 int64 // MiB, rounded down
	}{
		{0, 0, 0, 0, 0, 64},
		{30 << 20, 5 << 20, 10 << 20, 0, 0, 64},
		{48 << 20, 12 << 20, 15 << 20, 0, 0, 75},          // about the http bench's bridge: 12 MiB of room
		{48 << 20, 12 << 20, 15 << 20, 3 << 20, busy, 82}, // the same, allocating: its unused spans and the runtime's headroom too
		{20 << 20, 0, 40 << 20, 0, 0, 68},                 // at least 8 MiB of room
		{100 << 20, 20 << 20, 20 << 20, 0, 0, 145},        // a quarter of the live heap
		{600 << 20, 0, 0, 0, 0, 750},
		// 10,000 rules: 40 MiB of unused spans, 33 MiB scannable.
		{55 << 20, 33 << 20, 15 << 20, 40 << 20, 0, 83},        // idle: as without them
		{55 << 20, 33 << 20, 15 << 20, 40 << 20, 2 << 20, 83},  // allocating 2 MiB per period: idle
		{55 << 20, 33 << 20, 15 << 20, 40 << 20, 4 << 20, 150}, // 4 MiB: busy
		{55 << 20, 33 << 20, 15 << 20, 40 << 20, busy, 150},    // under load: room for the scannable heap above the unused spans
	} {
		m := memSample{live: c.live, scan: c.scan, other: c.other, unused: c.unused}
		if got := memLimitFor(m, c.allocated) >> 20; got != c.want {
			t.Errorf("memLimitFor(%+v MiB, allocated %d MiB) = %d MiB, want %d MiB",
				[]uint64{c.live >> 20, c.scan >> 20, c.other >> 20, c.unused >> 20}, c.allocated>>20, got, c.want)
		}
	}
}

func TestSoftMemoryLimit(t *testing.T) {
	prev := debug.SetMemoryLimit(-1)
	t.Cleanup(func() { debug.SetMemoryLimit(prev) })
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	t.Setenv("GOMEMLIMIT", "off")
	debug.SetMemoryLimit(prev)
	softMemoryLimit(ctx)
	if got := debug.SetMemoryLimit(-1); got != prev {
		t.Fatalf("with GOMEMLIMIT set the limit changed to %d", got)
	}

	t.Setenv("GOMEMLIMIT", "")
	softMemoryLimit(ctx)
	if got := debug.SetMemoryLimit(-1); got < memLimitFloor || got == prev {
		t.Fatalf("limit %d, want at least %d", got, memLimitFloor)
	}
}
