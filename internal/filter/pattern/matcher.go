package pattern

import (
	"net/netip"
	"strings"
)

// valKind is the JSON type of an event leaf value.
type valKind uint8

const (
	vString valKind = iota
	vNumber
	vBool
	vNull
)

// value is one leaf value of an event.
type value struct {
	kind valKind
	b    bool
	n    float64
	s    string
}

// opKind says what a matcher tests.
type opKind uint8

const (
	opString      opKind = iota // equal string; an IP literal matches the same address
	opNumber                    // equal number
	opBool                      // true or false
	opNull                      // null
	opPrefix                    // string prefix
	opPrefixFold                // string prefix, ignoring case
	opSuffix                    // string suffix
	opSuffixFold                // string suffix, ignoring case
	opEqualsFold                // string, ignoring case
	opWildcard                  // string against a wildcard
	opRange                     // number in [lo, hi] (micros)
	opCIDR                      // string IP address in a range
	opExists                    // any value ("exists": true)
	opAbsent                    // no value ("exists": false); never tested against a value
	opButStrings                // anything-but a set of strings
	opButNumbers                // anything-but a set of numbers
	opButPrefix                 // anything-but strings with one of these prefixes
	opButSuffix                 // anything-but strings with one of these suffixes
	opButFold                   // anything-but strings equal to one of these, ignoring case
	opButWildcard               // anything-but strings matching one of these wildcards
)

// matcher is one element of a pattern's leaf array.
type matcher struct {
	op     opKind
	b      bool       // opBool
	isIP   bool       // opString: s is an IP address literal
	repr   bool       // opNumber: the literal is exact in micros
	s      string     // opString, prefix/suffix/fold operand
	ip     netip.Addr // opString with isIP
	n      float64    // opNumber
	lo, hi int64      // opRange, closed bounds in micros
	cidr   ipRange    // opCIDR
	wc     *wildcard  // opWildcard
	strs   []string   // anything-but string operands
	nums   []float64  // opButNumbers
	wcs    []*wildcard
}

// match reports whether v satisfies m. The anything-but family matches any
// value, of any type, that the operand does not exclude; the string
// operators match only strings and the numeric ones only numbers.
func (m *matcher) match(v *value) bool {
	switch m.op {
	case opString:
		if v.kind != vString {
			return false
		}
		if m.isIP {
			a, ok := parseIP(v.s)
			return ok && a == m.ip
		}
		return v.s == m.s
	case opNumber:
		return v.kind == vNumber && v.n == m.n && numberRepr(v.n) == m.repr
	case opBool:
		return v.kind == vBool && v.b == m.b
	case opNull:
		return v.kind == vNull
	case opPrefix:
		return v.kind == vString && strings.HasPrefix(v.s, m.s)
	case opPrefixFold:
		return v.kind == vString && hasPrefixFold(v.s, m.s)
	case opSuffix:
		return v.kind == vString && strings.HasSuffix(v.s, m.s)
	case opSuffixFold:
		return v.kind == vString && hasSuffixFold(v.s, m.s)
	case opEqualsFold:
		return v.kind == vString && equalsFold(m.s, v.s)
	case opWildcard:
		return v.kind == vString && m.wc.match(v.s)
	case opRange:
		if v.kind != vNumber {
			return false
		}
		x, ok := floatMicro(v.n)
		return ok && m.lo <= x && x <= m.hi
	case opCIDR:
		if v.kind != vString {
			return false
		}
		a, ok := parseIP(v.s)
		return ok && m.cidr.contains(a)
	case opExists:
		return true
	case opAbsent:
		return false
	}
	return !m.excludes(v)
}

// excludes reports whether an anything-but matcher rules v out.
func (m *matcher) excludes(v *value) bool {
	switch m.op {
	case opButNumbers:
		if v.kind == vNumber {
			for _, n := range m.nums {
				if v.n == n {
					return true
				}
			}
		}
		return false
	}
	if v.kind != vString {
		return false
	}
	switch m.op {
	case opButStrings:
		for _, s := range m.strs {
			if v.s == s {
				return true
			}
		}
	case opButPrefix:
		for _, s := range m.strs {
			if strings.HasPrefix(v.s, s) {
				return true
			}
		}
	case opButSuffix:
		for _, s := range m.strs {
			if strings.HasSuffix(v.s, s) {
				return true
			}
		}
	case opButFold:
		for _, s := range m.strs {
			if equalsFold(s, v.s) {
				return true
			}
		}
	case opButWildcard:
		for _, w := range m.wcs {
			if w.match(v.s) {
				return true
			}
		}
	}
	return false
}

// numberRepr reports whether an event number is exact in micros. A pattern
// number equals an event number when both are the same float and both are,
// or both are not, exact in micros: Event Ruler compares exact numbers by
// value and the others by their text.
func numberRepr(f float64) bool {
	_, ok := floatMicro(f)
	return ok
}
