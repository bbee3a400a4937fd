package amqpbinding_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	ce "github.com/cloudevents/sdk-go/v2/event"

	"github.com/eventbridge-dev/eventbridge/internal/connector/amqpbinding"
)

// example is one message of the binding spec's examples: its properties,
// application properties and data, with the "..." placeholder lines left
// out.
type example struct {
	props, appProps map[string]string
	data            string
}

// readExample parses the spec's text layout: sections headed by
// "--- properties ---", "--- application-properties ---" and
// "--- application-data ---", with "name: value" lines.
func readExample(t *testing.T, name string) example {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "bindings", "spec-examples", name))
	if err != nil {
		t.Fatal(err)
	}
	ex := example{props: map[string]string{}, appProps: map[string]string{}}
	section := ""
	var data []string
	for _, line := range strings.Split(string(b), "\n") {
		trimmed := strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(trimmed, "---"):
			section = strings.Trim(trimmed, "- ")
			continue
		case trimmed == "" || strings.Contains(trimmed, "..."):
			continue
		}
		switch section {
		case "properties", "application-properties":
			k, v, ok := strings.Cut(trimmed, ": ")
			if !ok {
				t.Fatalf("%s: line %q is not name: value", name, line)
			}
			if section == "properties" {
				ex.props[k] = v
			} else {
				ex.appProps[k] = v
			}
		case "application-data":
			data = append(data, trimmed)
		}
	}
	ex.data = strings.Join(data, "\n")
	return ex
}

// The binary-mode example of the spec decodes to the event it shows, and
// that event encodes back to the same application properties, under
// either prefix.
func TestSpecExampleBinary(t *testing.T) {
	ex := readExample(t, "amqp-protocol-binding_01.txt")
	ct := ex.props["content-type"]
	if ct != "application/json; charset=utf-8" || len(ex.appProps) != 5 {
		t.Fatalf("unexpected example: %+v", ex)
	}
	for _, prefix := range []string{amqpbinding.PrefixColon, amqpbinding.PrefixUnderscore} {
		props := map[string]any{}
		for k, v := range ex.appProps {
			props[prefix+strings.TrimPrefix(k, amqpbinding.PrefixColon)] = v
		}
		data := []byte(`{"temperature": 21.5}`) // the example's data is a placeholder
		e, kind, err := amqpbinding.Decode(ct, props, data)
		if err != nil || kind != amqpbinding.Binary {
			t.Fatalf("prefix %q: kind %v, err %v", prefix, kind, err)
		}
		want := map[string]string{"specversion": "1.0", "type": "com.example.someevent", "id": "1234-1234-1234", "source": "/mycontext/subcontext"}
		got := map[string]string{"specversion": e.SpecVersion(), "type": e.Type(), "id": e.ID(), "source": e.Source()}
		for k, v := range want {
			if got[k] != v {
				t.Errorf("%s = %q, want %q", k, got[k], v)
			}
		}
		if !e.Time().Equal(time.Date(2018, 4, 5, 3, 56, 24, 0, time.UTC)) {
			t.Errorf("time = %v", e.Time())
		}
		if e.DataContentType() != ct || string(e.Data()) != string(data) {
			t.Errorf("datacontenttype %q data %q", e.DataContentType(), e.Data())
		}
		back := amqpbinding.Properties(e, prefix, amqpbinding.Natives{})
		if len(back) != len(props) {
			t.Fatalf("encoded %v, want %v", back, props)
		}
		for k, v := range props {
			if back[k] != v {
				t.Errorf("encoded %s = %v, want %v", k, back[k], v)
			}
		}
		if got := amqpbinding.ContentType(e); got != ct {
			t.Errorf("content-type %q, want %q", got, ct)
		}
	}
}

