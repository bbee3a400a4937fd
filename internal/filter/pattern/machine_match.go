package pattern

import "strings"

// scratch is the per-call working memory of Match, pooled. Per-sub-pattern
// and per-path state is stamped with the call's generation instead of being
// cleared.
type scratch struct {
	gen uint32

	spStamp  []uint32 // sub-pattern already a candidate
	touched  []int32  // candidates, in the order found
	patStamp []uint32 // pattern already reported

	pathStamp []uint32
	pathCount []int32
	pathHead  []int32 // first leaf of the path; leaves chain through next

	leaves    []mleaf
	next      []int32
	pos       []arrayPos // positions of all leaves
	stack     []arrayPos // positions while walking the event
	nextArray int32
	hasPos    bool // some leaf lies in an array of objects or arrays

	chosen []arrayPos // array-consistent search: positions of the leaves chosen
	cands  []int32    // search: leaves matching each field, field after field
	candAt []int32    // search: where each field's leaves start in cands
	alls   []int32    // search: every leaf of each exists:false field
	allAt  []int32    // search: where each field's leaves start in alls
	buf    []byte
}

// mleaf is one relevant leaf of the event being matched.
type mleaf struct {
	v      value
	path   int32
	p0, p1 int32 // positions in scratch.pos
}

func (m *Machine) newScratch() any {
	return &scratch{
		spStamp:   make([]uint32, len(m.sps)),
		patStamp:  make([]uint32, len(m.ids)),
		pathStamp: make([]uint32, len(m.paths)),
		pathCount: make([]int32, len(m.paths)),
		pathHead:  make([]int32, len(m.paths)),
	}
}

func (s *scratch) begin() {
	s.gen++
	if s.gen == 0 { // wrapped: forget every stamp
		clear(s.spStamp)
		clear(s.patStamp)
		clear(s.pathStamp)
		s.gen = 1
	}
	s.touched = s.touched[:0]
	s.leaves = s.leaves[:0]
	s.next = s.next[:0]
	s.pos = s.pos[:0]
	s.stack = s.stack[:0]
	s.nextArray = 0
	s.hasPos = false
}

// Match appends to dst the ids of the patterns that match the event, each
// once, in no particular order, and returns the extended slice.
func (m *Machine) Match(event map[string]any, dst []int) []int {
	s := m.pool.Get().(*scratch)
	s.begin()
	for _, pat := range m.matchAll {
		dst = s.emit(m, pat, dst)
	}
	if len(m.paths) > 0 {
		m.walkObject(s, event, m.root)
	}
	for i := range s.leaves {
		m.index(s, int32(i))
	}
	for i := range s.leaves {
		m.leafHits(s, &s.leaves[i])
	}
	for _, sp := range s.touched {
		dst = m.check(s, sp, dst)
	}
	for _, sp := range m.always {
		dst = m.check(s, sp, dst)
	}
	m.pool.Put(s)
	return dst
}

func (s *scratch) emit(m *Machine, pat int32, dst []int) []int {
	if s.patStamp[pat] == s.gen {
		return dst
	}
	s.patStamp[pat] = s.gen
	return append(dst, m.ids[pat])
}

func (m *Machine) walkObject(s *scratch, obj map[string]any, n *pnode) {
	if len(obj) <= len(n.names) {
		// An object no larger than the node's set of children: look the
		// children up. If that accounts for every key, ranging over the
		// object (slow) is not needed; otherwise only its dotted keys are
		// left to follow.
		found := 0
		for i, name := range n.names {
			if v, ok := obj[name]; ok {
				found++
				m.walkValue(s, v, n.nodes[i])
			}
		}
		if found == len(obj) {
			return
		}
		for k, v := range obj {
			if strings.IndexByte(k, '.') >= 0 {
				if c := n.child(k); c != nil {
					m.walkValue(s, v, c)
				}
			}
		}
		return
	}
	for k, v := range obj {
		if c := n.child(k); c != nil {
			m.walkValue(s, v, c)
		}
	}
}

func (m *Machine) walkValue(s *scratch, v any, n *pnode) {
	switch t := v.(type) {
	case map[string]any:
		if !n.leaf() {
			m.walkObject(s, t, n)
		}
	case []any:
		id := s.nextArray
		s.nextArray++
		for i, e := range t {
			switch e.(type) {
			case map[string]any, []any:
				s.stack = append(s.stack, arrayPos{id: id, index: int32(i)})
				m.walkValue(s, e, n)
				s.stack = s.stack[:len(s.stack)-1]
			default:
				m.walkValue(s, e, n)
			}
		}
	default:
		if n.path < 0 {
			return
		}
		val, ok := leafValue(t)
		if !ok {
			return
		}
		p0 := int32(len(s.pos))
		if len(s.stack) > 0 {
			s.pos = append(s.pos, s.stack...)
			s.hasPos = true
		}
		s.leaves = append(s.leaves, mleaf{v: val, path: n.path, p0: p0, p1: int32(len(s.pos))})
	}
}

// index chains leaf i into its path's list.
func (m *Machine) index(s *scratch, i int32) {
	p := s.leaves[i].path
	if s.pathStamp[p] != s.gen {
		s.pathStamp[p] = s.gen
		s.pathCount[p] = 0
		s.pathHead[p] = -1
	}
	s.pathCount[p]++
	s.next = append(s.next, s.pathHead[p])
	s.pathHead[p] = i
}

func (s *scratch) leavesOf(path int32) int32 {
	if s.pathStamp[path] != s.gen {
		return 0
	}
	return s.pathCount[path]
}

func (s *scratch) hit(r ref) {
	if s.spStamp[r.sp] != s.gen {
		s.spStamp[r.sp] = s.gen
		s.touched = append(s.touched, r.sp)
	}
}

func (s *scratch) hitAll(rs []ref) {
	for _, r := range rs {
		s.hit(r)
	}
}
