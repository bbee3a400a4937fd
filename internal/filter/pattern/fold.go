package pattern

import (
	"unicode"
	"unicode/utf8"
)

// Case-insensitive matching follows Event Ruler: a pattern character matches
// its lower-case or its upper-case form (so a title-case letter matches
// neither itself nor anything else but those two).

func foldRuneMatch(p, e rune) bool {
	return e == unicode.ToLower(p) || e == unicode.ToUpper(p)
}

func equalsFold(pat, s string) bool {
	for pat != "" {
		if s == "" {
			return false
		}
		p, pn := utf8.DecodeRuneInString(pat)
		e, en := utf8.DecodeRuneInString(s)
		if !foldRuneMatch(p, e) {
			return false
		}
		pat, s = pat[pn:], s[en:]
	}
	return s == ""
}

func hasPrefixFold(s, pat string) bool {
	for pat != "" {
		if s == "" {
			return false
		}
		p, pn := utf8.DecodeRuneInString(pat)
		e, en := utf8.DecodeRuneInString(s)
		if !foldRuneMatch(p, e) {
			return false
		}
		pat, s = pat[pn:], s[en:]
	}
	return true
}

func hasSuffixFold(s, pat string) bool {
	for pat != "" {
		if s == "" {
			return false
		}
		p, pn := utf8.DecodeLastRuneInString(pat)
		e, en := utf8.DecodeLastRuneInString(s)
		if !foldRuneMatch(p, e) {
			return false
		}
		pat, s = pat[:len(pat)-pn], s[:len(s)-en]
	}
	return true
}

// foldKey is the same for a pattern character and every character it
// matches (TestFoldKeyCoversRelation checks this for all of Unicode), so it
// can key an index; candidates found by key are then checked exactly.
func foldKey(r rune) rune { return unicode.ToLower(unicode.ToUpper(r)) }

func appendFoldKey(dst []byte, s string) []byte {
	for _, r := range s {
		dst = utf8.AppendRune(dst, foldKey(r))
	}
	return dst
}
