package kafka

import (
	"errors"
	"strings"
	"unicode/utf8"

	cloudevents "github.com/cloudevents/sdk-go/v2"
	"github.com/twmb/franz-go/pkg/kgo"

	ebevent "github.com/eventbridge-dev/eventbridge/internal/event"
)

// headerPrefix marks the attribute headers of the CloudEvents Kafka
// binding in binary mode.
const headerPrefix = "ce_"

// errNotCloudEvent says a record has no ce_specversion header.
var errNotCloudEvent = errors.New("not a binary-mode CloudEvent: no ce_specversion header")

// encode fills r in the Kafka binding's binary mode: every attribute but
// datacontenttype is a ce_ header (UTF-8, not escaped), datacontenttype is
// the content-type header, the data is the value (null without data). It
// is the mapping eventbridge's Kafka connector reads and writes.
func encode(evt *cloudevents.Event, r *kgo.Record) {
	for name, v := range ebevent.BinaryAttributes(evt) {
		r.Headers = append(r.Headers, kgo.RecordHeader{Key: headerPrefix + name, Value: []byte(v)})
	}
	if ct := ebevent.BinaryContentType(evt); ct != "" {
		r.Headers = append(r.Headers, kgo.RecordHeader{Key: "content-type", Value: []byte(ct)})
	}
	r.Value = nil
	if d := evt.Data(); len(d) > 0 {
		r.Value = d
	}
}

// decode reads a binary-mode record (header names case-insensitive).
// Extension values arrive as strings, as in every binary binding.
func decode(r *kgo.Record) (*cloudevents.Event, error) {
	attrs := map[string]string{}
	ct := ""
	for _, h := range r.Headers {
		k := strings.ToLower(h.Key)
		switch {
		case k == "content-type":
			ct = string(h.Value)
		case strings.HasPrefix(k, headerPrefix) && len(k) > len(headerPrefix):
			if !utf8.Valid(h.Value) {
				return nil, errors.New("header " + h.Key + " is not valid UTF-8")
			}
			attrs[k[len(headerPrefix):]] = string(h.Value)
		}
	}
	if _, ok := attrs["specversion"]; !ok {
		return nil, errNotCloudEvent
	}
	return ebevent.FromBinary(attrs, ct, r.Value)
}
