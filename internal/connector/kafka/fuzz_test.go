package kafka

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"

	ce "github.com/cloudevents/sdk-go/v2/event"
	"github.com/twmb/franz-go/pkg/kgo"

	ebevent "github.com/eventbridge-dev/eventbridge/internal/event"
)

// FuzzDecode feeds decode arbitrary records (headers as "key\x00value\n"
// lines). It must not panic; what it accepts must be a valid event that
// survives a binary and a structured round trip.
func FuzzDecode(f *testing.F) {
	f.Add([]byte("ce_specversion\x001.0\nce_id\x001\nce_source\x00/s\nce_type\x00t\ncontent-type\x00application/json\n"), []byte(`{"a":1}`))
	f.Add([]byte("content-type\x00application/cloudevents+json\n"), []byte(`{"specversion":"1.0","id":"1","source":"/s","type":"t","data":{"x":1}}`))
	f.Add([]byte("ce_specversion\x000.3\nce_id\x00x\nce_source\x00urn:a\nce_type\x00t\nce_time\x002020-01-01T00:00:00Z\n"), []byte("\xff\x00"))
	f.Add([]byte("content-type\x00text/plain\n"), []byte("hello"))
	f.Fuzz(func(t *testing.T, headers, value []byte) {
		r := &kgo.Record{Value: value}
		for _, line := range bytes.Split(headers, []byte("\n")) {
			k, v, _ := bytes.Cut(line, []byte{0})
			r.Headers = append(r.Headers, kgo.RecordHeader{Key: string(k), Value: v})
		}
		e, err := decode(r)
		if err != nil {
			return
		}
		if err := ebevent.Validate(e); err != nil {
			t.Fatalf("decoded an invalid event: %v", err)
		}
		for _, mode := range []Mode{ModeBinary, ModeStructured} {
			var back kgo.Record
			if err := encode(e, mode, &back); err != nil {
				t.Fatalf("%s encode: %v", mode, err)
			}
			again, err := decode(&back)
			if err != nil {
				t.Fatalf("%s round trip: %v\nevent %s", mode, err, e)
			}
			if !sameData(e, again.Data()) {
				t.Fatalf("%s round trip changed data %q to %q", mode, e.Data(), again.Data())
			}
			if again.ID() != e.ID() || again.Source() != e.Source() || again.Type() != e.Type() {
				t.Fatalf("%s round trip changed attributes: %s -> %s", mode, e, again)
			}
		}
	})
}

// sameData compares data as bytes, or as JSON values where the content
// type is JSON (the structured format carries JSON data as a JSON value,
// which need not keep its whitespace).
func sameData(e *ce.Event, got []byte) bool {
	if bytes.Equal(e.Data(), got) {
		return true
	}
	if !ebevent.IsJSONContentType(e.DataContentType()) || e.DataBase64 {
		return false
	}
	var a, b any
	if json.Unmarshal(e.Data(), &a) != nil || json.Unmarshal(got, &b) != nil {
		return false
	}
	return reflect.DeepEqual(a, b)
}
