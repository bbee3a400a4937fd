package connector

import (
	"fmt"
	"strings"

	ce "github.com/cloudevents/sdk-go/v2/event"

	ebevent "github.com/eventbridge-dev/eventbridge/internal/event"
)

// Template is a string with {attribute} placeholders that an event fills:
// "orders.{type}", "{source}/{subject}". An attribute the event does not
// have renders as "". Targets use it for routing keys, topics and subjects.
type Template struct {
	text  []string // len(text) == len(attrs)+1
	attrs []string
}

// ParseTemplate parses s. Placeholders name a context attribute or an
// extension (lower-case letters and digits); "{{" and "}}" stand for
// literal braces.
func ParseTemplate(s string) (Template, error) {
	var t Template
	var cur strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '{' && i+1 < len(s) && s[i+1] == '{', c == '}' && i+1 < len(s) && s[i+1] == '}':
			cur.WriteByte(c)
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
			t.text = append(t.text, cur.String())
			t.attrs = append(t.attrs, name)
			cur.Reset()
			i += end
		case c == '}':
			return Template{}, fmt.Errorf("} without { at byte %d (write }} for a literal brace)", i)
		default:
			cur.WriteByte(c)
		}
	}
	t.text = append(t.text, cur.String())
	return t, nil
}

// Static reports whether the template has no placeholder.
func (t Template) Static() bool { return len(t.attrs) == 0 }

// Render fills the placeholders from e.
func (t Template) Render(e *ce.Event) string {
	switch {
	case len(t.text) == 0:
		return ""
	case t.Static():
		return t.text[0]
	}
	var b strings.Builder
	for i, name := range t.attrs {
		b.WriteString(t.text[i])
		if v, ok := ebevent.Attr(e, name); ok {
			b.WriteString(v)
		}
	}
	b.WriteString(t.text[len(t.text)-1])
	return b.String()
}
