package amqp1_test

import (
	"testing"
	"time"

	amqp "github.com/Azure/go-amqp"

	"github.com/eventbridge-dev/eventbridge/internal/connector/amqp1"
	"github.com/eventbridge-dev/eventbridge/internal/connector/amqpbinding"
	"github.com/eventbridge-dev/eventbridge/internal/connector/connectortest"
)

// wire encodes m as AMQP 1.0 bytes and decodes them again, as a peer
// would receive it.
func wire(t *testing.T, m *amqp.Message) *amqp.Message {
	t.Helper()
	b, err := m.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	var back amqp.Message
	if err := back.UnmarshalBinary(b); err != nil {
		t.Fatal(err)
	}
	return &back
}

// Events survive the AMQP 1.0 encoding in both modes and with both
// prefixes, without a broker.
func TestWireRoundTrip(t *testing.T) {
	for _, mode := range []string{"binary", "structured"} {
		for _, prefix := range []string{amqpbinding.PrefixColon, amqpbinding.PrefixUnderscore} {
			want := connectortest.Sample("wire-" + mode)
			m, err := amqp1.Encode(want, mode, prefix, true)
			if err != nil {
				t.Fatal(err)
			}
			got, kind, err := amqp1.Decode(wire(t, m))
			if err != nil {
				t.Fatalf("%s %s: %v", mode, prefix, err)
			}
			if kind.String() != mode {
				t.Fatalf("kind %v, want %s", kind, mode)
			}
			connectortest.SameEvent(t, want, got)
		}
	}
}

// Binary mode uses native AMQP types where the binding says, and only
// where they lose nothing.
func TestNativeTypesOnTheWire(t *testing.T) {
	e := connectortest.Sample("native")
	e.SetTime(time.Date(2026, 11, 21, 10, 11, 12, 123e6, time.UTC))
	m, err := amqp1.Encode(e, "binary", amqpbinding.PrefixColon, true)
	if err != nil {
		t.Fatal(err)
	}
	p := wire(t, m).ApplicationProperties
	if _, ok := p["cloudEvents:time"].(time.Time); !ok {
		t.Errorf("time is %T, want an AMQP timestamp", p["cloudEvents:time"])
	}
	if p["cloudEvents:boolext"] != true {
		t.Errorf("boolext is %#v, want an AMQP boolean", p["cloudEvents:boolext"])
	}
	if p["cloudEvents:intext"] != int64(42) {
		t.Errorf("intext is %#v, want an AMQP long", p["cloudEvents:intext"])
	}
	if p["cloudEvents:id"] != "native" || p["cloudEvents:specversion"] != "1.0" {
		t.Errorf("strings: %v", p)
	}
	if m.Properties.ContentType == nil || *m.Properties.ContentType != "application/json" {
		t.Errorf("content-type %v", m.Properties.ContentType)
	}
	if !m.Header.Durable {
		t.Error("not durable")
	}
}

// Other clients often send an amqp-value body; a string or binary value is
// taken as the data.
func TestValueBody(t *testing.T) {
	ct := "text/plain"
	m := &amqp.Message{
		Properties:            &amqp.MessageProperties{ContentType: &ct},
		ApplicationProperties: map[string]any{"cloudEvents_specversion": "1.0", "cloudEvents_id": "v", "cloudEvents_source": "/s", "cloudEvents_type": "t"},
		Value:                 "hello",
	}
	e, _, err := amqp1.Decode(wire(t, m))
	if err != nil || string(e.Data()) != "hello" {
		t.Fatalf("%v %v", e, err)
	}
	m.Value = int64(5)
	if _, kind, err := amqp1.Decode(wire(t, m)); err == nil || kind != amqpbinding.Binary {
		t.Fatalf("a long value body must be an invalid event: %v %v", kind, err)
	}
}

// FuzzDecode feeds raw AMQP 1.0 messages to the decoder.
func FuzzDecode(f *testing.F) {
	for _, mode := range []string{"binary", "structured"} {
		m, _ := amqp1.Encode(connectortest.Sample("seed"), mode, amqpbinding.PrefixColon, true)
		b, _ := m.MarshalBinary()
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var m amqp.Message
		if err := m.UnmarshalBinary(b); err != nil {
			return
		}
		e, _, err := amqp1.Decode(&m)
		if err != nil || e == nil {
			return
		}
		if _, err := amqp1.Encode(e, "binary", amqpbinding.PrefixColon, true); err != nil {
			t.Fatalf("a decoded event does not encode: %v", err)
		}
	})
}
