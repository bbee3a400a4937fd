package pattern

import (
	"strconv"
	"strings"
)

// wildcard is a parsed wildcard operand: the literal pieces between the
// unescaped '*' characters (one more piece than there are stars).
type wildcard struct {
	pieces []string
}

// parseWildcard reads a wildcard operand. '*' matches any run of characters,
// "\*" is a literal star and "\\" a literal backslash; consecutive stars and
// any other escape are refused, as EventBridge does.
func parseWildcard(s string) (*wildcard, string) {
	var pieces []string
	var cur strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '*':
			if i+1 < len(s) && s[i+1] == '*' {
				return nil, "consecutive wildcard characters at position " + strconv.Itoa(i)
			}
			pieces = append(pieces, cur.String())
			cur.Reset()
		case '\\':
			if i+1 < len(s) && (s[i+1] == '*' || s[i+1] == '\\') {
				cur.WriteByte(s[i+1])
				i++
				continue
			}
			return nil, "invalid escape character at position " + strconv.Itoa(i)
		default:
			cur.WriteByte(c)
		}
	}
	pieces = append(pieces, cur.String())
	return &wildcard{pieces: pieces}, ""
}

func (w *wildcard) match(s string) bool {
	p := w.pieces
	if len(p) == 1 {
		return s == p[0]
	}
	first, last := p[0], p[len(p)-1]
	if len(s) < len(first)+len(last) || !strings.HasPrefix(s, first) || !strings.HasSuffix(s, last) {
		return false
	}
	// Leftmost placement of each middle piece is optimal for '*'-only globs.
	rest := s[len(first) : len(s)-len(last)]
	for _, piece := range p[1 : len(p)-1] {
		i := strings.Index(rest, piece)
		if i < 0 {
			return false
		}
		rest = rest[i+len(piece):]
	}
	return true
}
