// Package http is the HTTP connector: a source that receives CloudEvents
// over HTTP (binary, structured and batched modes of the CloudEvents HTTP
// binding, and the HTTP webhook abuse-protection handshake), and a target
// that delivers them.
package http

import (
	"errors"
	nethttp "net/http"
	"net/url"
	"strings"
	"sync"

	ce "github.com/cloudevents/sdk-go/v2/event"

	ebevent "github.com/eventbridge-dev/eventbridge/internal/event"
)

// Media types of the CloudEvents HTTP binding.
const (
	MediaStructured = "application/cloudevents+json"
	MediaBatch      = "application/cloudevents-batch+json"
)

// errMediaType is returned for a structured or batched request in a format
// other than JSON.
var errMediaType = errors.New("unsupported media type")

// Mode is how an event travels in an HTTP message.
type Mode string

// The modes.
const (
	ModeBinary     Mode = "binary"
	ModeStructured Mode = "structured"
	ModeBatch      Mode = "batch"
	ModeData       Mode = "data" // target only: the body is the data, no ce- headers
)

// detectMode tells the mode of a request from its Content-Type, as the
// binding says: application/cloudevents-batch → batched,
// application/cloudevents → structured, anything else → binary.
func detectMode(contentType string) (Mode, error) {
	mt := strings.ToLower(strings.TrimSpace(contentType))
	if i := strings.IndexByte(mt, ';'); i >= 0 {
		mt = strings.TrimSpace(mt[:i])
	}
	switch {
	case strings.HasPrefix(mt, "application/cloudevents-batch"):
		if mt != MediaBatch {
			return ModeBatch, errMediaType
		}
		return ModeBatch, nil
	case strings.HasPrefix(mt, "application/cloudevents"):
		if mt != MediaStructured && mt != "application/cloudevents" {
			return ModeStructured, errMediaType
		}
		return ModeStructured, nil
	}
	return ModeBinary, nil
}

// hasBinaryHeaders reports whether h carries any ce- header.
func hasBinaryHeaders(h nethttp.Header) bool {
	for k := range h {
		if len(k) > 3 && strings.EqualFold(k[:3], "ce-") {
			return true
		}
	}
	return false
}

// decodeBinary builds an event from ce- headers, Content-Type and body. Its
// error names every bad attribute: headers that cannot be decoded as well as
// what FromBinary finds in the others. Extensions over lim are refused
// with an *ebevent.LimitError before the event is built.
func decodeBinary(h nethttp.Header, body []byte, lim ebevent.Limits) (*ce.Event, error) {
	if err := checkHeaderCount(h, lim); err != nil {
		return nil, err
	}
	attrs := getAttrs()
	defer putAttrs(attrs)
	var ve ebevent.ValidationError
	var bad map[string]bool // made at the first bad header
	for k, vs := range h {
		if len(k) <= 3 || !strings.EqualFold(k[:3], "ce-") || len(vs) == 0 {
			continue
		}
		name, ok := attrNames[k]
		if !ok {
			name = strings.ToLower(k[3:])
		}
		if len(vs) > 1 {
			ve.Add(name, "header ce-%s is sent %d times; an attribute has one value", name, len(vs))
			bad = markBad(bad, name)
			continue
		}
		v, err := ebevent.PercentDecode(vs[0])
		if err != nil {
			ve.Add(name, "header ce-%s: %v", name, err)
			bad = markBad(bad, name)
			continue
		}
		if (name == "source" || name == "dataschema") && v != vs[0] {
			// Many producers put a URI in the header as is, percent-escapes
			// and all ("/caf%C3%A9"), which decodes to text that is no URI
			// ("/café"). When the URI spelling of that text is exactly
			// the header, the header is the URI meant.
			if u, err := url.Parse(v); err == nil && u.String() == vs[0] {
				v = vs[0]
			}
		}
		attrs[name] = v
	}
	delete(attrs, "datacontenttype")
	if err := lim.CheckExtensionAttrs(attrs); err != nil {
		return nil, err
	}
	e, err := ebevent.FromBinary(attrs, h.Get("Content-Type"), body)
	if len(ve.Fields) == 0 {
		return e, err
	}
	for _, f := range ebevent.Fields(err) {
		if !bad[f.Field] { // not "missing" again
			ve.Fields = append(ve.Fields, f)
		}
	}
	out := ve // ve stays on the stack on the way without errors
	return nil, out.Err()
}

