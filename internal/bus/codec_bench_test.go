package bus

import (
	"strings"
	"testing"
	"time"

	ce "github.com/cloudevents/sdk-go/v2/event"

	ebevent "github.com/eventbridge-dev/eventbridge/internal/event"
)

func benchCodecEvent(b *testing.B) *ce.Event {
	e := ce.New()
	e.SetID("id-1")
	e.SetSource("/bench")
	e.SetType("com.example.bench")
	e.SetTime(time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC))
	data := `{"order":"o-12345","customer":"c-987","items":[{"sku":"sku-1","qty":2}],"note":"` + strings.Repeat("x", 160) + `"}`
	e.SetDataContentType("application/json")
	ebevent.SetBinaryData(&e, []byte(data))
	return &e
}

// BenchmarkEncodeEvent is the encoding of one 300-byte event for the bus,
// as Publish does it (into a reused buffer).
func BenchmarkEncodeEvent(b *testing.B) {
	e := benchCodecEvent(b)
	now := time.Now()
	ingested := now.UTC().Format(time.RFC3339Nano)
	var em eventMsg
	b.ReportAllocs()
	for range b.N {
		if err := em.encode("web", e, "k", ingested); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecodeEvent is the router's decoding of one stored event.
func BenchmarkDecodeEvent(b *testing.B) {
	m, err := EncodeEvent("web", benchCodecEvent(b), time.Now())
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for range b.N {
		if _, err := DecodeEvent(m.Data); err != nil {
			b.Fatal(err)
		}
	}
}
