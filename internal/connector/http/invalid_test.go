package http

import (
	"reflect"
	"testing"
)

// Requests the source must refuse with 400, naming each bad attribute, and
// without ingesting anything.
func TestInvalidEvents(t *testing.T) {
	structured := func(body string) []string { return []string{"Content-Type", MediaStructured, "body", body} }
	binary := func(skip string, extra ...string) []string {
		var h []string
		all := binaryHeaders(extra...)
		for i := 0; i < len(all); i += 2 {
			if all[i] != skip {
				h = append(h, all[i], all[i+1])
			}
		}
		return h
	}
	cases := []struct {
		name   string
		req    []string // header name/value pairs; "body" sets the body
		fields []string
	}{
		{"binary missing id", binary("ce-id"), []string{"id"}},
		{"binary missing source", binary("ce-source"), []string{"source"}},
		{"binary missing type", binary("ce-type"), []string{"type"}},
		{"binary missing specversion", binary("ce-specversion"), []string{"specversion"}},
		{"binary empty id", binary("ce-id", "ce-id", ""), []string{"id"}},
		{"binary only an extension", []string{"ce-foo", "bar"}, []string{"id", "source", "specversion", "type"}},
		{"binary unsupported specversion", binary("ce-specversion", "ce-specversion", "2.0"), []string{"specversion"}},
		{"binary bad time", binary("", "ce-time", "yesterday"), []string{"time"}},
		{"binary time without zone", binary("", "ce-time", "2018-04-05T03:56:24"), []string{"time"}},
		{"binary relative dataschema", binary("", "ce-dataschema", "/schema"), []string{"dataschema"}},
		{"binary empty subject", binary("", "ce-subject", ""), []string{"subject"}},
		{"binary extension name with _", binary("", "ce-my_ext", "x"), []string{"my_ext"}},
		{"binary extension name with -", binary("", "ce-my-ext", "x"), []string{"my-ext"}},
		{"binary bad Content-Type", binary("", "Content-Type", "text/plain; charset"), []string{"datacontenttype"}},
		{"binary Content-Type without subtype", binary("", "Content-Type", "text"), []string{"datacontenttype"}},
		{"binary bad and missing together", binary("ce-id", "ce-time", "never", "ce-a_b", "1"), []string{"a_b", "id", "time"}},
		{"binary bad Content-Type and missing id", binary("ce-id", "Content-Type", "text"), []string{"datacontenttype", "id"}},
		{"binary bad encoding and missing type", binary("ce-type", "ce-subject", "%C0%A0"), []string{"subject", "type"}},
		{"binary badly encoded id", binary("ce-id", "ce-id", "%ZZ"), []string{"id"}},
		{"binary attribute sent twice", binary("", "ce-id", "other"), []string{"id"}},

		{"structured missing id", structured(`{"specversion":"1.0","source":"/s","type":"t"}`), []string{"id"}},
		{"structured missing source", structured(`{"specversion":"1.0","id":"1","type":"t"}`), []string{"source"}},
		{"structured missing type", structured(`{"specversion":"1.0","id":"1","source":"/s"}`), []string{"type"}},
		{"structured missing specversion", structured(`{"id":"1","source":"/s","type":"t"}`), []string{"specversion"}},
		{"structured null id", structured(`{"specversion":"1.0","id":null,"source":"/s","type":"t"}`), []string{"id"}},
		{"structured numeric id", structured(`{"specversion":"1.0","id":1,"source":"/s","type":"t"}`), []string{"id"}},
		{"structured unsupported specversion", structured(`{"specversion":"0.2","id":"1","source":"/s","type":"t"}`), []string{"specversion"}},
		{"structured bad time", structured(`{"specversion":"1.0","id":"1","source":"/s","type":"t","time":"2018-13-01T00:00:00Z"}`), []string{"time"}},
		{"structured upper-case extension", structured(`{"specversion":"1.0","id":"1","source":"/s","type":"t","myExt":"x"}`), []string{"myExt"}},
		{"structured extension named data_x", structured(`{"specversion":"1.0","id":"1","source":"/s","type":"t","data_x":"x"}`), []string{"data_x"}},
		{"structured object extension", structured(`{"specversion":"1.0","id":"1","source":"/s","type":"t","ext":{"a":1}}`), []string{"ext"}},
		{"structured data and data_base64", structured(`{"specversion":"1.0","id":"1","source":"/s","type":"t","data":"x","data_base64":"eA=="}`), []string{"data_base64"}},
		{"structured bad base64", structured(`{"specversion":"1.0","id":"1","source":"/s","type":"t","data_base64":"!!"}`), []string{"data_base64"}},
		{"structured text data not a string", structured(`{"specversion":"1.0","id":"1","source":"/s","type":"t","datacontenttype":"text/plain","data":{"a":1}}`), []string{"data"}},
		{"structured duplicate id", structured(`{"specversion":"1.0","id":"1","source":"/s","type":"t","id":"2"}`), []string{"id"}},
		{"structured duplicate specversion", structured(`{"specversion":"1.0","id":"1","source":"/s","type":"t","specversion":"0.3"}`), []string{"specversion"}},
		{"structured duplicate extension", structured(`{"specversion":"1.0","id":"1","source":"/s","type":"t","ext":"a","ext":"b"}`), []string{"ext"}},
		{"binary attribute named data", binary("", "ce-data", "x"), []string{"data"}},
		{"structured not an object", structured(`["specversion"]`), []string{""}},
		{"structured not JSON", structured(`{"specversion":`), []string{""}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			req := post("")
			for i := 0; i < len(c.req); i += 2 {
				if c.req[i] == "body" {
					req = withBody(req, c.req[i+1])
					continue
				}
				req.Header.Add(c.req[i], c.req[i+1])
			}
			src, rec := newTestSource(t, nil)
			w := serve(src, req)
			p := readProblem(t, w, 400)
			if p.Code != "invalid-event" {
				t.Errorf("code %q, want invalid-event", p.Code)
			}
			if got := problemFields(p); !reflect.DeepEqual(got, c.fields) {
				t.Errorf("errors name %q, want %q; %s", got, c.fields, w.Body)
			}
			if rec.calls() != 0 {
				t.Error("an invalid event was ingested")
			}
		})
	}
}