// attrPool holds the attribute maps of decodeBinary: FromBinary copies
// what it keeps of them into the event, and a map of a few attributes
// costs two allocations (its header and its group of slots) per request.
var attrPool = sync.Pool{New: func() any { return make(map[string]string, 8) }}

func getAttrs() map[string]string { return attrPool.Get().(map[string]string) }

// putAttrs empties m and gives it back, unless it grew large (an event
// with many extensions): a pooled map keeps its size.
func putAttrs(m map[string]string) {
	if len(m) > 16 {
		return
	}
	clear(m)
	attrPool.Put(m)
}

// checkHeaderCount refuses a request with more ce- headers than there can
// be context attributes and lim.MaxExtensions extensions, before any is
// decoded.
func checkHeaderCount(h nethttp.Header, lim ebevent.Limits) error {
	if lim.MaxExtensions <= 0 {
		return nil
	}
	n := 0
	for k := range h {
		if len(k) > 3 && strings.EqualFold(k[:3], "ce-") {
			n++
		}
	}
	if max := lim.MaxExtensions + ebevent.ContextAttributeCount; n > max {
		return &ebevent.LimitError{Err: ebevent.ErrTooManyExtensions, Entry: -1, Limit: lim.MaxExtensions, Got: n - ebevent.ContextAttributeCount}
	}
	return nil
}

// markBad adds name to bad, made when nil.
func markBad(bad map[string]bool, name string) map[string]bool {
	if bad == nil {
		bad = map[string]bool{}
	}
	bad[name] = true
	return bad
}

// attrNames are the attribute names of ce- headers as net/http's server
// canonicalises them ("Ce-Specversion"): the context attributes and the
// common extensions, looked up instead of lower-cased for every request.
var attrNames = func() map[string]string {
	m := map[string]string{}
	for _, name := range []string{"specversion", "id", "source", "type", "subject", "time", "dataschema",
		"schemaurl", "datacontenttype", "datacontentencoding", "traceparent", "tracestate",
		"partitionkey", "sequence", "sequencetype", "dataref", "knativearrivaltime"} {
		m[nethttp.CanonicalHeaderKey("ce-"+name)] = name
	}
	return m
}()

// encodeBinary writes e's attributes as ce- headers (percent-encoded) and
// Content-Type, and returns the body (the data).
func encodeBinary(e *ce.Event, h nethttp.Header) []byte {
	// One backing array for the header values, and the names of the
	// context attributes made once: this runs for every delivery.
	vals := make([]string, 0, 9) // up to 7 attributes, Content-Type, one extension
	ebevent.RangeBinaryAttributes(e, func(name, v string) {
		vals = append(vals, ebevent.PercentEncode(v))
		key, ok := binaryHeaderNames[name]
		if !ok {
			key = "Ce-" + name
		}
		h[key] = vals[len(vals)-1 : len(vals) : len(vals)]
	})
	if ct := ebevent.BinaryContentType(e); ct != "" {
		vals = append(vals, ct)
		h["Content-Type"] = vals[len(vals)-1 : len(vals) : len(vals)]
	}
	return e.Data()
}

// binaryHeaderNames are the header names of the context attributes, as
// encodeBinary writes them ("Ce-" and the attribute's name).
var binaryHeaderNames = map[string]string{
	"specversion": "Ce-specversion", "id": "Ce-id", "source": "Ce-source", "type": "Ce-type",
	"subject": "Ce-subject", "time": "Ce-time", "dataschema": "Ce-dataschema", "schemaurl": "Ce-schemaurl",
	// Common extensions, whose names would otherwise be concatenated for
	// every delivery.
	"traceparent": "Ce-traceparent", "tracestate": "Ce-tracestate", "partitionkey": "Ce-partitionkey",
	"sequence": "Ce-sequence", "datacontentencoding": "Ce-datacontentencoding",
}
