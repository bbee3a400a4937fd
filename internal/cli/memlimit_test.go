package cli

import (
	"context"
	"runtime/debug"
	"testing"
)

func TestMemLimitFor(t *testing.T) {
	for _, c := range []struct {
		live, other uint64
		want        int64
	}{
		{0, 0, 64 << 20},
		{30 << 20, 10 << 20, 64 << 20},
		{48 << 20, 15 << 20, 75 << 20}, // about the http bench's bridge: 12 MiB of room
		{20 << 20, 40 << 20, 68 << 20}, // at least 8 MiB of room
		{100 << 20, 20 << 20, 145 << 20},
		{600 << 20, 0, 750 << 20},
	} {
		if got := memLimitFor(c.live, c.other); got != c.want {
			t.Errorf("memLimitFor(%d MiB, %d MiB) = %d MiB, want %d MiB", c.live>>20, c.other>>20, got>>20, c.want>>20)
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
