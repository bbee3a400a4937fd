// Package attrtemplate fills names (topics, stream keys, record keys) from
// an event's attributes: "orders.{type}" with type "created" gives
// "orders.created". A placeholder {name} is the canonical string of the
// context attribute or extension name; "{{" and "}}" stand for literal
// braces.
package attrtemplate

import (
	"fmt"
	"strings"

	ce "github.com/cloudevents/sdk-go/v2/event"

	ebevent "github.com/eventbridge-dev/eventbridge/internal/event"
)

// Template is a parsed template. The zero value is the empty template.
type Template struct {
	parts []part
}

type part struct {
	lit  string
	attr string // set for a placeholder
}

// Parse parses s.
func Parse(s string) (Template, error) {
	var t Template
	var lit strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '{' && i+1 < len(s) && s[i+1] == '{':
			lit.WriteByte('{')
			i++
		case c == '}' && i+1 < len(s) && s[i+1] == '}':
			lit.WriteByte('}')
			i++
		case c == '{':
			end := strings.IndexByte(s[i:], '}')
			if end < 0 {
				return Template{}, fmt.Errorf("unclosed { at byte %d", i)
			}
			name := s[i+1 : i+end]
			if !ebevent.ValidAttributeName(name) {
				return Template{}, fmt.Errorf("{%s}: not an attribute name (lower-case letters and digits)", name)
			}
			if lit.Len() > 0 {
				t.parts = append(t.parts, part{lit: lit.String()})
				lit.Reset()
			}
			t.parts = append(t.parts, part{attr: name})
			i += end
		case c == '}':
			return Template{}, fmt.Errorf("unopened } at byte %d (write }} for a literal brace)", i)
		default:
			lit.WriteByte(c)
		}
	}
	if lit.Len() > 0 {
		t.parts = append(t.parts, part{lit: lit.String()})
	}
	return t, nil
}

// MustParse is Parse for templates known to be valid.
func MustParse(s string) Template {
	t, err := Parse(s)
	if err != nil {
		panic(err)
	}
	return t
}

// IsZero reports whether t is empty.
func (t Template) IsZero() bool { return len(t.parts) == 0 }

// Static returns the text of a template without placeholders.
func (t Template) Static() (string, bool) {
	var b strings.Builder
	for _, p := range t.parts {
		if p.attr != "" {
			return "", false
		}
		b.WriteString(p.lit)
	}
	return b.String(), true
}

// Execute fills t from e. It returns the name of the first attribute that
// e lacks (and ok false) when one is missing.
func (t Template) Execute(e *ce.Event) (s string, missing string, ok bool) {
	if len(t.parts) == 1 && t.parts[0].attr == "" {
		return t.parts[0].lit, "", true
	}
	var b strings.Builder
	for _, p := range t.parts {
		if p.attr == "" {
			b.WriteString(p.lit)
			continue
		}
		v, found := attr(e, p.attr)
		if !found {
			return "", p.attr, false
		}
		b.WriteString(v)
	}
	return b.String(), "", true
}

func attr(e *ce.Event, name string) (string, bool) {
	v, ok := ebevent.Attr(e, name)
	return v, ok && v != ""
}
