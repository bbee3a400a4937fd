package http

import (
	"bytes"
	"encoding/json"
	nethttp "net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	ce "github.com/cloudevents/sdk-go/v2/event"
	"github.com/cloudevents/sdk-go/v2/types"

	ebevent "github.com/eventbridge-dev/eventbridge/internal/event"
)

// The fuzz targets send arbitrary requests through the source and check
// what it promises: no panic; 202, 400, 413 or 415 only (never 503: an event
// taken must be storable); a problem document on refusal, with nothing
// ingested; and on 202, events that survive being sent on again, by the
// target's encoders, unchanged.

// fuzzLimits keep the inputs small enough to be fast, big enough to hit the
// limits.
func fuzzLimits(c *SourceConfig) {
	c.MaxEventSize = 4096
	c.MaxBatchSize = 16384
	c.MaxBatchEvents = 8
}

// parseFuzzHeaders reads "Name: value" lines, keeping only what an HTTP/1.1
// server would let through (token names, no control characters in values).
func parseFuzzHeaders(s string) nethttp.Header {
	h := nethttp.Header{}
	for _, line := range strings.Split(s, "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok || k == "" || strings.IndexFunc(k, func(r rune) bool { return r <= ' ' || r >= 0x7f || strings.ContainsRune(`"(),/:;<=>?@[\]{}`, r) }) >= 0 {
			continue
		}
		v = strings.Trim(v, " \t")
		if strings.IndexFunc(v, func(r rune) bool { return r < ' ' && r != '\t' || r == 0x7f }) >= 0 {
			continue
		}
		h.Add(k, v)
	}
	return h
}

// fuzzServe sends the request and checks the outcome; it returns the stored
// events on 202.
func fuzzServe(t *testing.T, req *nethttp.Request) []*ce.Event {
	src, rec := newTestSource(t, fuzzLimits)
	w := serve(src, req)
	switch w.Code {
	case nethttp.StatusAccepted:
		return rec.events()
	case 400, 413, 415:
		readProblem(t, w, w.Code)
		if rec.calls() != 0 {
			t.Fatalf("refused with %d but ingested", w.Code)
		}
		return nil
	default:
		t.Fatalf("status %d: %s", w.Code, w.Body)
		return nil
	}
}

// checkResend checks that a stored event goes through the target's binary
// and structured encoders and the source's decoders unchanged.
func checkResend(t *testing.T, e *ce.Event) {
	t.Helper()
	if err := ebevent.Validate(e); err != nil {
		t.Fatalf("stored an invalid event: %v\n%s", err, e)
	}
	h := nethttp.Header{}
	body := encodeBinary(e, h)
	b, err := decodeBinary(h, body, ebevent.Limits{})
	if err != nil {
		t.Fatalf("binary re-decode: %v\nheaders %v", err, h)
	}
	sameEvent(t, "binary", b, e)
	j, err := ebevent.EncodeJSON(e)
	if err != nil {
		t.Fatal(err)
	}
	s, err := ebevent.DecodeJSON(j)
	if err != nil {
		t.Fatalf("structured re-decode: %v\n%s", err, j)
	}
	sameEvent(t, "structured", s, e)
}

func sameEvent(t *testing.T, how string, got, want *ce.Event) {
	t.Helper()
	wa := attrs(want)
	if _, ok := wa["datacontenttype"]; !ok && how == "binary" && ebevent.BinaryContentType(want) != "" {
		wa["datacontenttype"] = ebevent.BinaryContentType(want)
	}
	if d := diffMaps(attrs(got), wa); d != "" {
		t.Fatalf("%s resend changed attributes:%s", how, d)
	}
	gd, wd := got.Data(), want.Data()
	if !bytes.Equal(gd, wd) && !(ebevent.IsJSONContentType(want.DataContentType()) && !want.DataBase64 && sameJSON(gd, wd)) {
		t.Fatalf("%s resend changed data %q to %q", how, wd, gd)
	}
}

func seedFiles(f *testing.F, pattern string, add func(b []byte)) {
	m, err := filepath.Glob(filepath.Join("testdata", filepath.FromSlash(pattern)))
	if err != nil || len(m) == 0 {
		f.Fatalf("no seeds match %s", pattern)
	}
	for _, p := range m {
		add(readFixture(f, strings.TrimPrefix(filepath.ToSlash(p), "testdata/")))
	}
}

func FuzzDecodeBinary(f *testing.F) {
	seedFiles(f, "cloudevents-json/spec-json-format/*.txt", func(b []byte) {
		head, body, _ := strings.Cut(string(b), "\n\n")
		f.Add(head, []byte(body))
	})
	f.Add("ce-specversion: 1.0\nce-id: 1\nce-source: /s\nce-type: t\nce-subject: Euro%20%E2%82%AC\nContent-Type: application/octet-stream", []byte{0, 0xff})
	f.Add("ce-specversion: 0.3\nce-id: \"q\"\nce-source: /s\nce-type: t\nce-exta: %C0%A0", []byte(`{"a":1}`))
	f.Add("ce-specversion: 1.0\nce-id: 1\nce-source: /s\nce-type: t\nce-time: 2018-04-05T03:56:24Z\nContent-Type: application/json", []byte("not json"))
	f.Fuzz(func(t *testing.T, headers string, body []byte) {
		req := post(string(body))
		req.Header = parseFuzzHeaders(headers)
		for _, e := range fuzzServe(t, req) {
			checkResend(t, e)
		}
	})
}

func FuzzDecodeStructured(f *testing.F) {
	seedFiles(f, "cloudevents-json/sdk-java/*/*.json", func(b []byte) { f.Add(b) })
	seedFiles(f, "cloudevents-json/spec-json-format/*.json", func(b []byte) { f.Add(b) })
	var invalid []struct{ JSON string }
	_ = json.Unmarshal(readFixture(f, "cloudevents-json/invalid-events.json"), &invalid)
	for _, c := range invalid {
		f.Add([]byte(c.JSON))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		events := fuzzServe(t, post(string(body), "Content-Type", MediaStructured))
		if len(events) > 1 {
			t.Fatalf("%d events from one structured request", len(events))
		}
		for _, e := range events {
			checkResend(t, e)
		}
	})
}

func FuzzDecodeBatch(f *testing.F) {
	seedFiles(f, "cloudevents-json/spec-json-format/json-format_1[34].json", func(b []byte) { f.Add(b) })
	seedFiles(f, "cloudevents-json/sdk-java/v1/*.json", func(b []byte) { f.Add(append(append([]byte("["), b...), ']')) })
	f.Add([]byte(`[{"specversion":"1.0","id":"1","source":"/s","type":"t"},{"specversion":"0.3","id":"2","source":"/s","type":"t","data":"x"}]`))
	f.Fuzz(func(t *testing.T, body []byte) {
		events := fuzzServe(t, post(string(body), "Content-Type", MediaBatch))
		var entries []json.RawMessage
		if len(events) > 0 || bytes.HasPrefix(bytes.TrimSpace(body), []byte("[")) {
			_ = json.Unmarshal(body, &entries)
		}
		if events != nil && len(events) != len(entries) {
			t.Fatalf("%d events stored from %d entries", len(events), len(entries))
		}
		for _, e := range events {
			checkResend(t, e)
		}
	})
}

// FuzzStructuredAttributes builds valid-looking JSON-format events from
// fuzzed attribute values, so that the fuzzer explores values rather than
// JSON syntax: what the source takes, it must store exactly as sent.
func FuzzStructuredAttributes(f *testing.F) {
	f.Add("1", "/s", "t", "sub", "2018-04-05T17:31:00Z", "text/plain", "value", "data")
	f.Add("A234-1234-1234", "https://github.com/cloudevents/spec/pull", "com.github.pull_request.opened", "123", "2018-04-26T14:48:09+02:00", "application/json", "5", `{"a":1}`)
	f.Add(" x ", "urn:uuid:6e8bc430-9c3a-11d9-9669-0800200c9a66", "Euro € 😀", "", "", "", "%41", `"s"`)
	f.Fuzz(func(t *testing.T, id, source, typ, subject, ts, ct, ext, data string) {
		for _, v := range []string{id, source, typ, subject, ts, ct, ext, data} {
			if !utf8.ValidString(v) {
				return // json.Marshal would change it
			}
		}
		m := map[string]any{"specversion": "1.0", "id": id, "source": source, "type": typ, "comexampleext": ext}
		want := map[string]string{"specversion": "1.0", "id": id, "source": source, "type": typ, "comexampleext": ext}
		if subject != "" {
			m["subject"], want["subject"] = subject, subject
		}
		if ts != "" {
			m["time"], want["time"] = ts, ts
		}
		if ct != "" {
			m["datacontenttype"], want["datacontenttype"] = ct, ct
		}
		wantData := data
		switch {
		case !ebevent.IsJSONContentType(ct):
			m["data"] = data
		case json.Valid([]byte(data)):
			m["data"] = json.RawMessage(data)
		default: // a JSON string value
			m["data"] = data
			b, _ := json.Marshal(data)
			wantData = string(b)
		}
		body, err := json.Marshal(m)
		if err != nil {
			return
		}
		events := fuzzServe(t, post(string(body), "Content-Type", MediaStructured))
		if len(events) == 0 {
			return
		}
		e := events[0]
		got := attrs(e)
		if tm, ok := want["time"]; ok && got["time"] != "" {
			// The instant is kept, not its notation.
			if !sameInstant(t, got["time"], tm) {
				t.Fatalf("time %q stored as %q", tm, got["time"])
			}
			want["time"] = got["time"]
		}
		if d := diffMaps(got, want); d != "" {
			t.Fatalf("stored attributes differ from those sent:%s\nbody %s", d, body)
		}
		if string(e.Data()) != wantData && !sameJSON(e.Data(), []byte(wantData)) {
			t.Fatalf("data %q stored as %q", wantData, e.Data())
		}
		checkResend(t, e)
	})
}

func sameInstant(t *testing.T, a, b string) bool {
	ta, err1 := types.ParseTime(a)
	tb, err2 := types.ParseTime(b)
	return err1 == nil && err2 == nil && ta.Equal(tb)
}

// FuzzBinaryAttributes is FuzzStructuredAttributes for binary mode: values
// percent-encoded into ce- headers as the binding says must be stored as
// they were before encoding.
func FuzzBinaryAttributes(f *testing.F) {
	f.Add("1", "/s", "t", "sub", "Euro € 😀", "text/plain", []byte("data"))
	f.Add(" x ", "urn:uuid:6e8bc430", "%41", "", "\"q\"", "", []byte{0xff, 0})
	f.Fuzz(func(t *testing.T, id, source, typ, subject, ext, ct string, body []byte) {
		for _, v := range []string{id, source, typ, subject, ext} {
			if !utf8.ValidString(v) {
				return // not a CloudEvents String: refused, fine
			}
		}
		want := map[string]string{"specversion": "1.0", "id": id, "source": source, "type": typ, "comexampleext": ext}
		if subject != "" {
			want["subject"] = subject
		}
		req := post(string(body))
		for name, v := range want {
			req.Header.Set("ce-"+name, ebevent.PercentEncode(v))
		}
		if ct = strings.TrimSpace(ct); ct != "" && !strings.ContainsAny(ct, "\r\n\x00") {
			req.Header.Set("Content-Type", ct)
			want["datacontenttype"] = ct
		}
		events := fuzzServe(t, req)
		if len(events) == 0 {
			return
		}
		e := events[0]
		if u, err := url.Parse(source); err == nil && u.String() != source && u.String() == ebevent.PercentEncode(source) {
			// Not a URI, but its header spells one: decodeBinary takes that.
			want["source"] = u.String()
		}
		if d := diffMaps(attrs(e), want); d != "" {
			t.Fatalf("stored attributes differ from those sent:%s", d)
		}
		if !bytes.Equal(e.Data(), body) && !(ebevent.IsJSONContentType(ct) && sameJSON(e.Data(), body)) {
			t.Fatalf("data %q stored as %q", body, e.Data())
		}
		checkResend(t, e)
	})
}
