package mqtt

import (
	"testing"

	"github.com/eventbridge-dev/eventbridge/internal/connector/brokertest"
	"github.com/eventbridge-dev/eventbridge/internal/connector/connectortest"
)

// FuzzDecode feeds broker messages to the binding's decoder: it must
// never panic, and an event it returns must be valid and survive the
// JSON format the bus stores events in.
func FuzzDecode(f *testing.F) {
	sample, _ := Encode(connectortest.Sample("f-1"), ModeBinary)
	structured, _ := Encode(connectortest.Sample("f-2"), ModeStructured)
	f.Add([]byte(sample.Payload), sample.ContentType, "specversion", "1.0", "id", "x", "source", "/s", true)
	f.Add([]byte(structured.Payload), structured.ContentType, "", "", "", "", "", "", true)
	f.Add([]byte(structured.Payload), "", "", "", "", "", "", "", false)
	f.Add([]byte(`{"specversion":"1.0","id":"1","source":"/","type":"t","data_base64":"AA=="}`), "", "ce-specversion", "0.3", "ce-type", "t", "time", "2020-01-01T00:00:00Z", true)
	f.Add([]byte("\xff\xfe"), "text/plain; charset=", "specversion", "1.0", "Ünïcode", "x", "intext", "42", true)
	f.Fuzz(func(t *testing.T, payload []byte, ct, k1, v1, k2, v2, k3, v3 string, v5 bool) {
		m := Message{Payload: payload, ContentType: ct, Properties: []Property{{k1, v1}, {k2, v2}, {k3, v3}, {"type", "t"}, {"id", "i"}, {"source", "/s"}}}
		e, err := Decode(&m, v5)
		brokertest.CheckDecoded(t, e, err, errNotCloudEvent)
	})
}
