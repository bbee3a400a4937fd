package pattern

import (
	"sort"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// MaxPatternLength is the longest pattern Compile accepts, in characters.
// It is EventBridge's hard limit; EventBridge's default quota is 2,048,
// which an account can raise to this.
const MaxPatternLength = 4096

// MaxBranches is the most alternatives a pattern may expand to once every
// "$or" is multiplied out. It bounds the work and memory of one pattern.
const MaxBranches = 1024

// Pattern is a compiled event pattern. It is immutable and safe for
// concurrent use.
type Pattern struct {
	src      string
	matchAll bool      // the empty pattern {}
	branches []*branch // one per "$or" alternative, each an AND of fields
}

// branch is one alternative of a pattern: every field must match.
type branch struct {
	fields []*field // sorted by path, as Event Ruler orders them
}

// field is the leaf array of one path: any matcher may match.
type field struct {
	path     string
	segs     []string // path split on "."
	matchers []matcher
	absent   bool // has {"exists": false}
	values   bool // has a matcher other than {"exists": false}
}

// String returns the pattern's JSON source.
func (p *Pattern) String() string { return p.src }

// Compile parses and validates an EventBridge event pattern given as JSON.
// On failure it returns Errors listing every problem found.
func Compile(raw []byte) (*Pattern, error) {
	if n := utf8.RuneCount(raw); n > MaxPatternLength {
		return nil, Errors{{Reason: "pattern is " + strconv.Itoa(n) + " characters long; the maximum is " +
			strconv.Itoa(MaxPatternLength), kind: ErrTooLarge}}
	}
	root, err := parseJSON(raw)
	if err != nil {
		return nil, Errors{{Reason: err.Error()}}
	}
	if root.kind != nObject {
		return nil, Errors{{Reason: "pattern must be a JSON object, not " + root.kind.String()}}
	}
	p := &Pattern{src: string(raw)}
	if len(root.members) == 0 {
		p.matchAll = true
		return p, nil
	}
	c := &compiler{}
	c.object(root, nil, "", false)
	if c.tooComplex {
		c.errs = append(c.errs, &Error{Reason: "pattern expands to more than " + strconv.Itoa(MaxBranches) +
			" alternatives through $or", kind: ErrTooComplex})
	}
	if len(c.errs) > 0 {
		return nil, c.errs
	}
	for _, r := range c.rules {
		b := &branch{}
		for _, f := range r {
			b.fields = append(b.fields, f)
		}
		sort.Slice(b.fields, func(i, j int) bool { return lessUTF16(b.fields[i].path, b.fields[j].path) })
		p.branches = append(p.branches, b)
	}
	return p, nil
}

// MustCompile is like Compile but panics on error. It is for tests and
// patterns fixed in code.
func MustCompile(src string) *Pattern {
	p, err := Compile([]byte(src))
	if err != nil {
		panic("pattern: MustCompile(" + strconv.Quote(src) + "): " + err.Error())
	}
	return p
}

// compiler walks the pattern tree the way Event Ruler's compiler reads its
// token stream: members in order, each leaf array written into every current
// alternative (replacing an earlier leaf of the same path), each "$or"
// forking the alternatives.
type compiler struct {
	rules      []map[string]*field
	errs       Errors
	tooComplex bool
}

func (c *compiler) fail(path, reason string) {
	c.errs = append(c.errs, &Error{Path: path, Reason: reason})
}

// orReserved are the names Event Ruler refuses as field names inside "$or".
var orReserved = map[string]bool{
	"exactly": true, "equals-ignore-case": true, "prefix": true, "suffix": true, "anything-but": true,
	"exists": true, "wildcard": true, "numeric": true, "cidr": true,
	"=": true, "<": true, "<=": true, ">": true, ">=": true,
	"regex": true, "not-wildcard": true, "not-equals-ignore-case": true,
	"date-after": true, "date-on-or-after": true, "date-before": true, "date-on-or-before": true,
	"in-date-range": true, "ip-address-in-range": true, "ip-address-not-in-range": true,
}

func (c *compiler) object(n *node, segs []string, epath string, inOr bool) {
	if len(n.members) == 0 {
		c.fail(epath, "empty objects are not allowed")
		return
	}
	for _, m := range n.members {
		ep := joinPath(epath, m.key)
		if m.key == "$or" {
			c.or(m.val, segs, ep)
			continue
		}
		if inOr && orReserved[m.key] {
			c.fail(ep, strconv.Quote(m.key)+" is a reserved word and cannot be a field name inside $or")
			continue
		}
		sub := append(segs[:len(segs):len(segs)], m.key)
		switch m.val.kind {
		case nObject:
			c.object(m.val, sub, ep, inOr)
		case nArray:
			c.leaf(m.val, sub, ep)
		default:
			c.fail(ep, "must be an object or an array, not "+m.val.kind.String())
		}
	}
}

func (c *compiler) or(n *node, segs []string, ep string) {
	if n.kind != nArray {
		c.fail(ep, "$or must be an array of objects")
		return
	}
	ok := true
	for i, e := range n.elems {
		if e.kind != nObject {
			c.fail(ep+"["+strconv.Itoa(i)+"]", "$or may hold only objects, not "+e.kind.String())
			ok = false
		}
	}
	if len(n.elems) < 2 {
		c.fail(ep, "$or needs at least 2 objects")
		ok = false
	}
	current := c.rules
	var out []map[string]*field
	for i, e := range n.elems {
		if e.kind != nObject {
			continue
		}
		c.rules = copyRules(current)
		c.object(e, segs, ep+"["+strconv.Itoa(i)+"]", true)
		out = append(out, c.rules...)
		if len(out) > MaxBranches {
			c.tooComplex = true
			out = out[:1]
		}
	}
	if !ok {
		out = current
	}
	c.rules = out
}

func copyRules(rules []map[string]*field) []map[string]*field {
	if len(rules) == 0 {
		return []map[string]*field{{}}
	}
	out := make([]map[string]*field, len(rules))
	for i, r := range rules {
		cp := make(map[string]*field, len(r)+1)
		for k, v := range r {
			cp[k] = v
		}
		out[i] = cp
	}
	return out
}

func (c *compiler) leaf(n *node, segs []string, ep string) {
	if len(n.elems) == 0 {
		c.fail(ep, "empty arrays are not allowed")
		return
	}
	path := strings.Join(segs, ".")
	f := &field{path: path, segs: strings.Split(path, ".")}
	ok := true
	for i, e := range n.elems {
		m, good := c.element(e, ep+"["+strconv.Itoa(i)+"]")
		if !good {
			ok = false
			continue
		}
		if m.op == opAbsent {
			f.absent = true
		} else {
			f.values = true
		}
		f.matchers = append(f.matchers, m)
	}
	if !ok {
		return
	}
	if len(c.rules) == 0 {
		c.rules = []map[string]*field{{}}
	}
	for _, r := range c.rules {
		r[path] = f
	}
}

// element compiles one member of a leaf array.
func (c *compiler) element(e *node, ep string) (matcher, bool) {
	switch e.kind {
	case nString:
		if a, ok := parseIP(e.str); ok {
			return matcher{op: opString, s: e.str, isIP: true, ip: a}, true
		}
		return matcher{op: opString, s: e.str}, true
	case nNumber:
		return numberMatcher(e.str), true
	case nBool:
		return matcher{op: opBool, b: e.b}, true
	case nNull:
		return matcher{op: opNull}, true
	case nObject:
		return c.operator(e, ep)
	}
	c.fail(ep, "a match value must be a string, number, true, false, null or an operator object, not "+e.kind.String())
	return matcher{}, false
}

func joinPath(base, key string) string {
	if base == "" {
		return key
	}
	return base + "." + key
}

// lessUTF16 orders strings as Java's String.compareTo does.
func lessUTF16(a, b string) bool {
	ua, ub := utf16.Encode([]rune(a)), utf16.Encode([]rune(b))
	for i := 0; i < len(ua) && i < len(ub); i++ {
		if ua[i] != ub[i] {
			return ua[i] < ub[i]
		}
	}
	return len(ua) < len(ub)
}

// TopLevelKeys returns the distinct first segments of the paths the
// pattern looks at ("data" for "data.total"), so that a caller can skip
// building parts of the event no pattern reads.
func (p *Pattern) TopLevelKeys() []string {
	seen := map[string]bool{}
	var out []string
	for _, b := range p.branches {
		for _, f := range b.fields {
			if len(f.segs) > 0 && !seen[f.segs[0]] {
				seen[f.segs[0]] = true
				out = append(out, f.segs[0])
			}
		}
	}
	return out
}
