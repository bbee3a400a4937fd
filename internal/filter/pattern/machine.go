package pattern

import (
	"strings"
	"sync"
)

// Builder collects patterns and builds a Machine. It is not safe for
// concurrent use; the Machine it builds is.
type Builder struct {
	ids      []int
	patterns []*Pattern
}

// NewBuilder returns an empty Builder.
func NewBuilder() *Builder { return &Builder{} }

// Add registers p under id. Adding several patterns under one id makes the
// id match when any of them matches. A nil p is ignored.
func (b *Builder) Add(id int, p *Pattern) {
	if p == nil {
		return
	}
	b.ids = append(b.ids, id)
	b.patterns = append(b.patterns, p)
}

// Len returns the number of patterns added.
func (b *Builder) Len() int { return len(b.patterns) }

// Machine matches an event against many patterns at once. Each pattern is
// expanded into its alternatives ("sub-patterns"), and each sub-pattern is
// indexed under one field, its anchor, by path and by value (hash maps for
// exact values, maps per length for prefixes and suffixes, sorted bounds for
// numeric ranges). The event is flattened once, following only the paths
// some pattern uses; its values make candidates of the sub-patterns whose
// anchor they satisfy, and the candidates' other fields are checked directly
// (with an array-consistent search when the event has arrays of objects).
// So the cost of Match follows the event and its candidates, not the number
// of patterns.
//
// A Machine is immutable and safe for concurrent use.
type Machine struct {
	root     *pnode
	paths    []*pathIndex // by path id
	sps      []subpattern // by sub-pattern id
	ids      []int        // user id by dense pattern number
	always   []int32      // sub-patterns checked on every event
	matchAll []int32      // dense numbers of patterns that match everything
	pool     sync.Pool    // *scratch
	stats    MachineStats
}

// MachineStats describes a built Machine.
type MachineStats struct {
	Patterns    int // patterns added
	IDs         int // distinct ids
	SubPatterns int // alternatives after expanding $or
	Paths       int // distinct field paths
	Unindexed   int // sub-patterns checked on every event
}

// Stats returns the Machine's size figures.
func (m *Machine) Stats() MachineStats { return m.stats }

// pnode is a node of the trie of path segments (paths split on ".").
// Children are looked up by scanning names when there are few of them,
// which is faster than hashing for the handful most nodes have.
type pnode struct {
	names []string
	nodes []*pnode
	kids  map[string]*pnode // when there are more than maxScanKids children
	path  int32             // id of the path ending here, or -1
}

const maxScanKids = 8

func (n *pnode) leaf() bool { return len(n.names) == 0 && n.kids == nil }

func (n *pnode) seg(s string) *pnode {
	if n.kids != nil {
		return n.kids[s]
	}
	for i, name := range n.names {
		if name == s {
			return n.nodes[i]
		}
	}
	return nil
}

// child follows key, which may hold dots, from n.
func (n *pnode) child(key string) *pnode {
	if strings.IndexByte(key, '.') < 0 {
		return n.seg(key)
	}
	for {
		s, rest, more := strings.Cut(key, ".")
		n = n.seg(s)
		if n == nil || !more {
			return n
		}
		key = rest
	}
}

func (n *pnode) add(s string) *pnode {
	c := &pnode{path: -1}
	if n.kids == nil && len(n.names) < maxScanKids {
		n.names = append(n.names, s)
		n.nodes = append(n.nodes, c)
		return c
	}
	if n.kids == nil {
		n.kids = make(map[string]*pnode, len(n.names)+1)
		for i, name := range n.names {
			n.kids[name] = n.nodes[i]
		}
		n.names, n.nodes = nil, nil
	}
	n.kids[s] = c
	return c
}

// subpattern is one alternative of one pattern.
type subpattern struct {
	pat    int32     // dense pattern number
	anchor int       // index of the field whose values are indexed, or -1
	fields []spField // in Event Ruler's order
}

type spField struct {
	path int32
	f    *field
}

