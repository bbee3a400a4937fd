package state

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// The low-water mark never passes a sequence not applied, whatever the
// order batches are applied in (batches of Publish calls that raced,
// events read back beside live ones).
func TestTrackerLowWaterNeverPassesAHole(t *testing.T) {
	tr := &tracker{low: 10}
	tr.take(11, 12, 13, 14, 15, 16)
	tr.settle([]uint64{14, 15}, nil) // a later batch first
	if got := tr.lowWater(); got != 10 {
		t.Fatalf("low %d, want 10", got)
	}
	tr.settle([]uint64{11}, []uint64{12}) // 12 failed
	if got := tr.lowWater(); got != 11 {
		t.Fatalf("low %d, want 11", got)
	}
	// 12 failed and 17..20 were never handed: they are the holes.
	if h := tr.holes(20); !slices.Equal(h, []span{{12, 12}, {17, 20}}) {
		t.Fatalf("holes %v", h)
	}
	if h := tr.holes(20); len(h) != 0 {
		t.Fatalf("holes taken twice: %v", h)
	}
	tr.settle([]uint64{12, 13}, nil)
	if got := tr.lowWater(); got != 15 {
		t.Fatalf("low %d, want 15", got)
	}
	tr.done(17, 20) // read back: not in the archive
	tr.settle([]uint64{16}, nil)
	if got := tr.lowWater(); got != 20 {
		t.Fatalf("low %d, want 20", got)
	}
	tr.raise(30) // the archive starts after 30
	if got := tr.lowWater(); got != 30 || len(tr.seen) != 0 || len(tr.applied) != 0 {
		t.Fatalf("after raise: low %d seen %v applied %v", got, tr.seen, tr.applied)
	}
}

// Random orders: the mark is always the last sequence of the run applied
// from the start.
func TestTrackerRandomOrder(t *testing.T) {
	for round := range 50 {
		r := rand.New(rand.NewPCG(uint64(round), 1))
		const n = 300
		seqs := r.Perm(n)
		tr := &tracker{}
		applied := make([]bool, n+1)
		for len(seqs) > 0 {
			k := min(len(seqs), 1+r.IntN(20))
			var ok []uint64
			for _, q := range seqs[:k] {
				ok = append(ok, uint64(q+1))
				applied[q+1] = true
			}
			seqs = seqs[k:]
			slices.Sort(ok)
			tr.take(ok...)
			tr.settle(ok, nil)
			want := uint64(0)
			for want < n && applied[want+1] {
				want++
			}
			if got := tr.lowWater(); got != want {
				t.Fatalf("round %d: low %d, want %d", round, got, want)
			}
		}
		if len(tr.applied) != 0 || len(tr.seen) != 0 {
			t.Fatalf("round %d: left %v %v", round, tr.applied, tr.seen)
		}
	}
}

func TestSpans(t *testing.T) {
	var s spans
	for _, q := range []uint64{5, 1, 3, 2, 9, 4, 7} {
		s = s.add(q, q)
	}
	if !slices.Equal(s, spans{{1, 5}, {7, 7}, {9, 9}}) {
		t.Fatalf("add: %v", s)
	}
	s = s.add(6, 8)
	if !slices.Equal(s, spans{{1, 9}}) {
		t.Fatalf("add a bridge: %v", s)
	}
	s = s.remove(3, 4)
	if !slices.Equal(s, spans{{1, 2}, {5, 9}}) {
		t.Fatalf("remove: %v", s)
	}
	if s = s.trim(6); !slices.Equal(s, spans{{7, 9}}) {
		t.Fatalf("trim: %v", s)
	}
}
