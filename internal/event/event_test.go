package event

import (
	"encoding/json"
	"testing"
	"time"

	ce "github.com/cloudevents/sdk-go/v2/event"
	"github.com/google/go-cmp/cmp"
)

func sample() *ce.Event {
	e := ce.New()
	e.SetID("A-1")
	e.SetSource("/shop")
	e.SetType("com.example.order")
	e.SetSubject("orders/1")
	e.SetTime(time.Date(2026, 1, 2, 3, 4, 5, 600, time.UTC))
	e.SetExtension("count", 5)
	e.SetExtension("flag", true)
	e.SetExtension("name", "x y")
	_ = e.SetData("application/json", map[string]any{"total": 42})
	return &e
}

func TestForm(t *testing.T) {
	got := Form(sample())
	want := map[string]any{
		"specversion": "1.0", "id": "A-1", "source": "/shop", "type": "com.example.order",
		"subject": "orders/1", "time": "2026-01-02T03:04:05.0000006Z", "datacontenttype": "application/json",
		"count": float64(5), "flag": true, "name": "x y",
		"data": map[string]any{"total": float64(42)},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Fatalf("form (-want +got):\n%s", d)
	}
	// The form is the JSON format: marshalled, it reads back as the same event.
	b, _ := json.Marshal(got)
	back, err := DecodeJSON(b)
	if err != nil {
		t.Fatalf("decode form: %v", err)
	}
	if back.ID() != "A-1" || back.Extensions()["count"] != int32(5) {
		t.Fatalf("round trip: %v", back)
	}
}

func TestFormData(t *testing.T) {
	cases := []struct {
		ct   string
		data []byte
		key  string
		want any
	}{
		{"text/plain", []byte("hello"), "data", "hello"},
		{"application/octet-stream", []byte{0xff, 0x00}, "data_base64", "/wA="},
		{"application/vnd.foo+json", []byte(`[1,2]`), "data", []any{float64(1), float64(2)}},
		{"", []byte(`{"a":1}`), "data", map[string]any{"a": float64(1)}},
	}
	for _, c := range cases {
		e := ce.New()
		e.SetID("1")
		e.SetSource("/s")
		e.SetType("t")
		if c.ct != "" {
			e.SetDataContentType(c.ct)
		}
		e.DataEncoded = c.data
		got := Form(&e)[c.key]
		if d := cmp.Diff(c.want, got); d != "" {
			t.Errorf("%s: %s (-want +got):\n%s", c.ct, c.key, d)
		}
	}
}

func TestAttr(t *testing.T) {
	e := sample()
	for name, want := range map[string]string{
		"id": "A-1", "time": "2026-01-02T03:04:05.0000006Z", "count": "5", "flag": "true", "name": "x y", "specversion": "1.0",
	} {
		if got, ok := Attr(e, name); !ok || got != want {
			t.Errorf("Attr(%s) = %q, %v; want %q", name, got, ok, want)
		}
	}
	if _, ok := Attr(e, "dataschema"); ok {
		t.Error("dataschema reported present")
	}
	if _, ok := Attr(e, "missing"); ok {
		t.Error("missing extension reported present")
	}
}

func TestDedupKey(t *testing.T) {
	if DedupKey("a:b", "c") == DedupKey("a", "b:c") {
		t.Fatal("separator collision")
	}
	if a, b := DedupKey("s", "1"), DedupKey("s", "1"); a != b {
		t.Fatal("not deterministic")
	}
	if k := DedupKey("s", "1"); len(k) != 24 {
		t.Fatalf("key %q has length %d", k, len(k))
	}
}

func TestValidAttributeName(t *testing.T) {
	for name, ok := range map[string]bool{"abc": true, "a1": true, "": false, "data": false, "Abc": false, "a_b": false, "a-b": false, "comexampleextension1": true} {
		if ValidAttributeName(name) != ok {
			t.Errorf("ValidAttributeName(%q) = %v", name, !ok)
		}
	}
}

func TestPercentRoundTrip(t *testing.T) {
	for _, s := range []string{"plain", "Euro € 😀", `quote " and % and space`, "\x7f\x01"} {
		enc := PercentEncode(s)
		got, err := PercentDecode(enc)
		if err != nil || got != s {
			t.Errorf("%q -> %q -> %q, %v", s, enc, got, err)
		}
	}
	if got := PercentEncode("Euro € 😀"); got != "Euro%20%E2%82%AC%20%F0%9F%98%80" {
		t.Errorf("spec example encodes to %q", got)
	}
	if _, err := PercentDecode("%C0%A0"); err == nil {
		t.Error("invalid UTF-8 accepted")
	}
	if got, _ := PercentDecode(`"quoted \"value\""`); got != `quoted "value"` {
		t.Errorf("quoted-string: %q", got)
	}
}

// CloudEvents Strings exclude control characters and invalid UTF-8.
func TestStringAttributesRefuseControls(t *testing.T) {
	for _, bad := range []map[string]string{
		{"id": "a\tb"}, {"type": "t\n"}, {"source": "/s\x00"}, {"subject": "x\u0085"}, {"myext": "v\x7f"}, {"id": "\xff"},
	} {
		attrs := map[string]string{"specversion": "1.0", "id": "1", "source": "/s", "type": "t"}
		for k, v := range bad {
			attrs[k] = v
		}
		if _, err := FromBinary(attrs, "", nil); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
