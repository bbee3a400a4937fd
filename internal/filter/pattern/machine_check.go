package pattern

import (
	"slices"
	"sort"
)

// leafHits records every condition the leaf satisfies.
func (m *Machine) leafHits(s *scratch, l *mleaf) {
	px := m.paths[l.path]
	if px.empty {
		return
	}
	switch l.v.kind {
	case vString:
		str := l.v.s
		s.hitAll(px.strs[str])
		if px.ips != nil {
			if a, ok := parseIP(str); ok {
				s.hitAll(px.ips[a])
			}
		}
		for _, n := range px.prefixLens {
			if n > len(str) {
				break
			}
			s.hitAll(px.prefixes[str[:n]])
		}
		for _, n := range px.suffixLens {
			if n > len(str) {
				break
			}
			s.hitAll(px.suffixes[str[len(str)-n:]])
		}
		if px.folds != nil {
			s.buf = appendFoldKey(s.buf[:0], str)
			for _, fr := range px.folds[string(s.buf)] {
				if equalsFold(fr.s, str) {
					s.hit(fr.ref)
				}
			}
		}
	case vNumber:
		if rs, ok := px.nums[numberKey(l.v.n)]; ok {
			repr := numberRepr(l.v.n)
			for _, nr := range rs {
				if nr.repr == repr {
					s.hit(nr.ref)
				}
			}
		}
		if !px.ranges.empty() {
			if x, ok := floatMicro(l.v.n); ok {
				px.ranges.hits(x, s)
			}
		}
	case vBool:
		if l.v.b {
			s.hitAll(px.trues)
		} else {
			s.hitAll(px.falses)
		}
	case vNull:
		s.hitAll(px.nulls)
	}
}

// check decides a candidate or always-checked sub-pattern and reports its
// pattern when it matches.
func (m *Machine) check(s *scratch, spID int32, dst []int) []int {
	sp := &m.sps[spID]
	if s.patStamp[sp.pat] == s.gen {
		return dst
	}
	if s.hasPos {
		if m.search(s, sp.fields) {
			dst = s.emit(m, sp.pat, dst)
		}
		return dst
	}
	// No arrays of objects, so no array consistency to keep: each field
	// holds on its own. The anchor is known to hold.
	for j, f := range sp.fields {
		if j == sp.anchor {
			continue
		}
		if f.f.absent && s.leavesOf(f.path) == 0 {
			continue
		}
		if !f.f.values || !s.anyLeafMatches(f) {
			return dst
		}
	}
	return s.emit(m, sp.pat, dst)
}

func (s *scratch) anyLeafMatches(f spField) bool {
	for i := s.head(f.path); i >= 0; i = s.next[i] {
		if fieldMatches(f.f, &s.leaves[i].v) {
			return true
		}
	}
	return false
}

// search is the exact, array-consistent check of a sub-pattern, the same
// search as the reference evaluator but over the Machine's leaves. The
// leaves matching each field are listed first, so the search only combines
// leaves that match.
func (m *Machine) search(s *scratch, fields []spField) bool {
	s.cands = s.cands[:0]
	s.candAt = s.candAt[:0]
	s.alls = s.alls[:0]
	s.allAt = s.allAt[:0]
	for _, f := range fields {
		s.allAt = append(s.allAt, int32(len(s.alls)))
		if f.f.absent {
			from := len(s.alls)
			for i := s.head(f.path); i >= 0; i = s.next[i] {
				s.alls = append(s.alls, i)
			}
			c := s.alls[from:]
			slices.SortFunc(c, func(a, b int32) int { return cmpFirstPos(s.firstPos(a), s.firstPos(b)) })
		}
		s.candAt = append(s.candAt, int32(len(s.cands)))
		if f.f.values {
			for i := s.head(f.path); i >= 0; i = s.next[i] {
				if fieldMatches(f.f, &s.leaves[i].v) {
					s.cands = append(s.cands, i)
				}
			}
		}
		from := s.candAt[len(s.candAt)-1]
		if !f.f.absent && int32(len(s.cands)) == from {
			return false // a field that needs a value has none
		}
		// Order by outermost array element, so that the leaves in the
		// element already chosen can be found by binary search.
		c := s.cands[from:]
		slices.SortFunc(c, func(a, b int32) int { return cmpFirstPos(s.firstPos(a), s.firstPos(b)) })
	}
	s.candAt = append(s.candAt, int32(len(s.cands)))
	s.allAt = append(s.allAt, int32(len(s.alls)))
	return m.searchFrom(s, fields, 0)
}

