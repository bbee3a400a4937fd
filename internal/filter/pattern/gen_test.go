package pattern

import (
	"encoding/json"
	"strconv"
	"strings"
)

// gen turns bytes into random patterns and events over a small vocabulary,
// so that fuzzing and property tests hit the same paths and values often.
type gen struct {
	data []byte
	i    int
}

func (g *gen) n(k int) int {
	if k <= 1 {
		return 0
	}
	if g.i >= len(g.data) {
		g.i++
		return g.i % k
	}
	b := int(g.data[g.i])
	g.i++
	return b % k
}

func (g *gen) pick(xs []string) string { return xs[g.n(len(xs))] }

var (
	genKeys    = []string{"a", "b", "c", "x", "a.b", "items"}
	genStrings = []string{`""`, `"x"`, `"X"`, `"xy"`, `"abc"`, `"aBc"`, `"10.0.0.1"`, `"10.1.2.3"`,
		`"2001:db8::1"`, `"300"`, `"é"`, `"x*y"`, `"a.b"`}
	genNumbers = []string{"0", "1", "-1", "1.5", "300", "3.0e2", "5e9", "1e10", "0.0000001", "123456789012"}
	genOthers  = []string{"true", "false", "null"}
	genWild    = []string{`"x*"`, `"*y"`, `"a*c"`, `"*"`, `"*b*"`, `"x\\*y"`}
	genRanges  = []string{`["=", 1]`, `[">", 0]`, `["<", 1.5]`, `[">=", -1, "<=", 300]`, `[">", 1, "<", 5e9]`, `["<=", 0]`}
	genCIDRs   = []string{`"10.0.0.0/8"`, `"10.0.0.0/24"`, `"2001:db8::/32"`, `"0.0.0.0/0"`}
)

func (g *gen) scalar() string {
	switch g.n(4) {
	case 0, 1:
		return g.pick(genStrings)
	case 2:
		return g.pick(genNumbers)
	}
	return g.pick(genOthers)
}

// leafElement is one member of a pattern's leaf array.
func (g *gen) leafElement() string {
	switch g.n(16) {
	case 0:
		return `{"prefix": ` + g.pick(genStrings) + `}`
	case 1:
		return `{"suffix": ` + g.pick(genStrings) + `}`
	case 2:
		return `{"prefix": {"equals-ignore-case": ` + g.pick(genStrings) + `}}`
	case 3:
		return `{"suffix": {"equals-ignore-case": ` + g.pick(genStrings) + `}}`
	case 4:
		return `{"equals-ignore-case": ` + g.pick(genStrings) + `}`
	case 5:
		return `{"wildcard": ` + g.pick(genWild) + `}`
	case 6:
		switch g.n(6) {
		case 0:
			return `{"anything-but": ` + g.pick(genStrings) + `}`
		case 1:
			return `{"anything-but": [` + g.pick(genStrings) + `, ` + g.pick(genStrings) + `]}`
		case 2:
			return `{"anything-but": [` + g.pick(genNumbers[:6]) + `, ` + g.pick(genNumbers[:6]) + `]}`
		case 3:
			return `{"anything-but": {"prefix": "x"}}`
		case 4:
			return `{"anything-but": {"equals-ignore-case": ` + g.pick(genStrings) + `}}`
		}
		return `{"anything-but": {"wildcard": ` + g.pick(genWild) + `}}`
	case 7:
		return `{"numeric": ` + g.pick(genRanges) + `}`
	case 8:
		return `{"exists": true}`
	case 9:
		return `{"exists": false}`
	case 10:
		return `{"cidr": ` + g.pick(genCIDRs) + `}`
	}
	return g.scalar()
}

func (g *gen) patternObject(depth int, sb *strings.Builder) {
	sb.WriteByte('{')
	n := 1 + g.n(3)
	for i := 0; i < n; i++ {
		if i > 0 {
			sb.WriteString(", ")
		}
		if depth < 2 && g.n(6) == 0 {
			sb.WriteString(`"$or": [`)
			k := 2 + g.n(2)
			for j := 0; j < k; j++ {
				if j > 0 {
					sb.WriteString(", ")
				}
				g.patternObject(depth+1, sb)
			}
			sb.WriteByte(']')
			continue
		}
		sb.WriteString(strconv.Quote(g.pick(genKeys)) + ": ")
		if depth < 2 && g.n(3) == 0 {
			g.patternObject(depth+1, sb)
			continue
		}
		sb.WriteByte('[')
		k := 1 + g.n(3)
		for j := 0; j < k; j++ {
			if j > 0 {
				sb.WriteString(", ")
			}
			sb.WriteString(g.leafElement())
		}
		sb.WriteByte(']')
	}
	sb.WriteByte('}')
}

func (g *gen) pattern() string {
	var sb strings.Builder
	g.patternObject(0, &sb)
	return sb.String()
}

func (g *gen) eventValue(depth int, sb *strings.Builder) {
	switch k := g.n(8); {
	case k == 0 && depth < 3:
		g.eventObject(depth+1, sb)
	case k == 1 && depth < 3:
		sb.WriteByte('[')
		n := g.n(4)
		for i := 0; i < n; i++ {
			if i > 0 {
				sb.WriteString(", ")
			}
			if g.n(2) == 0 {
				g.eventObject(depth+1, sb)
			} else {
				g.eventValue(depth+1, sb)
			}
		}
		sb.WriteByte(']')
	default:
		sb.WriteString(g.scalar())
	}
}

func (g *gen) eventObject(depth int, sb *strings.Builder) {
	sb.WriteByte('{')
	n := g.n(4)
	for i := 0; i < n; i++ {
		if i > 0 {
			sb.WriteString(", ")
		}
		sb.WriteString(strconv.Quote(g.pick(genKeys)) + ": ")
		g.eventValue(depth, sb)
	}
	sb.WriteByte('}')
}

func (g *gen) event() map[string]any {
	var sb strings.Builder
	g.eventObject(0, &sb)
	var ev map[string]any
	if err := json.Unmarshal([]byte(sb.String()), &ev); err != nil {
		panic("generated a bad event " + sb.String() + ": " + err.Error())
	}
	return ev
}
