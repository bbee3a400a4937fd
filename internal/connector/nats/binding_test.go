package nats

import (
	"errors"
	"strings"
	"testing"

	"github.com/nats-io/nats.go"

	"github.com/eventbridge-dev/eventbridge/internal/connector/brokertest"
	"github.com/eventbridge-dev/eventbridge/internal/connector/connectortest"
)

// specExample reads one of the binding spec's NATS message illustrations:
// subject, headers and payload, skipping "..." placeholder lines.
func specExample(t *testing.T, name string) *nats.Msg {
	t.Helper()
	m := &nats.Msg{Header: nats.Header{}}
	m.Data = brokertest.SpecExample(t, name, func(section, line string) {
		switch section {
		case "Message":
			if v, ok := strings.CutPrefix(line, "Subject:"); ok {
				m.Subject = strings.TrimSpace(v)
			}
		case "header":
			k, v, _ := strings.Cut(line, ":")
			m.Header[k] = []string{strings.TrimSpace(v)}
		}
	})
	return m
}

// The binary example: every attribute a ce- header, datacontenttype too.
func TestSpecExampleBinary(t *testing.T) {
	m := specExample(t, "nats-protocol-binding_01.txt")
	if m.Subject != "mySubject" || len(m.Header) != 6 {
		t.Fatalf("example read wrong: %+v", m)
	}
	m.Data = []byte(`{"temperature": 21.5}`) // a placeholder in the example
	e, err := Decode(m.Header, m.Data)
	if err != nil {
		t.Fatal(err)
	}
	if e.ID() != "1234-1234-1234" || e.Type() != "com.example.someevent" || e.Source() != "/mycontext/subcontext" ||
		e.DataContentType() != "application/json" || e.Time().IsZero() {
		t.Fatalf("decoded %v", e)
	}
	// Encoding it again gives the example's headers back.
	out, err := Encode(e, ModeBinary)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range m.Header {
		if got := out.Header[k]; len(got) != 1 || got[0] != v[0] {
			t.Errorf("header %s = %v, want %v", k, got, v)
		}
	}
	if len(out.Header) != len(m.Header) {
		t.Errorf("headers %v, want %v", out.Header, m.Header)
	}
}

// The structured example has no Content-Type (the 1.0.2 binding knew no
// headers): a JSON event payload is read as structured.
func TestSpecExampleStructured(t *testing.T) {
	m := specExample(t, "nats-protocol-binding_02.txt")
	// The example abbreviates the event; complete it.
	p := strings.Replace(string(m.Data), `"type" : "com.example.someevent",`, `"type" : "com.example.someevent", "id": "1", "source": "/s",`, 1)
	p = strings.Replace(p, `"data" : {`, `"data" : {"x": 1`, 1)
	e, err := Decode(m.Header, []byte(p))
	if err != nil {
		t.Fatalf("%v\n%s", err, p)
	}
	if e.Type() != "com.example.someevent" {
		t.Fatalf("decoded %v", e)
	}
	// And with the Content-Type of the binding on main.
	h := nats.Header{"Content-Type": []string{"application/cloudevents+json; charset=utf-8"}}
	if _, err := Decode(h, []byte(p)); err != nil {
		t.Fatal(err)
	}
}

// Header values are percent-encoded as in HTTP (the spec's example:
// "Euro € 😀"), and decoded back; lower-case hex and quoted strings are
// accepted; invalid UTF-8 is refused.
func TestPercentEncoding(t *testing.T) {
	e := connectortest.Sample("p-1")
	e.SetExtension("euro", "Euro € 😀")
	m, err := Encode(e, ModeBinary)
	if err != nil {
		t.Fatal(err)
	}
	if got := m.Header.Get("ce-euro"); got != "Euro%20%E2%82%AC%20%F0%9F%98%80" {
		t.Fatalf("ce-euro: %q", got)
	}
	back, err := Decode(m.Header, m.Data)
	if err != nil {
		t.Fatal(err)
	}
	connectortest.SameEvent(t, e, back)
	h := nats.Header{"ce-specversion": {"1.0"}, "ce-id": {"1"}, "ce-source": {"/s"}, "ce-type": {"t"}, "CE-Note": {`"a%e2%82%ac"`}}
	if e, err := Decode(h, nil); err != nil || e.Extensions()["note"] != "a€" {
		t.Fatalf("lower-case hex, quoted, upper-case header name: %v %v", e, err)
	}
	h["ce-note"] = []string{"%C0%A0"}
	delete(h, "CE-Note")
	if _, err := Decode(h, nil); err == nil || errors.Is(err, errNotCloudEvent) {
		t.Fatalf("invalid UTF-8: want invalid, got %v", err)
	}
}

// Both modes give back the event they were given.
func TestEncodeDecode(t *testing.T) {
	for _, mode := range []Mode{ModeBinary, ModeStructured} {
		want := connectortest.Sample("s-1")
		m, err := Encode(want, mode)
		if err != nil {
			t.Fatal(err)
		}
		got, err := Decode(m.Header, m.Data)
		if err != nil {
			t.Fatal(err)
		}
		connectortest.SameEvent(t, want, got)
	}
	if _, err := Decode(nats.Header{"Content-Type": {"text/plain"}}, []byte("hello")); !errors.Is(err, errNotCloudEvent) {
		t.Fatalf("plain text: %v", err)
	}
	if _, err := Decode(nats.Header{"Content-Type": {"application/cloudevents+avro"}}, []byte("x")); err == nil || errors.Is(err, errNotCloudEvent) {
		t.Fatalf("avro: want invalid, got %v", err)
	}
	// Without ce-datacontenttype, Content-Type gives it.
	h := nats.Header{"ce-specversion": {"1.0"}, "ce-id": {"1"}, "ce-source": {"/s"}, "ce-type": {"t"}, "Content-Type": {"text/plain"}}
	if e, err := Decode(h, []byte("x")); err != nil || e.DataContentType() != "text/plain" {
		t.Fatalf("content type: %v %v", e, err)
	}
}

// FuzzDecode: the decoder of outside messages never panics, and what it
// accepts is valid and survives the bus's JSON format.
func FuzzDecode(f *testing.F) {
	bin, _ := Encode(connectortest.Sample("f-1"), ModeBinary)
	st, _ := Encode(connectortest.Sample("f-2"), ModeStructured)
	f.Add(bin.Data, "", "ce-specversion", "1.0", "ce-id", "x", "ce-time", "2020-01-01T00:00:00Z")
	f.Add(st.Data, st.Header.Get("Content-Type"), "", "", "", "", "", "")
	f.Add([]byte("plain"), "text/plain", "ce-specversion", "0.3", "CE-ID", "%zz", "ce-datacontenttype", "a/b;c")
	f.Fuzz(func(t *testing.T, data []byte, ct, k1, v1, k2, v2, k3, v3 string) {
		h := nats.Header{"Content-Type": {ct}, "ce-type": {"t"}, "ce-source": {"/s"}}
		h[k1] = append(h[k1], v1)
		h[k2] = append(h[k2], v2)
		h[k3] = append(h[k3], v3)
		e, err := Decode(h, data)
		brokertest.CheckDecoded(t, e, err, errNotCloudEvent)
	})
}
