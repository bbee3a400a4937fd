package event

import (
	"encoding/json"
	"testing"
	"unicode/utf8"

	ce "github.com/cloudevents/sdk-go/v2/event"
)

// Whatever bytes a binary-mode request carries, the JSON format the bus
// keeps must be valid UTF-8 JSON and give the same bytes back.
func TestFromBinaryDataSurvivesJSONFormat(t *testing.T) {
	cases := []struct {
		ct     string
		data   string
		base64 bool
	}{
		{"", `{"a":1}`, false},
		{"", "not json", true},
		{"application/json", "{broken", true},
		{"application/vnd.x+json", "[1]", false},
		{"text/plain", "héllo\x00\x01", false},
		{"text/plain", "caf\xe9", true},
		{"application/octet-stream", "\x00\xff\xfe", true},
		{"application/octet-stream", "plain ascii", false},
	}
	for _, version := range []string{"1.0", "0.3"} {
		for _, c := range cases {
			attrs := map[string]string{"specversion": version, "id": "1", "source": "/s", "type": "t"}
			e, err := FromBinary(attrs, c.ct, []byte(c.data))
			if err != nil {
				t.Fatal(err)
			}
			if e.DataBase64 != c.base64 {
				t.Errorf("%s %q %q: base64 %v, want %v", version, c.ct, c.data, e.DataBase64, c.base64)
			}
			b, err := e.MarshalJSON()
			if err != nil || !json.Valid(b) || !utf8.Valid(b) {
				t.Errorf("%s %q %q: JSON format %q is not valid UTF-8 JSON (%v)", version, c.ct, c.data, b, err)
				continue
			}
			back := ce.New()
			if err := back.UnmarshalJSON(b); err != nil {
				t.Fatalf("%s: %v", b, err)
			}
			if string(back.Data()) != c.data {
				t.Errorf("%s %q: data %q came back as %q", version, c.ct, c.data, back.Data())
			}
		}
	}
}

// Values are kept as sent, spaces included, as the JSON format keeps them.
func TestFromBinaryKeepsSpaces(t *testing.T) {
	for _, version := range []string{"1.0", "0.3"} {
		attrs := map[string]string{"specversion": version, "id": " 1 ", "source": "/s", "type": "t ", "subject": " x "}
		e, err := FromBinary(attrs, "", nil)
		if err != nil {
			t.Fatal(err)
		}
		if e.ID() != " 1 " || e.Type() != "t " || e.Subject() != " x " {
			t.Errorf("%s: id %q type %q subject %q", version, e.ID(), e.Type(), e.Subject())
		}
	}
}

// 0.3 names the schema schemaurl, a URI-reference; 1.0 dataschema, a URI.
func TestSchemaAttributeByVersion(t *testing.T) {
	base := func(version string, kv ...string) map[string]string {
		m := map[string]string{"specversion": version, "id": "1", "source": "/s", "type": "t"}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	e, err := FromBinary(base("0.3", "schemaurl", "/schemas/a"), "", nil)
	if err != nil {
		t.Fatal(err)
	}
	if e.DataSchema() != "/schemas/a" {
		t.Errorf("0.3 schemaurl %q", e.DataSchema())
	}
	if got := BinaryAttributes(e); got["schemaurl"] != "/schemas/a" || got["dataschema"] != "" {
		t.Errorf("0.3 binary attributes %v", got)
	}
	if _, err := FromBinary(base("1.0", "dataschema", "/schemas/a"), "", nil); err == nil {
		t.Error("1.0 took a relative dataschema")
	}
	e, err = FromBinary(base("1.0", "schemaurl", "x"), "", nil)
	if err != nil || e.Extensions()["schemaurl"] != "x" {
		t.Errorf("1.0 schemaurl is an extension: %v %v", err, e)
	}
	for body, want := range map[string]string{
		`{"specversion":"0.3","id":"1","source":"/s","type":"t","schemaurl":0}`:       "schemaurl",
		`{"specversion":"0.3","id":"1","type":"t","schemaurl":"/a b","source":"/s"}`:  "schemaurl",
		`{"id":"1","source":"/s","type":"t","dataschema":"/rel","specversion":"1.0"}`: "dataschema",
	} {
		_, err := DecodeJSON([]byte(body))
		if f := Fields(err); len(f) != 1 || f[0].Field != want {
			t.Errorf("%s: %v, want an error on %s", body, err, want)
		}
	}
	e, err = DecodeJSON([]byte(`{"id":"1","source":"/s","type":"t","schemaurl":"/rel","specversion":"0.3"}`))
	if err != nil || e.DataSchema() != "/rel" {
		t.Errorf("0.3 relative schemaurl: %v %v", err, e)
	}
}
