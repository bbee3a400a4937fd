package sink

import (
	"hash/maphash"
	"sync"
)

// idShards spreads the id set over this many locks.
const idShards = 64

// idSet remembers which (source, id) pairs were seen, by their 64-bit hash:
// a collision among a few million ids has a probability near 1e-7, far
// below anything the benchmark reports, and it costs no allocation per id.
type idSet struct {
	seed   maphash.Seed
	shards [idShards]struct {
		mu   sync.Mutex
		seen map[uint64]struct{}
		_    [48]byte // keep shards on separate cache lines
	}
}

// add records the pair and reports whether it was new.
func (s *idSet) add(source, id string) bool {
	var h maphash.Hash
	h.SetSeed(s.seed)
	_, _ = h.WriteString(source)
	_ = h.WriteByte(0) // cannot occur in a source: no ambiguity with id
	_, _ = h.WriteString(id)
	k := h.Sum64()
	sh := &s.shards[k%idShards]
	sh.mu.Lock()
	_, dup := sh.seen[k]
	if !dup {
		sh.seen[k] = struct{}{}
	}
	sh.mu.Unlock()
	return !dup
}

// init prepares an empty set; it must be called once before use.
func (s *idSet) init() {
	s.seed = maphash.MakeSeed()
	s.reset()
}

// reset empties the set.
func (s *idSet) reset() {
	for i := range s.shards {
		s.shards[i].mu.Lock()
		s.shards[i].seen = make(map[uint64]struct{})
		s.shards[i].mu.Unlock()
	}
}
