// Package attrtemplate is the one {attribute} template engine of the
// connectors: it fills names (topics, subjects, routing keys, stream keys,
// record keys, state keys) from an event's attributes. "orders.{type}"
// with type "created" gives "orders.created".
//
// Syntax: a placeholder {name} is the canonical string of the context
// attribute or extension name (lower-case letters and digits); "{{" and
// "}}" stand for literal braces.
//
// The one rule for missing attributes: an attribute the event does not
// have, or has with an empty value, is missing. Render fails with an error
// that wraps ErrMissingAttribute and names the attribute, so a destination
// is never built from half a template. A template made with OrEmpty
// renders a missing attribute as "" instead; connectors use it only where
// an empty value is a valid choice (an AMQP routing key, a Kafka record
// key). docs/configuration.md (Attribute templates) lists which fields
// use which.
package attrtemplate

import (
	"errors"
	"fmt"
	"strings"

	ce "github.com/cloudevents/sdk-go/v2/event"

	ebevent "github.com/eventbridge-dev/eventbridge/internal/event"
)

// Template is a parsed template. The zero value is the empty template,
// which renders "".
type Template struct {
	raw   string
	parts []part
	empty bool // a missing attribute renders "" (OrEmpty)
}

type part struct {
	lit  string
	attr string // set for a placeholder
}

// ErrMissingAttribute is wrapped by the error Render returns for an event
// that lacks an attribute the template names.
var ErrMissingAttribute = errors.New("the event lacks an attribute the template names")

// MissingError names the attribute an event lacks.
type MissingError struct{ Attr string }

func (e *MissingError) Error() string {
	return fmt.Sprintf("the event has no %s attribute (or it is empty)", e.Attr)
}

// Is makes errors.Is(err, ErrMissingAttribute) true.
func (e *MissingError) Is(target error) bool { return target == ErrMissingAttribute }

// Parse parses s.
func Parse(s string) (Template, error) {
	t := Template{raw: s}
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
				return Template{}, fmt.Errorf("{%s} at byte %d: not an attribute name (lower-case letters and digits)", name, i)
			}
			if lit.Len() > 0 {
				t.parts = append(t.parts, part{lit: lit.String()})
				lit.Reset()
			}
			t.parts = append(t.parts, part{attr: name})
			i += end
		case c == '}':
			return Template{}, fmt.Errorf("} without { at byte %d (write }} for a literal brace)", i)
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

// OrEmpty returns t with the other rule for missing attributes: they
// render as "" and Render does not fail.
func (t Template) OrEmpty() Template {
	t.empty = true
	return t
}

// IsZero reports whether t is empty.
func (t Template) IsZero() bool { return len(t.parts) == 0 }

// HasPlaceholders reports whether the result depends on the event.
func (t Template) HasPlaceholders() bool {
	for _, p := range t.parts {
		if p.attr != "" {
			return true
		}
	}
	return false
}

// Static returns the text of a template without placeholders.
func (t Template) Static() (string, bool) {
	if t.HasPlaceholders() {
		return "", false
	}
	if len(t.parts) == 0 {
		return "", true
	}
	return t.parts[0].lit, true
}

// String returns the template as written.
func (t Template) String() string { return t.raw }

// Render fills t from e. For a missing attribute it returns an error
// that wraps ErrMissingAttribute (a *MissingError), unless t was made
// with OrEmpty.
func (t Template) Render(e *ce.Event) (string, error) {
	if len(t.parts) == 1 && t.parts[0].attr == "" {
		return t.parts[0].lit, nil
	}
	var b strings.Builder
	for _, p := range t.parts {
		if p.attr == "" {
			b.WriteString(p.lit)
			continue
		}
		v, ok := ebevent.Attr(e, p.attr)
		if !ok || v == "" {
			if t.empty {
				continue
			}
			return "", &MissingError{Attr: p.attr}
		}
		b.WriteString(v)
	}
	return b.String(), nil
}