// The structured examples' content types select structured mode, and a
// body with the example's members (completed) decodes.
func TestSpecExampleStructured(t *testing.T) {
	for _, f := range []string{"amqp-protocol-binding_02.txt", "amqp-protocol-binding_03.txt"} {
		b, err := os.ReadFile(filepath.Join("testdata", "bindings", "spec-examples", f))
		if err != nil {
			t.Fatal(err)
		}
		ct := ""
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(strings.TrimSpace(line), "content-type: "); ok {
				ct = v
			}
		}
		if !strings.HasPrefix(ct, "application/cloudevents+json") {
			t.Fatalf("%s: content type %q", f, ct)
		}
		if k := amqpbinding.Detect(ct, nil); k != amqpbinding.Structured {
			t.Fatalf("%s: %v", f, k)
		}
		body := `{"specversion":"1.0","type":"com.example.someevent","id":"1","source":"/s","data":{"a":1}}`
		e, _, err := amqpbinding.Decode(ct, map[string]any{amqpbinding.PrefixColon + "id": "ignored"}, []byte(body))
		if err != nil || e.Type() != "com.example.someevent" || e.ID() != "1" {
			t.Fatalf("%s: %v %v", f, e, err)
		}
	}
}

// Receivers accept native AMQP values and canonical strings alike.
func TestNativeValues(t *testing.T) {
	ts := time.Date(2026, 1, 2, 3, 4, 5, 6e6, time.UTC)
	cases := []struct {
		v    any
		want string
		bad  bool
	}{
		{"x", "x", false}, {true, "true", false}, {false, "false", false},
		{int64(-7), "-7", false}, {int32(42), "42", false}, {uint8(3), "3", false},
		{int64(1 << 40), "", true}, {ts, "2026-01-02T03:04:05.006Z", false},
		{[]byte{1, 2, 3}, "AQID", false}, {3.5, "", true}, {nil, "", true},
	}
	for _, c := range cases {
		got, err := amqpbinding.CanonicalString(c.v)
		if (err != nil) != c.bad || got != c.want {
			t.Errorf("%#v: got %q, %v", c.v, got, err)
		}
	}
}

// Natives writes typed values where nothing is lost, strings otherwise.
func TestPropertiesNatives(t *testing.T) {
	e := ce.New()
	e.SetID("1")
	e.SetSource("/s")
	e.SetType("t")
	e.SetTime(time.Date(2026, 1, 2, 3, 4, 5, 6e6, time.UTC))
	e.SetExtension("b", true)
	e.SetExtension("i", 42)
	e.SetExtension("fine", time.Date(2026, 1, 2, 3, 4, 5, 7, time.UTC))
	n := amqpbinding.Natives{Bool: true, Int: true, Binary: true, TimeResolution: time.Millisecond}
	p := amqpbinding.Properties(&e, amqpbinding.PrefixUnderscore, n)
	if _, ok := p["cloudEvents_time"].(time.Time); !ok {
		t.Errorf("time: %T, want time.Time", p["cloudEvents_time"])
	}
	if p["cloudEvents_b"] != true || p["cloudEvents_i"] != int64(42) {
		t.Errorf("b %#v i %#v", p["cloudEvents_b"], p["cloudEvents_i"])
	}
	if p["cloudEvents_fine"] != "2026-01-02T03:04:05.000000007Z" {
		t.Errorf("a nanosecond timestamp must stay a string: %#v", p["cloudEvents_fine"])
	}
	back, _, err := amqpbinding.Decode("", p, nil)
	if err != nil || !back.Time().Equal(e.Time()) || back.Extensions()["i"] != "42" {
		t.Fatalf("%v %v", back, err)
	}
}

// Messages without a CloudEvents marker are no events; broken ones are
// invalid with the attribute named.
func TestDecodeKinds(t *testing.T) {
	if e, k, err := amqpbinding.Decode("text/plain", map[string]any{"other": "x"}, []byte("hi")); e != nil || k != amqpbinding.NotCloudEvent || err != nil {
		t.Fatalf("plain message: %v %v %v", e, k, err)
	}
	_, k, err := amqpbinding.Decode("", map[string]any{"cloudEvents:specversion": "1.0", "cloudEvents:id": "1", "cloudEvents:type": "t"}, nil)
	if k != amqpbinding.Binary || err == nil || !strings.Contains(err.Error(), "source") {
		t.Fatalf("missing source: %v %v", k, err)
	}
	_, _, err = amqpbinding.Decode("", map[string]any{"cloudEvents:id": "1", "cloudEvents_id": "2"}, nil)
	if err == nil || !strings.Contains(err.Error(), "twice") {
		t.Fatalf("both prefixes: %v", err)
	}
	_, k, err = amqpbinding.Decode("application/cloudevents+avro", nil, []byte("x"))
	if k != amqpbinding.Structured || err == nil {
		t.Fatalf("avro: %v %v", k, err)
	}
}