// Header values are percent-decoded once after RFC 7230 unquoting, and must
// then be valid UTF-8 (HTTP binding §3.1.3.2).
func TestBinaryHeaderValueDecoding(t *testing.T) {
	cases := []struct {
		header, want string
	}{
		{"Euro%20%E2%82%AC%20%F0%9F%98%80", "Euro € 😀"},
		{"Euro%20%e2%82%ac%20%f0%9f%98%80", "Euro € 😀"}, // lower-case hex
		{"%41%42C", "ABC"}, // unneeded escapes
		{"100%25", "100%"},
		{"%2541", "%41"}, // one round only
		{`"quoted value"`, "quoted value"},
		{`"a \"b\" \\ c"`, `a "b" \ c`},
		{`"Euro%20%E2%82%AC"`, "Euro €"},
		{`""`, ""},
		{"plain", "plain"},
		{`say "hi"`, `say "hi"`}, // not a quoted-string: kept
	}
	for _, c := range cases {
		t.Run(c.header, func(t *testing.T) {
			src, rec := newTestSource(t, nil)
			w := serve(src, post("", binaryHeaders("ce-comexampleext", c.header)...))
			e := wantAccepted(t, w, rec, 1)[0]
			if got, _ := attrs(e)["comexampleext"]; got != c.want {
				t.Errorf("decoded %q, want %q", got, c.want)
			}
		})
	}
	for _, bad := range []string{"%C0%A0", "%FF", "%E2%82", "%ED%A0%80", "abc%", "%4", "%G0"} {
		t.Run("reject "+bad, func(t *testing.T) {
			src, _ := newTestSource(t, nil)
			p := readProblem(t, serve(src, post("", binaryHeaders("ce-subject", bad)...)), 400)
			if got := problemFields(p); !reflect.DeepEqual(got, []string{"subject"}) {
				t.Errorf("errors name %q, want [subject]", got)
			}
		})
	}
}

// source and dataschema are stored exactly as sent, so they must be
// written as URIs are (sdk-go keeps a url.URL, which would re-encode them).
func TestURIAttributes(t *testing.T) {
	for header, want := range map[string]string{
		"/caf%C3%A9":            "/caf%C3%A9", // a URI put in the header as is
		"/a%20b":                "/a%20b",
		"/a%2520b":              "/a%20b", // the same URI, percent-encoded for the header
		"/caf%25C3%25A9":        "/caf%C3%A9",
		"urn:uuid:1234":         "urn:uuid:1234",
		"//example.com/x?y=%7E": "//example.com/x?y=~", // a valid URI once decoded: decoded
	} {
		src, rec := newTestSource(t, nil)
		w := serve(src, post("", "ce-specversion", "1.0", "ce-id", "1", "ce-type", "t", "ce-source", header))
		if w.Code != 202 {
			t.Errorf("ce-source %s: status %d %s", header, w.Code, w.Body)
			continue
		}
		if got := rec.events()[0].Source(); got != want {
			t.Errorf("ce-source %s: source %q, want %q", header, got, want)
		}
	}
	for _, bad := range []string{"/a b", "/café", `/"q"`} {
		body := `{"specversion":"1.0","id":"1","type":"t","source":` + quote(bad) + `}`
		src, _ := newTestSource(t, nil)
		p := readProblem(t, serve(src, post(body, "Content-Type", MediaStructured)), 400)
		if got := problemFields(p); !reflect.DeepEqual(got, []string{"source"}) {
			t.Errorf("source %q: errors name %q, want [source]", bad, got)
		}
		body = `{"specversion":"1.0","id":"1","type":"t","source":"/s","dataschema":` + quote("http://x"+bad) + `}`
		p = readProblem(t, serve(src, post(body, "Content-Type", MediaStructured)), 400)
		if got := problemFields(p); !reflect.DeepEqual(got, []string{"dataschema"}) {
			t.Errorf("dataschema %q: errors name %q, want [dataschema]", bad, got)
		}
	}
}
