package connector

import (
	"errors"
	"fmt"
	"strings"

	ce "github.com/cloudevents/sdk-go/v2/event"

	ebevent "github.com/eventbridge-dev/eventbridge/internal/event"
)

// Destination names a destination (an MQTT topic, a NATS subject) from an
// event's attributes: literal text with {attribute} placeholders, such as
// "events/{type}" or "orders.{source}.{subject}". A placeholder takes the
// attribute's canonical string (extensions too); "{{" and "}}" stand for
// literal braces. An event without an attribute the template names has no
// destination: Render fails.
type Destination struct {
	raw   string
	parts []destPart
}

type destPart struct {
	text string
	attr string // set for a placeholder
}

// ParseDestination parses s.
func ParseDestination(s string) (*Destination, error) {
	t := &Destination{raw: s}
	var lit strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '{' && i+1 < len(s) && s[i+1] == '{':
			lit.WriteByte('{')
			i++
		case c == '}' && i+1 < len(s) && s[i+1] == '}':
			lit.WriteByte('}')
			i++
		case c == '{':
			end := strings.IndexByte(s[i:], '}')
			if end < 0 {
				return nil, fmt.Errorf("unclosed { at byte %d", i)
			}
			name := s[i+1 : i+end]
			if !ebevent.ValidAttributeName(name) {
				return nil, fmt.Errorf("{%s} at byte %d: not an attribute name (lower-case letters and digits)", name, i)
			}
			if lit.Len() > 0 {
				t.parts = append(t.parts, destPart{text: lit.String()})
				lit.Reset()
			}
			t.parts = append(t.parts, destPart{attr: name})
			i += end
		case c == '}':
			return nil, fmt.Errorf("unmatched } at byte %d (write }} for a literal brace)", i)
		default:
			lit.WriteByte(c)
		}
	}
	if lit.Len() > 0 {
		t.parts = append(t.parts, destPart{text: lit.String()})
	}
	return t, nil
}

// ErrMissingAttribute is returned by Render for an event that lacks an
// attribute the template names.
var ErrMissingAttribute = errors.New("the event lacks an attribute the template names")

// Render returns the destination for e.
func (t *Destination) Render(e *ce.Event) (string, error) {
	var b strings.Builder
	for _, p := range t.parts {
		if p.attr == "" {
			b.WriteString(p.text)
			continue
		}
		v, ok := ebevent.Attr(e, p.attr)
		if !ok || v == "" {
			return "", fmt.Errorf("%w: %s", ErrMissingAttribute, p.attr)
		}
		b.WriteString(v)
	}
	return b.String(), nil
}

// HasPlaceholders reports whether the destination depends on the event
// (if not, Render of any event gives the same, unescaped, text).
func (t *Destination) HasPlaceholders() bool {
	for _, p := range t.parts {
		if p.attr != "" {
			return true
		}
	}
	return false
}

// String returns the template as written.
func (t *Destination) String() string { return t.raw }
