package http

import (
	"bytes"
	"context"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	ce "github.com/cloudevents/sdk-go/v2/event"
	"github.com/cloudevents/sdk-go/v2/types"

	"github.com/eventbridge-dev/eventbridge/internal/connector"
	ebevent "github.com/eventbridge-dev/eventbridge/internal/event"
)

// allBytes is data that is not UTF-8 (nor JSON): every byte value.
var allBytes = func() []byte {
	b := make([]byte, 256)
	for i := range b {
		b[i] = byte(i)
	}
	return b
}()

// roundTripEvents covers every attribute, every extension type, non-ASCII
// values and data of each kind.
func roundTripEvents(t *testing.T) map[string]*ce.Event {
	t.Helper()
	mk := func(version string, edit func(e *ce.Event)) *ce.Event {
		e := ce.New(version)
		e.SetID("id-" + version)
		e.SetSource("https://example.com/source")
		e.SetType("com.example.roundtrip")
		edit(&e)
		if err := e.Validate(); err != nil {
			t.Fatal(err)
		}
		return &e
	}
	uri, _ := url.Parse("https://example.com/ext")
	full := func(e *ce.Event) {
		e.SetSubject("Euro € 😀 \"quoted\" 100% \\ end ")
		e.SetTime(time.Date(2024, 2, 29, 23, 59, 58, 123456789, time.UTC))
		e.SetDataSchema("https://example.com/schema?v=1&x=%20")
		e.SetExtension("extstring", "Grüße, 世界! %41 \"q\" ")
		e.SetExtension("extint", int32(-2147483648))
		e.SetExtension("extbool", true)
		e.SetExtension("exturi", types.URI{URL: *uri})
		e.SetExtension("exttime", types.Timestamp{Time: time.Date(2020, 1, 2, 3, 4, 5, 600000000, time.UTC)})
		e.SetExtension("extbinary", []byte{0, 1, 0xfe, 0xff})
		e.SetExtension("a1234567890123456789", "long name")
		e.SetDataContentType("application/json; charset=utf-8")
		e.DataEncoded = []byte(`{"msg":"héllo","n":1.5,"list":[true,null]}`)
	}
	// data sets data as a decoder leaves it: bytes, base64 or not.
	data := func(ct string, b []byte, b64 bool) func(e *ce.Event) {
		return func(e *ce.Event) {
			if ct != "" {
				e.SetDataContentType(ct)
			}
			e.DataEncoded, e.DataBase64 = b, b64
			if b64 && e.SpecVersion() == ce.CloudEventsVersionV03 {
				e.SetDataContentEncoding(ce.Base64)
			}
		}
	}
	events := map[string]*ce.Event{
		"v1 every attribute":     mk("1.0", full),
		"v03 every attribute":    mk("0.3", full),
		"minimal, no data":       mk("1.0", func(*ce.Event) {}),
		"v03 relative schemaurl": mk("0.3", func(e *ce.Event) { e.SetDataSchema("/schemas/v1?x=%20") }),
	}
	for name, d := range map[string]struct {
		ct   string
		data []byte
		b64  bool // how a decoder would have left it
	}{
		"non-UTF-8 data":    {"application/octet-stream", allBytes, true},
		"non-UTF-8 text":    {"text/plain; charset=latin1", []byte("caf\xe9"), true},
		"text data":         {"text/plain", []byte("line 1\nline 2\t€\x01 \"q\" \\"), false},
		"xml data":          {"application/xml", []byte(`<a b="c">ü</a>`), false},
		"JSON string data":  {"application/json", []byte(`"just a string"`), false},
		"JSON, no type":     {"", []byte(`{"implied":"json"}`), false},
		"+json data":        {"application/vnd.foo+json", []byte(`[1,2,{"a":null}]`), false},
		"empty JSON object": {"application/json", []byte(`{}`), false},
		"JSON null":         {"application/json", []byte(`null`), false},
		"JSON as base64":    {"application/json", []byte(`{"a":1}`), true},
		"text as base64":    {"text/plain", []byte("hello"), true},
		"binary, no type":   {"", allBytes, true},
	} {
		events[name] = mk("1.0", data(d.ct, d.data, d.b64))
		events["v03 "+name] = mk("0.3", data(d.ct, d.data, d.b64))
	}
	return events
}

// sendThrough delivers e with a target in the given mode to a server that
// is an http source, and returns what the source stored.
func sendThrough(t *testing.T, mode Mode, e *ce.Event) *ce.Event {
	t.Helper()
	src, rec := newTestSource(t, func(c *SourceConfig) {
		// Data mode carries no attributes: the source wraps it.
		c.Wrap = &Wrap{Type: "com.example.wrapped", Source: "/wrapped"}
	})
	srv := httptest.NewServer(src)
	defer srv.Close()
	cfg := &TargetConfig{URL: srv.URL + "/events", Mode: mode}
	cfg.Defaults()
	tg, err := newTarget("rt", cfg, connector.Deps{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := tg.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tg.Stop(ctx) }()
	if err := tg.Send(ctx, e); err != nil {
		t.Fatalf("send: %v", err)
	}
	got := rec.events()
	if len(got) != 1 {
		t.Fatalf("%d events stored, want 1", len(got))
	}
	return got[0]
}

func TestRoundTrip(t *testing.T) {
	for name, e := range roundTripEvents(t) {
		for _, mode := range []Mode{ModeBinary, ModeStructured, ModeData} {
			t.Run(name+"/"+string(mode), func(t *testing.T) {
				got := sendThrough(t, mode, e)
				if mode == ModeData {
					ct := e.DataContentType()
					if ct == "" {
						ct = "application/json" // what the target sends then
					}
					if got.DataContentType() != ct {
						t.Errorf("content type %q, want %q", got.DataContentType(), ct)
					}
				} else if d := diffMaps(attrs(got), wantAttrs(mode, e)); d != "" {
					t.Errorf("attributes:%s", d)
				}
				if !bytes.Equal(got.Data(), e.Data()) {
					t.Errorf("data %q, want %q", got.Data(), e.Data())
				}
			})
		}
	}
}

// Structured mode keeps the JSON types of extensions; binary mode has only
// strings (checked by TestRoundTrip through the canonical encoding).
func TestRoundTripStructuredTypes(t *testing.T) {
	e := roundTripEvents(t)["v1 every attribute"]
	got := sendThrough(t, ModeStructured, e)
	for _, name := range []string{"extint", "extbool"} {
		if g, w := got.Extensions()[name], e.Extensions()[name]; g != w {
			t.Errorf("%s = %#v (%T), want %#v (%T)", name, g, g, w, w)
		}
	}
}

// wantAttrs are the attributes e must arrive with. In binary mode the target
// states the JSON that an absent datacontenttype implies (for data that
// can be JSON).
func wantAttrs(mode Mode, e *ce.Event) map[string]string {
	m := attrs(e)
	if _, ok := m["datacontenttype"]; !ok && mode == ModeBinary {
		if ct := ebevent.BinaryContentType(e); ct != "" {
			m["datacontenttype"] = ct
		}
	}
	return m
}
