// Package nats holds the NATS connectors: nats (core NATS subjects, queue
// groups) and jetstream (durable consumers on a stream, publishing with
// acknowledgement and deduplication), sharing the CloudEvents NATS
// protocol binding: binary mode with "ce-" headers (percent-encoded as in
// HTTP), structured mode with Content-Type application/cloudevents+json,
// and the header-less structured messages of the 1.0.2 binding.
package nats

import (
	"errors"
	"net/url"
	"strings"

	ce "github.com/cloudevents/sdk-go/v2/event"
	"github.com/nats-io/nats.go"

	"github.com/eventbridge-dev/eventbridge/internal/connector"
	ebevent "github.com/eventbridge-dev/eventbridge/internal/event"
)

// Media types of the binding.
const (
	MediaStructured = "application/cloudevents+json"
	contentTypeJSON = MediaStructured + "; charset=utf-8"
	headerPrefix    = "ce-"
)

// Mode is how an event travels in a NATS message.
type Mode string

// The modes.
const (
	ModeBinary     Mode = "binary"     // data as the payload, attributes in ce- headers
	ModeStructured Mode = "structured" // the JSON event format as the payload
)

// errNotCloudEvent says a message carries no sign of being a CloudEvent.
var errNotCloudEvent = errors.New("not a CloudEvent: no CloudEvents content type, no ce-specversion header, no JSON event in the payload")

// Decode reads the event in a message: a Content-Type starting with
// application/cloudevents means structured mode; else ce- headers with a
// specversion mean binary mode (datacontenttype from ce-datacontenttype,
// as the binding has it, or else Content-Type); else a payload that is a
// JSON object with a specversion member is read as structured, as the
// 1.0.2 binding (no headers) sends it. Otherwise errNotCloudEvent; a
// message with those signs that is not a valid event returns an
// *event.ValidationError.
func Decode(h nats.Header, data []byte) (*ce.Event, error) {
	ct := header(h, "Content-Type")
	if mt := connector.MediaType(ct); strings.HasPrefix(mt, "application/cloudevents") {
		if mt != MediaStructured && mt != "application/cloudevents" {
			var ve ebevent.ValidationError
			ve.Add("datacontenttype", "content type %q: only the JSON event format (%s) is supported", ct, MediaStructured)
			return nil, ve.Err()
		}
		return ebevent.DecodeJSON(data)
	}
	attrs, err := binaryAttributes(h)
	if _, ok := attrs["specversion"]; ok {
		if err != nil {
			return nil, err
		}
		dct, ok := attrs["datacontenttype"]
		if !ok {
			dct = ct
		}
		delete(attrs, "datacontenttype")
		return ebevent.FromBinary(attrs, dct, data)
	}
	if connector.LooksStructured(data) {
		return ebevent.DecodeJSON(data)
	}
	return nil, errNotCloudEvent
}

// binaryAttributes reads the ce- headers (names case-insensitive, values
// percent-decoded).
func binaryAttributes(h nats.Header) (map[string]string, error) {
	var ve ebevent.ValidationError
	attrs := make(map[string]string, len(h))
	for k, vs := range h {
		if len(k) <= len(headerPrefix) || !strings.EqualFold(k[:len(headerPrefix)], headerPrefix) || len(vs) == 0 {
			continue
		}
		name := strings.ToLower(k[len(headerPrefix):])
		if _, dup := attrs[name]; dup || len(vs) > 1 {
			ve.Add(name, "header ce-%s is sent more than once; an attribute has one value", name)
			continue
		}
		v, err := ebevent.PercentDecode(vs[0])
		if err != nil {
			ve.Add(name, "header ce-%s: %v", name, err)
			continue
		}
		if (name == "source" || name == "dataschema") && v != vs[0] {
			// A URI sent as it is, escapes and all ("/caf%C3%A9"): keep it
			// when its URI spelling is exactly the header (as HTTP does).
			if u, err := url.Parse(v); err == nil && u.String() == vs[0] {
				v = vs[0]
			}
		}
		attrs[name] = v
	}
	return attrs, ve.Err()
}

// header returns the value of a header, its name case-insensitive.
func header(h nats.Header, name string) string {
	if v := h.Get(name); v != "" {
		return v
	}
	for k, vs := range h {
		if strings.EqualFold(k, name) && len(vs) > 0 {
			return vs[0]
		}
	}
	return ""
}

// Encode writes e as a message in mode; the subject is the caller's. In
// binary mode every attribute, datacontenttype included, is a ce- header
// (the binding's example), leaving Content-Type to mark structured mode.
func Encode(e *ce.Event, mode Mode) (*nats.Msg, error) {
	m := &nats.Msg{Header: nats.Header{}}
	if mode == ModeStructured {
		b, err := ebevent.EncodeJSON(e)
		if err != nil {
			return nil, err
		}
		m.Header["Content-Type"] = []string{contentTypeJSON}
		m.Data = b
		return m, nil
	}
	// One map sized for the usual attributes, one array for the values,
	// the usual header names as constants: a few allocations per message
	// instead of one per header and its name.
	m.Header = make(nats.Header, 8)
	vals := make([]string, 0, 8)
	set := func(name, v string) {
		vals = append(vals, ebevent.PercentEncode(v))
		n := len(vals)
		m.Header[headerName(name)] = vals[n-1 : n : n]
	}
	ebevent.RangeBinaryAttributes(e, set)
	if ct := e.DataContentType(); ct != "" {
		set("datacontenttype", ct)
	}
	m.Data = e.Data()
	return m, nil
}

// headerName is the ce- header of attribute name.
func headerName(name string) string {
	switch name {
	case "specversion":
		return headerPrefix + "specversion"
	case "id":
		return headerPrefix + "id"
	case "source":
		return headerPrefix + "source"
	case "type":
		return headerPrefix + "type"
	case "subject":
		return headerPrefix + "subject"
	case "time":
		return headerPrefix + "time"
	case "dataschema":
		return headerPrefix + "dataschema"
	case "datacontenttype":
		return headerPrefix + "datacontenttype"
	case "partitionkey":
		return headerPrefix + "partitionkey"
	}
	return headerPrefix + name
}