// fitRange returns, for leaves c sorted by outermost array position and a
// group c[k:e] sharing one outermost array, the part c[lo:hi] that can fit
// the chosen leaves: the leaves in the chosen element of that array, or the
// whole group when no element of it is chosen yet.
func (s *scratch) fitRange(c []int32, k int) (lo, hi, e int) {
	first := s.firstPos(c[k])
	e = k + sort.Search(len(c)-k, func(x int) bool { return s.firstPos(c[k+x]).id > first.id })
	if first.id < 0 {
		return k, e, e
	}
	idx, ok := s.chosenIndex(first.id)
	if !ok {
		return k, e, e
	}
	want := arrayPos{id: first.id, index: idx}
	lo = k + sort.Search(e-k, func(x int) bool { return cmpFirstPos(s.firstPos(c[k+x]), want) >= 0 })
	hi = k + sort.Search(e-k, func(x int) bool { return cmpFirstPos(s.firstPos(c[k+x]), want) > 0 })
	return lo, hi, e
}

// present reports whether some leaf of c fits the chosen leaves.
func (s *scratch) present(c []int32) bool {
	for k := 0; k < len(c); {
		lo, hi, e := s.fitRange(c, k)
		for _, i := range c[lo:hi] {
			if consistent(s.chosen, s.posOf(i)) {
				return true
			}
		}
		k = e
	}
	return false
}

// firstPos is a leaf's outermost array position, or {-1, -1} outside arrays
// of objects.
func (s *scratch) firstPos(i int32) arrayPos {
	l := &s.leaves[i]
	if l.p0 == l.p1 {
		return arrayPos{id: -1, index: -1}
	}
	return s.pos[l.p0]
}

func cmpFirstPos(a, b arrayPos) int {
	if a.id != b.id {
		return int(a.id - b.id)
	}
	return int(a.index - b.index)
}

// chosenIndex returns the element of array id that the chosen leaves lie in.
func (s *scratch) chosenIndex(id int32) (int32, bool) {
	for _, p := range s.chosen {
		if p.id == id {
			return p.index, true
		}
	}
	return 0, false
}

func (m *Machine) searchFrom(s *scratch, fields []spField, j int) bool {
	if j == len(fields) {
		return true
	}
	f := fields[j]
	if f.f.absent && !s.present(s.alls[s.allAt[j]:s.allAt[j+1]]) && m.searchFrom(s, fields, j+1) {
		return true
	}
	c := s.cands[s.candAt[j]:s.candAt[j+1]]
	for k := 0; k < len(c); {
		lo, hi, e := s.fitRange(c, k)
		for _, i := range c[lo:hi] {
			pos := s.posOf(i)
			if !consistent(s.chosen, pos) {
				continue
			}
			n := len(s.chosen)
			s.chosen = append(s.chosen, pos...)
			ok := m.searchFrom(s, fields, j+1)
			s.chosen = s.chosen[:n]
			if ok {
				return true
			}
		}
		k = e
	}
	return false
}

func (s *scratch) head(path int32) int32 {
	if s.pathStamp[path] != s.gen {
		return -1
	}
	return s.pathHead[path]
}

func (s *scratch) posOf(i int32) []arrayPos {
	l := &s.leaves[i]
	return s.pos[l.p0:l.p1]
}

func fieldMatches(f *field, v *value) bool {
	for i := range f.matchers {
		if f.matchers[i].op != opAbsent && f.matchers[i].match(v) {
			return true
		}
	}
	return false
}