// Build makes the Machine. The Builder may be reused afterwards.
//
// Each sub-pattern is indexed under one field only, its anchor: the field
// with the rarest indexable values across all patterns. An event makes
// candidates of the sub-patterns whose anchor it satisfies, and the other
// fields of a candidate are then checked directly. A sub-pattern with no
// indexable field (only anything-but, exists, wildcard, cidr and the like)
// is checked on every event.
func (b *Builder) Build() *Machine {
	m := &Machine{root: &pnode{path: -1}}
	dense := map[int]int32{}
	for i, p := range b.patterns {
		id := b.ids[i]
		pat, ok := dense[id]
		if !ok {
			pat = int32(len(m.ids))
			dense[id] = pat
			m.ids = append(m.ids, id)
		}
		if p.matchAll {
			m.matchAll = append(m.matchAll, pat)
			continue
		}
		for _, br := range p.branches {
			sp := subpattern{pat: pat, anchor: -1}
			for _, f := range br.fields {
				sp.fields = append(sp.fields, spField{path: m.pathID(f.segs), f: f})
			}
			m.sps = append(m.sps, sp)
		}
	}
	freq := map[anchorKey]int{}
	for _, sp := range m.sps {
		for _, sf := range sp.fields {
			if indexable(sf.f) {
				for k := range sf.f.matchers {
					freq[keyOf(sf.path, &sf.f.matchers[k])]++
				}
			}
		}
	}
	for id := range m.sps {
		sp := &m.sps[id]
		best := -1
		for j, sf := range sp.fields {
			if !indexable(sf.f) {
				continue
			}
			c := 0
			for k := range sf.f.matchers {
				c += freq[keyOf(sf.path, &sf.f.matchers[k])]
			}
			if best < 0 || c < best {
				best, sp.anchor = c, j
			}
		}
		if sp.anchor < 0 {
			m.always = append(m.always, int32(id))
			continue
		}
		sf := sp.fields[sp.anchor]
		px := m.paths[sf.path]
		for k := range sf.f.matchers {
			px.add(ref{sp: int32(id)}, &sf.f.matchers[k])
		}
	}
	for _, px := range m.paths {
		px.finish()
	}
	m.stats = MachineStats{Patterns: len(b.patterns), IDs: len(m.ids), SubPatterns: len(m.sps),
		Paths: len(m.paths), Unindexed: len(m.always)}
	m.pool.New = func() any { return m.newScratch() }
	return m
}

// indexable reports whether a field can anchor a sub-pattern: it needs a
// value, and every one of its matchers can be looked up rather than tested.
func indexable(f *field) bool {
	if f.absent {
		return false
	}
	for i := range f.matchers {
		switch f.matchers[i].op {
		case opString, opNumber, opBool, opNull, opPrefix, opSuffix, opEqualsFold, opRange:
		default:
			return false
		}
	}
	return true
}

// anchorKey identifies an indexed condition, to count how many sub-patterns
// share it.
type anchorKey struct {
	path int32
	op   opKind
	s    string
	n    float64
}

func keyOf(path int32, m *matcher) anchorKey {
	k := anchorKey{path: path, op: m.op}
	switch m.op {
	case opString, opPrefix, opSuffix, opEqualsFold:
		k.s = m.s
	case opNumber:
		k.n = m.n
	case opBool:
		if m.b {
			k.n = 1
		}
	case opRange:
		// Ranges overlap in unknown ways: count them all as one condition,
		// so a path with many ranges is a poor anchor.
	}
	return k
}

// pathID returns the id of the path with these segments, adding it.
func (m *Machine) pathID(segs []string) int32 {
	n := m.root
	for _, s := range segs {
		c := n.seg(s)
		if c == nil {
			c = n.add(s)
		}
		n = c
	}
	if n.path < 0 {
		n.path = int32(len(m.paths))
		m.paths = append(m.paths, newPathIndex())
	}
	return n.path
}
