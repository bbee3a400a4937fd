package pattern

import "strconv"

// numberMatcher is the matcher of a bare number in a leaf array.
func numberMatcher(lit string) matcher {
	f, err := strconv.ParseFloat(lit, 64)
	if err != nil && f == 0 {
		// Not representable at all (cannot happen for valid JSON): never matches.
		return matcher{op: opNumber, n: f, repr: true}
	}
	_, reason := decimalMicro([]byte(lit))
	return matcher{op: opNumber, n: f, repr: reason == ""}
}

// operator compiles an operator object such as {"prefix": "a"}.
func (c *compiler) operator(obj *node, ep string) (matcher, bool) {
	if len(obj.members) == 0 {
		c.fail(ep, "empty match expression: an operator is required")
		return matcher{}, false
	}
	ok := true
	for _, extra := range obj.members[1:] {
		c.fail(joinPath(ep, extra.key), "only one key is allowed in a match expression")
		ok = false
	}
	name, v := obj.members[0].key, obj.members[0].val
	opPath := joinPath(ep, name)
	var m matcher
	var reason string
	switch name {
	case "prefix", "suffix":
		m, reason = affix(name, v)
	case "equals-ignore-case":
		if v.kind != nString {
			reason = "equals-ignore-case match pattern must be a string"
		}
		m = matcher{op: opEqualsFold, s: v.str}
	case "wildcard":
		if v.kind != nString {
			reason = "wildcard match pattern must be a string"
			break
		}
		var w *wildcard
		w, reason = parseWildcard(v.str)
		m = matcher{op: opWildcard, wc: w}
	case "numeric":
		m, reason = numeric(v)
	case "exists":
		if v.kind != nBool {
			reason = "exists match pattern must be either true or false"
		} else if v.b {
			m = matcher{op: opExists}
		} else {
			m = matcher{op: opAbsent}
		}
	case "cidr":
		if v.kind != nString {
			reason = "cidr match pattern must be a string"
			break
		}
		var r ipRange
		r, reason = parseCIDR(v.str)
		m = matcher{op: opCIDR, cidr: r}
	case "anything-but":
		var good bool
		m, good = c.anythingBut(v, opPath)
		if !good {
			return matcher{}, false
		}
	default:
		c.fail(opPath, "unrecognized match type "+strconv.Quote(name))
		return matcher{}, false
	}
	if reason != "" {
		c.fail(opPath, reason)
		return matcher{}, false
	}
	return m, ok
}

// affix compiles prefix or suffix: a string, or {"equals-ignore-case": s}.
func affix(name string, v *node) (matcher, string) {
	plain, fold := opPrefix, opPrefixFold
	if name == "suffix" {
		plain, fold = opSuffix, opSuffixFold
	}
	switch v.kind {
	case nString:
		return matcher{op: plain, s: v.str}, ""
	case nObject:
		if len(v.members) != 1 || v.members[0].key != "equals-ignore-case" {
			return matcher{}, name + " takes a string or an object with the single key \"equals-ignore-case\""
		}
		if v.members[0].val.kind != nString {
			return matcher{}, "equals-ignore-case match pattern must be a string"
		}
		return matcher{op: fold, s: v.members[0].val.str}, ""
	}
	return matcher{}, name + " match pattern must be a string"
}

// numeric compiles ["op", n] or [">"|">=", n, "<"|"<=", n].
func numeric(v *node) (matcher, string) {
	if v.kind != nArray {
		return matcher{}, "value of numeric must be an array"
	}
	e := v.elems
	if len(e) == 0 || e[0].kind != nString {
		return matcher{}, "numeric must start with an operator: one of =, <, <=, >, >="
	}
	op := e[0].str
	switch op {
	case "=", "<", "<=", ">", ">=":
	default:
		return matcher{}, "unrecognized numeric operator " + strconv.Quote(op)
	}
	if len(e) < 2 || e[1].kind != nNumber {
		return matcher{}, "value of " + op + " must be a number"
	}
	n1, reason := decimalMicro([]byte(e[1].str))
	if reason != "" {
		return matcher{}, reason
	}
	m := matcher{op: opRange, lo: microMin, hi: microMax}
	switch op {
	case "=":
		m.lo, m.hi = n1, n1
	case "<":
		m.hi = n1 - 1
	case "<=":
		m.hi = n1
	case ">":
		m.lo = n1 + 1
	case ">=":
		m.lo = n1
	}
	if len(e) == 2 {
		return m, ""
	}
	if op != ">" && op != ">=" {
		return matcher{}, "too many elements in numeric expression"
	}
	if e[2].kind != nString {
		return matcher{}, "a numeric range needs \"<\" or \"<=\" after its lower bound"
	}
	op2 := e[2].str
	if op2 != "<" && op2 != "<=" {
		return matcher{}, "bad numeric range operator " + strconv.Quote(op2) + ": the upper bound takes < or <="
	}
	if len(e) < 4 || e[3].kind != nNumber {
		return matcher{}, "value of " + op2 + " must be a number"
	}
	if len(e) > 4 {
		return matcher{}, "too many elements in numeric expression"
	}
	n2, reason := decimalMicro([]byte(e[3].str))
	if reason != "" {
		return matcher{}, reason
	}
	if n1 >= n2 {
		return matcher{}, "bottom of a numeric range must be less than its top"
	}
	m.hi = n2
	if op2 == "<" {
		m.hi = n2 - 1
	}
	return m, ""
}
