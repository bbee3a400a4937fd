package pattern

import "strconv"

// anythingBut compiles the anything-but operand.
func (c *compiler) anythingBut(v *node, ep string) (matcher, bool) {
	switch v.kind {
	case nString:
		return matcher{op: opButStrings, strs: []string{v.str}}, true
	case nNumber:
		f, reason := butNumber(v)
		if reason != "" {
			c.fail(ep, reason)
			return matcher{}, false
		}
		return matcher{op: opButNumbers, nums: []float64{f}}, true
	case nArray:
		return c.anythingButList(v, ep)
	case nObject:
		return c.anythingButObject(v, ep)
	}
	c.fail(ep, "value of anything-but must be a string, a number, an array or an object, not "+v.kind.String())
	return matcher{}, false
}

func butNumber(v *node) (float64, string) {
	if _, reason := decimalMicro([]byte(v.str)); reason != "" {
		return 0, reason
	}
	f, _ := strconv.ParseFloat(v.str, 64)
	return f, ""
}

func (c *compiler) anythingButList(v *node, ep string) (matcher, bool) {
	if len(v.elems) == 0 {
		c.fail(ep, "empty arrays are not allowed")
		return matcher{}, false
	}
	m := matcher{op: opButStrings}
	ok := true
	strs, nums := 0, 0
	for i, e := range v.elems {
		switch e.kind {
		case nString:
			strs++
			m.strs = append(m.strs, e.str)
		case nNumber:
			nums++
			f, reason := butNumber(e)
			if reason != "" {
				c.fail(ep+"["+strconv.Itoa(i)+"]", reason)
				ok = false
			}
			m.nums = append(m.nums, f)
		default:
			c.fail(ep+"["+strconv.Itoa(i)+"]", "an anything-but list may hold only strings or numbers, not "+e.kind.String())
			ok = false
		}
	}
	if strs > 0 && nums > 0 {
		c.fail(ep, "an anything-but list must be all strings or all numbers")
		ok = false
	}
	if nums > 0 {
		m.op = opButNumbers
	}
	return m, ok
}

func (c *compiler) anythingButObject(v *node, ep string) (matcher, bool) {
	if len(v.members) == 0 {
		c.fail(ep, "empty anything-but expression")
		return matcher{}, false
	}
	ok := true
	for _, extra := range v.members[1:] {
		c.fail(joinPath(ep, extra.key), "only one key is allowed in an anything-but expression")
		ok = false
	}
	name, val := v.members[0].key, v.members[0].val
	opPath := joinPath(ep, name)
	var m matcher
	switch name {
	case "prefix":
		m.op = opButPrefix
	case "suffix":
		m.op = opButSuffix
	case "equals-ignore-case":
		m.op = opButFold
	case "wildcard":
		m.op = opButWildcard
	default:
		c.fail(opPath, "unsupported anything-but pattern "+strconv.Quote(name)+
			": use prefix, suffix, equals-ignore-case or wildcard")
		return matcher{}, false
	}
	var items []*node
	var itemPaths []string
	switch val.kind {
	case nString:
		items, itemPaths = []*node{val}, []string{opPath}
	case nArray:
		if len(val.elems) == 0 {
			c.fail(opPath, "empty arrays are not allowed")
			return matcher{}, false
		}
		items = val.elems
		for i := range items {
			itemPaths = append(itemPaths, opPath+"["+strconv.Itoa(i)+"]")
		}
	default:
		c.fail(opPath, "anything-but "+name+" takes a string or an array of strings, not "+val.kind.String())
		return matcher{}, false
	}
	for i, it := range items {
		if it.kind != nString {
			c.fail(itemPaths[i], "anything-but "+name+" takes only strings, not "+it.kind.String())
			ok = false
			continue
		}
		switch name {
		case "prefix", "suffix":
			if it.str == "" {
				c.fail(itemPaths[i], "an empty "+name+" is not allowed in anything-but")
				ok = false
			}
		case "wildcard":
			w, reason := parseWildcard(it.str)
			if reason != "" {
				c.fail(itemPaths[i], reason)
				ok = false
			}
			m.wcs = append(m.wcs, w)
		}
		m.strs = append(m.strs, it.str)
	}
	return m, ok
}
