package kafka

import (
	"unicode/utf8"

	ce "github.com/cloudevents/sdk-go/v2/event"
	"github.com/twmb/franz-go/pkg/kgo"
)

// maxKeyExtension bounds the record keys that become a partitionkey.
const maxKeyExtension = 256

// keyToPartitionKey sets the event's partitionkey extension to the
// record's key when the event has none: the Kafka binding's key mapping,
// the mirror of the target's default key ({partitionkey}). A rule that
// orders by partitionkey then delivers the records of one key in their
// partition's order (docs/delivery.md, "Ordering per key"). Keys that are
// not UTF-8 text, or longer than maxKeyExtension bytes, are not mapped;
// nor is a key that would put the event over the source's extension
// limits (check).
func keyToPartitionKey(e *ce.Event, r *kgo.Record, check func(*ce.Event) error) {
	if len(r.Key) == 0 || len(r.Key) > maxKeyExtension || !utf8.Valid(r.Key) {
		return
	}
	if _, ok := e.Extensions()["partitionkey"]; ok {
		return
	}
	e.SetExtension("partitionkey", string(r.Key))
	if check != nil && check(e) != nil {
		e.SetExtension("partitionkey", nil)
	}
}
