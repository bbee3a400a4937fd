package http

import (
	"bytes"
	"net/textproto"
	"reflect"
	"strings"
	"testing"

	ce "github.com/cloudevents/sdk-go/v2/event"
)

// The examples of the JSON format spec (testdata/cloudevents-json/
// spec-json-format): json-format_NN.json is an event in structured mode and
// json-format_NN+1.txt the same event in binary mode (headers, blank line,
// body). The .txt bodies end with the newline that closed the markdown
// block; it is not part of the data and is dropped.

// binaryFixture turns a headers-and-body .txt example into a request.
func binaryFixture(t *testing.T, name string) (hdr textproto.MIMEHeader, body string) {
	t.Helper()
	raw := string(readFixture(t, "cloudevents-json/spec-json-format/"+name))
	head, body, ok := strings.Cut(raw, "\n\n")
	if !ok {
		t.Fatalf("%s: no blank line after the headers", name)
	}
	hdr = textproto.MIMEHeader{}
	for _, l := range strings.Split(head, "\n") {
		k, v, ok := strings.Cut(l, ":")
		if !ok {
			t.Fatalf("%s: bad header line %q", name, l)
		}
		hdr.Add(k, strings.TrimSpace(v))
	}
	return hdr, strings.TrimSuffix(body, "\n")
}

func postBinaryFixture(t *testing.T, name string) *ce.Event {
	t.Helper()
	hdr, body := binaryFixture(t, name)
	req := post(body)
	for k, vs := range hdr {
		req.Header[k] = vs
	}
	src, rec := newTestSource(t, nil)
	e := wantAccepted(t, serve(src, req), rec, 1)[0]
	want := map[string]string{}
	for k, vs := range hdr {
		if n, ok := strings.CutPrefix(strings.ToLower(k), "ce-"); ok {
			want[n] = vs[0]
		}
	}
	if ct := hdr.Get("Content-Type"); ct != "" {
		want["datacontenttype"] = ct
	}
	if d := diffMaps(attrs(e), want); d != "" {
		t.Errorf("%s attributes:%s", name, d)
	}
	if string(e.Data()) != body && !(strings.Contains(hdr.Get("Content-Type"), "json") && sameJSON(e.Data(), []byte(body))) {
		t.Errorf("%s data %q, want %q", name, e.Data(), body)
	}
	return e
}

func postStructuredFixture(t *testing.T, name string) *ce.Event {
	t.Helper()
	body := readFixture(t, "cloudevents-json/spec-json-format/"+name)
	src, rec := newTestSource(t, nil)
	e := wantAccepted(t, serve(src, post(string(body), "Content-Type", MediaStructured)), rec, 1)[0]
	checkJSONForm(t, body, e)
	return e
}

func TestJSONFormatSpecExamples(t *testing.T) {
	// Pairs of one event in structured and binary mode. The JSON format
	// implies application/json when datacontenttype is absent; binary mode
	// says so with Content-Type.
	pairs := [][2]string{
		{"json-format_03.json", "json-format_04.txt"},
		{"json-format_05.json", "json-format_06.txt"},
		{"json-format_07.json", "json-format_08.txt"},
		{"json-format_09.json", "json-format_10.txt"},
		{"json-format_11.json", "json-format_12.txt"},
	}
	for _, p := range pairs {
		t.Run(p[0]+"="+p[1], func(t *testing.T) {
			s := postStructuredFixture(t, p[0])
			b := postBinaryFixture(t, p[1])
			sa, ba := attrs(s), attrs(b)
			if _, ok := sa["datacontenttype"]; !ok && ba["datacontenttype"] == "application/json" {
				sa["datacontenttype"] = "application/json"
			}
			if d := diffMaps(ba, sa); d != "" {
				t.Errorf("binary and structured differ:%s", d)
			}
			if !bytes.Equal(s.Data(), b.Data()) && !sameJSON(s.Data(), b.Data()) {
				t.Errorf("data: structured %q, binary %q", s.Data(), b.Data())
			}
		})
	}
	t.Run("spec_01.json", func(t *testing.T) { postStructuredFixture(t, "spec_01.json") })
	// json-format_01.json's data_base64 is the placeholder "... base64
	// encoded string ...": not base64, so the event is invalid. Its binary
	// twin, json-format_02.txt, is complete (its body is the placeholder
	// text, which is fine as bytes).
	t.Run("json-format_01.json", func(t *testing.T) {
		src, _ := newTestSource(t, nil)
		w := serve(src, post(string(readFixture(t, "cloudevents-json/spec-json-format/json-format_01.json")), "Content-Type", MediaStructured))
		if got := problemFields(readProblem(t, w, 400)); !reflect.DeepEqual(got, []string{"data_base64"}) {
			t.Errorf("errors name %v, want [data_base64]", got)
		}
	})
	t.Run("json-format_02.txt", func(t *testing.T) { postBinaryFixture(t, "json-format_02.txt") })
	// json-format_13.json is a batch whose first entry has the placeholder
	// data_base64: the whole batch is refused, naming that entry.
	t.Run("json-format_13.json", func(t *testing.T) {
		src, rec := newTestSource(t, nil)
		w := serve(src, post(string(readFixture(t, "cloudevents-json/spec-json-format/json-format_13.json")), "Content-Type", MediaBatch))
		if got := problemFields(readProblem(t, w, 400)); !reflect.DeepEqual(got, []string{"[0].data_base64"}) {
			t.Errorf("errors name %v, want [[0].data_base64]", got)
		}
		if rec.calls() != 0 {
			t.Error("part of an invalid batch was ingested")
		}
	})
	// json-format_14.json is the empty batch.
	t.Run("json-format_14.json", func(t *testing.T) {
		src, rec := newTestSource(t, nil)
		w := serve(src, post(string(readFixture(t, "cloudevents-json/spec-json-format/json-format_14.json")), "Content-Type", MediaBatch))
		wantAccepted(t, w, rec, 0)
	})
}
