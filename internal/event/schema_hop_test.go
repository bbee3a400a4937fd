package event

import (
	"encoding/json"
	"testing"
)

// A schema crosses a binary-mode hop as it was sent, and as the JSON
// format keeps it. A fuzz target found "a: " arriving as "a:": sdk-go's
// SetDataSchema trims spaces, its JSON decoder does not.
func TestFromBinaryKeepsDataSchema(t *testing.T) {
	for _, c := range []struct{ version, name, value string }{
		{"1.0", "dataschema", "a: "},
		{"1.0", "dataschema", "urn:x  y  "},
		{"1.0", "dataschema", "https://example.com/s.json"},
		{"0.3", "schemaurl", "a: "},
		{"0.3", "schemaurl", "/rel"},
	} {
		attrs := map[string]string{"specversion": c.version, "id": "1", "source": "/s", "type": "t", c.name: c.value}
		b, err := FromBinary(attrs, "", nil)
		if err != nil {
			t.Fatalf("%s %q: %v", c.version, c.value, err)
		}
		if b.DataSchema() != c.value {
			t.Errorf("%s: binary mode made %q of %q", c.version, b.DataSchema(), c.value)
		}
		if got := BinaryAttributes(b)[c.name]; got != c.value {
			t.Errorf("%s: sent on as %q, not %q", c.version, got, c.value)
		}
		doc, _ := json.Marshal(attrs)
		s, err := DecodeJSON(doc)
		if err != nil {
			t.Fatalf("%s: structured mode refused what binary mode took: %v", doc, err)
		}
		if s.DataSchema() != b.DataSchema() {
			t.Errorf("%s: structured %q, binary %q", c.version, s.DataSchema(), b.DataSchema())
		}
	}
}
