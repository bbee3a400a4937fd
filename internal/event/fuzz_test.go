package event

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"
	"unicode/utf8"
)

// FuzzPercentDecode checks that header values survive the HTTP binding's
// percent-encoding (decode(encode(s)) == s for UTF-8 s), that encoded values
// are plain visible ASCII, and that decoding anything never panics and
// yields UTF-8 or an error.
func FuzzPercentDecode(f *testing.F) {
	for _, s := range []string{
		"", "plain", "Euro € 😀", "Euro%20%E2%82%AC%20%F0%9F%98%80", "%C0%A0", "%c3%a9",
		`"quoted \"value\""`, `"`, `""`, `"%41"`, "100%", "%", "%4", "%zz", "a b\tc\x00\x7f",
		"\xff\xfe", "{\"othervalue\": 5}", "\\", `"\`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if d, err := PercentDecode(s); err == nil && !utf8.ValidString(d) {
			t.Errorf("PercentDecode(%q) = %q, not UTF-8", s, d)
		}
		if !utf8.ValidString(s) {
			return
		}
		enc := PercentEncode(s)
		for i := 0; i < len(enc); i++ {
			if c := enc[i]; c <= 0x20 || c >= 0x7f || c == '"' {
				t.Fatalf("PercentEncode(%q) = %q: byte %#x must be encoded", s, enc, c)
			}
		}
		got, err := PercentDecode(enc)
		if err != nil {
			t.Fatalf("PercentDecode(PercentEncode(%q)) = error %v; encoded %q", s, err, enc)
		}
		if got != s {
			t.Fatalf("PercentDecode(PercentEncode(%q)) = %q; encoded %q", s, got, enc)
		}
	})
}

// FuzzBinaryHop checks that an event taken in binary mode crosses another
// binary-mode hop, and the JSON format the bus keeps, unchanged: each
// attribute as it was sent, the data byte for byte.
func FuzzBinaryHop(f *testing.F) {
	f.Add("1.0", "1", "/s", "t", "", "a: ", "x", "application/json", []byte(`{"a":1}`))
	f.Add("0.3", " 1 ", "urn:a b ", "t ", " sub ", "a: ", "", "", []byte("plain"))
	f.Add("1.0", "id", "/caf%C3%A9", "t", "s", "https://example.com/s.json", "42", "text/plain; charset=utf-8", []byte("\xff"))
	f.Add("1.0", "id", "/s", "t", "", "", "", "application/json", []byte("\"caf\xe9\""))
	f.Add("1.0", "id", "/s", "t", "", "", "", "", []byte("\xff\x00"))
	f.Fuzz(func(t *testing.T, version, id, source, typ, subject, schema, ext, ct string, data []byte) {
		attrs := map[string]string{"specversion": version, "id": id, "source": source, "type": typ}
		for name, v := range map[string]string{"subject": subject, schemaAttr(version): schema, "ext": ext} {
			if v != "" {
				attrs[name] = v
			}
		}
		e, err := FromBinary(attrs, ct, data)
		if err != nil {
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("not a *ValidationError: %v", err)
			}
			return
		}
		sent := BinaryAttributes(e)
		for name, v := range attrs {
			if sent[name] != v {
				t.Errorf("%s: took %q, sends on %q", name, v, sent[name])
			}
		}
		same := func(how string, got map[string]string, gotData []byte) {
			t.Helper()
			for name, v := range sent {
				if got[name] != v {
					t.Errorf("%s: %s %q became %q", how, name, v, got[name])
				}
			}
			if len(got) != len(sent) {
				t.Errorf("%s: attributes %v, want %v", how, got, sent)
			}
			want := e.Data()
			if !e.DataBase64 && IsJSONContentType(e.DataContentType()) && json.Valid(want) {
				// The JSON format carries JSON data as a JSON value:
				// whitespace around it is not part of it.
				want, gotData = bytes.TrimSpace(want), bytes.TrimSpace(gotData)
			}
			if !bytes.Equal(gotData, want) {
				t.Errorf("%s: data %q became %q", how, want, gotData)
			}
		}
		// The content type an encoder sends: none may claim JSON of data
		// that is not, which the next hop would refuse.
		b, err := FromBinary(sent, BinaryContentType(e), e.Data())
		if err != nil {
			t.Fatalf("the next binary hop refuses it: %v", err)
		}
		same("binary hop", BinaryAttributes(b), b.Data())
		j, err := EncodeJSON(e)
		if err != nil {
			t.Fatalf("the JSON format cannot hold it: %v", err)
		}
		s, err := DecodeJSON(j)
		if err != nil {
			t.Fatalf("the JSON format cannot read back %s: %v", j, err)
		}
		same("JSON format", BinaryAttributes(s), s.Data())
	})
}

// FuzzFromBinaryValidation holds FromBinary's check of a 1.0 event's
// attributes (validateV1Attrs) to what Validate of the built event says:
// the same error, or the same event.
func FuzzFromBinaryValidation(f *testing.F) {
	f.Add("1.0", "id", "/s", "t", "", "x", "application/json")
	f.Add("1.0", "id", "/s", "t", "  ", "", "")
	f.Add("1.0", "id", "/s", "t", "\t", "", "text/plain")
	f.Add("1.0", "i\x01d", "/s", "t\x7f", "s\u0085", "v\x00", "application/json; charset=utf-8")
	f.Add("1.0", " ", "/s", "t", "", "", "")
	f.Add("0.3", "id", "/s", "t", " ", "x\n", "")
	f.Add("1.0", "id", "urn:x", "t", "sub", "\u009f", "a/b")
	f.Fuzz(func(t *testing.T, version, id, source, typ, subject, ext, ct string) {
		attrs := map[string]string{"specversion": version, "id": id, "source": source, "type": typ}
		if subject != "" {
			attrs["subject"] = subject
		}
		if ext != "" {
			attrs["ext"] = ext
		}
		fast, ferr := fromBinary(attrs, ct, []byte(`{"a":1}`), true)
		full, verr := fromBinary(attrs, ct, []byte(`{"a":1}`), false)
		if (ferr == nil) != (verr == nil) || ferr != nil && ferr.Error() != verr.Error() {
			t.Fatalf("attributes checked: %v; event validated: %v", ferr, verr)
		}
		if ferr == nil && fast.String() != full.String() {
			t.Fatalf("attributes checked: %s; event validated: %s", fast, full)
		}
	})
}

// FuzzDuplicates holds the member count that spares decoding (duplicates)
// to duplicateMembers: the same duplicates found, or none.
func FuzzDuplicates(f *testing.F) {
	for _, s := range []string{
		`{}`, `{"a":1}`, `{"a":1,"a":2}`, `{"a":"x:y","b":{"c":1,"c":2}}`, `{"a\"":1,"a\"":[1,{"b":":"}]}`,
		`{"a":1,"\u0061":2}`, ` { "a" : "\\" , "b" : "\\\"" } `, `{"a":[],"b":{},"c":"}"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, obj []byte) {
		var raw map[string]json.RawMessage
		if json.Unmarshal(obj, &raw) != nil || raw == nil {
			return
		}
		got, want := duplicates(raw, obj), duplicateMembers(obj)
		if len(got) != len(want) {
			t.Fatalf("%s: duplicates %q, duplicateMembers %q (members counted: %d, decoded: %d)", obj, got, want, memberCount(obj), len(raw))
		}
	})
}
