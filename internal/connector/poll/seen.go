package poll

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"sort"
	"time"
)

// seenSet remembers the ids of items already emitted, each with when it
// was last seen in a response: ids not seen for ttl are forgotten, and
// only the max most recently seen are kept. It is stored as one value:
// a magic, then per id 8 bytes of its SHA-256 and 4 of Unix seconds.
type seenSet struct {
	max   int
	ttl   time.Duration
	m     map[uint64]uint32
	dirty bool
}

var seenMagic = []byte("ebs1")

const seenEntry = 12

func newSeenSet(max int, ttl time.Duration) *seenSet {
	return &seenSet{max: max, ttl: ttl, m: map[uint64]uint32{}}
}

// decodeSeen reads a stored set (nil data: an empty one).
func decodeSeen(data []byte, max int, ttl time.Duration) (*seenSet, error) {
	s := newSeenSet(max, ttl)
	if len(data) == 0 {
		return s, nil
	}
	if len(data) < len(seenMagic) || string(data[:len(seenMagic)]) != string(seenMagic) || (len(data)-len(seenMagic))%seenEntry != 0 {
		return nil, errors.New("seen ids: unknown format")
	}
	for b := data[len(seenMagic):]; len(b) > 0; b = b[seenEntry:] {
		s.m[binary.BigEndian.Uint64(b)] = binary.BigEndian.Uint32(b[8:])
	}
	return s, nil
}

func seenKey(id string) uint64 {
	sum := sha256.Sum256([]byte(id))
	return binary.BigEndian.Uint64(sum[:8])
}

// has reports whether id was seen within the TTL.
func (s *seenSet) has(id string, now time.Time) bool {
	at, ok := s.m[seenKey(id)]
	return ok && now.Sub(time.Unix(int64(at), 0)) < s.ttl
}

// mark records id as seen now. Refreshing an id seen lately does not
// dirty the set, so that unchanged polls do not rewrite it.
func (s *seenSet) mark(id string, now time.Time) {
	k := seenKey(id)
	at, ok := s.m[k]
	if ok && now.Sub(time.Unix(int64(at), 0)) < s.ttl/4 {
		return
	}
	s.m[k] = uint32(now.Unix())
	s.dirty = true
}

// encode drops expired ids and the least recently seen beyond max.
func (s *seenSet) encode(now time.Time) []byte {
	type kv struct {
		k  uint64
		at uint32
	}
	list := make([]kv, 0, len(s.m))
	for k, at := range s.m {
		if now.Sub(time.Unix(int64(at), 0)) < s.ttl {
			list = append(list, kv{k, at})
		}
	}
	sort.Slice(list, func(i, j int) bool {
		if list[i].at != list[j].at {
			return list[i].at > list[j].at
		}
		return list[i].k < list[j].k
	})
	if len(list) > s.max {
		list = list[:s.max]
	}
	s.m = make(map[uint64]uint32, len(list))
	out := make([]byte, 0, len(seenMagic)+seenEntry*len(list))
	out = append(out, seenMagic...)
	for _, e := range list {
		s.m[e.k] = e.at
		out = binary.BigEndian.AppendUint64(out, e.k)
		out = binary.BigEndian.AppendUint32(out, e.at)
	}
	return out
}

func (s *seenSet) len() int { return len(s.m) }
