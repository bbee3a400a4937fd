package nats

import (
	"testing"

	"github.com/eventbridge-dev/eventbridge/internal/connector/connectortest"
)

// BenchmarkDecodeBinary reads a binary-mode message (the bench's shape:
// six ce- headers and a JSON body) into an event: the nats source's
// per-message work before the bus.
func BenchmarkDecodeBinary(b *testing.B) {
	m, err := Encode(connectortest.Sample("d"), ModeBinary)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Decode(m.Header, m.Data); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEncodeBinary writes an event as a binary-mode message: the nats
// target's per-event work before the publish.
func BenchmarkEncodeBinary(b *testing.B) {
	e := connectortest.Sample("d")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Encode(e, ModeBinary); err != nil {
			b.Fatal(err)
		}
	}
}
