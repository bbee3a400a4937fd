package kafka

import (
	"errors"
	"strings"
	"testing"

	ce "github.com/cloudevents/sdk-go/v2/event"
	"github.com/twmb/franz-go/pkg/kgo"
)

// A record's key becomes the partitionkey extension, unless the event has
// one or the key is not short UTF-8 text.
func TestKeyToPartitionKey(t *testing.T) {
	binary := func(key []byte, ext string) *kgo.Record {
		r := &kgo.Record{Key: key, Value: []byte(`{}`), Headers: []kgo.RecordHeader{
			{Key: "ce_specversion", Value: []byte("1.0")}, {Key: "ce_id", Value: []byte("1")},
			{Key: "ce_source", Value: []byte("/k")}, {Key: "ce_type", Value: []byte("t")},
			{Key: "content-type", Value: []byte("application/json")},
		}}
		if ext != "" {
			r.Headers = append(r.Headers, kgo.RecordHeader{Key: "ce_partitionkey", Value: []byte(ext)})
		}
		return r
	}
	for _, c := range []struct {
		name string
		r    *kgo.Record
		want string // "" = no extension
	}{
		{"key", binary([]byte("order-7"), ""), "order-7"},
		{"no key", binary(nil, ""), ""},
		{"the event's own wins", binary([]byte("order-7"), "mine"), "mine"},
		{"not UTF-8", binary([]byte{0xff, 0xfe}, ""), ""},
		{"too long", binary([]byte(strings.Repeat("k", maxKeyExtension+1)), ""), ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			e, err := decode(c.r)
			if err != nil {
				t.Fatal(err)
			}
			keyToPartitionKey(e, c.r, nil)
			got, _ := e.Extensions()["partitionkey"].(string)
			if got != c.want {
				t.Errorf("partitionkey %q, want %q", got, c.want)
			}
		})
	}
	// A key that would break the source's extension limits is not mapped.
	r := binary([]byte("order-7"), "")
	e, err := decode(r)
	if err != nil {
		t.Fatal(err)
	}
	keyToPartitionKey(e, r, func(*ce.Event) error { return errors.New("too many extensions") })
	if _, ok := e.Extensions()["partitionkey"]; ok {
		t.Error("partitionkey mapped over the extension limits")
	}
}
