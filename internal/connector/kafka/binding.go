// Package kafka is the Kafka connector: a source that reads topics in a
// consumer group and commits offsets only after the events are stored, and
// a target that produces with an idempotent producer and acks=all. Both use
// the CloudEvents Kafka protocol binding: binary mode (ce_ headers,
// content-type header, value = data; no data is a null value) and
// structured mode (content-type application/cloudevents+json, value = the
// JSON event format).
package kafka

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	ce "github.com/cloudevents/sdk-go/v2/event"
	"github.com/twmb/franz-go/pkg/kgo"

	ebevent "github.com/eventbridge-dev/eventbridge/internal/event"
)

// Mode is how an event travels in a Kafka record.
type Mode string

// The modes of the binding.
const (
	ModeBinary     Mode = "binary"
	ModeStructured Mode = "structured"
)

// MediaStructured is the content type of a structured-mode record.
const MediaStructured = "application/cloudevents+json"

// headerPrefix marks binary-mode attribute headers.
const headerPrefix = "ce_"

// errNotCloudEvent is returned for a record that carries no CloudEvent at
// all: no ce_ headers and no structured content type.
var errNotCloudEvent = errors.New("not a CloudEvent: no ce_ headers and no application/cloudevents content type")

// errFormat is returned for a structured record in a format other than JSON.
var errFormat = errors.New("unsupported event format: only application/cloudevents+json is supported")

// encode fills r's headers and value from e in mode. The key is not
// touched.
func encode(e *ce.Event, mode Mode, r *kgo.Record) error {
	if mode == ModeStructured {
		b, err := ebevent.EncodeJSON(e)
		if err != nil {
			return err
		}
		r.Value = b
		r.Headers = append(r.Headers, kgo.RecordHeader{Key: "content-type", Value: []byte(MediaStructured + "; charset=UTF-8")})
		return nil
	}
	for name, v := range ebevent.BinaryAttributes(e) {
		r.Headers = append(r.Headers, kgo.RecordHeader{Key: headerPrefix + name, Value: []byte(v)})
	}
	ct := ebevent.BinaryContentType(e)
	if ct != "" {
		r.Headers = append(r.Headers, kgo.RecordHeader{Key: "content-type", Value: []byte(ct)})
	}
	// A binary event without data is a record with a null value (a
	// tombstone on a compacted topic), as the binding says.
	r.Value = nil
	if d := e.Data(); len(d) > 0 {
		r.Value = d
	}
	return nil
}

// decode reads the event in r. It returns errNotCloudEvent for a record
// that does not claim to be one, and a validation error naming the bad
// attributes for one that claims to be but is not valid.
func decode(r *kgo.Record) (*ce.Event, error) {
	var ct string
	attrs := map[string]string{}
	var ve ebevent.ValidationError
	seen := map[string]bool{}
	for _, h := range r.Headers {
		k := strings.ToLower(h.Key)
		switch {
		case k == "content-type":
			if seen[k] {
				ve.Add("datacontenttype", "header content-type is sent more than once")
			}
			seen[k] = true
			ct = string(h.Value)
		case strings.HasPrefix(k, headerPrefix) && len(k) > len(headerPrefix):
			name := k[len(headerPrefix):]
			if seen[k] {
				ve.Add(name, "header %s is sent more than once; an attribute has one value", h.Key)
				continue
			}
			seen[k] = true
			if !utf8.Valid(h.Value) {
				ve.Add(name, "header %s is not valid UTF-8", h.Key)
				continue
			}
			attrs[name] = string(h.Value)
		}
	}
	if isStructured(ct) {
		if !isJSONFormat(ct) {
			return nil, fmt.Errorf("content-type %q: %w", ct, errFormat)
		}
		if err := ve.Err(); err != nil {
			return nil, err
		}
		return ebevent.DecodeJSON(r.Value)
	}
	if len(attrs) == 0 && len(ve.Fields) == 0 {
		return nil, errNotCloudEvent
	}
	if err := ve.Err(); err != nil {
		return nil, err
	}
	// The binding maps datacontenttype to the content-type header; some
	// producers (sdk-go's sarama binding among them) send ce_datacontenttype
	// instead, which FromBinary takes when the header is absent.
	return ebevent.FromBinary(attrs, ct, r.Value)
}

// isStructured reports whether a content type announces structured mode.
func isStructured(ct string) bool {
	return strings.HasPrefix(strings.ToLower(strings.TrimSpace(ct)), "application/cloudevents")
}

// isJSONFormat reports whether a structured content type is the JSON event
// format.
func isJSONFormat(ct string) bool {
	mt := strings.ToLower(strings.TrimSpace(ct))
	if i := strings.IndexByte(mt, ';'); i >= 0 {
		mt = strings.TrimSpace(mt[:i])
	}
	return mt == MediaStructured || mt == "application/cloudevents"
}

// contentType returns r's content-type header.
func contentType(r *kgo.Record) string {
	for _, h := range r.Headers {
		if strings.EqualFold(h.Key, "content-type") {
			return string(h.Value)
		}
	}
	return ""
}
