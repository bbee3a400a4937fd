// Package redis is the Redis connector: a source that reads a stream in a
// consumer group (XREADGROUP, XACK only after the events are stored,
// XAUTOCLAIM of entries a dead consumer left pending) or a pub/sub channel
// (at-most-once), and a target that appends to a stream (XADD, with
// MAXLEN ~) or publishes to a channel.
//
// Redis has no CloudEvents binding; this one follows the others. A stream
// entry in binary mode has one field per attribute (canonical string
// values, named as the attribute), a datacontenttype field and a data field
// holding the data bytes. In structured mode it has one field, event,
// holding the JSON event format. A pub/sub message is always the JSON event
// format.
package redis

import (
	"encoding/json"
	"errors"
	"sort"
	"unicode/utf8"

	ce "github.com/cloudevents/sdk-go/v2/event"

	ebevent "github.com/eventbridge-dev/eventbridge/internal/event"
)

// Mode is how an event travels in a stream entry.
type Mode string

// The modes.
const (
	ModeBinary     Mode = "binary"
	ModeStructured Mode = "structured"
)

// Field names with a meaning of their own.
const (
	fieldEvent = "event" // structured mode: the JSON event format
	fieldData  = "data"  // binary mode: the data bytes
	fieldCT    = "datacontenttype"
)

// errNotCloudEvent is returned for an entry or message that carries no
// CloudEvent at all (no specversion field, no event field; a payload that
// is not a JSON object with specversion).
var errNotCloudEvent = errors.New("not a CloudEvent")

// encodeEntry returns the fields of a stream entry for e, in a stable
// order (specversion, id, source, type first).
func encodeEntry(e *ce.Event, mode Mode) ([]any, error) {
	if mode == ModeStructured {
		b, err := ebevent.EncodeJSON(e)
		if err != nil {
			return nil, err
		}
		return []any{fieldEvent, string(b)}, nil
	}
	attrs := ebevent.BinaryAttributes(e)
	names := make([]string, 0, len(attrs))
	for n := range attrs {
		switch n {
		case "specversion", "id", "source", "type":
		default:
			names = append(names, n)
		}
	}
	sort.Strings(names)
	names = append([]string{"specversion", "id", "source", "type"}, names...)
	out := make([]any, 0, 2*len(names)+4)
	for _, n := range names {
		out = append(out, n, attrs[n])
	}
	ct := ebevent.BinaryContentType(e)
	if ct != "" {
		out = append(out, fieldCT, ct)
	}
	if d := e.Data(); len(d) > 0 {
		out = append(out, fieldData, string(d))
	}
	return out, nil
}

// decodeEntry reads the event in a stream entry's fields.
func decodeEntry(fields map[string]any) (*ce.Event, error) {
	str := func(v any) string {
		switch x := v.(type) {
		case string:
			return x
		case []byte:
			return string(x)
		}
		return ""
	}
	if _, binary := fields["specversion"]; !binary {
		if ev, ok := fields[fieldEvent]; ok {
			return ebevent.DecodeJSON([]byte(str(ev)))
		}
		return nil, errNotCloudEvent
	}
	var ve ebevent.ValidationError
	attrs := make(map[string]string, len(fields))
	var data []byte
	ct := ""
	for k, v := range fields {
		s := str(v)
		switch k {
		case fieldData:
			data = []byte(s)
			continue
		case fieldCT:
			ct = s
			continue
		}
		if !utf8.ValidString(s) {
			ve.Add(k, "field %s is not valid UTF-8", k)
			continue
		}
		attrs[k] = s
	}
	if err := ve.Err(); err != nil {
		return nil, err
	}
	return ebevent.FromBinary(attrs, ct, data)
}

// decodeMessage reads the event in a pub/sub payload: the JSON event
// format.
func decodeMessage(payload []byte) (*ce.Event, error) {
	var probe map[string]json.RawMessage
	if err := json.Unmarshal(payload, &probe); err != nil {
		return nil, errNotCloudEvent
	}
	if _, ok := probe["specversion"]; !ok {
		return nil, errNotCloudEvent
	}
	return ebevent.DecodeJSON(payload)
}

// wrapContentType guesses the content type of a payload that is no
// CloudEvent.
func wrapContentType(b []byte) string {
	if json.Valid(b) {
		return "application/json"
	}
	if utf8.Valid(b) {
		return "text/plain; charset=utf-8"
	}
	return "application/octet-stream"
}
