package pattern

import (
	"net/netip"
	"slices"
	"sort"
)

// ref names a sub-pattern whose anchor a value satisfies.
type ref struct {
	sp int32
}

type numRef struct {
	ref
	repr bool
}

type foldRef struct {
	ref
	s string
}

// pathIndex holds the anchor conditions on one path.
type pathIndex struct {
	strs       map[string][]ref
	ips        map[netip.Addr][]ref
	nums       map[uint64][]numRef
	trues      []ref
	falses     []ref
	nulls      []ref
	prefixes   map[string][]ref
	prefixLens []int
	suffixes   map[string][]ref
	suffixLens []int
	folds      map[string][]foldRef
	ranges     rangeIndex
	empty      bool // nothing anchored here: the path's leaves only serve checks
}

func newPathIndex() *pathIndex { return &pathIndex{} }

func (px *pathIndex) add(r ref, m *matcher) {
	switch m.op {
	case opString:
		if m.isIP {
			if px.ips == nil {
				px.ips = map[netip.Addr][]ref{}
			}
			px.ips[m.ip] = append(px.ips[m.ip], r)
			return
		}
		if px.strs == nil {
			px.strs = map[string][]ref{}
		}
		px.strs[m.s] = append(px.strs[m.s], r)
	case opNumber:
		if px.nums == nil {
			px.nums = map[uint64][]numRef{}
		}
		k := numberKey(m.n)
		px.nums[k] = append(px.nums[k], numRef{ref: r, repr: m.repr})
	case opBool:
		if m.b {
			px.trues = append(px.trues, r)
		} else {
			px.falses = append(px.falses, r)
		}
	case opNull:
		px.nulls = append(px.nulls, r)
	case opPrefix:
		if px.prefixes == nil {
			px.prefixes = map[string][]ref{}
		}
		px.prefixes[m.s] = append(px.prefixes[m.s], r)
		px.prefixLens = addLen(px.prefixLens, len(m.s))
	case opSuffix:
		if px.suffixes == nil {
			px.suffixes = map[string][]ref{}
		}
		px.suffixes[m.s] = append(px.suffixes[m.s], r)
		px.suffixLens = addLen(px.suffixLens, len(m.s))
	case opEqualsFold:
		if px.folds == nil {
			px.folds = map[string][]foldRef{}
		}
		k := string(appendFoldKey(nil, m.s))
		px.folds[k] = append(px.folds[k], foldRef{ref: r, s: m.s})
	case opRange:
		px.ranges.add(r, m.lo, m.hi)
	default:
		panic("pattern: not an indexable matcher")
	}
}

func addLen(lens []int, n int) []int {
	i, found := slices.BinarySearch(lens, n)
	if found {
		return lens
	}
	return slices.Insert(lens, i, n)
}

func (px *pathIndex) finish() {
	px.ranges.finish()
	px.empty = px.strs == nil && px.ips == nil && px.nums == nil && px.trues == nil && px.falses == nil &&
		px.nulls == nil && px.prefixes == nil && px.suffixes == nil && px.folds == nil && px.ranges.empty()
}

// rangeIndex answers "which numeric ranges hold x" in time proportional to
// the answer: ranges open above are sorted by bottom, ranges open below by
// top, and bounded ranges are cut into elementary segments that each list
// the ranges covering them.
type rangeIndex struct {
	above   []rangeRef // [lo, +inf), sorted by lo
	below   []rangeRef // (-inf, hi], sorted by hi
	bounded []rangeRef
	bounds  []int64 // segment starts, sorted
	cover   [][]ref // cover[i]: ranges holding [bounds[i], bounds[i+1])
}

type rangeRef struct {
	ref
	lo, hi int64
}

func (ri *rangeIndex) add(r ref, lo, hi int64) {
	rr := rangeRef{ref: r, lo: lo, hi: hi}
	switch {
	case hi == microMax:
		ri.above = append(ri.above, rr)
	case lo == microMin:
		ri.below = append(ri.below, rr)
	default:
		ri.bounded = append(ri.bounded, rr)
	}
}

func (ri *rangeIndex) empty() bool {
	return len(ri.above)+len(ri.below)+len(ri.bounded)+len(ri.cover) == 0
}

func (ri *rangeIndex) finish() {
	sort.SliceStable(ri.above, func(i, j int) bool { return ri.above[i].lo < ri.above[j].lo })
	sort.SliceStable(ri.below, func(i, j int) bool { return ri.below[i].hi < ri.below[j].hi })
	if len(ri.bounded) == 0 {
		return
	}
	for _, r := range ri.bounded {
		ri.bounds = append(ri.bounds, r.lo, r.hi+1) // bounded ranges are finite, so hi+1 cannot overflow
	}
	slices.Sort(ri.bounds)
	ri.bounds = slices.Compact(ri.bounds)
	ri.cover = make([][]ref, len(ri.bounds)-1)
	for _, r := range ri.bounded {
		i, _ := slices.BinarySearch(ri.bounds, r.lo)
		j, _ := slices.BinarySearch(ri.bounds, r.hi+1)
		for k := i; k < j; k++ {
			ri.cover[k] = append(ri.cover[k], r.ref)
		}
	}
	ri.bounded = nil
}

// hits records every range holding x.
func (ri *rangeIndex) hits(x int64, s *scratch) {
	n := sort.Search(len(ri.above), func(i int) bool { return ri.above[i].lo > x })
	for _, r := range ri.above[:n] {
		s.hit(r.ref)
	}
	k := sort.Search(len(ri.below), func(i int) bool { return ri.below[i].hi >= x })
	for _, r := range ri.below[k:] {
		s.hit(r.ref)
	}
	if len(ri.cover) > 0 {
		i := sort.Search(len(ri.bounds), func(i int) bool { return ri.bounds[i] > x }) - 1
		if i >= 0 && i < len(ri.cover) {
			for _, r := range ri.cover[i] {
				s.hit(r)
			}
		}
	}
}
