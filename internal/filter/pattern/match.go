package pattern

// This file is the reference evaluator: a direct reading of the semantics,
// kept simple so that the Machine can be checked against it.

// refLeaf is one leaf of an event with its array positions.
type refLeaf struct {
	v   value
	pos []arrayPos
}

// Match reports whether the event matches the pattern. It is safe for
// concurrent use and does not modify the event.
func (p *Pattern) Match(event map[string]any) bool {
	if p.matchAll {
		return true
	}
	leaves := map[string][]refLeaf{}
	n := int32(0)
	refFlatten(event, "", true, nil, &n, leaves)
	for _, b := range p.branches {
		if refSearch(b.fields, leaves, nil) {
			return true
		}
	}
	return false
}

// refFlatten lists every leaf of the event under its dotted path. Array
// positions are recorded for elements that are objects or arrays, as Event
// Ruler does; a scalar element carries only its enclosing positions.
func refFlatten(x any, path string, root bool, pos []arrayPos, next *int32, out map[string][]refLeaf) {
	switch t := x.(type) {
	case map[string]any:
		for k, v := range t {
			p := k
			if !root {
				p = path + "." + k
			}
			refFlatten(v, p, false, pos, next, out)
		}
	case []any:
		id := *next
		*next++
		for i, e := range t {
			switch e.(type) {
			case map[string]any, []any:
				inner := append(pos[:len(pos):len(pos)], arrayPos{id: id, index: int32(i)})
				refFlatten(e, path, false, inner, next, out)
			default:
				refFlatten(e, path, false, pos, next, out)
			}
		}
	default:
		if root {
			return
		}
		if v, ok := leafValue(t); ok {
			out[path] = append(out[path], refLeaf{v: v, pos: pos})
		}
	}
}

// refSearch tries to satisfy fields in order. A value matcher must match a
// leaf consistent with the leaves chosen so far, which then constrains the
// later fields; exists:false holds when no leaf of the path is consistent
// with the leaves chosen so far (so, as in Event Ruler, it only sees the
// fields that sort before it).
func refSearch(fields []*field, leaves map[string][]refLeaf, chosen []arrayPos) bool {
	if len(fields) == 0 {
		return true
	}
	f, rest := fields[0], fields[1:]
	if f.absent {
		present := false
		for _, l := range leaves[f.path] {
			if consistent(chosen, l.pos) {
				present = true
				break
			}
		}
		if !present && refSearch(rest, leaves, chosen) {
			return true
		}
	}
	if !f.values {
		return false
	}
	for _, l := range leaves[f.path] {
		if !consistent(chosen, l.pos) {
			continue
		}
		for i := range f.matchers {
			if f.matchers[i].op != opAbsent && f.matchers[i].match(&l.v) {
				if refSearch(rest, leaves, append(chosen[:len(chosen):len(chosen)], l.pos...)) {
					return true
				}
				break
			}
		}
	}
	return false
}
