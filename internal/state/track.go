package state

import "sync"

// span is the EVENTS sequences lo..hi.
type span struct{ lo, hi uint64 }

// spans is a sorted list of disjoint, non-adjacent spans.
type spans []span

// add puts lo..hi in the list. Sequences mostly come in order, so the
// search starts at the end.
func (s spans) add(lo, hi uint64) spans {
	if lo > hi {
		return s
	}
	i := len(s)
	for i > 0 && s[i-1].lo > hi+1 {
		i--
	}
	// s[i-1] (if any) starts at most at hi+1: merge the spans lo..hi
	// touches, which end at or after lo-1.
	j := i
	for j > 0 && s[j-1].hi+1 >= lo {
		j--
	}
	if j == i {
		s = append(s, span{})
		copy(s[i+1:], s[i:])
		s[i] = span{lo, hi}
		return s
	}
	m := span{min(lo, s[j].lo), max(hi, s[i-1].hi)}
	s[j] = m
	return append(s[:j+1], s[i:]...)
}

// remove takes lo..hi out of the list.
func (s spans) remove(lo, hi uint64) spans {
	if lo > hi {
		return s
	}
	out := s[:0:0]
	for _, x := range s {
		if x.hi < lo || x.lo > hi {
			out = append(out, x)
			continue
		}
		if x.lo < lo {
			out = append(out, span{x.lo, lo - 1})
		}
		if x.hi > hi {
			out = append(out, span{hi + 1, x.hi})
		}
	}
	return out
}

// trim drops the sequences up to low.
func (s spans) trim(low uint64) spans {
	i := 0
	for i < len(s) && s[i].hi <= low {
		i++
	}
	s = s[i:]
	if len(s) > 0 && s[0].lo <= low {
		s[0].lo = low + 1
	}
	return s
}

// tracker follows which EVENTS sequences the local state feed has applied,
// for its checkpoint: low is a low-water mark, every sequence up to it
// being applied (written, found older than the entry, not an event, or
// not in the archive). Events are applied out of order (batches of
// Publish calls that raced, events read back from the archive beside live
// ones), so the sequences above low that are applied are kept as spans,
// and low moves up only over a run without a hole. Seen are the
// sequences above low taken to be applied (queued, being applied, or
// being read back): the holes in them are what the feed reads back from
// the archive. Safe for concurrent use.
type tracker struct {
	mu      sync.Mutex
	low     uint64
	applied spans
	seen    spans
}

// raise moves low up to at least seq (the archive lost what is below).
func (t *tracker) raise(seq uint64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if seq > t.low {
		t.low = seq
		t.advanceLocked()
	}
}

// take notes sequences queued to be applied.
func (t *tracker) take(seqs ...uint64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, q := range seqs {
		if q > t.low {
			t.seen = t.seen.add(q, q)
		}
	}
}

// done notes lo..hi applied.
func (t *tracker) done(lo, hi uint64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	lo = max(lo, t.low+1)
	if lo > hi {
		return
	}
	t.applied = t.applied.add(lo, hi)
	t.seen = t.seen.add(lo, hi)
	t.advanceLocked()
}

// failed notes lo..hi not applied (to be read back later), unless applied
// meanwhile.
func (t *tracker) failed(lo, hi uint64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.failedLocked(lo, hi)
}

func (t *tracker) failedLocked(lo, hi uint64) {
	lo = max(lo, t.low+1)
	if lo > hi {
		return
	}
	t.seen = t.seen.remove(lo, hi)
	for _, x := range t.applied {
		if x.hi >= lo && x.lo <= hi {
			t.seen = t.seen.add(max(x.lo, lo), min(x.hi, hi))
		}
	}
}

func (t *tracker) advanceLocked() {
	for len(t.applied) > 0 && t.applied[0].lo <= t.low+1 {
		t.low = max(t.low, t.applied[0].hi)
		t.applied = t.applied[1:]
	}
	t.applied = t.applied.trim(t.low)
	t.seen = t.seen.trim(t.low)
	if len(t.applied) == 0 && cap(t.applied) > 64 {
		t.applied = nil // let a long list go
	}
}

// holes returns the sequences from low+1 to upto that are neither applied
// nor taken, and takes them.
func (t *tracker) holes(upto uint64) []span {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []span
	next := t.low + 1
	for _, x := range t.seen {
		if next > upto {
			break
		}
		if x.lo > next {
			out = append(out, span{next, min(x.lo-1, upto)})
		}
		next = max(next, x.hi+1)
	}
	if next <= upto {
		out = append(out, span{next, upto})
	}
	for _, x := range out {
		t.seen = t.seen.add(x.lo, x.hi)
	}
	return out
}

// lowWater returns low.
func (t *tracker) lowWater() uint64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.low
}

// takeRecs notes the events of rs queued to be applied.
func (t *tracker) takeRecs(rs []rec) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for i := range rs {
		if q := rs[i].seq; q > t.low {
			t.seen = t.seen.add(q, q)
		}
	}
}

// settle notes the sequences of ok (sorted) applied and those of bad not
// (to be read back later, unless applied meanwhile).
func (t *tracker) settle(ok, bad []uint64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for i := 0; i < len(ok); {
		j := i + 1
		for j < len(ok) && ok[j] <= ok[j-1]+1 {
			j++
		}
		if lo, hi := max(ok[i], t.low+1), ok[j-1]; lo <= hi {
			t.applied = t.applied.add(lo, hi)
			t.seen = t.seen.add(lo, hi)
		}
		i = j
	}
	t.advanceLocked()
	for _, q := range bad {
		t.failedLocked(q, q)
	}
}
