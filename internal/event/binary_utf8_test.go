package event

import "testing"

// FromBinary refuses attribute values that are not UTF-8: the JSON format
// would replace their bytes, changing the event (its id, say) on the way
// into the bus.
func TestFromBinaryRefusesInvalidUTF8(t *testing.T) {
	attrs := map[string]string{"specversion": "1.0", "id": "\x80", "source": "/s", "type": "t", "ext": "ok"}
	_, err := FromBinary(attrs, "", nil)
	if f := Fields(err); len(f) != 1 || f[0].Field != "id" {
		t.Fatalf("got %v", err)
	}
	if _, err := FromBinary(map[string]string{"specversion": "1.0", "id": "1", "source": "/s", "type": "t"}, "text/plain; x=\xff", nil); err == nil {
		t.Fatal("content type with invalid UTF-8 accepted")
	}
}

// JSON data must be UTF-8 in both modes (RFC 8259 §8.1): structured mode
// refuses a body that is not, and binary mode refuses data of a JSON
// content type that is not, naming data, rather than keep it as base64.
// Data of other types is bytes, and stays so.
func TestJSONDataUTF8SameRuleInBothModes(t *testing.T) {
	for _, c := range []struct {
		ct, data string
		ok       bool
	}{
		{"application/json", "\"caf\xe9\"", false},
		{"application/json; charset=iso-8859-1", "{\"a\":\"\xff\"}", false},
		{"application/vnd.x+json", "[\"\xc3\"]", false},
		{"text/json", "\"\xed\xa0\x80\"", false}, // a surrogate, encoded
		{"application/json", `"café"`, true},
		{"application/json; charset=utf-8", `{"a":[1,"€"]}`, true},
	} {
		attrs := map[string]string{"specversion": "1.0", "id": "1", "source": "/s", "type": "t"}
		_, berr := FromBinary(attrs, c.ct, []byte(c.data))
		doc := `{"specversion":"1.0","id":"1","source":"/s","type":"t","datacontenttype":"` + c.ct + `","data":` + c.data + `}`
		_, serr := DecodeJSON([]byte(doc))
		if (berr == nil) != c.ok || (serr == nil) != c.ok {
			t.Errorf("%s %q: binary %v, structured %v; want ok=%v in both", c.ct, c.data, berr, serr, c.ok)
			continue
		}
		if !c.ok {
			if f := Fields(berr); len(f) != 1 || f[0].Field != "data" {
				t.Errorf("%s %q: binary refused with %v, want one problem naming data", c.ct, c.data, berr)
			}
		}
	}
	// Not JSON: the bytes are data, base64 in the JSON format.
	e, err := FromBinary(map[string]string{"specversion": "1.0", "id": "1", "source": "/s", "type": "t"}, "application/octet-stream", []byte("\xff"))
	if err != nil || !e.DataBase64 {
		t.Errorf("octet-stream: %v %v", err, e)
	}
}
